-- acquire.lua: asks for permission to make one protected call.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..15 as in lib.lua; 16 = permit id (unique per call, used as the lease's member)
-- Returns: {verdict, state, forced, generation, retry_after_ms, from, to, repaired, now_ms,
--          settings_missing, requests, failures} (the window's counts, see lib.lua)
--          verdict "admitted" or "rejected"; retry_after_ms is -1 for an admission and for a
--          forced-open circuit (no deadline). A call in the open state after its timeout moves
--          the circuit to half-open (from/to say so) and then asks for a trial permit. now_ms
--          is the admission's time: record.lua takes it back to count the outcome in the
--          window the call was admitted in.
--
-- Closed: admitted, nothing written (but the TTL is renewed, see lib.lua). Half-open:
-- admitted only while fewer than max_requests unexpired leases exist fleet-wide; each
-- admission adds a lease that expires on its own, so a caller that crashes or is cancelled
-- cannot wedge the circuit.
--
-- retry_after_ms: open, the time left until the open timeout ends. Half-open with every
-- trial permit taken: a hint, not a deadline: a tenth of the lease, at most the open timeout,
-- and no later than the first lease expires (at least 1 ms). A lease is sized for the slowest
-- trial call, so waiting for it would make a client wait ten times longer than most trial
-- calls take; by then the circuit is closed again, or open with a deadline of its own.

local b, dirty = load()
local permit = ARGV[16]

local function finish(verdict, retry_after, from, to)
  commit(b, dirty)
  return reply(verdict, b, retry_after, from, to)
end

if b.forced == 'open' then return finish('rejected', -1) end
if b.forced ~= 'none' or b.state == 'closed' then return finish('admitted', -1) end

local from, to
if b.state == 'open' then
  if NOW < b.open_until then return finish('rejected', b.open_until - NOW) end
  from = transition(b, 'half-open', 'open timeout elapsed')
  to = 'half-open'
  dirty = true
end

-- Expired leases go, and so do leases ending later than a lease can (a corrupted score, or
-- a longer lease configured elsewhere), which would otherwise hold a slot for good.
on_leases('ZREMRANGEBYSCORE', '-inf', NOW)
on_leases('ZREMRANGEBYSCORE', '(' .. (NOW + C.lease_ms), '+inf')
if on_leases('ZCARD') >= C.max_requests then
  local first = tonumber(on_leases('ZRANGE', 0, 0, 'WITHSCORES')[2])
  local hint = math.min(math.floor(C.lease_ms / 10), C.open_ms, first - NOW)
  return finish('rejected', math.max(1, hint), from, to)
end
on_leases('ZADD', NOW + C.lease_ms, permit)
redis.call('PEXPIRE', K_LEASES, C.ttl_ms)
return finish('admitted', -1, from, to)
