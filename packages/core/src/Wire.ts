/**
 * Guards for reading provider wire JSON by hand — the hot path decodes each stream event
 * with these instead of a `Schema` union — and the context every mapper needs.
 *
 * @since 0.1.0
 */

/**
 * What a provider's mappers know about the call.
 *
 * @since 0.1.0
 * @category models
 */
export interface MappingContext {
  /** The provider's registry name, also the `providerMetadata` key. */
  readonly provider: string
  /** The model that was asked for (used when the response names none). */
  readonly model: string
  readonly requestId?: string | undefined
}

/**
 * A plain object (not null, not an array).
 *
 * @since 0.1.0
 * @category guards
 */
export const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A finite number, or undefined.
 *
 * @since 0.1.0
 * @category guards
 */
export const num = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)

/**
 * A non-empty string, or undefined.
 *
 * @since 0.1.0
 * @category guards
 */
export const nonEmpty = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)
