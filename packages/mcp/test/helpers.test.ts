/**
 * The pure parts: command lines, tool results as model values, prompt messages, and
 * McpError's shape.
 */
import { describe, expect, it } from "@effect/vitest"
import { Mcp } from "@llm-fiber/mcp"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Content from "../src/internal/content.js"

describe("stdioCommand", () => {
  it("splits a command line like a shell", () => {
    expect(Mcp.stdioCommand("npx -y @modelcontextprotocol/server-memory")).toEqual(
      Either.right({ _tag: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-memory"] })
    )
    expect(Mcp.stdioCommand(`  node "my server.js" --name 'a b' x\\ y "q\\"uote"  `)).toEqual(
      Either.right({ _tag: "stdio", command: "node", args: ["my server.js", "--name", "a b", "x y", "q\"uote"] })
    )
    expect(Mcp.stdioCommand("srv ''", { cwd: "/tmp" })).toEqual(
      Either.right({ _tag: "stdio", command: "srv", args: [""], cwd: "/tmp" })
    )
  })

  it("fails on an empty line or an unterminated quote, without quoting the line", () => {
    const empty = Mcp.stdioCommand("   ")
    expect(Either.isLeft(empty) && empty.left.reason).toBe("Config")
    const open = Mcp.stdioCommand("srv --token 'abc")
    expect(Either.isLeft(open)).toBe(true)
    if (Either.isLeft(open)) {
      expect(open.left.message).toContain("unterminated single quote")
      expect(open.left.message).not.toContain("abc")
    }
  })
})

describe("tool results", () => {
  it("structuredContent wins; otherwise the text of the content, binary as placeholders", () => {
    expect(Mcp.toolResultValue({ content: [{ type: "text", text: "{}" }], structuredContent: { a: 1 } })).toEqual({
      a: 1
    })
    expect(Mcp.toolResultValue({
      content: [
        { type: "text", text: "first" },
        { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" },
        { type: "audio", data: "AAAA", mimeType: "audio/wav" },
        { type: "resource_link", uri: "file:///a.txt", name: "a", mimeType: "text/plain" },
        { type: "resource", resource: { uri: "file:///b.txt", text: "embedded" } },
        { type: "resource", resource: { uri: "file:///c.bin", blob: "AAAA", mimeType: "application/octet-stream" } }
      ]
    })).toBe(
      "first\n[image image/png]\n[audio audio/wav]\n[resource link file:///a.txt (text/plain)]\nembedded\n" +
        "[resource file:///c.bin (application/octet-stream)]"
    )
    expect(Mcp.toolResultValue({ content: [] })).toBe("")
  })
})

describe("prompt messages", () => {
  it("map to core Messages", () => {
    expect(Mcp.promptMessages({
      messages: [
        { role: "user", content: { type: "text", text: "hi" } },
        { role: "user", content: { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" } },
        { role: "assistant", content: { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" } },
        { role: "assistant", content: { type: "resource", resource: { uri: "x://y", text: "doc" } } }
      ]
    })).toEqual([
      { role: "user", content: [{ type: "text", text: "hi" }] },
      { role: "user", content: [{ type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" }] },
      { role: "assistant", content: [{ type: "text", text: "[image image/png]" }] },
      { role: "assistant", content: [{ type: "text", text: "doc" }] }
    ])
  })
})

describe("McpError", () => {
  it("is a tagged error that serializes, with retryable by reason", () => {
    const error = new Mcp.McpError({ server: "s", reason: "Timeout", message: "MCP server \"s\": slow" })
    expect(error._tag).toBe("McpError")
    expect(error).toBeInstanceOf(Error)
    expect(error.retryable).toBe(true)
    expect(new Mcp.McpError({ server: "s", reason: "Protocol", message: "m", code: -32602 }).retryable).toBe(false)
    const encoded = Schema.encodeSync(Mcp.McpError)(error)
    expect(Schema.decodeUnknownSync(Mcp.McpError)(encoded)).toEqual(error)
  })
})

describe("tool names", () => {
  it("are made safe for providers and unique", () => {
    expect(Content.exposedNames("", ["read.file", "read/file", "read_file", "ok-name"])).toEqual([
      "read_file",
      "read_file_2",
      "read_file_3",
      "ok-name"
    ])
    const long = "x".repeat(80)
    const [a, b] = Content.exposedNames("p_", [long, long + "y"])
    expect(a).toBe("p_" + "x".repeat(62))
    expect(b).toBe("p_" + "x".repeat(60) + "_2")
    expect(Content.exposedNames("", [""])).toEqual(["tool"])
  })
})
