/**
 * OpenTelemetry export of a run: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or a per-signal
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set, the
 * command's spans and `llm_*` metrics go out over OTLP/HTTP (JSON) through
 * `Otel.layerFromEnv` — service name `llm-fiber` unless `OTEL_SERVICE_NAME` says otherwise —
 * and are flushed before the process exits, on success and on failure alike. Without those
 * variables `@llm-fiber/otel` (and the OpenTelemetry SDK) is not even loaded.
 *
 * Known secrets (the API keys of the environment) are scrubbed from everything exported,
 * as from everything printed. A malformed setting prints one line on stderr and the
 * command runs without export. An unreachable collector delays the exit by at most
 * `exportTimeoutMs` (3 s; `OTEL_EXPORTER_OTLP_TIMEOUT` changes it).
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Io from "./io.js"
import * as Report from "./report.js"

/** The variables that turn export on. */
export const endpointVariables: ReadonlyArray<string> = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
]

/**
 * How long one export may take, retries included, unless `OTEL_EXPORTER_OTLP_TIMEOUT` says
 * otherwise; closing waits at most one second more. A collector that is down costs a
 * command about this long at exit.
 */
export const exportTimeoutMs = 3_000

/** Whether any endpoint variable is set (read through `Config`). */
const requested: Effect.Effect<boolean> = Effect.map(
  Effect.forEach(
    endpointVariables,
    (name) => Effect.orElseSucceed(Config.option(Config.string(name)), () => Option.none<string>())
  ),
  (values) => values.some((value) => Option.isSome(value) && value.value.trim() !== "")
)

const warn = (message: string): Layer.Layer<never> =>
  Layer.effectDiscard(
    Effect.flatMap(Io.Io, (io) => io.err(`llm-fiber: OpenTelemetry export is off: ${message}\n`))
  )

/** The export layer of a run (empty unless an endpoint is set). */
export const layer = (serviceVersion: string): Layer.Layer<never> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    if (!(yield* requested)) return Layer.empty
    const secrets = yield* Report.secrets
    const loaded = yield* Effect.either(Effect.tryPromise(() => import("@llm-fiber/otel")))
    if (loaded._tag === "Left") return warn(Report.scrub(Report.errorLine(loaded.left.error), secrets))
    return loaded.right.Otel.layerFromEnv({
      serviceName: "llm-fiber",
      serviceVersion,
      redact: secrets,
      // a command must not hang on an unreachable collector: 3 s per export, retries included
      exportTimeoutMs
    }).pipe(
      Layer.catchAll((error) => warn(Report.scrub(Report.errorLine(error), secrets)))
    )
  }))
