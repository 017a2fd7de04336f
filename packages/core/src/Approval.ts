/**
 * Human in the loop: which tool calls the tool loop may run.
 *
 * Before a handler runs (its arguments decoded), the loop asks the `Approval` policy in
 * context: `allow` runs it; `deny` reports `denied: <reason>` to the model as the tool
 * result (never an error of the loop); a policy may also `ask` — run your own effect (a
 * prompt in a terminal, a message to a reviewer…) that decides.
 *
 * The default policy allows every call. `rules` matches tool names with glob patterns
 * (`*` any characters, `?` one character), first match wins, and denies what no rule
 * matches.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "@llm-fiber/core"
 *
 * const policy = Approval.rules(
 *   [
 *     { match: "delete_*", decision: "ask" },
 *     { match: ["get_*", "search"], decision: "allow" },
 *     { match: "*", decision: "deny", reason: "not on the allow list" }
 *   ],
 *   { ask: (call) => Effect.succeed(call.name === "delete_draft" ? Approval.allow : Approval.deny("kept")) }
 * )
 *
 * // for every tool loop of a program:
 * const program = Effect.void.pipe(Approval.withPolicy(policy))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * A tool call awaiting a decision: its id, the tool's name, the decoded arguments and the
 * step of the loop (1 for the first model call).
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly id: string
  readonly name: string
  readonly arguments: unknown
  readonly step: number
}

/**
 * Run the call, or report `denied: <reason>` to the model instead.
 *
 * @since 0.1.0
 * @category models
 */
export type Decision =
  | { readonly _tag: "Allow" }
  | { readonly _tag: "Deny"; readonly reason: string }

/**
 * @since 0.1.0
 * @category constructors
 */
export const allow: Decision = { _tag: "Allow" }

/**
 * @since 0.1.0
 * @category constructors
 */
export const deny = (reason = "not approved"): Decision => ({ _tag: "Deny", reason })

/**
 * A policy: decides each call (an effect, so it may ask someone).
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy {
  readonly decide: (call: Call) => Effect.Effect<Decision>
}

/**
 * Every call allowed (the default).
 *
 * @since 0.1.0
 * @category policies
 */
export const allowAll: Policy = { decide: () => Effect.succeed(allow) }

/**
 * Every call denied.
 *
 * @since 0.1.0
 * @category policies
 */
export const denyAll = (reason = "tool calls are not allowed"): Policy => {
  const decision = deny(reason)
  return { decide: () => Effect.succeed(decision) }
}

/**
 * Ask for every call.
 *
 * @since 0.1.0
 * @category policies
 */
export const ask = (decide: (call: Call) => Effect.Effect<Decision>): Policy => ({ decide })

/**
 * What a rule decides for the calls it matches.
 *
 * @since 0.1.0
 * @category models
 */
export type RuleDecision = "allow" | "deny" | "ask"

/**
 * A rule: the tool-name glob pattern(s) it matches, and its decision (`reason`: what a
 * `deny` tells the model).
 *
 * @since 0.1.0
 * @category models
 */
export interface Rule {
  readonly match: string | ReadonlyArray<string>
  readonly decision: RuleDecision
  readonly reason?: string | undefined
}

const globCache = new Map<string, RegExp>()

const globRegExp = (pattern: string): RegExp => {
  let regexp = globCache.get(pattern)
  if (regexp === undefined) {
    let source = "^"
    for (const char of pattern) {
      source += char === "*" ? ".*" : char === "?" ? "." : char.replace(/[\\^$.|+()[\]{}]/g, "\\$&")
    }
    regexp = new RegExp(source + "$", "s")
    if (globCache.size < 1024) globCache.set(pattern, regexp)
  }
  return regexp
}

/**
 * Does a tool name match a glob pattern (`*` any characters, `?` one; the whole name)?
 *
 * @since 0.1.0
 * @category utils
 */
export const matches = (pattern: string, name: string): boolean => globRegExp(pattern).test(name)

/**
 * A policy from rules, the first matching rule deciding; a call no rule matches gets
 * `otherwise` (default `deny`). An `ask` decision runs `options.ask`; rules that may ask
 * without it are a programming error (a `TypeError`).
 *
 * @since 0.1.0
 * @category policies
 */
export const rules = (
  list: ReadonlyArray<Rule>,
  options?: {
    readonly ask?: ((call: Call) => Effect.Effect<Decision>) | undefined
    readonly otherwise?: RuleDecision | undefined
  }
): Policy => {
  const otherwise = options?.otherwise ?? "deny"
  const askFor = options?.ask
  if (askFor === undefined && (otherwise === "ask" || list.some((rule) => rule.decision === "ask"))) {
    throw new TypeError("Approval.rules: a rule decides \"ask\" but no ask function was given")
  }
  const compiled = list.map((rule) => ({
    patterns: (typeof rule.match === "string" ? [rule.match] : rule.match).map(globRegExp),
    decision: rule.decision,
    reason: rule.reason
  }))
  const decideWith = (decision: RuleDecision, reason: string | undefined, call: Call): Effect.Effect<Decision> =>
    decision === "allow"
      ? Effect.succeed(allow)
      : decision === "deny"
      ? Effect.succeed(deny(reason ?? `tool "${call.name}" is not allowed`))
      : askFor!(call)
  return {
    decide: (call) => {
      for (const rule of compiled) {
        if (rule.patterns.some((p) => p.test(call.name))) return decideWith(rule.decision, rule.reason, call)
      }
      return decideWith(otherwise, "no approval rule matches this tool", call)
    }
  }
}

/**
 * The policy in context; allows every call unless you provide another.
 *
 * @since 0.1.0
 * @category references
 */
export class Approval extends Context.Reference<Approval>()("@llm-fiber/core/Approval", {
  defaultValue: (): Policy => allowAll
}) {}

/**
 * A layer setting the policy.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (policy: Policy): Layer.Layer<Approval> => Layer.succeed(Approval, policy)

/**
 * Run an effect with a policy.
 *
 * @since 0.1.0
 * @category context
 */
export const withPolicy = (policy: Policy) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(self, Approval, policy)
