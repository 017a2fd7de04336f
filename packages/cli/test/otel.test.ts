/**
 * OpenTelemetry export of the CLI: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, every command
 * sends its spans and metrics over OTLP/HTTP (JSON) to `{endpoint}/v1/traces` and
 * `/v1/metrics`, flushed before the process exits — checked with a real loopback receiver
 * (`OtlpReceiver` of `@llm-fiber/otel`), against the real executable and the mock provider
 * server (as in e2e.test.ts), and in process on the scripted provider.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { OtlpReceiver } from "@llm-fiber/otel"
import { MockServer } from "@llm-fiber/testing"
import { Effect } from "effect"
import { cli as exec, type Run } from "./support/exec.js"
import { makeFake, runCli } from "./support/fake.js"

const secret = "sk-SECRET-otel-123"

/** Run `llm-fiber …` with exactly the given environment (plus PATH/HOME). */
const cli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>): Promise<Run> => exec(args, { env })

let server: MockServer.Handle
let receiver: OtlpReceiver.Handle

beforeAll(async () => {
  server = await MockServer.start()
  receiver = await OtlpReceiver.start()
})
afterAll(async () => {
  await server?.close()
  await receiver?.close()
})
beforeEach(() => {
  server.reset()
  receiver.reset()
})

const spanNamed = (name: string) => receiver.spans().filter((s) => s.name === name)

/** No byte of any payload the receiver got holds the key. */
const expectNoKey = () => {
  expect(receiver.requests.length).toBeGreaterThan(0)
  for (const request of receiver.requests) expect(request.text).not.toContain(secret)
}

describe("llm-fiber with OTEL_EXPORTER_OTLP_ENDPOINT (the real executable)", () => {
  const env = () => ({
    OPENAI_BASE_URL: server.openaiBaseUrl,
    OPENAI_API_KEY: secret,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url
  })

  it("ask exports the llm.chat span and the llm_* metrics before it exits", async () => {
    const run = await cli(["ask", "hi", "--json"], env())
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const paths = receiver.requests.map((r) => r.path).sort()
    expect(paths).toEqual(["/v1/metrics", "/v1/traces"])
    for (const request of receiver.requests) expect(request.headers["content-type"]).toBe("application/json")
    const [chat, ...more] = spanNamed("llm.chat")
    expect(more).toHaveLength(0)
    expect(chat!.status.code).toBe(1)
    expect(chat!.attributes).toMatchObject({ "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini" })
    expect(chat!.resource).toMatchObject({ "service.name": "llm-fiber", "service.version": "0.1.0" })
    const attempt = spanNamed("llm.attempt")[0]
    expect(attempt?.parentSpanId).toBe(chat!.spanId)
    const requests = receiver.metrics().filter((p) => p.name === "llm_requests_total")
    expect(requests).toEqual([
      { name: "llm_requests_total", type: "sum", attributes: { provider: "openai", model: "gpt-4o-mini" }, value: 1 }
    ])
    expect(receiver.metrics().some((p) => p.name === "llm_latency_ms" && p.type === "histogram" && p.count === 1))
      .toBe(true)
    expectNoKey()
  })

  it("a failing command (exit 1) still exports, with the error on the span; OTEL_SERVICE_NAME names it", async () => {
    const run = await cli(["ask", "hi", "--model", "openai:mock?fault=401"], {
      ...env(),
      OTEL_SERVICE_NAME: "my-scripts"
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^AuthenticationError: /)
    const [chat] = spanNamed("llm.chat")
    expect(chat?.status.code).toBe(2)
    expect(chat?.attributes["error.type"]).toBe("AuthenticationError")
    expect(chat?.resource["service.name"]).toBe("my-scripts")
    const errors = receiver.metrics().filter((p) => p.name === "llm_errors_total")
    expect(errors).toEqual([{
      name: "llm_errors_total",
      type: "sum",
      attributes: { provider: "openai", model: "mock?fault=401", error: "AuthenticationError" },
      value: 1
    }])
    expectNoKey()
  })

  it("stream exports llm.chat_stream with its first_token event", async () => {
    const run = await cli(["stream", "hi", "--model", "openai:mock?chunks=3"], env())
    expect(run.code).toBe(0)
    const [stream] = spanNamed("llm.chat_stream")
    expect(stream?.events.map((e) => e.name)).toContain("first_token")
    expect(stream?.attributes["gen_ai.usage.output_tokens"]).toBe(3)
    expectNoKey()
  })

  it("without the variable nothing is sent", async () => {
    const run = await cli(["ask", "hi"], { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: secret })
    expect(run.code).toBe(0)
    expect(receiver.requests).toEqual([])
  })
})

describe("llm-fiber with OTEL_* variables (in process)", () => {
  it.live("the key is scrubbed from exported text a provider echoed (the span's error status)", () =>
    Effect.gen(function*() {
      const env = { OPENAI_API_KEY: secret, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }
      const r = yield* runCli(["ask", "hi", "--model", "openai:leak"], { ...makeFake(secret), env })
      expect(r.code).toBe(1)
      const [chat] = spanNamed("llm.chat")
      expect(chat?.status.code).toBe(2)
      expect(chat?.status.message).toContain("[redacted]")
      expectNoKey()
    }))

  it.live("a malformed endpoint: one warning line, and the command runs without export", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "hi"], { ...makeFake(), env: { OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" } })
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("Echo: hi\n")
      expect(r.stderr).toMatch(
        /^llm-fiber: OpenTelemetry export is off: ConfigError: .*OTEL_EXPORTER_OTLP_ENDPOINT.*\n$/
      )
      expect(receiver.requests).toEqual([])
    }))
})
