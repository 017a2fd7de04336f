import { Args, Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Option } from "effect"

const prompt = Args.text({ name: "prompt" })
const temperature = Options.float("temperature").pipe(Options.optional)
const maxTokens = Options.integer("max-tokens").pipe(Options.optional)
const json = Options.boolean("json")
const ask = Command.make("ask", { prompt, temperature, maxTokens, json }, (a) => Console.log(JSON.stringify({ ...a, temperature: Option.getOrUndefined(a.temperature) })))
const models = Command.make("models", { json }, () => Console.log("models"))
const root = Command.make("llm-fiber").pipe(Command.withSubcommands([ask, models]))
const run = Command.run(root, { name: "llm-fiber", version: "0.1.0" })
run(process.argv).pipe(Effect.provide(NodeContext.layer), Effect.tapErrorCause((c) => Effect.sync(() => console.error("CAUSE", String(c).slice(0, 300)))), NodeRuntime.runMain({ disableErrorReporting: true }))
