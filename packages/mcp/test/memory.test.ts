/**
 * The client against the real `@modelcontextprotocol/server-memory` over stdio: write a
 * knowledge graph through its tools (directly and through the toolkit) and read it back.
 */
import { describe, expect, it } from "@effect/vitest"
import { Mcp } from "@llm-fiber/mcp"
import * as Effect from "effect/Effect"
import { memory, runTool, tempDir } from "./servers.js"

const call = (server: Mcp.McpServer, tool: string, args: unknown) => runTool(server.toolkit, tool, args)

describe("server-memory over stdio", () => {
  it.scopedLive("create entities and relations, then read the graph back", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const server = yield* Mcp.connect(memory(dir))
      expect(server.serverInfo.name).toBe("memory-server")
      const created = yield* server.callTool("create_entities", {
        entities: [
          { name: "Ada", entityType: "person", observations: ["wrote the first program"] },
          { name: "Analytical Engine", entityType: "machine", observations: [] }
        ]
      })
      expect(created.isError).not.toBe(true)
      expect(created.structuredContent).toEqual({
        entities: [
          { name: "Ada", entityType: "person", observations: ["wrote the first program"] },
          { name: "Analytical Engine", entityType: "machine", observations: [] }
        ]
      })
      // through the toolkit, as the model would
      yield* call(server, "create_relations", {
        relations: [{ from: "Ada", to: "Analytical Engine", relationType: "programmed" }]
      })
      yield* call(server, "add_observations", {
        observations: [{ entityName: "Analytical Engine", contents: ["designed by Babbage"] }]
      })
      const graph = yield* call(server, "read_graph", {})
      expect(graph).toEqual({
        entities: [
          { name: "Ada", entityType: "person", observations: ["wrote the first program"] },
          { name: "Analytical Engine", entityType: "machine", observations: ["designed by Babbage"] }
        ],
        relations: [{ from: "Ada", to: "Analytical Engine", relationType: "programmed" }]
      })
      const found = yield* call(server, "search_nodes", { query: "Babbage" })
      expect(found).toMatchObject({ entities: [{ name: "Analytical Engine" }] })
    }))

  it.scopedLive("the graph outlives the server process (it is in the file)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* Mcp.connect(memory(dir))
        yield* server.callTool("create_entities", {
          entities: [{ name: "Grace", entityType: "person", observations: ["found a moth"] }]
        })
      }))
      const again = yield* Mcp.connect(memory(dir))
      const opened = yield* again.callTool("open_nodes", { names: ["Grace"] })
      expect(opened.structuredContent).toMatchObject({ entities: [{ name: "Grace", observations: ["found a moth"] }] })
    }))

  it.scopedLive("a resource but no prompts: listPrompts is empty, the graph resource reads", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const server = yield* Mcp.connect(memory(dir))
      expect(server.capabilities.prompts).toBeUndefined()
      expect(yield* server.listPrompts).toEqual([])
      const resources = yield* server.listResources
      expect(resources.map((r) => r.uri)).toEqual(["memory://knowledge-graph"])
      yield* server.callTool("create_entities", {
        entities: [{ name: "Linus", entityType: "person", observations: [] }]
      })
      const read = yield* server.readResource("memory://knowledge-graph")
      const first = read.contents[0]
      const text = first !== undefined && "text" in first ? first.text : ""
      expect(JSON.parse(text)).toMatchObject({ entities: [{ name: "Linus" }] })
    }))

  it.scopedLive("an error result of a tool becomes a ToolError (missing required arguments)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const server = yield* Mcp.connect(memory(dir))
      const error = yield* Effect.flip(call(server, "create_entities", {}))
      expect(error).toMatchObject({ _tag: "ToolError", toolName: "create_entities", code: "mcp_tool_error" })
      expect((error as Error).message).toContain("MCP server \"memory\", tool \"create_entities\" failed")
    }))
})
