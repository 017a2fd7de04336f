/**
 * Model capabilities and prices, used to put a `cost` on every result.
 *
 * Prices are US dollars per million tokens. The built-in table is versioned
 * (`Catalog.version`, `Catalog.updated`) and every row says where its numbers come from
 * (`source`) and when they were checked (`checked`). A dated snapshot name
 * (`gpt-4.1-nano-2025-04-14`, `claude-sonnet-4-5-20250929`, `gemini-2.0-flash-001`) is
 * priced as its base model, and a row's `aliases` (`claude-sonnet-4-0`) as the row. A model
 * that is not in the table gets no `cost` (never a silent 0).
 *
 * @example
 * ```ts
 * import { Catalog } from "@llm-fiber/core"
 *
 * // price a private fine-tune like its base model
 * const Prices = Catalog.layer({
 *   models: { "ft:gpt-4o-mini:acme": { provider: "openai", inputPerMTok: 0.3, outputPerMTok: 1.2 } }
 * })
 *
 * // or load your own table (a JSON file, validated row by row)
 * const FromFile = Catalog.layerFile("./prices.json")
 * ```
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as CatalogData from "./internal/catalogData.js"
import type * as Usage from "./Usage.js"

/**
 * What a model can do. `jsonSchema`: output constrained by a JSON schema natively;
 * `promptCaching`: cached input is billed at a lower rate (automatic or by hint);
 * `reasoning`: it thinks before answering (reasoning tokens are billed as output).
 *
 * @since 0.1.0
 * @category models
 */
export interface Capabilities {
  readonly tools: boolean
  readonly vision: boolean
  readonly jsonSchema: boolean
  readonly promptCaching: boolean
  readonly reasoning: boolean
}

/**
 * Prices that replace the normal ones for a whole request whose input is above
 * `thresholdTokens` (Gemini 2.5 Pro above 200K prompt tokens, Claude Sonnet 4/4.5 with the
 * 1M-context beta above 200K input tokens).
 *
 * @since 0.1.0
 * @category models
 */
export interface LongContextPrice {
  readonly thresholdTokens: number
  readonly inputPerMTok: number
  readonly outputPerMTok: number
  /** Defaults to the long-context input price. */
  readonly cachedInputPerMTok?: number | undefined
  /** Defaults to the long-context input price. */
  readonly cacheWritePerMTok?: number | undefined
  /** Defaults to the long-context cache-write price. */
  readonly cacheWrite1hPerMTok?: number | undefined
}

/**
 * One row of the catalog.
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelInfo {
  readonly provider: string
  /** `chat` (the default) or `embedding` (no output tokens, output price 0). */
  readonly kind?: "chat" | "embedding" | undefined
  /** USD per 1M input tokens (uncached). */
  readonly inputPerMTok: number
  /** USD per 1M output tokens (reasoning included). */
  readonly outputPerMTok: number
  /** USD per 1M input tokens read from the prompt cache (defaults to the input price). */
  readonly cachedInputPerMTok?: number | undefined
  /** USD per 1M input tokens written to the prompt cache (Anthropic: the 5-minute TTL price; defaults to the input price). */
  readonly cacheWritePerMTok?: number | undefined
  /** USD per 1M input tokens written with the 1-hour TTL (Anthropic; defaults to `cacheWritePerMTok`). */
  readonly cacheWrite1hPerMTok?: number | undefined
  /** Prices for requests above a long-context threshold. */
  readonly longContext?: LongContextPrice | undefined
  readonly contextWindow?: number | undefined
  readonly maxOutputTokens?: number | undefined
  /** What the model can do; a missing flag means `false`. */
  readonly capabilities?:
    | {
      readonly [K in keyof Capabilities]?: boolean | undefined
    }
    | undefined
  /** Other ids the provider accepts for this very model (`claude-sonnet-4-0`). */
  readonly aliases?: ReadonlyArray<string> | undefined
  /** Where the numbers come from (a URL). */
  readonly source?: string | undefined
  /** When they were checked (`YYYY-MM-DD`, or `YYYY-MM`). */
  readonly checked?: string | undefined
  /** What could or could not be verified, caveats. */
  readonly note?: string | undefined
}

