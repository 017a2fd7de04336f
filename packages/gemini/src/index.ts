/**
 * @llm-fiber/gemini — the Google Gemini API (v1beta and v1) for llm-fiber.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Gemini from "./Gemini.js"
/** @since 0.1.0 */
export * as GeminiWire from "./GeminiWire.js"

/**
 * The plugin `LlmClient.layerFromEnv` looks for (`import("@llm-fiber/gemini").plugin`);
 * the one non-namespace export, required by the plugin contract.
 *
 * @since 0.1.0
 * @category plugin
 */
export { plugin } from "./Gemini.js"
