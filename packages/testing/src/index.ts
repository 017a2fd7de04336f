/**
 * @llm-fiber/testing — a scripted `FakeProvider` for the real `LlmClient` pipeline, and a
 * `MockServer` speaking the providers' wire formats with fault injection.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as FakeProvider from "./FakeProvider.js"
/** @since 0.1.0 */
export * as MockServer from "./MockServer.js"
