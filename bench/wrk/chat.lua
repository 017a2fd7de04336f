-- wrk script: a non-streaming OpenAI Chat Completions POST (an 8-delta answer)
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer sk-bench"
wrk.body = '{"model":"bench-8","messages":[{"role":"user","content":"Hello there, how are you?"}]}'
