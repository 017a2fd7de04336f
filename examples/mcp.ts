/**
 * MCP tools in a tool loop: start the reference MCP server "everything" over stdio, offer
 * two of its tools to the model, and let the model call one — the tool runs on the MCP
 * server and the model gets its real result back. Also: a resource and a prompt of the
 * same server, and the typed error of a server that has died.
 *
 * Runs against real providers when their API keys are set, or against the bundled mock
 * provider server (`npm run demo`), which calls the first tool it is offered.
 *
 * Run: npm run demo   (or: OPENAI_API_KEY=sk-… npx tsx examples/mcp.ts)
 */
import { LlmClient, ToolLoop } from "@llm-fiber/core"
import { Mcp } from "@llm-fiber/mcp"
import { Console, Effect, Logger, LogLevel, Option } from "effect"
import { createRequire } from "node:module"

const model = process.env.LLM_FIBER_MODEL ?? "gpt-4o-mini"

// the server ships as an npm package: run its entry point with this Node
const everythingServer = createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/dist/index.js")

const program = Effect.gen(function*() {
  // 1. connect: the child process lives as long as this scope; the model gets two of its tools
  const server = yield* Mcp.connect({
    name: "everything",
    transport: Mcp.stdio(process.execPath, [everythingServer, "stdio"]),
    timeoutMs: 20_000,
    tools: ["get-sum", "echo"]
  })
  const tools = yield* server.listTools
  yield* Console.log(
    `1. connected to ${server.serverInfo.name} ${server.serverInfo.version}: ${tools.length} tools, ` +
      `offered to the model: ${server.toolkit.tools.map((t) => t.name).join(", ")}`
  )

  // 2. a tool loop: the model may call get-sum or echo; each call runs on the MCP server
  const result = yield* ToolLoop.chat({
    model,
    messages: "What is 2 + 40? Use the get-sum tool.",
    toolkit: server.toolkit,
    maxSteps: 4
  })
  for (const step of result.steps) {
    for (const call of step.toolResults) {
      yield* Console.log(
        `2. step ${step.step}: ${call.name}(${JSON.stringify(call.arguments)}) → ${String(call.result)}`
      )
    }
  }
  yield* Console.log(`   answer (${result.stoppedBy}, ${result.steps.length} steps) → ${result.text}`)

  // 3. resources and prompts
  const resource = yield* server.readResource("demo://resource/dynamic/text/1")
  const first = resource.contents[0]
  yield* Console.log(`3. resource → ${first !== undefined && "text" in first ? first.text : "(binary)"}`)
  const prompt = yield* server.getPrompt("args-prompt", { city: "Paris" })
  yield* Console.log(`   prompt → ${JSON.stringify(prompt.messages)}`)

  // 4. a server that died: calls fail fast with a typed error (or reconnect: `reconnect: true`)
  const pid = yield* server.pid
  if (Option.isSome(pid)) {
    process.kill(pid.value, "SIGKILL")
    yield* Effect.sleep("200 millis")
    yield* server.callTool("echo", { message: "still there?" }).pipe(
      Effect.catchTag("McpError", (e) => Console.log(`4. McpError (${e.reason}) → ${e.message}`))
    )
  }
})

Effect.runPromise(
  program.pipe(
    Effect.scoped,
    Effect.provide(LlmClient.layerFromEnv()),
    Logger.withMinimumLogLevel(LogLevel.None)
  )
).catch((error) => {
  console.error(error)
  process.exit(1)
})
