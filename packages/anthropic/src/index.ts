/**
 * @llm-fiber/anthropic — the Anthropic Messages API (prompt caching, extended thinking)
 * for llm-fiber.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Anthropic from "./Anthropic.js"
/** @since 0.1.0 */
export * as AnthropicWire from "./AnthropicWire.js"

/**
 * The plugin `LlmClient.layerFromEnv` looks for (`import("@llm-fiber/anthropic").plugin`);
 * the one non-namespace export, required by the plugin contract.
 *
 * @since 0.1.0
 * @category plugin
 */
export { plugin } from "./Anthropic.js"
