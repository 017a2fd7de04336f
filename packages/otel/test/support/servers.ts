/**
 * The servers of the export tests: the mock provider server of `@llm-fiber/testing` and a
 * loopback OTLP receiver, started once per file, the receiver emptied before each test.
 * `server` and `receiver` are live bindings, set once `startServers`' `beforeAll` has run.
 */
import { afterAll, beforeAll, beforeEach } from "@effect/vitest"
import { OtlpReceiver } from "@llm-fiber/otel"
import { MockServer } from "@llm-fiber/testing"

export let server: MockServer.Handle
export let receiver: OtlpReceiver.Handle

/** Register the hooks that start, reset and close both servers (call at the top of a test file). */
export const startServers = (): void => {
  beforeAll(async () => {
    server = await MockServer.start()
    receiver = await OtlpReceiver.start()
  })
  afterAll(async () => {
    await server.close()
    await receiver.close()
  })
  beforeEach(() => receiver.reset())
}
