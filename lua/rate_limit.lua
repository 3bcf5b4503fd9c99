-- rate_limit.lua: one GCRA decision for one client of one rate limiter, shared by every replica.
-- A standalone script (lib.lua is not prepended): it touches one key and no breaker state.
--
-- KEYS:    1  the client's key, e.g. rate-limit:{api:10.0.0.1}: a string "tat_ms:sub", the
--             theoretical arrival time (TAT) as whole ms plus sub / count ms
-- ARGV:    1  now in ms, or "" to use the server's TIME
--          2  count: cells per period (the rate is count / period)
--          3  period in ms
--          4  burst: cells that may be admitted at once (the bucket's capacity)
-- Returns: {allowed (0|1), remaining, retry_after_ms, reset_after_ms}
--          remaining: admissions still possible right now; retry_after_ms: 0 when admitted,
--          else the wait until one more would be; reset_after_ms: the wait until the bucket
--          is full again (and the key has expired).
--
-- Time is counted in units of 1/count ms, so that the emission interval T = period / count ms is
-- exactly `period` units and every sum is an exact integer (no drift, no rounding). Only the
-- TAT's distance ahead of now is ever computed in units; it never exceeds burst * period, which
-- resilience keeps below 2^53.
--
-- A rejection writes nothing. An admission moves the TAT one interval on and sets the key to
-- expire when the TAT passes: from then on an absent key and the stored one mean the same thing.

local NOW = tonumber(ARGV[1])
if NOW == nil then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local KEY = KEYS[1]
local COUNT, PERIOD, BURST = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local T = PERIOD              -- the emission interval, in units
local CAP = BURST * PERIOD    -- tau + T: the furthest ahead of now a TAT can be

local function ceil_ms(units)
  return math.ceil(units / COUNT)
end

-- How far the stored TAT is ahead of NOW, in units. A missing, passed, foreign or corrupted
-- value reads as 0 (a full bucket); one too far ahead (a smaller quota than when written) is
-- capped, so a client can never be locked out for longer than one burst window.
local function ahead()
  local raw = redis.pcall('GET', KEY)
  if type(raw) ~= 'string' then return 0 end
  local ms, sub = string.match(raw, '^(%d+):(%d+)$')
  ms, sub = tonumber(ms), tonumber(sub)
  if ms == nil or ms < NOW then return 0 end
  return math.min((ms - NOW) * COUNT + math.min(sub, COUNT - 1), CAP)
end

local d = ahead()
if d + T > CAP then
  -- Rejected: the TAT is more than tau ahead. Admitted again once it is exactly tau ahead.
  return { 0, 0, ceil_ms(d + T - CAP), ceil_ms(d) }
end

d = d + T
local tat_ms = NOW + math.floor(d / COUNT)
redis.call('SET', KEY, string.format('%d:%d', tat_ms, d % COUNT), 'PX', ceil_ms(d))
return { 1, math.floor((CAP - d) / T), 0, ceil_ms(d) }
