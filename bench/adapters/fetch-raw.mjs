// Node's global `fetch` (the undici bundled with Node), with the same minimal SSE split and
// one `JSON.parse` per event as the floor: what `fetch` itself costs.
import { deltaCounter, requests, sseSplitter } from "./common.mjs"

export const name = "fetch-raw"

export const create = async ({ baseUrl, format }) => {
  const spec = requests[format]
  const send = (model, stream) =>
    fetch(baseUrl + spec.path(model, stream), { method: "POST", headers: spec.headers, body: spec.body(model, stream) })
  return {
    async chat(model) {
      const res = await send(model, false)
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
      return spec.text(await res.json()).length
    },
    async stream(model, onFirst) {
      const res = await send(model, true)
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
      const counter = deltaCounter(onFirst)
      const push = sseSplitter(spec.separator, (data) => {
        if (data !== "[DONE]" && spec.isDelta(JSON.parse(data))) counter.hit()
      })
      const decoder = new TextDecoder()
      for await (const bytes of res.body) push(decoder.decode(bytes, { stream: true }))
      return counter.count
    },
    close: async () => {}
  }
}
