import { describe, expect, it } from "@effect/vitest"
import {
  type ChatResult,
  CircuitBreaker,
  LlmClient,
  LlmError,
  Provider,
  ProviderRegistry,
  RetryPolicy,
  StreamEvent
} from "@llm-fiber/core"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Metric, Schedule, Stream, TestClock } from "effect"

// A provider scripted per call, counting calls; a `gate` step waits for a Deferred, so a
// call can be kept in flight while the test makes others.
type Step =
  | { readonly _tag: "text" }
  | { readonly _tag: "fail"; readonly error: LlmError.LlmError }
  | { readonly _tag: "gate"; readonly gate: Deferred.Deferred<void>; readonly then: Step }
  | { readonly _tag: "eventsThenFail"; readonly error: LlmError.LlmError }

const usage = { inputTokens: 10, outputTokens: 2, totalTokens: 12 }

const eventsOf = (model: string, provider: string): Array<StreamEvent.StreamEvent> => [
  StreamEvent.start("r1", model, provider),
  StreamEvent.textDelta("hello"),
  StreamEvent.textDelta(" there"),
  StreamEvent.finish("stop", { usage })
]

const scripted = (name: string, initial: Array<Step> = []) => {
  const steps = [...initial]
  const calls: Array<string> = []
  const next = (call: Provider.Call): Step => {
    calls.push(call.model)
    const step = steps.shift()
    if (step === undefined) throw new Error(`script of ${name} exhausted`)
    return step
  }
  const chatStep = (step: Step, model: string): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> => {
    switch (step._tag) {
      case "text":
      case "eventsThenFail":
        return Effect.succeed(StreamEvent.accumulateAll(eventsOf(model, name)))
      case "fail":
        return Effect.fail(step.error)
      case "gate":
        return Effect.zipRight(Deferred.await(step.gate), chatStep(step.then, model))
    }
  }
  const streamStep = (step: Step, model: string): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> => {
    switch (step._tag) {
      case "text":
        return Stream.fromIterable(eventsOf(model, name))
      case "fail":
        return Stream.fail(step.error)
      case "gate":
        return Stream.unwrap(Effect.as(Deferred.await(step.gate), streamStep(step.then, model)))
      case "eventsThenFail":
        return Stream.concat(Stream.fromIterable(eventsOf(model, name).slice(0, 2)), Stream.fail(step.error))
    }
  }
  const provider: Provider.Provider = {
    name,
    api: "test",
    capabilities: Provider.noCapabilities,
    chat: (call) => Effect.suspend(() => chatStep(next(call), call.model)),
    chatStream: (call) => Stream.suspend(() => streamStep(next(call), call.model))
  }
  /** Add steps to the script. */
  const push = (...more: Array<Step>) => {
    steps.push(...more)
  }
  return { provider, calls, push }
}

const text: Step = { _tag: "text" }
const serverError = (message = "boom") => new LlmError.ServerError({ message, status: 503 })
const fail = (error: LlmError.LlmError = serverError()): Step => ({ _tag: "fail", error })
const times = (n: number, step: Step): Array<Step> => Array.from({ length: n }, () => step)

const clientWith = (
  breaker: Layer.Layer<CircuitBreaker.CircuitBreaker>,
  providers: ReadonlyArray<Provider.Provider>,
  retry: Layer.Layer<RetryPolicy.RetryPolicy> = RetryPolicy.layerDisabled
) =>
  LlmClient.layer.pipe(
    Layer.provide(
      providers.reduce(
        (acc, p) => Layer.merge(acc, ProviderRegistry.register(Effect.succeed(p))),
        Layer.empty as Layer.Layer<never, never, ProviderRegistry.ProviderRegistry>
      )
    ),
    Layer.provide(ProviderRegistry.layer),
    Layer.provide(breaker),
    Layer.provide(retry)
  )

/** Run `body` against a client whose breaker it can inspect. */
const withBreaker = <A, E>(
  options: CircuitBreaker.Options,
  providers: ReadonlyArray<Provider.Provider>,
  body: (breaker: CircuitBreaker.Service) => Effect.Effect<A, E, LlmClient.LlmClient>,
  retry?: Layer.Layer<RetryPolicy.RetryPolicy>
) =>
  Effect.flatMap(
    CircuitBreaker.make(options),
    (breaker) => Effect.provide(body(breaker), clientWith(CircuitBreaker.layer(breaker), providers, retry))
  )

