/**
 * The budget ledger in Lua: one script per operation, atomic across all its keys. A
 * counter is a hash with the fields `microUsd` and `tokens` (integers, `HINCRBY`) that,
 * like core's in-memory ledger, never goes below zero.
 *
 * Private to the package (`exports` hides `internal/*`).
 */
import * as Script from "./script.js"

/** Add to a counter (stopping at zero) and set its TTL ("" = none). */
const add = `
local function add(key, microUsd, tokens, ttl)
  if redis.call("HINCRBY", key, "microUsd", microUsd) < 0 then redis.call("HSET", key, "microUsd", 0) end
  if redis.call("HINCRBY", key, "tokens", tokens) < 0 then redis.call("HSET", key, "tokens", 0) end
  if ttl ~= "" then redis.call("PEXPIRE", key, ttl) end
end`

/**
 * KEYS: the entries' counters.
 * ARGV: microUsd, tokens, then per entry: limitMicroUsd, limitTokens ("" = no limit), ttlMs ("" = none).
 * Returns { 1 } when reserved, { 0, index (1-based), heldMicroUsd, heldTokens } when rejected
 * (nothing written).
 */
export const reserve = Script.make(`
${add}
local microUsd = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local seen = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local held = redis.call("HMGET", key, "microUsd", "tokens")
  local heldMicroUsd = held[1] or "0"
  local heldTokens = held[2] or "0"
  -- a key listed twice takes the amount twice
  local times = (seen[key] or 0) + 1
  seen[key] = times
  local limitMicroUsd, limitTokens = ARGV[3 * i], ARGV[3 * i + 1]
  if (limitMicroUsd ~= "" and tonumber(heldMicroUsd) + microUsd * times > tonumber(limitMicroUsd))
    or (limitTokens ~= "" and tonumber(heldTokens) + tokens * times > tonumber(limitTokens)) then
    return { 0, i, heldMicroUsd, heldTokens }
  end
end
for i = 1, #KEYS do add(KEYS[i], ARGV[1], ARGV[2], ARGV[3 * i + 2]) end
return { 1 }
`)

/**
 * KEYS: the counters. ARGV: microUsd delta, tokens delta (a counter stops at zero), then per
 * key ttlMs ("" = none).
 */
export const adjust = Script.make(`
${add}
for i = 1, #KEYS do add(KEYS[i], ARGV[1], ARGV[2], ARGV[2 + i]) end
return 1
`)
