// The wire formats the bench server speaks, as precomputed bodies: OpenAI Chat Completions,
// OpenAI Responses, Anthropic Messages and Gemini generateContent. The shapes follow the
// bundled mock server (packages/testing/src/internal/mock/*), which follows the real APIs,
// so every SDK's response validation accepts them. Each answer is `n` text deltas of
// `delta` (a streamed answer: one SSE event per delta, plus the format's head and tail).
export const formats = ["openai-chat", "openai-responses", "anthropic", "gemini"]

/** The text of one delta. */
export const delta = "tok "

const created = 1_750_000_000
const quote = JSON.stringify

const chatUsage = (n) =>
  `{"prompt_tokens":12,"completion_tokens":${n},"total_tokens":${
    12 + n
  },"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`

const openaiChat = {
  json: (model, n) =>
    `{"id":"chatcmpl-bench","object":"chat.completion","created":${created},"model":${
      quote(model)
    },"choices":[{"index":0,"message":{"role":"assistant","content":${
      quote(delta.repeat(n))
    },"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":${
      chatUsage(n)
    },"service_tier":"default","system_fingerprint":"fp_bench"}`,
  sse: (model, n, usage) => {
    const prefix = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":${created},"model":${
      quote(model)
    },"service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":`
    const suffix = usage ? `}],"usage":null}\n\n` : `}]}\n\n`
    const open = `,"logprobs":null,"finish_reason":null` + suffix
    const head = [prefix + `{"role":"assistant","content":"","refusal":null}` + open]
    const content = prefix + `{"content":${quote(delta)}}` + open
    const tail = [prefix + `{},"logprobs":null,"finish_reason":"stop"` + suffix]
    if (usage) {
      tail.push(
        `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":${created},"model":${
          quote(model)
        },"service_tier":"default","system_fingerprint":"fp_bench","choices":[],"usage":${chatUsage(n)}}\n\n`
      )
    }
    tail.push("data: [DONE]\n\n")
    return { head, content: () => content, tail }
  }
}

const responsesUsage = (n) =>
  `{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":${n},"output_tokens_details":{"reasoning_tokens":0},"total_tokens":${
    12 + n
  }}`
const textPart = (text) => `{"type":"output_text","annotations":[],"logprobs":[],"text":${quote(text)}}`
const responseObject = (model, status, output, usage) =>
  `{"id":"resp_bench","object":"response","created_at":${created},"status":"${status}","background":false,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"max_tool_calls":null,"model":${
    quote(model)
  },"output":${output},"parallel_tool_calls":true,"previous_response_id":null,"prompt_cache_key":null,"reasoning":{"effort":null,"summary":null},"safety_identifier":null,"service_tier":"default","store":true,"temperature":1,"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":"auto","tools":[],"top_logprobs":0,"top_p":1,"truncation":"disabled","usage":${usage},"user":null,"metadata":{}}`
const messageItem = (text) =>
  `{"id":"msg_bench_0","type":"message","status":"completed","content":[${textPart(text)}],"role":"assistant"}`

const openaiResponses = {
  json: (model, n) => responseObject(model, "completed", `[${messageItem(delta.repeat(n))}]`, responsesUsage(n)),
  sse: (model, n) => {
    const event = (type, seq, fields) =>
      `event: ${type}\ndata: {"type":"${type}","sequence_number":${seq}${fields}}\n\n`
    const ids = `"item_id":"msg_bench_0","output_index":0`
    const text = delta.repeat(n)
    const inProgress = responseObject(model, "in_progress", "[]", "null")
    const head = [
      event("response.created", 0, `,"response":${inProgress}`),
      event("response.in_progress", 1, `,"response":${inProgress}`),
      event(
        "response.output_item.added",
        2,
        `,"output_index":0,"item":{"id":"msg_bench_0","type":"message","status":"in_progress","content":[],"role":"assistant"}`
      ),
      event("response.content_part.added", 3, `,${ids},"content_index":0,"part":${textPart("")}`)
    ]
    const content = (i) =>
      event("response.output_text.delta", 4 + i, `,${ids},"content_index":0,"delta":${quote(delta)},"logprobs":[]`)
    const seq = 4 + n
    const tail = [
      event("response.output_text.done", seq, `,${ids},"content_index":0,"text":${quote(text)},"logprobs":[]`),
      event("response.content_part.done", seq + 1, `,${ids},"content_index":0,"part":${textPart(text)}`),
      event("response.output_item.done", seq + 2, `,"output_index":0,"item":${messageItem(text)}`),
      event(
        "response.completed",
        seq + 3,
        `,"response":${responseObject(model, "completed", `[${messageItem(text)}]`, responsesUsage(n))}`
      )
    ]
    return { head, content, tail }
  }
}

const anthropicUsage = `"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0`
const anthropicEvent = (type, data) => `event: ${type}\ndata: ${data}\n\n`
const anthropic = {
  json: (model, n) =>
    `{"id":"msg_bench","type":"message","role":"assistant","model":${quote(model)},"content":[{"type":"text","text":${
      quote(delta.repeat(n))
    }}],"stop_reason":"end_turn","stop_sequence":null,"usage":{${anthropicUsage},"output_tokens":${n},"service_tier":"standard"}}`,
  sse: (model, n) => {
    const head = [
      anthropicEvent(
        "message_start",
        `{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":${
          quote(model)
        },"content":[],"stop_reason":null,"stop_sequence":null,"usage":{${anthropicUsage},"output_tokens":1,"service_tier":"standard"}}}`
      ),
      anthropicEvent(
        "content_block_start",
        `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`
      ),
      anthropicEvent("ping", `{"type":"ping"}`)
    ]
    const content = anthropicEvent(
      "content_block_delta",
      `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${quote(delta)}}}`
    )
    const tail = [
      anthropicEvent("content_block_stop", `{"type":"content_block_stop","index":0}`),
      anthropicEvent(
        "message_delta",
        `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{${anthropicUsage},"output_tokens":${n}}}`
      ),
      anthropicEvent("message_stop", `{"type":"message_stop"}`)
    ]
    return { head, content: () => content, tail }
  }
}

