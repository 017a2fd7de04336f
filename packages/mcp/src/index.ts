/**
 * @llm-fiber/mcp — an MCP client for llm-fiber: the tools, resources and prompts of MCP
 * servers (over stdio or Streamable HTTP) as typed Effects, and their tools as a `Toolkit`
 * for the model.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Mcp from "./Mcp.js"
