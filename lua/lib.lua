-- lib.lua: the prelude shared by every breaker script. breaker-redis prepends it to each
-- operation file (acquire.lua, record.lua, force.lua, snapshot.lua) when it builds the script,
-- so every operation runs as one atomic script. It is not a script by itself.
--
-- KEYS (the same for every operation; one hash tag, so one Redis Cluster slot):
--   KEYS[1]  state hash    e.g. breaker:{service-b}         fields listed in FIELDS below
--   KEYS[2]  lease zset    e.g. breaker:{service-b}:leases  member = permit id, score = lease expiry (ms)
--   KEYS[3]  window hash   e.g. breaker:{service-b}:window  rolling buckets, field = slot, value = "bucket:requests:failures"
--   KEYS[4]  history       e.g. breaker:{service-b}:history stream of transitions, capped near
--            HISTORY_LEN entries; fields breaker, from, to, forced, generation, reason, origin,
--            at_ms, instance (see announce() below)
--
-- ARGV 1..15 (the same for every operation; operation arguments start at 16):
--   1 now in ms, or "" to use the server's TIME     9  half-open successes needed to close
--   2 trip policy: 1 consecutive failures,         10 open timeout (ms)
--     2 failure ratio >=, 3 failure ratio >,       11 half-open lease (ms)
--     4 failure count in the window                12 key TTL (ms)
--   3 trip threshold (failures, or ratio in ppm)   13 "<instance> <origin>": the calling breaker
--                                                     instance's random id (no spaces), a space,
--                                                     then the configured replica id (display)
--   4 minimum requests (ratio policies)            14 pub/sub channel for transitions
--   5 window: 1 fixed interval, 2 rolling          15 breaker name
--   6 window length (ms)
--   7 rolling buckets
--   8 half-open permits (max_requests)
--
-- Every reply but snapshot's is:
--   {verdict, state, forced, generation, retry_after_ms (-1: none), from, to, repaired (0|1)}
-- where from/to are "" unless this call made a transition.

local NOW = tonumber(ARGV[1])
if NOW == nil then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local C = {
  trip_kind = tonumber(ARGV[2]), trip_n = tonumber(ARGV[3]), min_requests = tonumber(ARGV[4]),
  window_kind = tonumber(ARGV[5]), window_ms = tonumber(ARGV[6]), buckets = tonumber(ARGV[7]),
  max_requests = tonumber(ARGV[8]), success_threshold = tonumber(ARGV[9]),
  open_ms = tonumber(ARGV[10]), lease_ms = tonumber(ARGV[11]), ttl_ms = tonumber(ARGV[12]),
  origin = ARGV[13], channel = ARGV[14], name = ARGV[15],
}
local K_STATE, K_LEASES, K_WINDOW, K_HISTORY = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local FIELDS = { 'state', 'forced', 'generation', 'open_until', 'window_start', 'requests',
  'failures', 'consecutive_failures', 'half_open_successes' }
local STATES = { closed = true, open = true, ['half-open'] = true }
local FORCED = { none = true, open = true, closed = true, disabled = true }

-- A non-negative integer, or nil for anything else (foreign or corrupted values).
local function count(v)
  local n = tonumber(v)
  if n == nil or n < 0 or n ~= math.floor(n) then return nil end
  return n
end

-- Set when this call found a foreign or corrupted value and reset it; every reply reports it.
local REPAIRED = false

-- The fields as they were read, so that save() writes only what changed.
local STORED = {}

-- Runs a command on a key that may hold a foreign type: a WRONGTYPE error (someone else's
-- value at our key) deletes the key and runs the command again on the now empty key. Costs
-- nothing extra on the normal path, unlike checking TYPE first.
local function on_key(key, cmd, ...)
  local r = redis.pcall(cmd, key, ...)
  if type(r) == 'table' and r.err then
    redis.call('DEL', key)
    REPAIRED = true
    r = redis.call(cmd, key, ...)
  end
  return r
end

local function on_leases(cmd, ...) return on_key(K_LEASES, cmd, ...) end
local function on_window(cmd, ...) return on_key(K_WINDOW, cmd, ...) end

local function fresh(generation)
  return { state = 'closed', forced = 'none', generation = generation, open_until = 0,
    window_start = 0, requests = 0, failures = 0, consecutive_failures = 0, half_open_successes = 0 }
end

local function consistent(b)
  if b.forced == 'open' then return b.state == 'open' end
  if b.forced ~= 'none' then return b.state == 'closed' end
  return true
end

-- Returns the breaker and whether it must be written back (it was missing fields or had to be
-- repaired; a breaker that was never written is a fresh closed one and needs no write).
local function load()
  local raw = on_key(K_STATE, 'HMGET', unpack(FIELDS))
  local b, present, bad = {}, false, false
  for i, f in ipairs(FIELDS) do
    local v = raw[i]
    if v then present = true end
    if f == 'state' then
      if STATES[v] then b[f] = v else bad = true end
    elseif f == 'forced' then
      if FORCED[v] then b[f] = v else bad = true end
    else
      b[f] = count(v)
      if b[f] == nil then bad = true end
    end
  end
  if not present then return fresh(0), REPAIRED end
  if not bad and consistent(b) then
    for _, f in ipairs(FIELDS) do STORED[f] = b[f] end
  else
    redis.log(redis.LOG_WARNING, 'breaker ' .. C.name .. ': invalid state in ' .. K_STATE .. ', reset to closed')
    redis.call('DEL', K_LEASES, K_WINDOW)
    REPAIRED = true
    return fresh((b.generation or 0) + 1), true
  end
  return b, REPAIRED
