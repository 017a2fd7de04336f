/**
 * `--schema FILE.json`: structured output from a plain JSON Schema file.
 *
 * `StructuredOutput` (core) takes an `effect/Schema`; a file gives a JSON Schema. The
 * bridge is a `Schema.Unknown` refined by an `ajv` validator of the file's schema, with the
 * file's schema as its `jsonSchema` annotation — so structured output sends the file's own
 * schema to the provider (native JSON-schema mode, forced tool use or a prompt instruction,
 * whatever the provider supports), and every answer is validated by ajv; an answer that
 * does not validate is shown to the model with ajv's errors and asked again (repair), then
 * fails with a `StructuredOutputError`.
 *
 * The file is read, parsed and compiled while the command line is parsed: a missing file,
 * a file that is not JSON, or a schema ajv cannot compile is a usage error. `ajv` (and
 * `ajv-formats`, when installed) are imported only then.
 *
 * Draft 2020-12 and 2019-09 schemas (by their `$schema`) get ajv's validator of that draft;
 * any other one draft-07's. `effect/JSONSchema` drops a root `$defs` from an annotation, so
 * the schema sent moves it to `definitions` (and its local `$ref`s with it) — the same
 * definitions under the other standard name; validation always uses the file as written.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type { AnySchema, ErrorObject, ValidateFunction } from "ajv"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Path from "node:path"

/** A loaded `--schema` file. */
export interface OutputSchema {
  /** The file, as given. */
  readonly file: string
  /** The name of the output format / tool: the schema's `title`, else the file's name. */
  readonly name: string
  /** The schema's `description`, if any. */
  readonly description: string | undefined
  /** The answer's schema: any JSON value that the file's schema accepts. */
  readonly schema: Schema.Schema<unknown, unknown>
}

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** A name providers accept (1-64 letters, digits, `_`, `-`), or `undefined`. */
const safeName = (text: string): string | undefined => {
  const name = text.trim().replace(/[^a-zA-Z0-9_-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 64)
  return name === "" ? undefined : name
}

/** Rewrite every local `$ref` into `#/$defs/…` to `#/definitions/…`. */
const rewriteRefs = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(rewriteRefs)
  if (!isRecord(node)) return node
  const out: Json = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string" && value.startsWith("#/$defs/")) {
      out[key] = "#/definitions/" + value.slice("#/$defs/".length)
    } else if (key === "enum" || key === "const" || key === "default" || key === "examples") {
      out[key] = value
    } else {
      out[key] = rewriteRefs(value)
    }
  }
  return out
}

/**
 * The schema as it is sent: without `$schema` / `$id` / `$comment`, its root `$defs` as
 * `definitions` (which `effect/JSONSchema` keeps).
 */
export const forProvider = (schema: Json): Json => {
  const { $comment: _comment, $defs, $id: _id, $schema: _schema, ...rest } = schema
  if (!isRecord($defs)) return rest
  const definitions = isRecord(rest.definitions) ? rest.definitions : {}
  return rewriteRefs({ ...rest, definitions: { ...definitions, ...$defs } }) as Json
}

const fail = (message: string) => Effect.fail(message)

/** The text of ajv's errors, for the model (repair) and for the final error. */
const errorsText = (errors: ReadonlyArray<ErrorObject> | null | undefined): string => {
  if (errors === null || errors === undefined || errors.length === 0) return "the value does not match the schema"
  return errors.slice(0, 10).map((e) => {
    const where = e.instancePath === "" ? "the value" : `at ${e.instancePath}`
    const extra = e.keyword === "additionalProperties" && isRecord(e.params)
      ? ` ('${String(e.params.additionalProperty)}')`
      : ""
    return `${where}: ${e.message ?? e.keyword}${extra}`
  }).join("; ") + (errors.length > 10 ? `; and ${errors.length - 10} more` : "")
}

/** ajv's validator for the schema's draft (imported on first use). */
const compile = (schema: Json): Effect.Effect<ValidateFunction, string> =>
  Effect.tryPromise({
    try: async () => {
      const draft = typeof schema.$schema === "string" ? schema.$schema : ""
      const options = { allErrors: true, strict: false, logger: false } as const
      const ajv = draft.includes("2020-12")
        ? new (await import("ajv/dist/2020.js")).Ajv2020(options)
        : draft.includes("2019-09")
        ? new (await import("ajv/dist/2019.js")).Ajv2019(options)
        : new (await import("ajv")).Ajv(options)
      // formats (email, date-time, uri…) when ajv-formats is installed; else they are not checked
      await import("ajv-formats").then((formats) => formats.default(ajv), () => undefined)
      const known = draft === "" || draft.includes("2020-12") || draft.includes("2019-09") ||
        draft.includes("draft-07")
      // a draft ajv has no meta-schema for (draft-04/06): checked with draft-07's rules
      const { $schema: _draft, ...undrafted } = schema
      return ajv.compile((known ? schema : undrafted) as AnySchema)
    },
    catch: (cause) => (cause instanceof Error ? cause.message : String(cause)).split("\n")[0] ?? "unknown error"
  })

/**
 * Read, parse and compile a `--schema` file; the error is the usage message.
 */
export const load = (file: string): Effect.Effect<OutputSchema, string, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((error) =>
        `--schema: cannot read '${file}' (${
          error._tag === "SystemError" && error.reason === "NotFound" ? "no such file" : error.message
        })`
      )
    )
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return yield* fail(`--schema: '${file}' is not JSON (${error instanceof Error ? error.message : String(error)})`)
    }
    if (!isRecord(json)) return yield* fail(`--schema: '${file}' must hold a JSON Schema object`)
    const schema = json
    const validate = yield* compile(schema).pipe(
      Effect.mapError((message) => `--schema: '${file}' is not a valid JSON Schema (${message})`)
    )
    const title = typeof schema.title === "string" ? safeName(schema.title) : undefined
    const base = safeName(Path.basename(file).replace(/\.(schema\.)?json$/i, ""))
    return {
      file,
      name: title ?? base ?? "response",
      description: typeof schema.description === "string" ? schema.description : undefined,
      schema: Schema.Unknown.pipe(
        Schema.filter((value) => validate(value), {
          jsonSchema: forProvider(schema),
          // ajv's errors alone (not the Schema's tree around them): what the model is shown
          // when asked to repair its answer, and what the final error says
          message: () => ({ message: errorsText(validate.errors), override: true })
        })
      )
    }
  })
