-- record.lua: reports the outcome of a call that acquire.lua admitted.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..15 as in lib.lua; 16 = generation the permit was admitted under,
--          17 = permit id, 18 = outcome: "success", "failure" or "release" (the call was
--          abandoned: free its lease, count nothing), 19 = the admission's time in ms (the
--          now_ms of acquire's reply; "" for now)
-- Returns: {verdict, state, forced, generation, retry_after_ms, from, to, repaired, now_ms,
--          settings_missing, requests, failures} (the window's counts, see lib.lua)
--          verdict "counted", "released", "stale" (admitted under another generation, or its
--          half-open lease already expired, or in a window that has ended: counts nothing)
--          or "ignored" (forced or disabled).
--
-- Closed: counts the outcome in the window its call was admitted in (count_closed in
-- lib.lua), so that outcomes recorded late, or in another order than they happened, count
-- where they belong. Half-open: one failure reopens it; success_threshold successes close it.

local b, dirty = load()
local generation, permit, outcome = tonumber(ARGV[16]), ARGV[17], ARGV[18]
local at = NOW
if ARGV[19] ~= '' then at = count(ARGV[19]) or NOW end

local function finish(verdict, from, to)
  commit(b, dirty)
  return reply(verdict, b, -1, from, to)
end

if generation ~= b.generation then return finish('stale') end

if b.state == 'half-open' then
  if on_leases('ZREM', permit) == 0 then return finish('stale') end
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
local counted, tripped = count_closed(b, at, outcome == 'failure')
if tripped then return finish('counted', 'closed', 'open') end
return finish(counted and 'counted' or 'stale')
