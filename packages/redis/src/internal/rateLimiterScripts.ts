/**
 * The sliding-window rate-limit store in Lua: the algorithm of core's
 * `internal/slidingWindow.ts`, one script per store operation (atomic on the server).
 *
 * A window is two keys: a sorted set `key` (member: reservation id, score: booked time in
 * ms) and a hash `key:cost` (id → cost). Time is the server's `TIME` unless a test passes
 * `now` (ARGV[1]).
 *
 * Private to the package (`exports` hides `internal/*`).
 */
import * as Script from "./script.js"

/**
 * KEYS: per window, its sorted set then its cost hash.
 * ARGV: now ("" = the server's clock), maxWaitMs (-1 = no bound), id, then per window:
 * limit, windowMs, cost.
 * Returns { "Reserved", waitMs } or { "Rejected", retryAfterMs } (numbers as strings).
 */
export const reserve = Script.make(`
local now
if ARGV[1] == "" then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local maxWait = tonumber(ARGV[2])
local id = ARGV[3]
local n = #KEYS / 2
local at = now
local latest = {}
for i = 1, n do
  local times, costs = KEYS[2 * i - 1], KEYS[2 * i]
  local limit = tonumber(ARGV[3 * i + 1])
  local windowMs = tonumber(ARGV[3 * i + 2])
  local cost = tonumber(ARGV[3 * i + 3])
  -- drop the bookings that left the window by now
  local cutoff = now - windowMs
  local gone = redis.call("ZRANGEBYSCORE", times, "-inf", cutoff)
  if #gone > 0 then
    redis.call("ZREMRANGEBYSCORE", times, "-inf", cutoff)
    for j = 1, #gone, 1000 do
      redis.call("HDEL", costs, unpack(gone, j, math.min(j + 999, #gone)))
    end
  end
  -- the live bookings in time order
  local flat = redis.call("ZRANGE", times, 0, -1, "WITHSCORES")
  local byId = {}
  local hash = redis.call("HGETALL", costs)
  for j = 1, #hash, 2 do byId[hash[j]] = tonumber(hash[j + 1]) end
  local count = #flat / 2
  local time, value = {}, {}
  for j = 1, count do
    time[j] = tonumber(flat[2 * j])
    value[j] = byId[flat[2 * j - 1]] or 0
  end
  -- the earliest time at or after now (and the last live booking) this window has room
  local last = now
  for j = count, 1, -1 do
    if value[j] > 0 then
      last = time[j]
      break
    end
  end
  local base = math.max(now, last)
  local sum = 0
  for j = 1, count do
    if time[j] > base - windowMs then sum = sum + value[j] end
  end
  local earliest = base
  if not (sum <= 0 or sum + cost <= limit) then
    for j = 1, count do
      if time[j] > base - windowMs then
        sum = sum - value[j]
        -- bookings at the same instant leave the window together
        if not (j < count and time[j + 1] == time[j]) and (sum <= 0 or sum + cost <= limit) then
          earliest = time[j] + windowMs
          break
        end
      end
    end
  end
  if earliest > at then at = earliest end
  latest[i] = count > 0 and time[count] or now
end
local waitMs = at - now
if maxWait >= 0 and waitMs > maxWait then
  return { "Rejected", string.format("%.17g", waitMs) }
end
for i = 1, n do
  local times, costs = KEYS[2 * i - 1], KEYS[2 * i]
  local windowMs = tonumber(ARGV[3 * i + 2])
  redis.call("ZADD", times, at, id)
  redis.call("HSET", costs, id, ARGV[3 * i + 3])
  -- the window is empty once its last booking has left it
  local ttl = math.ceil(math.max(at, latest[i]) + windowMs - now) + 1
  redis.call("PEXPIRE", times, ttl)
  redis.call("PEXPIRE", costs, ttl)
end
return { "Reserved", string.format("%.17g", waitMs) }
`)

/**
 * KEYS: per window, its sorted set then its cost hash.
 * ARGV: id, then per window the new cost (0 cancels the booking: it holds nothing).
 */
export const update = Script.make(`
local id = ARGV[1]
for i = 1, #KEYS / 2 do
  local times, costs = KEYS[2 * i - 1], KEYS[2 * i]
  local cost = ARGV[i + 1]
  -- a booking cancelled with 0 stays (holding nothing) until it leaves the window, as in memory
  if redis.call("HEXISTS", costs, id) == 1 then redis.call("HSET", costs, id, cost) end
end
return 1
`)
