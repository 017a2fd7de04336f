// Cancellation leaves nothing behind: after many interrupted streams and calls, the server
// has seen every connection close, and once the client is released the process holds no
// more sockets or timers than before (a fiber left sleeping would hold a timer).
import { describe, expect, it } from "@effect/vitest"
import { LlmClient } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import { MockServer } from "@llm-fiber/testing"
import { Duration, Effect, Exit, Layer, ManagedRuntime, Stream } from "effect"
import * as fs from "node:fs"

/** Open sockets of this process (undici's idle keep-alive sockets included, unlike getActiveResourcesInfo). */
const sockets = (): number =>
  fs.readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")
    } catch {
      return false
    }
  }).length

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length

const settle = async (check: () => boolean, ms = 3_000) => {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
}

describe("cancellation leaks nothing", () => {
  it.live("interrupted streams and calls: every connection closes, sockets and timers return to baseline", () =>
    Effect.gen(function*() {
      const server = yield* Effect.promise(() => MockServer.start())
      yield* Effect.promise(() => settle(() => false, 50))
      const baseSockets = sockets()
      const baseTimers = timers()

      const runtime = ManagedRuntime.make(
        LlmClient.layerWith(OpenAI.layer({ apiKey: "sk-test", baseUrl: server.openaiBaseUrl })).pipe(Layer.orDie)
      )
      const llm = yield* Effect.promise(() => runtime.runPromise(LlmClient.LlmClient))
      // 20 streams stopped after two events, while the server is still sending
      yield* Effect.promise(() =>
        runtime.runPromise(Effect.forEach(
          Array.from({ length: 20 }, () => 0),
          () =>
            Stream.runDrain(
              Stream.take(llm.chatStream({ model: "openai:mock?chunks=500&chunkDelayMs=5", messages: "hi" }), 2)
            ),
          { concurrency: "unbounded" }
        ))
      )
      // 20 stalled calls interrupted by the caller
      const exits = yield* Effect.promise(() =>
        runtime.runPromise(Effect.forEach(
          Array.from({ length: 20 }, () => 0),
          () =>
            Effect.exit(
              Effect.timeout(llm.chat({ model: "openai:mock?fault=stall", messages: "hi" }), Duration.millis(100))
            ),
          { concurrency: "unbounded" }
        ))
      )
      expect(exits.every(Exit.isFailure)).toBe(true)
      yield* Effect.promise(() => settle(() => server.closedConnections() >= 40))
      expect(server.closedConnections()).toBe(40)

      yield* Effect.promise(() => runtime.dispose())
      yield* Effect.promise(() => server.close())
      yield* Effect.promise(() => settle(() => sockets() <= baseSockets && timers() <= baseTimers))
      expect(sockets()).toBeLessThanOrEqual(baseSockets)
      expect(timers()).toBeLessThanOrEqual(baseTimers)
    }))
})