end

-- Writes the fields that changed since load() (all of them for a new or repaired breaker).
local function save(b)
  local args = { 'updated_at', NOW }
  for _, f in ipairs(FIELDS) do
    if b[f] ~= STORED[f] then
      args[#args + 1] = f
      args[#args + 1] = b[f]
    end
  end
  redis.call('HSET', K_STATE, unpack(args))
  redis.call('PEXPIRE', K_STATE, C.ttl_ms)
end

-- Entries the history stream keeps (approximately: trimming frees whole stream nodes).
local HISTORY_LEN = 1000

-- Appends a transition to the history stream and publishes it with its stream id, so that a
-- replica whose subscription dropped can read what it missed and tell it from what it heard.
-- The stream's TTL is the state's: it holds nothing a fresh breaker needs.
local function announce(e)
  local instance, origin = string.match(C.origin, '^(%S+) (.*)$')
  e.instance, e.origin = instance or '', origin or C.origin
  local id = on_key(K_HISTORY, 'XADD', 'MAXLEN', '~', HISTORY_LEN, '*',
    'breaker', e.breaker, 'from', e.from, 'to', e.to, 'forced', e.forced,
    'generation', e.generation, 'reason', e.reason, 'origin', e.origin, 'at_ms', e.at_ms,
    'instance', e.instance)
  redis.call('PEXPIRE', K_HISTORY, C.ttl_ms)
  e.id = id
  redis.call('PUBLISH', C.channel, cjson.encode(e))
end

-- Moves the breaker to a new state under a new generation, clears every count and lease,
-- and announces the transition. Returns the state it left.
local function transition(b, to, reason)
  local from = b.state
  b.generation = b.generation + 1
  b.state = to
  b.requests, b.failures, b.consecutive_failures, b.half_open_successes = 0, 0, 0, 0
  b.window_start = NOW
  b.open_until = 0
  if to == 'open' and b.forced == 'none' then b.open_until = NOW + C.open_ms end
  redis.call('DEL', K_LEASES, K_WINDOW)
  announce({ breaker = C.name, from = from, to = to, forced = b.forced,
    generation = b.generation, reason = reason, at_ms = NOW })
  return from
end

local function reply(verdict, b, retry_after, from, to)
  return { verdict, b.state, b.forced, b.generation, retry_after or -1, from or '', to or '',
    REPAIRED and 1 or 0 }
end

-- A fixed window's counts (consecutive failures too, as gobreaker does) restart every interval.
local function fixed_window_expired(b)
  return C.window_kind == 1 and NOW >= b.window_start + C.window_ms
end

-- Sums the rolling window's live buckets. Returns requests, failures, and the current
-- bucket's id, slot and counts so that a caller can add to it.
local function rolling_window()
  local bucket_ms = C.window_ms / C.buckets
  local bid = math.floor(NOW / bucket_ms)
  local slot = tostring(bid % C.buckets)
  local all = on_window('HGETALL')
  local req, fail, cur_r, cur_f = 0, 0, 0, 0
  for i = 1, #all, 2 do
    local id, r, f = string.match(all[i + 1], '^(%d+):(%d+):(%d+)$')
    id, r, f = tonumber(id), tonumber(r), tonumber(f)
    if id and id > bid - C.buckets and id <= bid then
      req, fail = req + r, fail + f
      if all[i] == slot and id == bid then cur_r, cur_f = r, f end
    end
  end
  return req, fail, bid, slot, cur_r, cur_f
end

local function should_trip(b, req, fail)
  local k = C.trip_kind
  if k == 1 then return b.consecutive_failures >= C.trip_n end
  if k == 4 then return fail >= C.trip_n end
  if req == 0 or req < C.min_requests then return false end
  if k == 2 then return fail * 1000000 >= C.trip_n * req end
  return fail * 1000000 > C.trip_n * req
end

-- Counts one outcome of a closed, unforced circuit in its window and opens the circuit when
-- the trip policy says so (checked on failures only, as gobreaker does). Returns true when it
-- opened the circuit.
local function count_closed(b, failed)
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
    on_window('HSET', slot, bid .. ':' .. (cur_r + 1) .. ':' .. cur_f)
    redis.call('PEXPIRE', K_WINDOW, C.ttl_ms)
    b.requests, b.failures = req, fail
  end
  if not failed then
    b.consecutive_failures = 0
    return false
  end
  b.consecutive_failures = b.consecutive_failures + 1
  if should_trip(b, req, fail) then
    transition(b, 'open', 'failure threshold reached')
    return true
  end
  return false
end
