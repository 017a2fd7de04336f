/**
 * @llm-fiber/openai — OpenAI Chat Completions, the OpenAI Responses API and
 * OpenAI-compatible servers (Ollama, vLLM, llama.cpp, Groq, DeepSeek, …) for llm-fiber.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as OpenAI from "./OpenAI.js"
/** @since 0.1.0 */
export * as OpenAiWire from "./OpenAiWire.js"

/**
 * The plugin `LlmClient.layerFromEnv` looks for (`import("@llm-fiber/openai").plugin`);
 * the one non-namespace export, required by the plugin contract.
 *
 * @since 0.1.0
 * @category plugin
 */
export { plugin } from "./OpenAI.js"