const chat = (model = "gpt-4o") => LlmClient.chat({ model, messages: "hi" })
const chatError = (model = "gpt-4o") => Effect.flip(chat(model))
const stream = (model = "gpt-4o") => StreamEvent.accumulate(LlmClient.chatStream({ model, messages: "hi" }))

const gaugeValue = (name: string, tags: Record<string, string>) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const pair = pairs.find((p) =>
      p.metricKey.name === name && p.metricKey.tags.length === Object.keys(tags).length &&
      p.metricKey.tags.every((t) => tags[t.key] === t.value)
    )
    return pair !== undefined && "value" in pair.metricState ? pair.metricState.value : undefined
  })

describe("CircuitBreaker", () => {
  it.effect("opens after N consecutive failures, then fails fast without calling the provider", () => {
    const openai = scripted("openai", times(3, fail()))
    return withBreaker({ failureThreshold: 3 }, [openai.provider], (breaker) =>
      Effect.gen(function*() {
        for (let i = 0; i < 2; i++) expect((yield* chatError())._tag).toBe("ServerError")
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
        expect((yield* chatError())._tag).toBe("ServerError")
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
        expect(openai.calls).toHaveLength(3)

        yield* TestClock.adjust(Duration.seconds(10))
        const error = yield* chatError()
        expect(error._tag).toBe("CircuitOpenError")
        if (error._tag !== "CircuitOpenError") return
        expect(error.provider).toBe("openai")
        expect(error.model).toBe("gpt-4o")
        expect(error.retryAfterMs).toBe(20_000)
        expect(error.message).toContain("openai:gpt-4o")
        expect(error.message).toContain("3 consecutive failures")
        expect(error.retryable).toBe(false)
        const stream = yield* Effect.flip(
          LlmClient.chatStream({ model: "gpt-4o", messages: "hi" }).pipe(Stream.runDrain)
        )
        expect(stream._tag).toBe("CircuitOpenError")
        // the provider was not called again
        expect(openai.calls).toHaveLength(3)
      }))
  })

  it.effect("a success resets the consecutive count", () => {
    const openai = scripted("openai", [fail(), fail(), text, fail(), fail()])
    return withBreaker({ failureThreshold: 3 }, [openai.provider], (breaker) =>
      Effect.gen(function*() {
        yield* chatError()
        yield* chatError()
        yield* chat()
        yield* chatError()
        yield* chatError()
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
        const [snap] = yield* breaker.snapshot
        expect(snap).toMatchObject({ provider: "openai", model: "gpt-4o", consecutiveFailures: 2, windowCalls: 5 })
      }))
  })

  it.effect("opens on the failure rate in the rolling window", () => {
    // alternating: never two failures in a row, but 5 of 10 calls failed
    const script = Array.from({ length: 10 }, (_, i) => i % 2 === 0 ? text : fail())
    const openai = scripted("openai", script)
    return withBreaker(
      { failureThreshold: 3, minimumCalls: 10, failureRateThreshold: 0.5 },
      [openai.provider],
      (b) =>
        Effect.gen(function*() {
          for (let i = 0; i < 9; i++) yield* Effect.either(chat())
          expect(yield* b.state("openai", "gpt-4o")).toBe("closed")
          yield* Effect.either(chat())
          expect(yield* b.state("openai", "gpt-4o")).toBe("open")
          const error = yield* chatError()
          expect(error._tag).toBe("CircuitOpenError")
          expect(error.message).toContain("5 failures in the last 10 calls")
          expect(openai.calls).toHaveLength(10)
        })
    )
  })

  it.effect("calls that left the window no longer count towards the rate", () => {
    const script = Array.from({ length: 10 }, (_, i) => i % 2 === 0 ? text : fail())
    const openai = scripted("openai", script)
    return withBreaker(
      { failureThreshold: 3, minimumCalls: 10, windowMs: 60_000 },
      [openai.provider],
      (b) =>
        Effect.gen(function*() {
          for (let i = 0; i < 8; i++) yield* Effect.either(chat())
          yield* TestClock.adjust(Duration.seconds(61))
          yield* Effect.either(chat())
          yield* Effect.either(chat())
          expect(yield* b.state("openai", "gpt-4o")).toBe("closed")
          const [snap] = yield* b.snapshot
          expect(snap).toMatchObject({ windowCalls: 2, windowFailures: 1 })
        })
    )
  })

  it.effect("after the cooldown lets exactly one probe through; others fail fast while it runs", () => {
    const openai = scripted("openai", times(2, fail()))
    return Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      return yield* withBreaker(
        { failureThreshold: 2, cooldownMs: 30_000 },
        [openai.provider],
        (breaker) =>
          Effect.gen(function*() {
            yield* chatError()
            yield* chatError()
            yield* TestClock.adjust(Duration.seconds(29))
            expect((yield* chatError())._tag).toBe("CircuitOpenError")
            expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
            yield* TestClock.adjust(Duration.seconds(1))
            expect(yield* breaker.state("openai", "gpt-4o")).toBe("half-open")

            openai.push({ _tag: "gate", gate, then: text })
            const probe = yield* Effect.fork(chat())
            yield* TestClock.adjust(Duration.zero)
            expect(openai.calls).toHaveLength(3)
            // concurrent calls while the probe is in flight fail fast
            const others = yield* Effect.all([chatError(), chatError(), chatError()], { concurrency: "unbounded" })
            expect(others.map((e) => e._tag)).toEqual(["CircuitOpenError", "CircuitOpenError", "CircuitOpenError"])
            expect(others[0]!.message).toContain("half-open")
            expect(openai.calls).toHaveLength(3)

            yield* Deferred.succeed(gate, undefined)
            expect((yield* Fiber.join(probe)).text).toBe("hello there")
            expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
            openai.push(text)
            yield* chat()
            expect(openai.calls).toHaveLength(4)
          })
      )
    })
  })

  it.effect("a failed probe re-opens the circuit with a fresh cooldown", () => {
    const openai = scripted("openai", [...times(2, fail()), fail(serverError("still down"))])
    return withBreaker(
      { failureThreshold: 2, cooldownMs: 30_000 },
      [openai.provider],
      (breaker) =>
        Effect.gen(function*() {
          yield* chatError()
          yield* chatError()
          yield* TestClock.adjust(Duration.seconds(30))
          const probe = yield* chatError()
          expect(probe.message).toBe("still down")
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
          const error = yield* chatError()
          expect(error._tag === "CircuitOpenError" && error.retryAfterMs).toBe(30_000)
          expect(error.message).toContain("failed probe")
          yield* TestClock.adjust(Duration.seconds(29))
          expect((yield* chatError())._tag).toBe("CircuitOpenError")
          expect(openai.calls).toHaveLength(3)
          yield* TestClock.adjust(Duration.seconds(1))
          openai.push(text)
          yield* chat()
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
        })
    )
  })

  it.effect("successThreshold: several successful probes close the circuit", () => {
    const openai = scripted("openai", [fail(), text, text, text])
    return withBreaker(
      { failureThreshold: 1, successThreshold: 2 },
      [openai.provider],
      (breaker) =>
        Effect.gen(function*() {
          yield* chatError()
          yield* TestClock.adjust(Duration.seconds(30))
          yield* chat()
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("half-open")
          yield* chat()
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
        })
    )
  })

  it.effect("non-retryable errors count as neither success nor failure", () => {
    const badRequest = new LlmError.InvalidRequestError({ message: "bad", status: 400 })
    const auth = new LlmError.AuthenticationError({ message: "no key", status: 401 })
    const notFound = new LlmError.NotFoundError({ message: "nope", status: 404 })
    const openai = scripted("openai", [fail(), fail(badRequest), fail(auth), fail(notFound), fail(), fail(badRequest)])
    return withBreaker({ failureThreshold: 2 }, [openai.provider], (breaker) =>
      Effect.gen(function*() {
        yield* chatError()
        for (let i = 0; i < 3; i++) yield* chatError()
        // the 400/401/404 neither opened the circuit nor reset the count
        const [snap] = yield* breaker.snapshot
        expect(snap).toMatchObject({ state: "closed", consecutiveFailures: 1, windowCalls: 1, windowFailures: 1 })
        yield* chatError()
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
      }))
  })

  it.effect("a custom isFailure decides what counts", () => {
    const openai = scripted("openai", times(2, fail(new LlmError.InvalidRequestError({ message: "bad", status: 400 }))))
    return withBreaker(
      { failureThreshold: 2, isFailure: () => true },
      [openai.provider],
      (breaker) =>
        Effect.gen(function*() {
          yield* chatError()
          yield* chatError()
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
        })
    )
  })

  it.effect("circuits are per provider and model", () => {
    const openai = scripted("openai", [...times(2, fail()), text])
    const ollama = scripted("ollama", [text])
    return withBreaker(
      { failureThreshold: 2 },
      [openai.provider, ollama.provider],
      (breaker) =>
        Effect.gen(function*() {
          yield* chatError("gpt-4o")
          yield* chatError("gpt-4o")
          expect((yield* chatError("gpt-4o"))._tag).toBe("CircuitOpenError")
          expect((yield* chat("gpt-4o-mini")).text).toBe("hello there")
          expect((yield* chat("ollama:gpt-4o")).text).toBe("hello there")
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
          expect(yield* breaker.state("openai", "gpt-4o-mini")).toBe("closed")
          expect(yield* breaker.state("ollama", "gpt-4o")).toBe("closed")
          expect(openai.calls).toEqual(["gpt-4o", "gpt-4o", "gpt-4o-mini"])
        })
    )
  })

  it.effect("streams: a failure before or after content counts, a completed stream is a success", () => {
    const openai = scripted("openai", [
      fail(),
      { _tag: "eventsThenFail", error: serverError("mid-stream") },
      text,
      fail(),
      { _tag: "eventsThenFail", error: serverError("mid-stream") }
    ])
    return withBreaker({ failureThreshold: 2 }, [openai.provider], (breaker) =>
      Effect.gen(function*() {
        yield* Effect.flip(stream())
        expect((yield* breaker.snapshot)[0]?.consecutiveFailures).toBe(1)
        const midStream = yield* Effect.flip(stream())
        expect(midStream.partial?.text).toBe("hello")
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
        yield* TestClock.adjust(Duration.seconds(30))
        // a completed stream is the successful probe
        expect((yield* stream()).text).toBe("hello there")
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
        yield* Effect.flip(stream())
        yield* Effect.flip(stream())
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
      }))
  })

  it.effect("streams: a consumer that stops early or interrupts counts as neither", () => {
    const openai = scripted("openai", [fail(), text])
    return Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      return yield* withBreaker({ failureThreshold: 1 }, [openai.provider], (breaker) =>
        Effect.gen(function*() {
          yield* chatError()
          yield* TestClock.adjust(Duration.seconds(30))
          // the probe's consumer takes one event and stops: the probe slot is freed, still half-open
          const first = yield* LlmClient.chatStream({ model: "gpt-4o", messages: "hi" }).pipe(
            Stream.take(1),
            Stream.runCollect
          )
          expect(first.length).toBe(1)
          expect((yield* breaker.snapshot)[0]).toMatchObject({ state: "half-open", probesInFlight: 0 })
          // an interrupted probe also frees its slot
          openai.push({ _tag: "gate", gate, then: text })
          const fiber = yield* Effect.fork(stream())
          yield* TestClock.adjust(Duration.zero)
          expect((yield* breaker.snapshot)[0]?.probesInFlight).toBe(1)
          yield* Fiber.interrupt(fiber)
          expect((yield* breaker.snapshot)[0]).toMatchObject({ state: "half-open", probesInFlight: 0 })
          openai.push(text)
          yield* stream()
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
        }))
    })
  })

  it.effect("an interrupted chat probe frees its slot", () => {
    const openai = scripted("openai", [fail()])
    return Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      return yield* withBreaker({ failureThreshold: 1 }, [openai.provider], (breaker) =>
        Effect.gen(function*() {
          yield* chatError()
          yield* TestClock.adjust(Duration.seconds(30))
          openai.push({ _tag: "gate", gate, then: text })
          const fiber = yield* Effect.fork(chat())
          yield* TestClock.adjust(Duration.zero)
          yield* Fiber.interrupt(fiber)
          expect((yield* breaker.snapshot)[0]).toMatchObject({ state: "half-open", probesInFlight: 0 })
          openai.push(text)
          yield* chat()
          expect(yield* breaker.state("openai", "gpt-4o")).toBe("closed")
        }))
    })
  })

  it.effect("retries inside one call count as one failure (the breaker sits outside retries)", () => {
    const openai = scripted("openai", times(6, fail()))
    const retries = RetryPolicy.layer({ schedule: Schedule.spaced(Duration.millis(10)), maxRetries: 2 })
    return withBreaker({ failureThreshold: 2 }, [openai.provider], (breaker) =>
      Effect.gen(function*() {
        const first = yield* Effect.fork(chatError())
        yield* TestClock.adjust(Duration.seconds(1))
        yield* Fiber.join(first)
        expect(openai.calls).toHaveLength(3)
        expect((yield* breaker.snapshot)[0]).toMatchObject({ state: "closed", consecutiveFailures: 1 })
        const second = yield* Effect.fork(chatError())
        yield* TestClock.adjust(Duration.seconds(1))
        yield* Fiber.join(second)
        expect(openai.calls).toHaveLength(6)
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
        expect((yield* chatError())._tag).toBe("CircuitOpenError")
        expect(openai.calls).toHaveLength(6)
      }), retries)
  })

  it.effect("a fallback chain moves on to the next model when the circuit is open", () => {
    const openai = scripted("openai", [fail()])
    const ollama = scripted("ollama", [text, text])
    return withBreaker({ failureThreshold: 1 }, [openai.provider, ollama.provider], () =>
      Effect.gen(function*() {
        yield* chatError()
        const result = yield* LlmClient.chat({ model: "gpt-4o", messages: "hi", fallback: ["ollama:llama3.2"] })
        expect(result.provider).toBe("ollama")
        expect(result.fallbacks?.map((f) => f.error)).toEqual(["CircuitOpenError"])
        const streamed = yield* StreamEvent.accumulate(
          LlmClient.chatStream({ model: "gpt-4o", messages: "hi", fallback: ["ollama:llama3.2"] })
        )
        expect(streamed.provider).toBe("ollama")
        expect(openai.calls).toHaveLength(1)
        expect(ollama.calls).toEqual(["llama3.2", "llama3.2"])
      }))
  })

  it.effect("sets llm_circuit_state (0 closed, 1 half-open, 2 open) on transitions", () => {
    const openai = scripted("openai", [fail(), fail(), text])
    const tags = { model: "gauge-model", provider: "openai" }
    return withBreaker({ failureThreshold: 2 }, [openai.provider], (breaker) =>
      Effect.gen(function*() {
        const model = "openai:gauge-model"
        yield* chatError(model)
        expect(yield* gaugeValue("llm_circuit_state", tags)).toBe(0)
        yield* chatError(model)
        expect(yield* gaugeValue("llm_circuit_state", tags)).toBe(2)
        yield* TestClock.adjust(Duration.seconds(30))
        expect(yield* breaker.state("openai", "gauge-model")).toBe("half-open")
        expect(yield* gaugeValue("llm_circuit_state", tags)).toBe(1)
        yield* chat(model)
        expect(yield* gaugeValue("llm_circuit_state", tags)).toBe(0)
      }))
  })

  it.effect("layerDefault plugs into LlmClient.layer; CircuitBreaker.state reads the breaker in context", () => {
    const openai = scripted("openai", times(3, fail()))
    const layer = LlmClient.layer.pipe(
      Layer.provide(ProviderRegistry.register(Effect.succeed(openai.provider))),
      Layer.provide(ProviderRegistry.layer),
      Layer.provide(RetryPolicy.layerDisabled),
      Layer.provideMerge(CircuitBreaker.layerDefault({ failureThreshold: 3 }))
    )
    return Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* chatError()
      expect(yield* CircuitBreaker.state("openai", "gpt-4o")).toBe("open")
      expect((yield* chatError())._tag).toBe("CircuitOpenError")
      expect(openai.calls).toHaveLength(3)
      const [snap] = yield* CircuitBreaker.snapshot
      expect(snap).toMatchObject({ provider: "openai", model: "gpt-4o", state: "open", retryAfterMs: 30_000 })
    }).pipe(Effect.provide(layer))
  })

  it.effect("the default breaker passes through (never opens)", () => {
    const openai = scripted("openai", times(8, fail()))
    return Effect.gen(function*() {
      for (let i = 0; i < 8; i++) expect((yield* chatError())._tag).toBe("ServerError")
      expect(yield* CircuitBreaker.state("openai", "gpt-4o")).toBe("closed")
      expect(yield* CircuitBreaker.snapshot).toEqual([])
    }).pipe(Effect.provide(clientWith(CircuitBreaker.layerDisabled, [openai.provider])))
  })

  it.effect("reset closes a circuit", () => {
    const openai = scripted("openai", [fail(), text])
    return withBreaker({ failureThreshold: 1 }, [openai.provider], (breaker) =>
      Effect.gen(function*() {
        yield* chatError()
        expect(yield* breaker.state("openai", "gpt-4o")).toBe("open")
        yield* breaker.reset("openai", "gpt-4o")
        expect((yield* chat()).text).toBe("hello there")
      }))
  })

  it.effect("out-of-range options are a defect when the breaker is made", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(CircuitBreaker.make({ failureRateThreshold: 2 }))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("failureRateThreshold")
      const zero = yield* Effect.exit(CircuitBreaker.make({ halfOpenMaxCalls: 0 }))
      expect(Exit.isFailure(zero)).toBe(true)
    }))
})
