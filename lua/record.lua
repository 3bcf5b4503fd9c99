-- record.lua: reports the outcome of a call that acquire.lua admitted.
--
-- KEYS:    the breaker's state hash, lease zset and window hash (see lib.lua)
-- ARGV:    1..15 as in lib.lua; 16 = generation the permit was admitted under,
--          17 = permit id, 18 = outcome: "success", "failure" or "release" (the call was
--          abandoned: free its lease, count nothing)
-- Returns: {verdict, state, forced, generation, retry_after_ms, from, to, repaired}
--          verdict "counted", "released", "stale" (admitted under another generation, or its
--          half-open lease already expired: changes nothing) or "ignored" (forced or disabled).
--
-- Closed: counts the outcome in the window and opens the circuit when the trip policy says so
-- (checked on failures only). Half-open: one failure reopens it; success_threshold successes
-- close it.

local b, repaired, dirty = load()
local generation, permit, outcome = tonumber(ARGV[16]), ARGV[17], ARGV[18]

local function finish(verdict, from, to)
  if dirty then save(b) end
  return reply(verdict, b, -1, from, to, repaired)
end

if generation ~= b.generation then return finish('stale') end

if b.state == 'half-open' then
  if redis.call('ZREM', K_LEASES, permit) == 0 then return finish('stale') end
  if outcome == 'release' then return finish('released') end
  dirty = true
  if outcome == 'failure' then
    return finish('counted', transition(b, 'open', 'trial call failed'), 'open')
  end
  b.half_open_successes = b.half_open_successes + 1
  if b.half_open_successes >= C.success_threshold then
    return finish('counted', transition(b, 'closed', 'trial calls succeeded'), 'closed')
  end
  return finish('counted')
end

if b.state ~= 'closed' or b.forced ~= 'none' or outcome == 'release' then return finish('ignored') end

dirty = true
local failed = outcome == 'failure'
local req, fail
if C.window_kind == 1 then
  if fixed_window_expired(b) then
    b.requests, b.failures, b.consecutive_failures, b.window_start = 0, 0, 0, NOW
  end
  b.requests = b.requests + 1
  if failed then b.failures = b.failures + 1 end
  req, fail = b.requests, b.failures
else
  local r, f, bid, slot, cur_r, cur_f = rolling_window()
  if failed then cur_f, f = cur_f + 1, f + 1 end
  req, fail = r + 1, f
  redis.call('HSET', K_WINDOW, slot, bid .. ':' .. (cur_r + 1) .. ':' .. cur_f)
  redis.call('PEXPIRE', K_WINDOW, C.ttl_ms)
  b.requests, b.failures = req, fail
end
if failed then
  b.consecutive_failures = b.consecutive_failures + 1
  if should_trip(b, req, fail) then
    return finish('counted', transition(b, 'open', 'failure threshold reached'), 'open')
  end
else
  b.consecutive_failures = 0
end
return finish('counted')
