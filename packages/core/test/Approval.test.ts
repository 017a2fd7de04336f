import { describe, expect, it } from "@effect/vitest"
import { Approval } from "@llm-fiber/core"
import { Effect } from "effect"

const callOf = (name: string): Approval.Call => ({ id: "c1", name, arguments: {}, step: 1 })

describe("Approval", () => {
  it("glob patterns: * any characters, ? one, the whole name, everything else literal", () => {
    expect(Approval.matches("delete_*", "delete_user")).toBe(true)
    expect(Approval.matches("delete_*", "delete_")).toBe(true)
    expect(Approval.matches("delete_*", "undelete_user")).toBe(false)
    expect(Approval.matches("get_?", "get_a")).toBe(true)
    expect(Approval.matches("get_?", "get_ab")).toBe(false)
    expect(Approval.matches("*", "anything")).toBe(true)
    expect(Approval.matches("a.b", "aXb")).toBe(false)
    expect(Approval.matches("a.b", "a.b")).toBe(true)
    expect(Approval.matches("send", "send_mail")).toBe(false)
  })

  it.effect("rules: the first match decides; no match denies unless `otherwise` says so", () =>
    Effect.gen(function*() {
      const policy = Approval.rules([
        { match: "delete_draft", decision: "allow" },
        { match: "delete_*", decision: "deny", reason: "destructive" },
        { match: ["get_*", "list_*"], decision: "allow" }
      ])
      expect(yield* policy.decide(callOf("delete_draft"))).toEqual(Approval.allow)
      expect(yield* policy.decide(callOf("delete_user"))).toEqual(Approval.deny("destructive"))
      expect(yield* policy.decide(callOf("list_files"))).toEqual(Approval.allow)
      expect(yield* policy.decide(callOf("send_mail"))).toEqual(
        Approval.deny("no approval rule matches this tool")
      )
      const open = Approval.rules([{ match: "rm_*", decision: "deny" }], { otherwise: "allow" })
      expect(yield* open.decide(callOf("send_mail"))).toEqual(Approval.allow)
      expect(yield* open.decide(callOf("rm_rf"))).toEqual(Approval.deny("tool \"rm_rf\" is not allowed"))
    }))

  it.effect("ask: the user's effect decides, with the call", () =>
    Effect.gen(function*() {
      const asked: Array<string> = []
      const policy = Approval.rules([{ match: "pay_*", decision: "ask" }, { match: "*", decision: "allow" }], {
        ask: (call) =>
          Effect.sync(() => {
            asked.push(call.name)
            return Approval.deny("over budget")
          })
      })
      expect(yield* policy.decide(callOf("pay_invoice"))).toEqual(Approval.deny("over budget"))
      expect(yield* policy.decide(callOf("get_balance"))).toEqual(Approval.allow)
      expect(asked).toEqual(["pay_invoice"])
      const always = Approval.ask(() => Effect.succeed(Approval.allow))
      expect(yield* always.decide(callOf("x"))).toEqual(Approval.allow)
    }))

  it("a rule that asks without an ask function is a TypeError", () => {
    expect(() => Approval.rules([{ match: "*", decision: "ask" }])).toThrow(TypeError)
    expect(() => Approval.rules([], { otherwise: "ask" })).toThrow(TypeError)
  })

  it.effect("the reference defaults to allow-all; withPolicy and layer replace it", () =>
    Effect.gen(function*() {
      expect(yield* (yield* Approval.Approval).decide(callOf("x"))).toEqual(Approval.allow)
      const denied = yield* Effect.flatMap(Approval.Approval, (p) => p.decide(callOf("x"))).pipe(
        Approval.withPolicy(Approval.denyAll("read-only"))
      )
      expect(denied).toEqual(Approval.deny("read-only"))
      const viaLayer = yield* Effect.flatMap(Approval.Approval, (p) => p.decide(callOf("x"))).pipe(
        Effect.provide(Approval.layer(Approval.denyAll()))
      )
      expect(viaLayer).toEqual(Approval.deny("tool calls are not allowed"))
    }))
})