/**
 * A row with its model id, as in the built-in table and in JSON tables.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row extends ModelInfo {
  readonly model: string
}

/**
 * A whole table: rows plus the version and date they describe.
 *
 * @since 0.1.0
 * @category models
 */
export interface Table {
  readonly version?: string | undefined
  readonly updated?: string | undefined
  readonly models: ReadonlyArray<Row>
}

/**
 * The prices of a model with every default applied (cached reads and cache writes at
 * the input price unless the row says otherwise).
 *
 * @since 0.1.0
 * @category models
 */
export interface Price {
  readonly inputPerMTok: number
  readonly outputPerMTok: number
  readonly cachedInputPerMTok: number
  readonly cacheWritePerMTok: number
  readonly cacheWrite1hPerMTok: number
  readonly longContext?: LongContextPrice | undefined
}

/**
 * Detail of a usage that `Usage` does not carry: how many of `cacheWriteTokens` were
 * written with Anthropic's 1-hour TTL (from `providerMetadata`).
 *
 * @since 0.1.0
 * @category models
 */
export interface CostDetail {
  readonly cacheWrite1hTokens?: number | undefined
}

/**
 * A catalog table that cannot be used: not JSON, not the expected shape, or a row with a
 * bad field (`row` is its index, `field` the path inside it).
 *
 * @since 0.1.0
 * @category errors
 */
export class CatalogError extends Schema.TaggedError<CatalogError>("@llm-fiber/CatalogError")("CatalogError", {
  message: Schema.String,
  path: Schema.optional(Schema.String),
  row: Schema.optional(Schema.Number),
  model: Schema.optional(Schema.String),
  field: Schema.optional(Schema.String)
}) {}

/**
 * Version of the built-in table.
 *
 * @since 0.1.0
 * @category models
 */
export const version: string = CatalogData.version

/**
 * When the built-in table was last reviewed.
 *
 * @since 0.1.0
 * @category models
 */
export const updated: string = CatalogData.updated

/**
 * The built-in rows.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultRows: ReadonlyArray<Row> = CatalogData.rows

const toRecord = (rows: ReadonlyArray<Row>): Record<string, ModelInfo> => {
  const out: Record<string, ModelInfo> = {}
  for (const { model, ...info } of rows) out[model] = info
  return out
}

/**
 * The built-in table, by model id.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultModels: Readonly<Record<string, ModelInfo>> = toRecord(defaultRows)

// -----------------------------------------------------------------------------
// JSON tables
// -----------------------------------------------------------------------------

/** One message for a whole refined schema (the base type's own message included). */
const expecting = <A, I>(schema: Schema.Schema<A, I>, message: string): Schema.Schema<A, I> =>
  schema.annotations({ message: () => ({ message, override: true }) })

const usd = expecting(
  Schema.Number.pipe(Schema.finite(), Schema.nonNegative()),
  "expected a non-negative number (USD per 1M tokens)"
)
const tokens = expecting(
  Schema.Number.pipe(Schema.int(), Schema.positive()),
  "expected a positive whole number of tokens"
)
const name = expecting(Schema.String.pipe(Schema.minLength(1)), "expected a non-empty string")
const date = expecting(
  Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}(-\d{2})?$/)),
  "expected a date, YYYY-MM-DD or YYYY-MM"
)
const flag = expecting(Schema.Boolean, "expected true or false")
const kind = expecting(Schema.Literal("chat", "embedding"), "expected \"chat\" or \"embedding\"")

const LongContextSchema = Schema.Struct({
  thresholdTokens: tokens,
  inputPerMTok: usd,
  outputPerMTok: usd,
  cachedInputPerMTok: Schema.optional(usd),
  cacheWritePerMTok: Schema.optional(usd),
  cacheWrite1hPerMTok: Schema.optional(usd)
})

/**
 * The schema of one row of a JSON table (unknown fields are rejected, so a misspelled
 * price is an error rather than a silently missing one).
 *
 * @since 0.1.0
 * @category schemas
 */
