/**
 * Context propagation: the current Effect span becomes the active OpenTelemetry context
 * (for OpenTelemetry-instrumented libraries) exactly when a global context manager is
 * registered, or when `propagateContext` says so — and costs nothing otherwise.
 */
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Otel } from "@llm-fiber/otel"
import * as OtelApi from "@opentelemetry/api"
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node"
import { Effect } from "effect"

/** The active OpenTelemetry span id seen from inside an Effect span, and that span's id. */
const insideASpan = Effect.gen(function*() {
  const span = yield* Effect.currentSpan
  yield* Effect.yieldNow() // a new fiber step
  return { effect: span.spanId, active: OtelApi.trace.getActiveSpan()?.spanContext().spanId }
}).pipe(Effect.withSpan("outer"))

/** Register the Node SDK's global context manager (AsyncLocalStorage), as sdk-node does. */
const registerContextManager = () => new NodeTracerProvider().register()

afterEach(() => {
  OtelApi.context.disable()
  OtelApi.trace.disable()
  OtelApi.propagation.disable()
})

describe("propagateContext", () => {
  it.effect("without a global context manager there is no active OpenTelemetry span", () =>
    Effect.gen(function*() {
      const seen = yield* insideASpan.pipe(Effect.provide(Otel.layerInMemory()))
      expect(seen.active).toBeUndefined()
    }))

  it.effect("with one registered, the Effect span is the active OpenTelemetry span (auto)", () =>
    Effect.gen(function*() {
      registerContextManager()
      const seen = yield* insideASpan.pipe(Effect.provide(Otel.layerInMemory()))
      expect(seen.active).toBe(seen.effect)
    }))

  it.effect("propagateContext: false turns it off even then", () =>
    Effect.gen(function*() {
      registerContextManager()
      const seen = yield* insideASpan.pipe(Effect.provide(Otel.layerInMemory({ propagateContext: false })))
      expect(seen.active).toBeUndefined()
    }))
})
