/**
 * Workaround for a hang in `@llm-fiber/core`'s `UndiciHttpClient` (to be removed once
 * core fixes it): its `response.stream` is `Stream.fromAsyncIterable(body)`, whose
 * finalizer awaits `iterator.return()`. On a Node `Readable`, `return()` is queued behind
 * a pending `next()`; when the server stalls mid-body, the pending read never settles,
 * so interrupting the stream (idle or total timeout) waits forever and the timeout error
 * never arrives.
 *
 * Here, a response that carries an undici body (`response.source.body`, a `Readable`)
 * gets a `stream` that reads the same body but, when it ends for any reason, destroys
 * the body synchronously — which settles the pending read, aborts the request and
 * closes the socket. Other responses are passed through untouched.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

interface NodeBody extends AsyncIterable<Uint8Array> {
  readonly destroyed: boolean
  destroy(error?: Error): void
}

interface Found {
  readonly body: NodeBody
  /** The `AbortController` of `@effect/platform`'s interruptible wrapper, when there is one. */
  readonly controller: AbortController | undefined
}

/**
 * The undici body behind a response: `HttpClient.make` wraps every response in an
 * interruptible one (`original` + `controller`), around core's undici `Response`
 * (`source.body`).
 */
const find = (response: HttpClientResponse.HttpClientResponse): Found | undefined => {
  let current: unknown = response
  let controller: AbortController | undefined
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const record = current as {
      readonly source?: { readonly body?: unknown }
      readonly original?: unknown
      readonly controller?: unknown
    }
    if (controller === undefined && record.controller instanceof AbortController) controller = record.controller
    const body = typeof record.source === "object" && record.source !== null ? record.source.body : undefined
    if (
      typeof body === "object" && body !== null && typeof (body as NodeBody).destroy === "function" &&
      Symbol.asyncIterator in body
    ) {
      return { body: body as NodeBody, controller }
    }
    current = record.original
  }
  return undefined
}

const destroyingStream = (
  response: HttpClientResponse.HttpClientResponse,
  { body, controller }: Found
): Stream.Stream<Uint8Array, HttpClientError.ResponseError> =>
  Stream.suspend(() => {
    const iterator = body[Symbol.asyncIterator]()
    const next = Effect.flatMap(
      Effect.tryPromise({
        try: () => iterator.next(),
        catch: (cause) =>
          Option.some(
            new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", cause })
          )
      }),
      (result) => (result.done === true ? Effect.fail(Option.none()) : Effect.succeed(result.value))
    )
    return Stream.repeatEffectOption(next).pipe(
      Stream.ensuring(Effect.sync(() => {
        if (!body.destroyed) body.destroy()
        controller?.abort()
      }))
    )
  })

const patch = (response: HttpClientResponse.HttpClientResponse): HttpClientResponse.HttpClientResponse => {
  const found = find(response)
  if (found === undefined) return response
  // delegate everything else to the original response (its getters see this object as `this`)
  const patched = Object.create(response) as HttpClientResponse.HttpClientResponse
  Object.defineProperty(patched, "stream", { get: () => destroyingStream(response, found) })
  return patched
}

/** Give undici-backed responses a body stream that cannot hang on interruption. */
export const withDestroyingBodies = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(client, Effect.map(patch))
