/**
 * The client against the real `@modelcontextprotocol/server-everything` over stdio: tools
 * (text, structured content, error results), the toolkit mapping, resources and prompts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Mcp } from "@llm-fiber/mcp"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { everything, runTool } from "./servers.js"

describe("server-everything over stdio", () => {
  it.scopedLive("handshake: server info and capabilities", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      expect(server.name).toBe("everything")
      expect(server.serverInfo.name).toBe("mcp-servers/everything")
      expect(server.capabilities.tools).toBeDefined()
      expect(server.capabilities.resources).toBeDefined()
      expect(server.capabilities.prompts).toBeDefined()
      expect(yield* server.status).toBe("connected")
    }))

  it.scopedLive("lists its tools with their input schemas", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const tools = yield* server.listTools
      const names = tools.map((t) => t.name)
      expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "get-structured-content"]))
      const echo = tools.find((t) => t.name === "echo")
      expect(echo?.inputSchema.required).toEqual(["message"])
      expect(echo?.inputSchema.properties).toHaveProperty("message")
    }))

  it.scopedLive("calls echo and get-sum", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const echoed = yield* server.callTool("echo", { message: "hello MCP" })
      expect(echoed.isError).not.toBe(true)
      expect(Mcp.resultText(echoed)).toBe("Echo: hello MCP")
      const sum = yield* server.callTool("get-sum", { a: 2, b: 40 })
      expect(Mcp.resultText(sum)).toBe("The sum of 2 and 40 is 42.")
    }))

  it.scopedLive("returns structuredContent when the tool sends it", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const result = yield* server.callTool("get-structured-content", { location: "Chicago" })
      expect(result.structuredContent).toEqual({ temperature: 36, conditions: "Light rain / drizzle", humidity: 82 })
      expect(Mcp.toolResultValue(result)).toEqual(result.structuredContent)
    }))

  it.scopedLive("an error result (invalid arguments, unknown tool) is a result with isError", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const invalid = yield* server.callTool("echo", { message: 3 })
      expect(invalid.isError).toBe(true)
      expect(Mcp.resultText(invalid)).toContain("Input validation error")
      const unknown = yield* server.callTool("no-such-tool", {})
      expect(unknown.isError).toBe(true)
      expect(Mcp.resultText(unknown)).toContain("no-such-tool not found")
    }))

  it.scopedLive("toolkit: every tool as a dynamic tool, results mapped", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const { toolkit } = server
      expect(toolkit.tools.map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "get-sum"]))
      const echo = toolkit.byName.get("echo")
      expect(echo?.description).toBe("Echoes back the input string")
      expect(echo?.parameters).toBeUndefined()
      // the JSON Schema goes to the provider as it is, minus `$schema`
      expect(echo?.jsonSchema).toEqual({
        type: "object",
        properties: { message: { type: "string", description: "Message to echo" } },
        required: ["message"]
      })
      expect(yield* runTool(toolkit, "echo", { message: "from the toolkit" })).toBe("Echo: from the toolkit")
      expect(yield* runTool(toolkit, "get-structured-content", { location: "New York" })).toEqual({
        temperature: 33,
        conditions: "Cloudy",
        humidity: 82
      })
      // tool names that providers accept
      for (const tool of toolkit.tools) expect(tool.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/)
      // a tool that only runs as a task (execution.taskSupport: "required") is listed, not offered
      const listed = yield* server.listTools
      expect(listed.find((t) => t.name === "simulate-research-query")?.execution?.taskSupport).toBe("required")
      expect(toolkit.byName.has("simulate-research-query")).toBe(false)
      expect(toolkit.tools).toHaveLength(listed.length - 1)
    }))

  it.scopedLive("toolkit: an isError result is a ToolError with the server's message", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const exit = yield* Effect.exit(runTool(server.toolkit, "echo", { message: 42 }))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        expect(error).toMatchObject({ _tag: "ToolError", toolName: "echo", code: "mcp_tool_error" })
        expect((error as Error).message).toContain("MCP server \"everything\", tool \"echo\" failed")
        expect((error as Error).message).toContain("Input validation error")
      }
      // arguments that are not an object never reach the server
      const notObject = yield* Effect.flip(runTool(server.toolkit, "echo", "just a string"))
      expect(notObject).toMatchObject({ _tag: "ToolError", code: "mcp_arguments" })
    }))

  it.scopedLive("toolPrefix renames the tools, calls still reach the server's names", () =>
    Effect.gen(function*() {
      const prefixed = yield* Mcp.connect(everything({ toolPrefix: true }))
      expect(prefixed.toolkit.byName.has("echo")).toBe(false)
      expect(yield* runTool(prefixed.toolkit, "everything_echo", { message: "hi" })).toBe("Echo: hi")
      expect(prefixed.toolkit.byName.has("everything_get-sum")).toBe(true)
      const custom = yield* Mcp.connect(everything({ name: "ev2", toolPrefix: "ev." }))
      // "." is not allowed in provider tool names: it becomes "_"
      expect(custom.toolkit.byName.has("ev_echo")).toBe(true)
    }))

  it.scopedLive("options.tools: the toolkit holds the chosen tools, in the order given", () =>
    Effect.gen(function*() {
      const listed = yield* Mcp.connect(everything({ tools: ["get-sum", "echo"] }))
      expect(listed.toolkit.tools.map((t) => t.name)).toEqual(["get-sum", "echo"])
      expect((yield* listed.listTools).length).toBeGreaterThan(2)
      const filtered = yield* Mcp.connect(everything({ tools: (tool) => tool.annotations?.readOnlyHint === false }))
      expect(filtered.toolkit.tools.length).toBeGreaterThan(0)
      expect(filtered.toolkit.byName.has("echo")).toBe(false)
      const missing = yield* Effect.flip(Mcp.connect(everything({ tools: ["echo", "no-such-tool"] })))
      expect(missing).toMatchObject({ reason: "Config", server: "everything" })
      expect(missing.message).toContain("\"no-such-tool\", which the server does not offer")
    }))

  it.scopedLive("a custom toolResult mapping", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything({ toolResult: (result) => ({ blocks: result.content.length }) }))
      expect(yield* runTool(server.toolkit, "echo", { message: "x" })).toEqual({ blocks: 1 })
    }))

  it.scopedLive("protocol errors are McpErrors of reason Protocol with the server's code and message", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const resource = yield* Effect.flip(server.readResource("demo://no/such/resource"))
      expect(resource).toBeInstanceOf(Mcp.McpError)
      expect(resource).toMatchObject({
        server: "everything",
        reason: "Protocol",
        method: "resources/read",
        code: -32602
      })
      expect(resource.message).toBe(
        "MCP server \"everything\": resources/read failed: Resource demo://no/such/resource not found"
      )
      const prompt = yield* Effect.flip(server.getPrompt("no-such-prompt"))
      expect(prompt).toMatchObject({ reason: "Protocol", method: "prompts/get", code: -32602 })
      expect(prompt.message).toContain("Prompt no-such-prompt not found")
    }))

  it.scopedLive("resources: list, templates, read text and blob", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const resources = yield* server.listResources
      const doc = resources.find((r) => r.uri === "demo://resource/static/document/architecture.md")
      expect(doc?.mimeType).toBe("text/markdown")
      const read = yield* server.readResource("demo://resource/static/document/architecture.md")
      const first = read.contents[0]
      expect(first !== undefined && "text" in first ? first.text.length : 0).toBeGreaterThan(100)

      const templates = yield* server.listResourceTemplates
      expect(templates.map((t) => t.uriTemplate)).toEqual(
        expect.arrayContaining([
          "demo://resource/dynamic/text/{resourceId}",
          "demo://resource/dynamic/blob/{resourceId}"
        ])
      )
      const text = yield* server.readResource("demo://resource/dynamic/text/7")
      expect(text.contents[0]).toMatchObject({ uri: "demo://resource/dynamic/text/7", mimeType: "text/plain" })
      expect(text.contents[0] && "text" in text.contents[0] ? text.contents[0].text : "").toMatch(/^Resource 7: /)
      const blob = yield* server.readResource("demo://resource/dynamic/blob/7")
      const blobContent = blob.contents[0]
      const decoded = blobContent !== undefined && "blob" in blobContent ?
        Buffer.from(blobContent.blob, "base64").toString("utf8") :
        ""
      expect(decoded).toMatch(/^Resource 7: This is a base64 blob/)
    }))

  it.scopedLive("prompts: list, and get as core Messages", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything())
      const prompts = yield* server.listPrompts
      expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(["simple-prompt", "args-prompt"]))
      expect(prompts.find((p) => p.name === "args-prompt")?.arguments).toEqual([
        { name: "city", description: "Name of the city", required: true },
        { name: "state", required: false }
      ])
      const simple = yield* server.getPrompt("simple-prompt")
      expect(simple.messages).toEqual([
        { role: "user", content: [{ type: "text", text: "This is a simple prompt without arguments." }] }
      ])
      const withArgs = yield* server.getPrompt("args-prompt", { city: "Paris", state: "Texas" })
      expect(withArgs.messages).toEqual([
        { role: "user", content: [{ type: "text", text: "What's weather in Paris, Texas?" }] }
      ])
      expect(withArgs.result.messages).toHaveLength(1)
    }))
})
