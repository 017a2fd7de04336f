// What the adapters share: the prompt, the request of each wire format (for the raw
// adapters), how to find the text in an answer, and the minimal SSE split of the floor.
//
// An adapter module exports `name`, `formats` (the wire formats it speaks), `packages` (the
// npm packages it measures, for the versions table) and `create({ baseUrl, format, variant })`
// resolving with `{ chat(model) → text length, stream(model, onFirst?) → text deltas, close() }`.
// `onFirst` is called once, when the first text delta reaches the caller.
export const prompt = "Hello there, how are you?"
/** The model prefix of each wire format in llm-fiber (`<provider>:<model>`). */
export const prefixes = {
  "openai-chat": "openai:",
  "openai-responses": "openai-responses:",
  anthropic: "anthropic:",
  gemini: "gemini:"
}
export const keys = { openai: "sk-bench", anthropic: "sk-ant-bench", gemini: "gemini-bench" }

export const requests = {
  "openai-chat": {
    path: () => "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${keys.openai}` },
    body: (model, stream) =>
      JSON.stringify({
        model,
        messages: [{ role: "user", content: prompt }],
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {})
      }),
    text: (json) => json.choices[0].message.content,
    isDelta: (event) => event.choices?.[0]?.delta?.content !== undefined && event.choices[0].delta.content !== "",
    separator: "\n\n"
  },
  "openai-responses": {
    path: () => "/v1/responses",
    headers: { "content-type": "application/json", authorization: `Bearer ${keys.openai}` },
    body: (model, stream) => JSON.stringify({ model, input: prompt, ...(stream ? { stream: true } : {}) }),
    text: (json) => json.output[0].content[0].text,
    isDelta: (event) => event.type === "response.output_text.delta",
    separator: "\n\n"
  },
  anthropic: {
    path: () => "/v1/messages",
    headers: { "content-type": "application/json", "x-api-key": keys.anthropic, "anthropic-version": "2023-06-01" },
    body: (model, stream) =>
      JSON.stringify({
        model,
        max_tokens: 4096,
        messages: [{ role: "user", content: prompt }],
        ...(stream ? { stream: true } : {})
      }),
    text: (json) => json.content[0].text,
    isDelta: (event) => event.type === "content_block_delta" && event.delta.type === "text_delta",
    separator: "\n\n"
  },
  gemini: {
    path: (model, stream) =>
      `/v1beta/models/${encodeURIComponent(model)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
    headers: { "content-type": "application/json", "x-goog-api-key": keys.gemini },
    body: () => JSON.stringify({ contents: [{ role: "user", parts: [{ text: prompt }] }] }),
    text: (json) => json.candidates[0].content.parts[0].text,
    isDelta: (event) => typeof event.candidates?.[0]?.content?.parts?.[0]?.text === "string",
    separator: "\r\n\r\n"
  }
}

/**
 * The minimal SSE split of the floor: frames end at `separator`; the `data: ` line of a
 * frame (the last line here) goes to `onData` (`[DONE]` included). Returns `push(text)`.
 */
export const sseSplitter = (separator, onData) => {
  let buffer = ""
  const step = separator.length
  return (text) => {
    buffer = buffer === "" ? text : buffer + text
    let start = 0
    let index
    while ((index = buffer.indexOf(separator, start)) !== -1) {
      const data = buffer.indexOf("data: ", start)
      if (data !== -1 && data < index) onData(buffer.slice(data + 6, index))
      start = index + step
    }
    if (start > 0) buffer = start === buffer.length ? "" : buffer.slice(start)
  }
}

/** Counts text deltas, calling `onFirst` at the first one. */
export const deltaCounter = (onFirst) => {
  let n = 0
  return {
    hit() {
      if (n++ === 0 && onFirst !== undefined) onFirst()
    },
    get count() {
      return n
    }
  }
}