export const RowSchema = Schema.Struct({
  model: name,
  provider: name,
  kind: Schema.optional(kind),
  inputPerMTok: usd,
  outputPerMTok: usd,
  cachedInputPerMTok: Schema.optional(usd),
  cacheWritePerMTok: Schema.optional(usd),
  cacheWrite1hPerMTok: Schema.optional(usd),
  longContext: Schema.optional(LongContextSchema),
  contextWindow: Schema.optional(tokens),
  maxOutputTokens: Schema.optional(tokens),
  capabilities: Schema.optional(Schema.Struct({
    tools: Schema.optional(flag),
    vision: Schema.optional(flag),
    jsonSchema: Schema.optional(flag),
    promptCaching: Schema.optional(flag),
    reasoning: Schema.optional(flag)
  })),
  aliases: Schema.optional(Schema.Array(name)),
  source: Schema.optional(Schema.String),
  checked: Schema.optional(date),
  note: Schema.optional(Schema.String)
})

const decodeRow = Schema.decodeUnknownEither(RowSchema, { errors: "first", onExcessProperty: "error" })

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const rowError = (index: number, raw: unknown, error: ParseResult.ParseError): CatalogError => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const field = issue?.path.map(String).join(".") ?? ""
  const model = isRecord(raw) && typeof raw.model === "string" && raw.model !== "" ? raw.model : undefined
  const what = issue === undefined
    ? "invalid row"
    : issue.message.startsWith("is unexpected")
    ? "unknown field"
    : issue.message
  return new CatalogError({
    message: `catalog row ${index}${model !== undefined ? ` ("${model}")` : ""}: ${
      field !== "" ? `${field}: ` : ""
    }${what}`,
    row: index,
    ...(model !== undefined ? { model } : {}),
    ...(field !== "" ? { field } : {})
  })
}

/**
 * Validate rows (from JSON or built in code): every field, unique model ids and aliases.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decodeRows = (input: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<Row>, CatalogError> => {
  const rows: Array<Row> = []
  const seen = new Map<string, number>()
  for (let i = 0; i < input.length; i++) {
    const raw = input[i]
    const decoded = decodeRow(raw)
    if (Either.isLeft(decoded)) return Either.left(rowError(i, raw, decoded.left))
    const row = decoded.right
    for (const id of [row.model, ...(row.aliases ?? [])]) {
      const earlier = seen.get(id)
      if (earlier !== undefined) {
        return Either.left(
          new CatalogError({
            message: `catalog row ${i} ("${row.model}"): "${id}" is already defined by row ${earlier}`,
            row: i,
            model: row.model,
            field: id === row.model ? "model" : "aliases"
          })
        )
      }
      seen.set(id, i)
    }
    rows.push(row)
  }
  return Either.right(rows)
}

/**
 * Parse and validate a JSON table: either an array of rows or
 * `{ "version": "…", "updated": "YYYY-MM-DD", "models": [rows] }`. A bad row is a
 * `CatalogError` naming the row (index and model) and the field.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromJson = (text: string): Either.Either<Table, CatalogError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(
      new CatalogError({ message: `the catalog is not valid JSON: ${e instanceof Error ? e.message : String(e)}` })
    )
  }
  if (Array.isArray(json)) return Either.map(decodeRows(json), (models) => ({ models }))
  if (!isRecord(json) || !Array.isArray(json.models)) {
    return Either.left(
      new CatalogError({ message: "the catalog must be an array of rows or an object with a \"models\" array" })
    )
  }
  for (const key of ["version", "updated"] as const) {
    if (json[key] !== undefined && typeof json[key] !== "string") {
      return Either.left(new CatalogError({ message: `the catalog's "${key}" must be a string`, field: key }))
    }
  }
  const meta = {
    ...(typeof json.version === "string" ? { version: json.version } : {}),
    ...(typeof json.updated === "string" ? { updated: json.updated } : {})
  }
  return Either.map(decodeRows(json.models), (models) => ({ ...meta, models }))
}

// -----------------------------------------------------------------------------
// the service
// -----------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Version of the table in use (`+custom` when your rows extend the built-in one). */
  readonly version: string
  /** When the table in use was last reviewed. */
  readonly updated: string
  /** The row for a model: exact id, alias, then the undated base id. */
  readonly get: (model: string) => ModelInfo | undefined
  /** Cost of a usage at a model's prices; `undefined` when the model is not priced. */
  readonly cost: (model: string, usage: Usage.Usage, detail?: CostDetail) => Usage.Cost | undefined
  /** A model's prices with the defaults applied; `undefined` when the model is not priced. */
  readonly price: (model: string) => Price | undefined
  /** What a model can do; `undefined` when the catalog does not say. */
  readonly capabilities: (model: string) => Capabilities | undefined
  /** Every row, by model id. */
  readonly all: () => ReadonlyMap<string, ModelInfo>
  /** Every model id and alias the catalog answers for. */
  readonly names: () => ReadonlyArray<string>
}

