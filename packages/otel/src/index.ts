/**
 * @llm-fiber/otel — OpenTelemetry export of llm-fiber's spans and `llm_*` metrics over
 * OTLP/HTTP, on `@effect/opentelemetry`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Otel from "./Otel.js"
/** @since 0.1.0 */
export * as OtlpReceiver from "./OtlpReceiver.js"
