-- wrk script: a streamed OpenAI Chat Completions POST, 1,000 deltas in one burst (~230 KB)
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer sk-bench"
wrk.body = '{"model":"bench-1000","messages":[{"role":"user","content":"Hello there, how are you?"}],"stream":true}'