/**
 * How your rows combine with the built-in table: `extend` (the default) adds them and
 * replaces built-in rows of the same id (the whole row); `replace` uses your rows only.
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "extend" | "replace"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Your rows: by model id, or as a list of rows with their `model`. */
  readonly models?: Readonly<Record<string, ModelInfo>> | ReadonlyArray<Row> | undefined
  readonly mode?: Mode | undefined
  /** Version and date of your table (shown by `llm-fiber models`). */
  readonly version?: string | undefined
  readonly updated?: string | undefined
}

/** `-2025-04-14` (OpenAI), `-20250929` (Anthropic), `-0613` (older OpenAI), `-001` (Gemini) */
const datedSuffix = /-\d{4}-\d{2}-\d{2}$|-\d{8}$|-\d{4}$|-\d{3}$/

/**
 * The prices of a row with the defaults applied.
 *
 * @since 0.1.0
 * @category pricing
 */
export const priceOf = (info: ModelInfo): Price => {
  const cacheWritePerMTok = info.cacheWritePerMTok ?? info.inputPerMTok
  return {
    inputPerMTok: info.inputPerMTok,
    outputPerMTok: info.outputPerMTok,
    cachedInputPerMTok: info.cachedInputPerMTok ?? info.inputPerMTok,
    cacheWritePerMTok,
    cacheWrite1hPerMTok: info.cacheWrite1hPerMTok ?? cacheWritePerMTok,
    ...(info.longContext !== undefined ? { longContext: info.longContext } : {})
  }
}

/**
 * The cost of a usage at the given prices. `usage.inputTokens` is all input (DESIGN): the
 * cached reads and cache writes inside it are charged at their own rates, the rest at the
 * input rate; output (reasoning included) at the output rate. Above a row's
 * `longContext.thresholdTokens` of input, the whole request is at the long-context rates.
 * With `detail.cacheWrite1hTokens`, that part of the writes is at the 1-hour rate.
 *
 * @since 0.1.0
 * @category pricing
 */
export const costOf = (info: ModelInfo, usage: Usage.Usage, detail?: CostDetail): Usage.Cost => {
  const long = info.longContext !== undefined && usage.inputTokens > info.longContext.thresholdTokens
    ? info.longContext
    : undefined
  const inputRate = long?.inputPerMTok ?? info.inputPerMTok
  const cachedRate = long !== undefined ? long.cachedInputPerMTok ?? long.inputPerMTok : info.cachedInputPerMTok ??
    info.inputPerMTok
  const writeRate = long !== undefined ? long.cacheWritePerMTok ?? long.inputPerMTok : info.cacheWritePerMTok ??
    info.inputPerMTok
  const write1hRate = long !== undefined ? long.cacheWrite1hPerMTok ?? writeRate : info.cacheWrite1hPerMTok ??
    writeRate
  const outputRate = long?.outputPerMTok ?? info.outputPerMTok
  const cached = usage.cachedInputTokens ?? 0
  const written = usage.cacheWriteTokens ?? 0
  const written1h = Math.min(written, Math.max(0, detail?.cacheWrite1hTokens ?? 0))
  const plain = Math.max(0, usage.inputTokens - cached - written)
  const inputUsd = (plain * inputRate + cached * cachedRate + (written - written1h) * writeRate +
    written1h * write1hRate) / 1e6
  const outputUsd = (usage.outputTokens * outputRate) / 1e6
  return { inputUsd, outputUsd, totalUsd: inputUsd + outputUsd }
}

