/**
 * OpenTelemetry export: the spans and `llm_*` metrics of a few calls, sent over OTLP/HTTP by
 * `Otel.layer` — here to a tiny receiver started by the example itself (`OtlpReceiver`), so
 * that it runs without a collector. In an application, point `endpoint` at your
 * OpenTelemetry Collector, or set `OTEL_EXPORTER_OTLP_ENDPOINT` and use
 * `Otel.layerFromEnv()`.
 *
 * Run: npm run build && OPENAI_API_KEY=sk-… node --import tsx examples/telemetry.ts
 *      (CI runs it against the mock provider server: node scripts/run-examples.mjs)
 */
import { LlmClient } from "@llm-fiber/core"
import { Otel, OtlpReceiver } from "@llm-fiber/otel"
import { Console, Effect, Logger, LogLevel, Stream } from "effect"

const model = process.env.LLM_FIBER_MODEL ?? "gpt-4o-mini"

// a request of your application: its calls nest under its span, and carry who they are for
const handleRequest = Effect.gen(function*() {
  const answer = yield* LlmClient.chat({ model, messages: "Say hi in three words.", maxTokens: 20 })
  yield* Console.log(`chat → ${answer.text}`)
  const events = yield* Stream.runCollect(LlmClient.chatStream({ model, messages: "Count to three.", maxTokens: 20 }))
  yield* Console.log(`stream → ${events.length} events`)
}).pipe(
  Effect.withSpan("example.request"),
  LlmClient.withContext({ userId: "user-42", tags: ["example"], metricLabels: { feature: "telemetry-example" } })
)

const main = async () => {
  const receiver = await OtlpReceiver.start()
  try {
    await Effect.runPromise(
      handleRequest.pipe(
        Effect.provide(LlmClient.layerFromEnv()),
        // the one line that turns export on (closing it flushes spans and metrics)
        Effect.provide(Otel.layer({ serviceName: "telemetry-example", endpoint: receiver.url })),
        Logger.withMinimumLogLevel(LogLevel.None)
      )
    )

    // the layer has closed: everything is at the receiver
    const spans = receiver.spans()
    console.log(`\nspans received at ${receiver.url}/v1/traces:`)
    const print = (parent: string | undefined, depth: number) => {
      for (const span of spans.filter((s) => s.parentSpanId === parent)) {
        const a = span.attributes
        const detail = span.name.startsWith("llm.chat")
          ? `  model=${a["gen_ai.request.model"]} tokens=${a["gen_ai.usage.input_tokens"]}+${
            a["gen_ai.usage.output_tokens"]
          } user=${a["llm.user_id"]} tags=${JSON.stringify(a["llm.tags"])}`
          : ""
        console.log(`${"  ".repeat(depth + 1)}${span.name}${detail}`)
        print(span.spanId, depth + 1)
      }
    }
    print(undefined, 0)

    console.log(`\nmetrics received at ${receiver.url}/v1/metrics:`)
    for (const point of receiver.metrics()) {
      if (point.name !== "llm_requests_total" && point.name !== "llm_latency_ms") continue
      const value = point.type === "histogram" ? `count ${point.count}, sum ${point.sum} ms` : point.value
      console.log(`  ${point.name}${JSON.stringify(point.attributes)} = ${value}`)
    }

    const names = new Set(spans.map((s) => s.name))
    if (!names.has("llm.chat") || !names.has("llm.chat_stream") || receiver.metrics().length === 0) {
      throw new Error("the telemetry did not arrive")
    }
  } finally {
    await receiver.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
