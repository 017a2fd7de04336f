/**
 * Budgets: a per-call cost ceiling that rejects a call before anything is sent, a per-user
 * daily budget, what remains of it, and the usage log with its summary.
 *
 * Run against the mock server: scripts/run-examples.mjs (sets OPENAI_BASE_URL), or
 * OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_API_KEY=sk-mock npx tsx examples/budgets.ts
 */
import { Budget, LlmClient, ProviderRegistry, UndiciHttpClient, UsageLog } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"

const baseUrl = process.env.OPENAI_BASE_URL ?? "http://127.0.0.1:8080/v1"
const onMock = process.env.LLM_FIBER_DEMO_MOCK === "1"

/** How many requests the mock server has received (it records them; a real API does not say). */
const requestsSeen = Effect.promise(async () => {
  if (!onMock) return undefined
  const response = await fetch(new URL("/__mock/requests", baseUrl))
  return ((await response.json()) as ReadonlyArray<unknown>).length
})

const program = (usageLog: UsageLog.Writer & { readonly lines: Effect.Effect<ReadonlyArray<string>> }) =>
  Effect.gen(function*() {
    const llm = yield* LlmClient.LlmClient

    // 1. a per-call ceiling: gpt-4o with 4,000 output tokens may cost up to ~0.04 USD
    const before = yield* requestsSeen
    yield* llm.chat({
      model: "gpt-4o",
      messages: "Write a long essay about budgets.",
      maxTokens: 4_000,
      costCeilingUsd: 0.001
    }).pipe(
      Effect.catchTag("BudgetExceededError", (e) =>
        Effect.gen(function*() {
          const after = yield* requestsSeen
          yield* Console.log(`1. rejected (${e.scope}): estimate ${e.estimateUsd?.toFixed(6)} USD > ${e.limitUsd} USD`)
          yield* Console.log(`   ${e.message}`)
          if (before !== undefined && after !== undefined) {
            yield* Console.log(`   requests the server received for it: ${after - before}`)
            if (after !== before) return yield* Effect.dieMessage("a rejected call reached the server")
          }
        }))
    )

    // 2. a per-user daily budget (0.0003 USD for the demo): calls go through until the next
    //    one's worst case no longer fits what is left
    const asUser = LlmClient.withContext({ userId: "u-42" })
    let served = 0
    for (let i = 0; i < 50; i++) {
      const outcome = yield* llm.chat({ model: "gpt-4o-mini", messages: `Question ${i}: hi!`, maxTokens: 200 }).pipe(
        asUser,
        Effect.map(() => "ok" as const),
        Effect.catchTag("BudgetExceededError", (e) => Effect.succeed(e))
      )
      if (outcome === "ok") {
        served++
        continue
      }
      yield* Console.log(`2. u-42 served ${served} calls, then: ${outcome.message}`)
      break
    }
    const [daily] = yield* Budget.remaining({ user: "u-42" })
    if (daily !== undefined) {
      yield* Console.log(
        `   u-42 today (${daily.period}): used ${daily.usedUsd.toFixed(6)} of ${daily.limitUsd} USD, ` +
          `${daily.remainingUsd?.toFixed(6)} left, resets ${new Date(daily.resetsAt ?? 0).toISOString()}`
      )
    }
    // another user has their own budget
    yield* llm.chat({ model: "gpt-4o-mini", messages: "hi", maxTokens: 200 }).pipe(
      LlmClient.withContext({ userId: "u-7" })
    )

    // 3. the usage log (one JSON line per call, no prompt or completion) and its summary
    const lines = yield* usageLog.lines
    yield* Console.log(`3. usage log: ${lines.length} lines, e.g. ${lines.at(-1)}`)
    const summary = UsageLog.summarize(lines)
    for (const group of summary.byModel) {
      yield* Console.log(
        `   ${group.key}: ${group.calls} calls (${group.errors} rejected), ${group.costUsd.toFixed(6)} USD`
      )
    }
  })

const main = Effect.gen(function*() {
  // in an app: UsageLog.layerFile("usage.jsonl") (then `llm-fiber costs usage.jsonl`)
  const usageLog = yield* UsageLog.makeMemory
  const Budgets = Budget.layerMemory({
    limits: [{ scope: "user", window: "day", usd: 0.0003 }],
    costCeilingUsd: 0.01, // for every call without its own ceiling
    usageLog
  })
  const Live = LlmClient.layer.pipe(
    Layer.provide(OpenAI.layerConfig()),
    Layer.provideMerge(Budgets),
    Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer()))
  )
  yield* Effect.provide(program(usageLog), Live)
})

Effect.runPromise(main.pipe(Logger.withMinimumLogLevel(LogLevel.None))).catch((error) => {
  console.error(error)
  process.exit(1)
})