/**
 * Build a catalog: the built-in table with your rows on top (`mode: "extend"`, the
 * default), or your rows only (`mode: "replace"`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Service => {
  const given: ReadonlyArray<Row> = options.models === undefined
    ? []
    : isRowList(options.models)
    ? options.models
    : Object.entries(options.models).map(([model, info]) => ({ ...info, model }))
  const replace = options.mode === "replace"
  const rows = new Map<string, ModelInfo>(replace ? [] : Object.entries(defaultModels))
  for (const { model, ...info } of given) rows.set(model, info)
  const aliases = new Map<string, ModelInfo>()
  for (const info of rows.values()) {
    for (const alias of info.aliases ?? []) if (!rows.has(alias)) aliases.set(alias, info)
  }
  const names: ReadonlyArray<string> = [...rows.keys(), ...aliases.keys()]

  const lookup = (model: string) => rows.get(model) ?? aliases.get(model)
  const get = (model: string): ModelInfo | undefined => {
    const exact = lookup(model)
    if (exact !== undefined) return exact
    const base = model.replace(datedSuffix, "")
    return base !== model ? lookup(base) : undefined
  }
  const custom = given.length > 0 && !replace
  return {
    version: options.version ?? (replace ? "custom" : custom ? `${CatalogData.version}+custom` : CatalogData.version),
    updated: options.updated ?? (replace ? "unknown" : CatalogData.updated),
    get,
    cost: (model, usage, detail) => {
      const info = get(model)
      return info === undefined ? undefined : costOf(info, usage, detail)
    },
    price: (model) => {
      const info = get(model)
      return info === undefined ? undefined : priceOf(info)
    },
    capabilities: (model) => {
      const info = get(model)
      const flags = info?.capabilities
      return flags === undefined ? undefined : {
        tools: flags.tools ?? false,
        vision: flags.vision ?? false,
        jsonSchema: flags.jsonSchema ?? false,
        promptCaching: flags.promptCaching ?? false,
        reasoning: flags.reasoning ?? false
      }
    },
    all: () => rows,
    names: () => names
  }
}

const isRowList = (models: Readonly<Record<string, ModelInfo>> | ReadonlyArray<Row>): models is ReadonlyArray<Row> =>
  Array.isArray(models)

/**
 * The catalog in use (the built-in table unless a layer provides another).
 *
 * @since 0.1.0
 * @category tags
 */
export class Catalog extends Context.Reference<Catalog>()("@llm-fiber/core/Catalog", {
  defaultValue: () => make()
}) {}

/**
 * A catalog with extra or overriding rows (or only yours, with `mode: "replace"`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Catalog> => Layer.succeed(Catalog, make(options))

/**
 * A catalog from a JSON file (see `fromJson` for the format), read through
 * `@effect/platform`'s `FileSystem` — provide `NodeFileSystem.layer` from
 * `@effect/platform-node` (or Bun's) at the edge of your app.
 *
 * **Details**: the file is read and validated once, when the layer is built. A file that
 * cannot be read, is not JSON, or has a bad row fails the layer with a `CatalogError`
 * naming the file, the row and the field. By default its rows extend the built-in table.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (
  path: string,
  options: { readonly mode?: Mode | undefined } = {}
): Layer.Layer<Catalog, CatalogError, FileSystem.FileSystem> =>
  Layer.effect(
    Catalog,
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const text = yield* Effect.mapError(
        fs.readFileString(path),
        (e) => new CatalogError({ message: `cannot read the catalog file ${path}: ${e.message}`, path })
      )
      const table = yield* Either.mapLeft(
        fromJson(text),
        (e) => new CatalogError({ ...e, message: `${path}: ${e.message}`, path })
      )
      return make({ ...table, mode: options.mode })
    })
  )

// -----------------------------------------------------------------------------
// accessors
// -----------------------------------------------------------------------------

/**
 * The row for a model, from the catalog in use.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get = (model: string): Effect.Effect<ModelInfo | undefined> => Effect.map(Catalog, (c) => c.get(model))

/**
 * A model's prices, from the catalog in use.
 *
 * @since 0.1.0
 * @category accessors
 */
export const price = (model: string): Effect.Effect<Price | undefined> => Effect.map(Catalog, (c) => c.price(model))

/**
 * What a model can do, from the catalog in use.
 *
 * @since 0.1.0
 * @category accessors
 */
export const capabilities = (model: string): Effect.Effect<Capabilities | undefined> =>
  Effect.map(Catalog, (c) => c.capabilities(model))

/**
 * The cost of a usage, from the catalog in use.
 *
 * @since 0.1.0
 * @category accessors
 */
export const cost = (model: string, usage: Usage.Usage, detail?: CostDetail): Effect.Effect<Usage.Cost | undefined> =>
  Effect.map(Catalog, (c) => c.cost(model, usage, detail))
