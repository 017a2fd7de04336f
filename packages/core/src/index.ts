/**
 * @llm-fiber/core — the domain model, the `LlmClient` pipeline and its services.
 *
 * @since 0.1.0
 */

/**
 * Human in the loop: the policy deciding which tool calls the tool loop may run.
 *
 * @since 0.1.0
 */
export * as Approval from "./Approval.js"

/** @since 0.1.0 */
export * as Budget from "./Budget.js"

/**
 * A bound call context: user id, correlation id, tags, metadata, metric labels and request
 * defaults scoped to a region of code.
 *
 * @since 0.1.0
 */
export * as CallContext from "./CallContext.js"
/** @since 0.1.0 */
export * as Catalog from "./Catalog.js"
/** @since 0.1.0 */
export * as ChatRequest from "./ChatRequest.js"
/** @since 0.1.0 */
export * as ChatResult from "./ChatResult.js"
/** @since 0.1.0 */
export * as CircuitBreaker from "./CircuitBreaker.js"
/** @since 0.1.0 */
export * as KeyPool from "./KeyPool.js"
/** @since 0.1.0 */
export * as LlmClient from "./LlmClient.js"
/** @since 0.1.0 */
export * as LlmError from "./LlmError.js"
/** @since 0.1.0 */
export * as Message from "./Message.js"
/** @since 0.1.0 */
export * as Metrics from "./Metrics.js"
/** @since 0.1.0 */
export * as Middleware from "./Middleware.js"
/** @since 0.1.0 */
export * as ModelRegistry from "./ModelRegistry.js"
/** @since 0.1.0 */
export * as Provider from "./Provider.js"
/** @since 0.1.0 */
export * as ProviderConfig from "./ProviderConfig.js"
/** @since 0.1.0 */
export * as ProviderHttp from "./ProviderHttp.js"
/** @since 0.1.0 */
export * as ProviderRegistry from "./ProviderRegistry.js"
/** @since 0.1.0 */
export * as RateLimiter from "./RateLimiter.js"
/** @since 0.1.0 */
export * as ResponseCache from "./ResponseCache.js"
/** @since 0.1.0 */
export * as RetryPolicy from "./RetryPolicy.js"
/** @since 0.1.0 */
export * as Sse from "./Sse.js"
/** @since 0.1.0 */
export * as StreamEvent from "./StreamEvent.js"
/** @since 0.1.0 */
export * as StructuredOutput from "./StructuredOutput.js"
/** @since 0.1.0 */
export * as Telemetry from "./Telemetry.js"
/** @since 0.1.0 */
export * as Timeouts from "./Timeouts.js"

/**
 * Token counts before a call is sent: exact for OpenAI models (`gpt-tokenizer`, loaded
 * lazily), a conservative estimate for the others.
 *
 * @since 0.1.0
 */
export * as Tokenizer from "./Tokenizer.js"
/** @since 0.1.0 */
export * as Tool from "./Tool.js"
/** @since 0.1.0 */
export * as Toolkit from "./Toolkit.js"

/**
 * The tool loop: run a toolkit's tools for the model until it answers.
 *
 * @since 0.1.0
 */
export * as ToolLoop from "./ToolLoop.js"
/** @since 0.1.0 */
export * as UndiciHttpClient from "./UndiciHttpClient.js"
/** @since 0.1.0 */
export * as Usage from "./Usage.js"

/**
 * The usage log: one JSON line per call (tokens, cost, latency, status — never content or
 * keys) and `summarize`, the totals by model, provider and day.
 *
 * @since 0.1.0
 */
export * as UsageLog from "./UsageLog.js"
/** @since 0.1.0 */
export * as Wire from "./Wire.js"
