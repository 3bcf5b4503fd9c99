-- record_batch.lua: reports the outcomes of several calls admitted, without a round trip
-- each, from a replica's cached view of a closed circuit (cached admission).
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..5 as in lib.lua; 6 = generation the calls were admitted under,
--          7 = the outcomes in the order they were recorded, one letter each:
--          "S" success, "F" failure (ignored outcomes are not sent)
-- Returns: {verdict, state, forced, generation, -1, from, to, repaired, now_ms,
--          settings_missing, requests, failures} (the window's counts, see lib.lua)
--          verdict "counted", "stale" (another generation: nothing counted) or "ignored"
--          (forced, disabled, or no longer closed).
--
-- The outcomes are counted one by one exactly as record.lua counts them (all at this
-- script's time: their calls were admitted without asking Redis, and are recorded in the
-- order they ended), so the trip decision is the same as if each had been recorded alone;
-- once one of them opens the circuit, the rest belong to the old generation and are dropped.
-- The work is one read of the window and one write of each bucket touched, whatever the
-- batch's size (Config bounds both: at most 1000 buckets, at most max_batch outcomes).

local b, dirty = load()
local generation, outcomes = tonumber(ARGV[6]), ARGV[7]

local function finish(verdict, from, to)
  commit(b, dirty)
  return reply(verdict, b, -1, from, to)
end

if generation ~= b.generation then return finish('stale') end
if b.state ~= 'closed' or b.forced ~= 'none' then return finish('ignored') end

dirty = true
for i = 1, #outcomes do
  local _, tripped = count_closed(b, NOW, string.byte(outcomes, i) == 70)
  if tripped then return finish('counted', 'closed', 'open') end
end
return finish('counted')
