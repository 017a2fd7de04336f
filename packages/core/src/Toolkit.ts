/**
 * A set of tools given to the model together (names are unique within a toolkit).
 *
 * @since 0.1.0
 */
import type * as ChatRequest from "./ChatRequest.js"
import * as Tool from "./Tool.js"

/**
 * A toolkit: tools by name, in the order they were given. `R` is what their handlers need.
 *
 * @since 0.1.0
 * @category models
 */
export interface Toolkit<out R = never> {
  readonly _tag: "Toolkit"
  readonly tools: ReadonlyArray<Tool.Any>
  readonly byName: ReadonlyMap<string, Tool.Any>
  /** Phantom: the handlers' requirements. */
  readonly _R?: (_: never) => R
}

/**
 * Build a toolkit. Throws a `TypeError` on duplicate names (a programming error).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Tools extends ReadonlyArray<Tool.Any>>(
  ...tools: Tools
): Toolkit<Tool.Context<Tools[number]>> => {
  const byName = new Map<string, Tool.Any>()
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new TypeError(`duplicate tool name "${tool.name}" in a toolkit`)
    byName.set(tool.name, tool)
  }
  return { _tag: "Toolkit", tools, byName }
}

/**
 * Combine toolkits (e.g. your own tools and an MCP server's). Throws on duplicate names.
 *
 * @since 0.1.0
 * @category combinators
 */
export const merge = <Kits extends ReadonlyArray<Toolkit<unknown>>>(
  ...kits: Kits
): Toolkit<Kits[number] extends Toolkit<infer R> ? R : never> =>
  make(...kits.flatMap((kit) => kit.tools)) as Toolkit<Kits[number] extends Toolkit<infer R> ? R : never>

/**
 * The empty toolkit.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Toolkit = make()

/**
 * The tools' definitions for a provider's schema flavour (`Tool.definitionFor` of each
 * tool, in order) — what the tool loop sends as `ChatRequest.tools`.
 *
 * @since 0.1.0
 * @category provider schemas
 */
export const definitions = (
  toolkit: Toolkit<unknown>,
  dialect: Tool.Dialect = "generic"
): ReadonlyArray<ChatRequest.ToolDefinition> => toolkit.tools.map((tool) => Tool.definitionFor(tool, dialect))
