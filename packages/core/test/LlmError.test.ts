import { describe, expect, it } from "@effect/vitest"
import { LlmError } from "@llm-fiber/core"
import { Effect, Schema } from "effect"
import { readFixture } from "../../../test-support/shared.js"

const fixture = (path: string): unknown => JSON.parse(readFixture(path.replace(/^vercel-ai\//, "")))

const encode = Schema.encodeSync(LlmError.LlmError)
const decode = Schema.decodeUnknownSync(LlmError.LlmError)
const roundTrip = (error: LlmError.LlmError): LlmError.LlmError => decode(JSON.parse(JSON.stringify(encode(error))))

/** Own enumerable fields plus the message: what an error "is", for comparisons. */
const fieldsOf = (error: LlmError.LlmError) => ({ ...error, message: error.message })

// -----------------------------------------------------------------------------
// the classes
// -----------------------------------------------------------------------------

interface ClassCase {
  readonly tag: string
  readonly make: (extra: { shouldRetry?: boolean }) => LlmError.LlmError
  readonly retryable: boolean
  /** Does `shouldRetry` (the `x-should-retry` header) override the default? */
  readonly honoursShouldRetry: boolean
}

const base = { message: "boom", provider: "openai", model: "gpt-4o-mini", requestId: "req_1" }

const classes: ReadonlyArray<ClassCase> = [
  {
    tag: "AuthenticationError",
    make: (x) => new LlmError.AuthenticationError({ ...base, status: 401, ...x }),
    retryable: false,
    honoursShouldRetry: true
  },
  {
    tag: "InvalidRequestError",
    make: (x) => new LlmError.InvalidRequestError({ ...base, status: 400, param: "temperature", ...x }),
    retryable: false,
    honoursShouldRetry: true
  },
  {
    tag: "NotFoundError",
    make: (x) => new LlmError.NotFoundError({ ...base, status: 404, ...x }),
    retryable: false,
    honoursShouldRetry: true
  },
  {
    tag: "ContextLengthError",
    make: (x) => new LlmError.ContextLengthError({ ...base, status: 400, code: "context_length_exceeded", ...x }),
    retryable: false,
    honoursShouldRetry: true
  },
  {
    tag: "ContentFilterError",
    make: (x) => new LlmError.ContentFilterError({ ...base, status: 400, code: "content_filter", ...x }),
    retryable: false,
    honoursShouldRetry: true
  },
  {
    tag: "RateLimitError",
    make: (x) => new LlmError.RateLimitError({ ...base, status: 429, retryAfterMs: 1500, ...x }),
    retryable: true,
    honoursShouldRetry: true
  },
  {
    tag: "ServerError",
    make: (x) => new LlmError.ServerError({ ...base, status: 503, retryAfterMs: 10, ...x }),
    retryable: true,
    honoursShouldRetry: true
  },
  {
    tag: "TimeoutError",
    make: (x) => new LlmError.TimeoutError({ ...base, phase: "first_byte", timeoutMs: 30_000, ...x }),
    retryable: true,
    honoursShouldRetry: true
  },
  {
    tag: "NetworkError",
    make: (x) => new LlmError.NetworkError({ ...base, ...x }),
    retryable: true,
    honoursShouldRetry: true
  },
  {
    tag: "ProtocolError",
    make: (x) =>
      new LlmError.ProtocolError({
        ...base,
        partial: {
          text: "par",
          reasoning: "hm",
          toolCalls: [{ id: "c1", name: "f", arguments: "{\"a\":" }],
          events: 4
        },
        ...x
      }),
    retryable: false,
    honoursShouldRetry: true
  },
  {
    tag: "BudgetExceededError",
    make: (x) =>
      new LlmError.BudgetExceededError({
        ...base,
        scope: "daily",
        estimateUsd: 0.5,
        limitUsd: 1,
        remainingUsd: 0.25,
        ...x
      }),
    retryable: false,
    honoursShouldRetry: false
  },
  {
    tag: "CircuitOpenError",
    make: (x) => new LlmError.CircuitOpenError({ ...base, retryAfterMs: 5000, ...x }),
    retryable: false,
    honoursShouldRetry: false
  },
  {
    tag: "UnknownModelError",
    make: (x) =>
      new LlmError.UnknownModelError({ ...base, suggestions: ["gpt-4o-mini"], candidates: ["openai", "azure"], ...x }),
    retryable: false,
    honoursShouldRetry: false
  },
  {
    tag: "StructuredOutputError",
    make: (x) => new LlmError.StructuredOutputError({ ...base, text: "{not json", ...x }),
    retryable: false,
    honoursShouldRetry: false
  },
  {
    tag: "ToolError",
    make: (x) => new LlmError.ToolError({ ...base, toolName: "weather", toolCallId: "call_1", ...x }),
    retryable: false,
    honoursShouldRetry: false
  }
]

describe("LlmError classes", () => {
  it("the table covers every member of the union", () => {
    expect(classes.map((c) => c.tag).sort()).toEqual(
      LlmError.LlmError.members.map((m) => m.identifier.replace("@llm-fiber/", "")).sort()
    )
    expect(classes).toHaveLength(15)
  })

  for (const c of classes) {
    describe(c.tag, () => {
      it("has its tag, is an Error and an LlmError", () => {
        const e = c.make({})
        expect(e._tag).toBe(c.tag)
        expect(e).toBeInstanceOf(Error)
        expect(e.message).toBe("boom")
        expect(LlmError.isLlmError(e)).toBe(true)
      })

      it(`retryable is ${c.retryable} by default`, () => {
        expect(c.make({}).retryable).toBe(c.retryable)
      })

      it(
        c.honoursShouldRetry ? "shouldRetry overrides retryable" : "is never retryable, whatever shouldRetry says",
        () => {
          expect(c.make({ shouldRetry: true }).retryable).toBe(c.honoursShouldRetry ? true : false)
          expect(c.make({ shouldRetry: false }).retryable).toBe(false)
        }
      )

      it("survives Schema encode → JSON → decode", () => {
        const original = c.make({ shouldRetry: c.retryable })
        const json = JSON.parse(JSON.stringify(encode(original)))
        expect(json._tag).toBe(c.tag)
        expect(json.message).toBe("boom")
        expect(json.provider).toBe("openai")
        const decoded = decode(json)
        expect(decoded).toBeInstanceOf(original.constructor)
        expect(decoded._tag).toBe(c.tag)
        expect(fieldsOf(decoded)).toEqual(fieldsOf(original))
        expect(decoded.retryable).toBe(original.retryable)
      })
    })
  }

  it("RateLimitError source defaults to provider; a local limit is not retryable", () => {
    expect(new LlmError.RateLimitError({ message: "x" }).source).toBe("provider")
    const local = new LlmError.RateLimitError({ message: "x", source: "local" })
    expect(local.retryable).toBe(false)
    expect(roundTrip(local)).toMatchObject({ _tag: "RateLimitError", source: "local" })
  })

  it("InvalidRequestError for a 409 conflict is retryable", () => {
    expect(new LlmError.InvalidRequestError({ message: "x", status: 409 }).retryable).toBe(true)
    expect(new LlmError.InvalidRequestError({ message: "x", status: 400 }).retryable).toBe(false)
  })

  it("a cause survives the round trip as a defect with its message", () => {
    const e = new LlmError.NetworkError({ message: "reset", cause: new Error("ECONNRESET") })
    const back = roundTrip(e)
    expect(back.cause).toBeInstanceOf(Error)
    expect((back.cause as Error).message).toBe("ECONNRESET")
  })

  it("decoding rejects an unknown tag and a missing message", () => {
    expect(() => decode({ _tag: "TeapotError", message: "x" })).toThrow()
    expect(() => decode({ _tag: "RateLimitError" })).toThrow()
    expect(() => decode({ _tag: "TimeoutError", message: "x", phase: "lunch" })).toThrow()
  })

  it("errors fail the Effect error channel and can be caught by tag", () =>
    Effect.runPromise(
      Effect.gen(function*() {
        const caught = yield* new LlmError.RateLimitError({ message: "slow down", retryAfterMs: 2000 }).pipe(
          Effect.catchTag("RateLimitError", (e) => Effect.succeed(e.retryAfterMs))
        )
        expect(caught).toBe(2000)
      })
    ))
})

describe("isLlmError", () => {
  it("rejects look-alikes", () => {
    expect(LlmError.isLlmError({ _tag: "RateLimitError", message: "x" })).toBe(false)
    expect(LlmError.isLlmError(new Error("x"))).toBe(false)
    expect(LlmError.isLlmError(Object.assign(new Error("x"), { _tag: "SomethingElse" }))).toBe(false)
    expect(LlmError.isLlmError(undefined)).toBe(false)
    expect(LlmError.isLlmError(null)).toBe(false)
    expect(LlmError.isLlmError("RateLimitError")).toBe(false)
  })

  it("accepts decoded errors", () => {
    expect(LlmError.isLlmError(decode({ _tag: "ServerError", message: "x" }))).toBe(true)
  })
})

describe("annotate / withContext", () => {
  it("annotate copies the error with fields changed, leaving the original alone", () => {
    const cause = new Error("socket hang up")
    const original = new LlmError.RateLimitError({ message: "slow", status: 429, retryAfterMs: 100, cause })
    const copy = LlmError.annotate(original, { provider: "anthropic", retryAfterMs: 250, model: undefined })
    expect(copy).not.toBe(original)
    expect(copy).toBeInstanceOf(LlmError.RateLimitError)
    expect(copy._tag).toBe("RateLimitError")
    expect(copy.message).toBe("slow")
    expect(copy.status).toBe(429)
    expect(copy.provider).toBe("anthropic")
    expect(copy.retryAfterMs).toBe(250)
    expect(copy.model).toBeUndefined()
    expect(copy.source).toBe("provider")
    expect(copy.cause).toBe(cause)
    expect(original.provider).toBeUndefined()
    expect(original.retryAfterMs).toBe(100)
  })

  it("annotate can attach partial output", () => {
    const partial = { text: "Hel", toolCalls: [], events: 3 }
    const e = LlmError.annotate(new LlmError.ServerError({ message: "overloaded" }), { partial })
    expect(e.partial).toEqual(partial)
    expect(roundTrip(e).partial).toEqual(partial)
  })

  it("withContext fills only what is missing", () => {
    const bare = new LlmError.TimeoutError({ message: "t", phase: "idle" })
    const filled = LlmError.withContext(bare, { provider: "openai", model: "gpt-4o" })
    expect(filled).toBeInstanceOf(LlmError.TimeoutError)
    expect(filled).toMatchObject({ provider: "openai", model: "gpt-4o", phase: "idle", message: "t" })

    const half = new LlmError.TimeoutError({ message: "t", phase: "idle", provider: "anthropic" })
    expect(LlmError.withContext(half, { provider: "openai", model: "m" })).toMatchObject({
      provider: "anthropic",
      model: "m"
    })
  })

  it("withContext returns the same error when nothing is missing", () => {
    const full = new LlmError.NetworkError({ message: "n", provider: "p", model: "m" })
    expect(LlmError.withContext(full, { provider: "q", model: "n" })).toBe(full)
    const bare = new LlmError.NetworkError({ message: "n" })
    expect(LlmError.withContext(bare, {})).toBe(bare)
  })
})

// -----------------------------------------------------------------------------
// fromHttpFailure
// -----------------------------------------------------------------------------

const openaiBody = (message: string, type: string, code: string | null = null, param: string | null = null) => ({
  error: { message, type, param, code }
})
const anthropicBody = (type: string, message: string) => ({ type: "error", error: { type, message } })
const geminiBody = (code: number, status: string, message: string) => ({ error: { code, message, status } })

interface StatusCase {
  readonly name: string
  readonly status: number
  readonly body: unknown
  readonly tag: LlmError.LlmErrorTag
  readonly retryable: boolean
  readonly code?: string
  readonly messageIncludes?: ReadonlyArray<string>
  readonly extra?: Record<string, unknown>
}

const statusCases: ReadonlyArray<StatusCase> = [
  {
    name: "400 OpenAI invalid_request_error with param",
    status: 400,
    body: openaiBody(
      "Unsupported parameter: 'max_tokens' is not supported with this model.",
      "invalid_request_error",
      "unsupported_parameter",
      "max_tokens"
    ),
    tag: "InvalidRequestError",
    retryable: false,
    code: "unsupported_parameter",
    messageIncludes: ["HTTP 400", "Unsupported parameter"],
    extra: { param: "max_tokens" }
  },
  {
    name: "400 OpenAI with code null falls back to the type",
    status: 400,
    body: openaiBody("Unsupported parameter: 'temperature'", "invalid_request_error", null, "temperature"),
    tag: "InvalidRequestError",
    retryable: false,
    code: "invalid_request_error",
    extra: { param: "temperature" }
  },
  {
    name: "400 Anthropic invalid_request_error (max_tokens too large is NOT a context error)",
    status: 400,
    body: anthropicBody(
      "invalid_request_error",
      "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-opus-4-1"
    ),
    tag: "InvalidRequestError",
    retryable: false,
    code: "invalid_request_error"
  },
  {
    name: "400 Gemini INVALID_ARGUMENT",
    status: 400,
    body: geminiBody(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'"),
    tag: "InvalidRequestError",
    retryable: false,
    code: "INVALID_ARGUMENT"
  },
  {
    name: "401 OpenAI invalid_api_key",
    status: 401,
    body: openaiBody("Incorrect API key provided: sk-abc1***wxyz.", "invalid_request_error", "invalid_api_key"),
    tag: "AuthenticationError",
    retryable: false,
    code: "invalid_api_key",
    messageIncludes: ["HTTP 401", "check the API key"]
  },
  {
    name: "401 Anthropic authentication_error",
    status: 401,
    body: anthropicBody("authentication_error", "invalid x-api-key"),
    tag: "AuthenticationError",
    retryable: false,
    code: "authentication_error",
    messageIncludes: ["invalid x-api-key", "check the API key"]
  },
  {
    name: "400 Gemini API_KEY_INVALID is an authentication error",
    status: 400,
    body: {
      error: {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [{
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com"
        }]
      }
    },
    tag: "AuthenticationError",
    retryable: false,
    messageIncludes: ["API key not valid", "check the API key"]
  },
  {
    name: "403 Anthropic permission_error",
    status: 403,
    body: anthropicBody("permission_error", "Your API key does not have permission to use the specified resource."),
    tag: "AuthenticationError",
    retryable: false,
    code: "permission_error"
  },
  {
    name: "403 Gemini PERMISSION_DENIED",
    status: 403,
    body: geminiBody(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers"),
    tag: "AuthenticationError",
    retryable: false,
    code: "PERMISSION_DENIED"
  },
  {
    name: "404 OpenAI model_not_found",
    status: 404,
    body: openaiBody("The model `gpt-9` does not exist", "invalid_request_error", "model_not_found"),
    tag: "NotFoundError",
    retryable: false,
    code: "model_not_found",
    messageIncludes: ["gpt-9"]
  },
  {
    name: "404 Ollama {error: string}",
    status: 404,
    body: { error: "model \"llama9\" not found, try pulling it first" },
    tag: "NotFoundError",
    retryable: false,
    messageIncludes: ["llama9", "try pulling it first"]
  },
  {
    name: "408 server timeout",
    status: 408,
    body: undefined,
    tag: "TimeoutError",
    retryable: true,
    extra: { phase: "server" }
  },
  {
    name: "409 conflict",
    status: 409,
    body: openaiBody("Another request is in progress", "invalid_request_error", "conflict"),
    tag: "InvalidRequestError",
    retryable: true
  },
  {
    name: "413 Anthropic request_too_large",
    status: 413,
    body: anthropicBody("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    tag: "ContextLengthError",
    retryable: false,
    code: "request_too_large"
  },
  {
    name: "422 unprocessable",
    status: 422,
    body: { detail: "bad" },
    tag: "InvalidRequestError",
    retryable: false
  },
  {
    name: "429 OpenAI rate_limit_exceeded",
    status: 429,
    body: openaiBody("Rate limit reached for gpt-4o-mini", "requests", "rate_limit_exceeded"),
    tag: "RateLimitError",
    retryable: true,
    code: "rate_limit_exceeded",
    extra: { source: "provider" }
  },
  {
    name: "429 OpenAI insufficient_quota will not pass by waiting",
    status: 429,
    body: fixture("vercel-ai/openai/responses/openai-error.1.json"),
    tag: "RateLimitError",
    retryable: false,
    code: "insufficient_quota",
    messageIncludes: ["exceeded your current quota"]
  },
  {
    name: "429 Anthropic rate_limit_error",
    status: 429,
    body: anthropicBody("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    tag: "RateLimitError",
    retryable: true,
    code: "rate_limit_error"
  },
  {
    name: "429 Gemini RESOURCE_EXHAUSTED with RetryInfo (recorded fixture)",
    status: 429,
    body: fixture("vercel-ai/google/google-429-retry-info.json"),
    tag: "RateLimitError",
    retryable: true,
    code: "RESOURCE_EXHAUSTED",
    messageIncludes: ["You exceeded your current quota"],
    extra: { retryAfterMs: 34_400 }
  },
  {
    name: "500 OpenAI server_error",
    status: 500,
    body: openaiBody("The server had an error while processing your request.", "server_error"),
    tag: "ServerError",
    retryable: true,
    code: "server_error"
  },
  {
    name: "502 plain-text body",
    status: 502,
    body: "  <html>Bad Gateway</html>\n",
    tag: "ServerError",
    retryable: true,
    messageIncludes: ["HTTP 502: <html>Bad Gateway</html>"]
  },
  {
    name: "503 Gemini UNAVAILABLE wrapped in an array (streaming endpoint)",
    status: 503,
    body: [geminiBody(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")],
    tag: "ServerError",
    retryable: true,
    code: "UNAVAILABLE",
    messageIncludes: ["The model is overloaded"]
  },
  {
    name: "529 Anthropic overloaded_error",
    status: 529,
    body: anthropicBody("overloaded_error", "Overloaded"),
    tag: "ServerError",
    retryable: true,
    code: "overloaded_error",
    messageIncludes: ["HTTP 529: Overloaded"]
  }
]

describe("fromHttpFailure status table", () => {
  for (const c of statusCases) {
    it(c.name, () => {
      const e = LlmError.fromHttpFailure({ status: c.status, body: c.body, headers: {}, model: "m" })
      expect(e._tag).toBe(c.tag)
      expect(e.status).toBe(c.status)
      expect(e.model).toBe("m")
      expect(e.retryable).toBe(c.retryable)
      if (c.code !== undefined) expect(e.code).toBe(c.code)
      for (const part of c.messageIncludes ?? []) expect(e.message).toContain(part)
      if (c.extra !== undefined) expect(e).toMatchObject(c.extra)
      // every mapped error serializes
      expect(fieldsOf(roundTrip(e))).toEqual(fieldsOf(e))
    })
  }

  it("an empty body gives just the status", () => {
    for (const body of [undefined, "", "   ", null, {}]) {
      const e = LlmError.fromHttpFailure({ status: 503, body, headers: {} })
      expect(e._tag).toBe("ServerError")
      expect(e.message).toBe("HTTP 503")
      expect(e.code).toBeUndefined()
    }
  })

  it("the provider name starts the message", () => {
    const e = LlmError.fromHttpFailure({ status: 500, body: "oops", headers: {}, provider: "anthropic" })
    expect(e.message).toBe("anthropic HTTP 500: oops")
    expect(e.provider).toBe("anthropic")
  })

  it("a long plain-text body is cut to 500 characters", () => {
    const e = LlmError.fromHttpFailure({ status: 500, body: "x".repeat(2000), headers: {} })
    expect(e.message).toBe(`HTTP 500: ${"x".repeat(500)}…`)
  })

  it("other 4xx statuses are invalid requests, other 5xx server errors", () => {
    expect(LlmError.fromHttpFailure({ status: 405, body: undefined, headers: {} })._tag).toBe("InvalidRequestError")
    expect(LlmError.fromHttpFailure({ status: 418, body: undefined, headers: {} })._tag).toBe("InvalidRequestError")
    expect(LlmError.fromHttpFailure({ status: 504, body: undefined, headers: {} })._tag).toBe("ServerError")
    expect(LlmError.fromHttpFailure({ status: 599, body: undefined, headers: {} })._tag).toBe("ServerError")
  })
})

describe("fromHttpFailure context length and content filter", () => {
  const contextLength: ReadonlyArray<[string, unknown]> = [
    [
      "OpenAI code",
      openaiBody(
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        "invalid_request_error",
        "context_length_exceeded",
        "messages"
      )
    ],
    [
      "OpenAI message only",
      openaiBody("This model's maximum context length is 8192 tokens.", "invalid_request_error")
    ],
    [
      "Anthropic prompt too long",
      anthropicBody("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum")
    ],
    [
      "Anthropic input + max_tokens over the context limit",
      anthropicBody(
        "invalid_request_error",
        "input length and `max_tokens` exceed context limit: 178959 + 64000 > 200000, decrease input length or `max_tokens` and try again"
      )
    ],
    [
      "Gemini token count",
      geminiBody(
        400,
        "INVALID_ARGUMENT",
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
      )
    ],
    [
      "xAI prompt length",
      {
        code: "Client specified an invalid argument",
        error: "This model's maximum prompt length is 131072 but the request contains 140000 tokens."
      }
    ],
    [
      "OpenAI string_above_max_length",
      openaiBody("string too long", "invalid_request_error", "string_above_max_length")
    ]
  ]
  for (const [name, body] of contextLength) {
    it(`ContextLengthError: ${name}`, () => {
      const e = LlmError.fromHttpFailure({ status: 400, body, headers: {} })
      expect(e._tag).toBe("ContextLengthError")
      expect(e.retryable).toBe(false)
    })
  }

  const contentFilter: ReadonlyArray<[string, unknown]> = [
    [
      "OpenAI content_policy_violation",
      openaiBody(
        "Your request was rejected as a result of our safety system.",
        "invalid_request_error",
        "content_policy_violation"
      )
    ],
    [
      "Azure content_filter",
      {
        error: {
          code: "content_filter",
          message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."
        }
      }
    ],
    [
      "message only",
      openaiBody("The prompt was filtered by the content management policy.", "invalid_request_error")
    ]
  ]
  for (const [name, body] of contentFilter) {
    it(`ContentFilterError: ${name}`, () => {
      const e = LlmError.fromHttpFailure({ status: 400, body, headers: {} })
      expect(e._tag).toBe("ContentFilterError")
      expect(e.retryable).toBe(false)
    })
  }
})

describe("fromHttpFailure retry hints", () => {
  const nowMs = Date.UTC(2025, 0, 1, 12, 0, 0)

  const retryAfter = (headers: Record<string, string>, status = 429, withNow = true) => {
    const e = LlmError.fromHttpFailure({ status, body: undefined, headers, ...(withNow ? { nowMs } : {}) })
    return (e as { readonly retryAfterMs?: number }).retryAfterMs
  }

  it("retry-after in seconds", () => {
    expect(retryAfter({ "retry-after": "12" })).toBe(12_000)
    expect(retryAfter({ "retry-after": "0" })).toBe(0)
    expect(retryAfter({ "retry-after": "1.5" })).toBe(1_500)
  })

  it("retry-after as an HTTP date, relative to nowMs", () => {
    expect(retryAfter({ "retry-after": "Wed, 01 Jan 2025 12:00:30 GMT" })).toBe(30_000)
    // a date in the past means "now"
    expect(retryAfter({ "retry-after": "Wed, 01 Jan 2025 11:59:00 GMT" })).toBe(0)
    // no clock, no delay
    expect(retryAfter({ "retry-after": "Wed, 01 Jan 2025 12:00:30 GMT" }, 429, false)).toBeUndefined()
  })

  it("retry-after-ms wins over retry-after", () => {
    expect(retryAfter({ "retry-after-ms": "1500", "retry-after": "20" })).toBe(1_500)
    expect(retryAfter({ "retry-after-ms": "250" })).toBe(250)
  })

  it("garbage is ignored", () => {
    expect(retryAfter({ "retry-after": "soon" })).toBeUndefined()
    expect(retryAfter({ "retry-after": "" })).toBeUndefined()
    expect(retryAfter({ "retry-after": "-5" })).toBeUndefined()
    expect(retryAfter({ "retry-after-ms": "abc", "retry-after": "3" })).toBe(3_000)
  })

  it("server errors carry the hint too", () => {
    expect(retryAfter({ "retry-after": "7" }, 503)).toBe(7_000)
    expect(retryAfter({ "retry-after": "7" }, 529)).toBe(7_000)
  })

  it("retryAfterFrom reads Google's RetryInfo from the body", () => {
    expect(LlmError.retryAfterFrom({}, fixture("vercel-ai/google/google-429-retry-info.json"))).toBe(34_400)
    expect(LlmError.retryAfterFrom({}, { error: { details: [{ retryDelay: "2s" }] } })).toBe(2_000)
    expect(LlmError.retryAfterFrom({}, { error: { details: [{ retryDelay: "soon" }] } })).toBeUndefined()
    // a header wins over the body
    expect(LlmError.retryAfterFrom({ "retry-after": "1" }, fixture("vercel-ai/google/google-429-retry-info.json")))
      .toBe(1_000)
  })

  it("x-should-retry overrides the default", () => {
    const noRetry = LlmError.fromHttpFailure({ status: 500, body: undefined, headers: { "x-should-retry": "false" } })
    expect(noRetry._tag).toBe("ServerError")
    expect(noRetry.retryable).toBe(false)
    const retry = LlmError.fromHttpFailure({ status: 400, body: undefined, headers: { "x-should-retry": "true" } })
    expect(retry._tag).toBe("InvalidRequestError")
    expect(retry.retryable).toBe(true)
    const rateLimited = LlmError.fromHttpFailure({
      status: 429,
      body: undefined,
      headers: { "x-should-retry": "false" }
    })
    expect(rateLimited.retryable).toBe(false)
    const other = LlmError.fromHttpFailure({ status: 500, body: undefined, headers: { "x-should-retry": "maybe" } })
    expect(other.retryable).toBe(true)
    expect(other.shouldRetry).toBeUndefined()
  })
})

describe("fromHttpFailure request ids", () => {
  it("from x-request-id (OpenAI) or request-id (Anthropic)", () => {
    expect(LlmError.fromHttpFailure({ status: 500, body: undefined, headers: { "x-request-id": "req_a" } }).requestId)
      .toBe("req_a")
    expect(LlmError.fromHttpFailure({ status: 500, body: undefined, headers: { "request-id": "req_b" } }).requestId)
      .toBe("req_b")
    expect(
      LlmError.fromHttpFailure({ status: 500, body: undefined, headers: { "x-request-id": "a", "request-id": "b" } })
        .requestId
    ).toBe("a")
    expect(LlmError.fromHttpFailure({ status: 500, body: undefined, headers: {} }).requestId).toBeUndefined()
  })

  it("from Anthropic's error body when the header is missing", () => {
    const body = { ...anthropicBody("overloaded_error", "Overloaded"), request_id: "req_011CUB2X" }
    expect(LlmError.fromHttpFailure({ status: 529, body, headers: {} }).requestId).toBe("req_011CUB2X")
    expect(LlmError.fromHttpFailure({ status: 529, body, headers: { "request-id": "req_h" } }).requestId).toBe("req_h")
  })
})

describe("fromHttpFailure never leaks the API key", () => {
  const apiKey = "sk-proj-FAKEabcdefghijklmnopqrstuvwxyz0123456789"
  const requestHeaders = { authorization: `Bearer ${apiKey}`, "x-api-key": apiKey }

  const everything = (e: LlmError.LlmError) =>
    [JSON.stringify(encode(e)), JSON.stringify(e), e.message, String(e), e.stack ?? ""].join("\n")

  it("the key in the request headers never reaches the error", () => {
    // the mapper only sees the response: even a caller passing the request headers by mistake
    // (they are not response headers) gets no key into the error
    for (const status of [400, 401, 403, 404, 429, 500, 529]) {
      const e = LlmError.fromHttpFailure({
        status,
        body: openaiBody("nope", "invalid_request_error"),
        headers: { "x-request-id": "req_1", "content-type": "application/json" },
        provider: "openai",
        model: "gpt-4o-mini"
      })
      expect(everything(e)).not.toContain(apiKey)
      expect(everything(e)).not.toContain("FAKEabcdefghij")
      expect(Object.values(requestHeaders).some((v) => everything(e).includes(v))).toBe(false)
    }
  })

  it("401 says what to check, and names the provider's variable", () => {
    const e = LlmError.fromHttpFailure({
      status: 401,
      body: openaiBody("Incorrect API key provided: sk-proj-****6789.", "invalid_request_error", "invalid_api_key"),
      headers: {},
      provider: "openai"
    })
    expect(e._tag).toBe("AuthenticationError")
    expect(e.message).toContain("check the API key")
    expect(e.message).toContain("OPENAI_API_KEY")
    const anthropic = LlmError.fromHttpFailure({ status: 401, body: undefined, headers: {}, provider: "anthropic" })
    expect(anthropic.message).toContain("ANTHROPIC_API_KEY")
  })

  it("a key echoed by a server in its error message is redacted", () => {
    const echoes: ReadonlyArray<[unknown, string]> = [
      [openaiBody(`Incorrect API key provided: ${apiKey}`, "invalid_request_error"), apiKey],
      [anthropicBody("authentication_error", "bad key sk-ant-api03-FAKEFAKEFAKEFAKEFAKE-xyz"), "FAKEFAKEFAKEFAKE"],
      [`invalid key AIzaSyFAKEFAKEFAKEFAKEFAKEFAKEFAKE12345`, "SyFAKEFAKEFAKE"]
    ]
    for (const [body, secret] of echoes) {
      const e = LlmError.fromHttpFailure({ status: 401, body, headers: {} })
      expect(everything(e)).not.toContain(secret)
      expect(e.message).toContain("<redacted>")
    }
  })
})

describe("parseErrorBody", () => {
  it("reads the three wire formats", () => {
    expect(LlmError.parseErrorBody(openaiBody("m", "t", "c", "p"))).toEqual({ message: "m", code: "c", param: "p" })
    expect(LlmError.parseErrorBody(anthropicBody("overloaded_error", "Overloaded"))).toEqual({
      message: "Overloaded",
      code: "overloaded_error"
    })
    expect(LlmError.parseErrorBody(geminiBody(429, "RESOURCE_EXHAUSTED", "quota"))).toEqual({
      message: "quota",
      code: "RESOURCE_EXHAUSTED"
    })
    expect(LlmError.parseErrorBody([geminiBody(500, "INTERNAL", "oops")])).toEqual({
      message: "oops",
      code: "INTERNAL"
    })
  })

  it("copes with odd bodies", () => {
    expect(LlmError.parseErrorBody(undefined)).toEqual({})
    expect(LlmError.parseErrorBody(42)).toEqual({})
    expect(LlmError.parseErrorBody([])).toEqual({})
    expect(LlmError.parseErrorBody({ error: "plain" })).toEqual({ message: "plain" })
    expect(LlmError.parseErrorBody({ error: { message: "" } })).toEqual({})
  })
})
