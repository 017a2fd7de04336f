// The floor: `undici.request` on a keep-alive Agent, a minimal SSE split and one
// `JSON.parse` per event — the least a Node client can do with these wire formats.
import { Agent } from "undici"
import { deltaCounter, requests, sseSplitter } from "./common.mjs"

export const name = "undici-raw"

export const create = async ({ baseUrl, format }) => {
  const spec = requests[format]
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: null })
  const origin = new URL(baseUrl).origin
  let reads = 0
  let events = 0
  const send = (model, stream) =>
    agent.request({
      origin,
      path: spec.path(model, stream),
      method: "POST",
      headers: spec.headers,
      body: spec.body(model, stream)
    })
  return {
    async chat(model) {
      const res = await send(model, false)
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`)
      return spec.text(await res.body.json()).length
    },
    async stream(model, onFirst) {
      const res = await send(model, true)
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`)
      const counter = deltaCounter(onFirst)
      const push = sseSplitter(spec.separator, (data) => {
        if (data === "[DONE]") return
        events++
        if (spec.isDelta(JSON.parse(data))) counter.hit()
      })
      const decoder = new TextDecoder()
      for await (const bytes of res.body) {
        reads++
        push(decoder.decode(bytes, { stream: true }))
      }
      return counter.count
    },
    /** Network reads and SSE events so far (to check that a trickled stream is one event per read). */
    stats: () => ({ reads, events }),
    close: () => agent.close()
  }
}