const geminiUsage = (completion) =>
  `{"promptTokenCount":12,"candidatesTokenCount":${completion},"totalTokenCount":${
    12 + completion
  },"promptTokensDetails":[{"modality":"TEXT","tokenCount":12}]}`
const gemini = {
  json: (model, n) =>
    `{"candidates":[{"content":{"parts":[{"text":${
      quote(delta.repeat(n))
    }}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":${geminiUsage(n)},"modelVersion":${
      quote(model)
    },"responseId":"bench"}`,
  sse: (model, n) => {
    const chunk = (i) =>
      `data: {"candidates":[{"content":{"parts":[{"text":${quote(delta)}}],"role":"model"},${
        i === n - 1 ? `"finishReason":"STOP",` : ""
      }"index":0}],"usageMetadata":${geminiUsage(i + 1)},"modelVersion":${quote(model)},"responseId":"bench"}\r\n\r\n`
    return { head: [], content: chunk, tail: [] }
  }
}

export const wire = {
  "openai-chat": openaiChat,
  "openai-responses": openaiResponses,
  anthropic,
  gemini
}

/**
 * The events of a streamed answer as buffers: `events` (one buffer per SSE event, head and
 * tail included) and `whole` (all of them, concatenated); `firstContent` is the index in
 * `events` of the first text delta.
 */
export const streamEvents = (format, model, n, usage) => {
  const { content, head, tail } = wire[format].sse(model, n, usage)
  const strings = [...head]
  for (let i = 0; i < n; i++) strings.push(content(i))
  strings.push(...tail)
  const events = strings.map((s) => Buffer.from(s))
  return { events, whole: Buffer.concat(events), firstContent: head.length }
}
