/**
 * The model calls an MCP server's tool through the tool loop (`ToolLoop.run`): the mock
 * provider server (`@llm-fiber/testing`) answers with a tool call for the offered MCP tool,
 * the tool runs on the real server-everything / server-memory, and the model gets the real
 * result back.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { LlmClient, ToolLoop } from "@llm-fiber/core"
import { Mcp } from "@llm-fiber/mcp"
import { MockServer } from "@llm-fiber/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { everything, kill, memory, tempDir } from "./servers.js"

let mock: MockServer.Handle

beforeAll(async () => {
  mock = await MockServer.start()
})
afterAll(async () => {
  await mock.close()
})

const client = () =>
  LlmClient.layerFromEnv({
    providers: {
      openai: { apiKey: "sk-mock-key", baseUrl: mock.openaiBaseUrl, ollama: false },
      anthropic: false,
      gemini: false
    }
  }).pipe(Layer.merge(Logger.minimumLogLevel(LogLevel.Warning)))

interface SentBody {
  readonly tools?: ReadonlyArray<{ readonly function: { readonly name: string; readonly parameters: unknown } }>
}

describe("the tool loop with MCP tools", () => {
  it.scopedLive("the model calls server-everything's echo and gets the real result", () =>
    Effect.gen(function*() {
      mock.reset()
      const server = yield* Mcp.connect(everything())
      const llm = yield* LlmClient.LlmClient
      const result = yield* ToolLoop.run(llm, {
        model: "openai:mock-model",
        messages: "Echo something, please.",
        toolkit: server.toolkit,
        toolChoice: { type: "tool", name: "echo" }
      })
      expect(result.stoppedBy).toBe("answer")
      expect(result.steps).toHaveLength(2)
      const call = result.steps[0]?.toolResults[0]
      expect(call).toMatchObject({
        name: "echo",
        arguments: { message: "example" },
        outcome: "success",
        result: "Echo: example",
        isError: false
      })
      expect(result.text).toBe("The tool returned: Echo: example")
      // what the provider saw: the MCP tool's JSON Schema, then the MCP result in the tool message
      const sent = mock.requests.map((r) => r.body as SentBody)
      expect(sent[0]?.tools?.find((t) => t.function.name === "echo")?.function.parameters).toMatchObject({
        type: "object",
        properties: { message: { type: "string", description: "Message to echo" } },
        required: ["message"]
      })
      expect(JSON.stringify(mock.requests[1]?.body)).toContain("Echo: example")
    }).pipe(Effect.provide(client())))

  it.scopedLive("the model writes to server-memory through the loop; the graph holds it", () =>
    Effect.gen(function*() {
      mock.reset()
      const dir = yield* tempDir
      const server = yield* Mcp.connect(memory(dir, { toolPrefix: "memory_" }))
      mock.script([{
        toolCalls: [{
          name: "memory_create_entities",
          arguments: { entities: [{ name: "Hedy", entityType: "person", observations: ["frequency hopping"] }] }
        }]
      }])
      const result = yield* ToolLoop.chat({
        model: "openai:mock-model",
        messages: "Remember Hedy.",
        toolkit: server.toolkit
      })
      expect(result.steps[0]?.toolResults[0]).toMatchObject({ name: "memory_create_entities", outcome: "success" })
      expect(result.text).toContain("The tool returned:")
      expect(result.text).toContain("Hedy")
      const graph = yield* server.callTool("read_graph", {})
      expect(graph.structuredContent).toEqual({
        entities: [{ name: "Hedy", entityType: "person", observations: ["frequency hopping"] }],
        relations: []
      })
    }).pipe(Effect.provide(client())))

  it.scopedLive("an MCP error result is reported to the model as a tool error", () =>
    Effect.gen(function*() {
      mock.reset()
      const server = yield* Mcp.connect(everything())
      // arguments the server rejects (the loop only checks a dynamic tool's arguments are an object)
      mock.script([{ toolCalls: [{ name: "get-sum", arguments: { a: "one", b: 2 } }] }])
      const result = yield* ToolLoop.chat({ model: "openai:mock-model", messages: "Add.", toolkit: server.toolkit })
      const call = result.steps[0]?.toolResults[0]
      expect(call).toMatchObject({ name: "get-sum", outcome: "tool_error", isError: true })
      expect(call?.error).toMatchObject({ _tag: "ToolError", code: "mcp_tool_error" })
      expect(String(call?.result)).toContain("Input validation error")
      expect(result.text).toContain("Input validation error")
    }).pipe(Effect.provide(client())))

  it.scopedLive("tools of two servers in one loop (merged toolkit), one server dead: a reported error, no hang", () =>
    Effect.gen(function*() {
      mock.reset()
      const dir = yield* tempDir
      const ev = yield* Mcp.connect(everything({ requestTimeoutMs: 600_000 }))
      const mem = yield* Mcp.connect(memory(dir))
      const toolkit = yield* Mcp.mergeToolkits([ev, mem])
      const pid = yield* ev.pid
      expect(yield* kill(Option.getOrThrow(pid))).toBe(true)
      mock.script([{
        toolCalls: [
          { name: "echo", arguments: { message: "are you there?" } },
          { name: "read_graph", arguments: {} }
        ]
      }])
      const result = yield* ToolLoop.chat({
        model: "openai:mock-model",
        messages: "Both, please.",
        toolkit
      })
      const [echo, graph] = result.steps[0]?.toolResults ?? []
      expect(echo).toMatchObject({ name: "echo", outcome: "tool_error", isError: true })
      expect(echo?.error).toMatchObject({ code: "mcp_closed" })
      expect(String(echo?.result)).toContain("MCP server \"everything\"")
      expect(graph).toMatchObject({ name: "read_graph", outcome: "success", result: { entities: [], relations: [] } })
      expect(result.stoppedBy).toBe("answer")
    }).pipe(Effect.provide(client())))
})
