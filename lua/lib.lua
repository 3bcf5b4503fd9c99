-- lib.lua: the prelude shared by every breaker script. breaker-redis builds the scripts from
-- it and the operation files (acquire.lua, record.lua, exchange.lua, record_batch.lua,
-- force.lua, snapshot.lua, settings.lua) in two forms, each operation one atomic call:
--   - a Redis Functions library (FUNCTION LOAD, FCALL; Redis 7 and later): this prelude runs
--     once per load, and each operation file becomes the body of one function;
--   - one script per operation, this prelude followed by the operation file (EVALSHA), where
--     functions are unavailable (Redis before 7, or a user without FUNCTION and FCALL).
-- Either way every call starts with begin(KEYS, ARGV) and then runs the operation file, so the
-- two forms behave alike. It is not a script by itself.
--
-- KEYS (the same for every operation; one hash tag, so one Redis Cluster slot):
--   KEYS[1]  state hash    e.g. breaker:{service-b}         fields listed in FIELDS below
--   KEYS[2]  lease zset    e.g. breaker:{service-b}:leases  member = permit id, score = lease expiry (ms)
--   KEYS[3]  window hash   e.g. breaker:{service-b}:window  rolling buckets, field = slot, value = "bucket:requests:failures"
--   KEYS[4]  history       e.g. breaker:{service-b}:history stream of transitions, capped near
--            HISTORY_LEN entries; fields breaker, from, to, forced, generation, reason, origin,
--            at_ms, instance (see announce() below)
--   KEYS[5]  settings      e.g. breaker:{service-b}:settings  the configuration of the replica
--            that wrote it last (settings.lua): the serde form's fields as plain values
--            (trip failure_ratio, interval 5s, max_requests 3...), plus replica, instance,
--            written_at_ms (server time) and script_args (ARGV[2] below, the static settings as
--            the scripts take them). The scripts never read it; they keep it
--            alive with the state (see "Lifetimes") and report when it is missing, so that
--            the breaker writes it again.
--
-- ARGV 1..5 (the same for every operation; operation arguments start at 6):
--   1 now in ms, or "" to use the server's TIME
--   2 the static settings, 11 integers separated by spaces (also the settings hash's
--     script_args field): trip policy (1 consecutive failures, 2 failure ratio >=, 3 failure
--     ratio >, 4 failure count in the window), trip threshold (failures, or ratio in ppm),
--     minimum requests (ratio policies), window (1 fixed interval, 2 rolling), window length
--     (ms), rolling buckets, half-open permits (max_requests), half-open successes needed to
--     close, open timeout (ms), half-open lease (ms), key TTL (ms). A function library parses
--     each such string once (see config()).
--   3 "<instance> <origin>": the calling breaker instance's random id (no spaces), a space,
--     then the configured replica id (display)
--   4 pub/sub channel for transitions
--   5 breaker name
--
-- Every reply but snapshot's and settings.lua's is:
--   {verdict, state, forced, generation, retry_after_ms (-1: none), from, to, repaired (0|1),
--    now_ms, settings_missing (0|1), requests, failures}
-- where from/to are "" unless this call made a transition, now_ms is the time the script ran
-- at (an admission's time, which record.lua takes back), settings_missing is 1 when this
-- call found no settings hash to keep alive (the breaker then writes it, see settings.lua), and
-- requests/failures are the window's counts as stored after the call: current in a reply that
-- counted an outcome or made a transition (which starts a new window at 0), possibly out of
-- date in any other.
--
-- Generations only grow. A breaker without a state hash (new, expired, flushed) starts at the
-- current time in ms, and a repaired one at max(now, stored generation + 1); every transition
-- adds 1. So replicas that saw generation g never see a smaller one for a later state, unless
-- more than one transition per ms was made before the keys were lost.
--
-- Lifetimes. An unforced breaker's keys expire after key_ttl without calls. The state hash and
-- the settings hash get key_ttl together (PEXPIRE; none while forced) when the state is
-- created, when an override starts or ends, and once half of key_ttl has passed since their
-- last renewal (the state's settings_at field says when, read with the state); a call that
-- writes nothing also renews them once half of key_ttl has passed since updated_at, the last
-- write. So an active breaker's keys always have at least key_ttl / 2 left, for one command
-- per key_ttl / 2 rather than one per call. A forced state hash has no TTL at all: an override
-- lasts until it is reset. Leases and window buckets live shorter than the TTL.
--
-- Numbers. Lua 5.1 prints numbers with %.14g (tostring, concatenation, cjson, HSET), so every
-- stored or published number stays below LIMIT = 1e14, where that is exact (and far below
-- 2^53). Times are ms since the epoch (about 1.8e12). A stored value that is not such an
-- integer, or makes no sense (failures above requests, a window starting further ahead than
-- its length), is repaired like a foreign value: the breaker restarts closed. An open deadline
-- further ahead than the open timeout is only brought back to it (bound_deadline).

local LIMIT = 1e14

-- A non-negative integer below LIMIT, or nil for anything else (foreign or corrupted values).
local function count(v)
  local n = tonumber(v)
  if n == nil or n < 0 or n >= LIMIT or n ~= math.floor(n) then return nil end
  return n
end

-- The call's context, set by begin() at the start of every call: a function library keeps
-- these between calls (it is loaded once), so begin() resets every one of them.
local NOW, C, ORIGIN, CHANNEL, NAME
local K_STATE, K_LEASES, K_WINDOW, K_HISTORY, K_SETTINGS

-- The static settings as parsed from ARGV[2], by that string: a function library parses each
-- configuration once, not once per call (a script run with EVALSHA starts empty every time).
-- Bounded: emptied when it holds CONFIGS_MAX of them.
local CONFIGS, CONFIGS_N, CONFIGS_MAX = {}, 0, 256
local CONFIG_NAMES = { 'trip_kind', 'trip_n', 'min_requests', 'window_kind', 'window_ms',
  'buckets', 'max_requests', 'success_threshold', 'open_ms', 'lease_ms', 'ttl_ms' }

-- The static settings of ARGV[2], or nil when it is not 11 non-negative integers.
local function parse_config(text)
  local c, i = {}, 0
  for word in string.gmatch(text, '%S+') do
    i = i + 1
    local name = CONFIG_NAMES[i]
    local n = count(word)
    if name == nil or n == nil then return nil end
    c[name] = n
  end
  if i ~= #CONFIG_NAMES or c.window_ms == 0 or c.buckets == 0 then return nil end
  return c
end

local function config(text)
  local c = CONFIGS[text]
  if c then return c end
  c = parse_config(text)
  if c == nil then return nil end
  if CONFIGS_N >= CONFIGS_MAX then CONFIGS, CONFIGS_N = {}, 0 end
  CONFIGS[text], CONFIGS_N = c, CONFIGS_N + 1
  return c
end

local FIELDS = { 'state', 'forced', 'generation', 'open_until', 'window_start', 'requests',
  'failures', 'consecutive_failures', 'half_open_successes' }
local STATES = { closed = true, open = true, ['half-open'] = true }
local FORCED = { none = true, open = true, closed = true, disabled = true }

-- Set when this call found a foreign or corrupted value and reset it; every reply reports it.
local REPAIRED = false

-- Set when the state hash did not exist: leftover leases and buckets (keys that outlived it)
-- are ignored, and deleted when the new breaker is saved.
local CREATED = false

-- The fields as they were read, so that save() writes only what changed.
local STORED = {}

-- When the state hash was last written (its updated_at; 0 if unreadable): keep_alive() renews
-- the TTL from it, without asking Redis for the TTL on every call.
local UPDATED = 0

-- When the settings hash's lifetime was last renewed (the state's settings_at; 0 if unreadable).
local SETTINGS_AT = 0

-- Set when this call looked for the settings hash and found none; the reply says so.
local SETTINGS_MISSING = false

-- The rolling window as read once by this script (see window()); nil until then, and again
-- after a transition deleted it.
local WINDOW = nil

-- Set when an admission of this call found every trial permit taken: the retry hint, so that
-- the admissions after it in the same call are rejected without asking the lease set again
-- (nothing an admission does frees a permit). Cleared by every transition.
local FULL = nil

-- Sets up one call from its KEYS and ARGV (the same for every operation, see the top of this
-- file). Returns an error reply for arguments no breaker sends, nil otherwise.
local function begin(keys, argv)
  if argv[1] == '' then
    local t = redis.call('TIME')
    NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  else
    NOW = count(argv[1])
    if NOW == nil then return redis.error_reply('ERR breaker: invalid now ' .. tostring(argv[1])) end
  end
  C = config(argv[2] or '')
  if C == nil then
    return redis.error_reply('ERR breaker: invalid settings ' .. tostring(argv[2]))
  end
  ORIGIN, CHANNEL, NAME = argv[3], argv[4], argv[5]
  K_STATE, K_LEASES, K_WINDOW, K_HISTORY, K_SETTINGS = keys[1], keys[2], keys[3], keys[4], keys[5]
  REPAIRED, CREATED, STORED, UPDATED, SETTINGS_AT, SETTINGS_MISSING, WINDOW, FULL =
    false, false, {}, 0, 0, false, nil, nil
  return nil
end

-- The error for a command the Redis user may not run: NOPERM, naming the command and its key
-- or channel, so that the client can say which ACL rule is missing (a refusal inside a script
-- does not name the command on every Redis version).
local function refused(cmd, target)
  return { err = 'NOPERM the Redis user may not run ' .. cmd .. ' on ' .. target }
end

-- Whether an error reply is an ACL refusal (the wording differs between Redis versions).
local function is_refusal(err)
  return string.find(err, 'NOPERM', 1, true) ~= nil or string.find(err, "can't", 1, true) ~= nil
end

-- Runs a command on a key that may hold a foreign type: a WRONGTYPE error (someone else's
-- value at our key) deletes the key and runs the command again on the now empty key. Costs
-- nothing extra on the normal path, unlike checking TYPE first. Any other error (a refused
-- command, out of memory) is raised as it is, and deletes nothing.
local function on_key(key, cmd, ...)
  local r = redis.pcall(cmd, key, ...)
  if type(r) == 'table' and r.err then
    if is_refusal(r.err) then error(refused(cmd, key)) end
    if not string.find(r.err, 'WRONGTYPE', 1, true) then error(r) end
    redis.call('DEL', key)
    REPAIRED = true
    r = redis.call(cmd, key, ...)
  end
  return r
end

local function on_leases(cmd, ...) return on_key(K_LEASES, cmd, ...) end
local function on_window(cmd, ...) return on_key(K_WINDOW, cmd, ...) end

-- A closed breaker whose fixed window starts now.
local function fresh(generation)
  return { state = 'closed', forced = 'none', generation = generation, open_until = 0,
    window_start = NOW, requests = 0, failures = 0, consecutive_failures = 0,
    half_open_successes = 0 }
end

-- Whether the parsed fields (nil where unparsable) make a breaker these scripts could have
-- written, given the configuration.
local function sane(b)
  if not (b.state and b.forced and b.generation and b.open_until and b.window_start
      and b.requests and b.failures and b.consecutive_failures and b.half_open_successes) then
    return false
  end
  if b.forced == 'open' and b.state ~= 'open' then return false end
  if b.forced ~= 'none' and b.forced ~= 'open' and b.state ~= 'closed' then return false end
  return b.failures <= b.requests and b.window_start <= NOW + C.window_ms
end

-- An open deadline further ahead than the open timeout (a clock stepped back, a longer
-- timeout configured elsewhere, a hand-written value) is brought back to the timeout rather
-- than reset: the circuit stays open, for no longer than this configuration allows. Returns
-- true when it changed the deadline.
local function bound_deadline(b)
  if b.open_until == nil or b.open_until <= NOW + C.open_ms then return false end
  b.open_until = NOW + C.open_ms
  REPAIRED = true
  return true
end

-- Returns the breaker and whether it must be written back (it is new, or was missing fields
-- or had to be repaired).
local function load()
  -- Written out field by field rather than looped over FIELDS: this runs on every call.
  local r = on_key(K_STATE, 'HMGET', 'updated_at', 'settings_at', unpack(FIELDS))
  UPDATED = count(r[1]) or 0
  SETTINGS_AT = count(r[2]) or 0
  local present = r[3] or r[4] or r[5] or r[6] or r[7] or r[8] or r[9] or r[10] or r[11]
  local st, fo = r[3], r[4]
  local b = { state = STATES[st] and st or nil, forced = FORCED[fo] and fo or nil,
    generation = count(r[5]), open_until = count(r[6]), window_start = count(r[7]),
    requests = count(r[8]), failures = count(r[9]), consecutive_failures = count(r[10]),
    half_open_successes = count(r[11]) }
  if not present then
    CREATED = true
    return fresh(NOW), true
  end
  if sane(b) then
    STORED = { state = b.state, forced = b.forced, generation = b.generation,
      open_until = b.open_until, window_start = b.window_start, requests = b.requests,
      failures = b.failures, consecutive_failures = b.consecutive_failures,
      half_open_successes = b.half_open_successes }
    return b, bound_deadline(b) or REPAIRED
  end
  redis.log(redis.LOG_WARNING, 'breaker ' .. NAME .. ': invalid state in ' .. K_STATE .. ', reset to closed')
  redis.call('DEL', K_LEASES, K_WINDOW)
  REPAIRED = true
  local generation = NOW
  if b.generation and b.generation + 1 < LIMIT and b.generation + 1 > NOW then
    generation = b.generation + 1
  end
  return fresh(generation), true
end

-- Writes the window buckets this script changed, each once.
local function save_window()
  if WINDOW == nil then return end
  local args = {}
  for slot in pairs(WINDOW.touched) do
    local bk = WINDOW.live[slot]
    args[#args + 1] = slot
    args[#args + 1] = bk.id .. ':' .. bk.r .. ':' .. bk.f
  end
  if #args == 0 then return end
  on_window('HSET', unpack(args))
  redis.call('PEXPIRE', K_WINDOW, C.ttl_ms)
end

-- Whether the settings hash's lifetime must follow the state's now (see "Lifetimes").
local function settings_due(b)
  return CREATED or STORED.forced ~= b.forced or NOW - SETTINGS_AT >= C.ttl_ms / 2
    or SETTINGS_AT > NOW
end

-- Gives the settings hash the state's lifetime: key_ttl, or none while forced. Returns false
-- (and the reply reports it) when there is no settings hash.
local function renew_settings(b)
  local present
  if b.forced == 'none' then
    present = redis.call('PEXPIRE', K_SETTINGS, C.ttl_ms) == 1
  else
    present = redis.call('EXISTS', K_SETTINGS) == 1
    if present then redis.call('PERSIST', K_SETTINGS) end
  end
  SETTINGS_MISSING = not present
  return present
end

-- The state hash's settings_at field and value, when the settings hash was renewed now.
local function settings_args(b, args)
  if settings_due(b) and renew_settings(b) then
    args[#args + 1] = 'settings_at'
    args[#args + 1] = NOW
  end
  return args
end

-- Writes the fields that changed since load() (all of them for a new or repaired breaker)
-- and sets the state hash's lifetime (none while forced, key_ttl otherwise) when it is new,
-- an override started or ended, or half of key_ttl has passed since the last renewal (the
-- settings hash's, made at the same time): not on every write, which would cost a command
-- per counted outcome.
local function save(b)
  if CREATED then redis.call('DEL', K_LEASES, K_WINDOW) end
  local due = settings_due(b)
  local args = settings_args(b, { 'updated_at', NOW })
  for _, f in ipairs(FIELDS) do
    if b[f] ~= STORED[f] then
      args[#args + 1] = f
      args[#args + 1] = b[f]
    end
  end
  redis.call('HSET', K_STATE, unpack(args))
  if due and b.forced == 'none' then
    redis.call('PEXPIRE', K_STATE, C.ttl_ms)
  elseif due then
    redis.call('PERSIST', K_STATE)
  end
  save_window()
end

-- For a call that changed nothing: renews an unforced breaker's TTL (and its updated_at) once
-- half of it has passed since the last write, and removes any TTL from a forced one (a
-- forced state written by an older script, or by hand, may still carry one).
local function keep_alive(b)
  local args = {}
  if b.forced ~= 'none' then
    if redis.call('PTTL', K_STATE) >= 0 then redis.call('PERSIST', K_STATE) end
  elseif NOW - UPDATED >= C.ttl_ms / 2 or settings_due(b) then
    args = { 'updated_at', NOW }
    redis.call('PEXPIRE', K_STATE, C.ttl_ms)
  end
  settings_args(b, args)
  if #args > 0 then redis.call('HSET', K_STATE, unpack(args)) end
end

-- Ends every call: writes what changed, or keeps the keys alive.
local function commit(b, dirty)
  if dirty then save(b) else keep_alive(b) end
end

-- Entries the history stream keeps (approximately: trimming frees whole stream nodes).
local HISTORY_LEN = 1000

-- Appends a transition to the history stream and publishes it with its stream id, so that a
-- replica whose subscription dropped can read what it missed and tell it from what it heard.
-- The stream's TTL is the state's: it holds nothing a fresh breaker needs.
local function announce(e)
  local instance, origin = string.match(ORIGIN, '^(%S+) (.*)$')
  e.instance, e.origin = instance or '', origin or ORIGIN
  local id = on_key(K_HISTORY, 'XADD', 'MAXLEN', '~', HISTORY_LEN, '*',
    'breaker', e.breaker, 'from', e.from, 'to', e.to, 'forced', e.forced,
    'generation', e.generation, 'reason', e.reason, 'origin', e.origin, 'at_ms', e.at_ms,
    'instance', e.instance)
  redis.call('PEXPIRE', K_HISTORY, C.ttl_ms)
  e.id = id
  redis.call('PUBLISH', CHANNEL, cjson.encode(e))
end

-- Every write a transition makes, checked before the first of them: Redis does not undo the
-- writes of a script that fails half-way, and a transition cut short by a missing permission
-- (PUBLISH, say) would clear the counts and record a transition that never happened, on every
-- call that should trip. Runs only on transitions; Redis before 7.0 has no check to ask.
local function check_transition_rights()
  if not redis.acl_check_cmd then return end
  local writes = { { 'DEL', K_LEASES }, { 'DEL', K_WINDOW }, { 'XADD', K_HISTORY, '*', 'f', 'v' },
    { 'PEXPIRE', K_HISTORY, '1' }, { 'PUBLISH', CHANNEL, 'm' }, { 'HSET', K_STATE, 'f', 'v' },
    { 'PEXPIRE', K_STATE, '1' }, { 'PERSIST', K_STATE } }
  for _, w in ipairs(writes) do
    if not redis.acl_check_cmd(unpack(w)) then error(refused(w[1], w[2])) end
  end
end

-- Moves the breaker to a new state under a new generation, clears every count and lease,
-- and announces the transition. Returns the state it left.
local function transition(b, to, reason)
  check_transition_rights()
  local from = b.state
  b.generation = b.generation + 1
  b.state = to
  b.requests, b.failures, b.consecutive_failures, b.half_open_successes = 0, 0, 0, 0
  b.window_start = NOW
  b.open_until = 0
  if to == 'open' and b.forced == 'none' then b.open_until = NOW + C.open_ms end
  redis.call('DEL', K_LEASES, K_WINDOW)
  WINDOW, FULL = nil, nil
  announce({ breaker = NAME, from = from, to = to, forced = b.forced,
    generation = b.generation, reason = reason, at_ms = NOW })
  return from
end

local function reply(verdict, b, retry_after, from, to)
  return { verdict, b.state, b.forced, b.generation, retry_after or -1, from or '', to or '',
    REPAIRED and 1 or 0, NOW, SETTINGS_MISSING and 1 or 0, b.requests, b.failures }
end

-- A fixed window's counts (consecutive failures too, as gobreaker does) restart every interval.
local function fixed_window_expired(b)
  return C.window_kind == 1 and NOW >= b.window_start + C.window_ms
end

-- The rolling window's buckets still inside the window, read once per script however many
-- outcomes it counts: live[slot] = {id, r, f}, their sums, and the slots changed since.
-- Buckets that do not parse, count more failures than requests or sit in the wrong slot are
-- left out (and overwritten when their slot is next used).
local function window()
  if WINDOW then return WINDOW end
  local bid = math.floor(NOW / (C.window_ms / C.buckets))
  local w = { bid = bid, live = {}, requests = 0, failures = 0, touched = {} }
  local all = {}
  if not CREATED then all = on_window('HGETALL') end
  for i = 1, #all, 2 do
    local id, r, f = string.match(all[i + 1], '^(%d+):(%d+):(%d+)$')
    id, r, f = count(id), count(r), count(f)
    if id and r and f and f <= r and id > bid - C.buckets and id <= bid
        and all[i] == tostring(id % C.buckets) then
      w.live[all[i]] = { id = id, r = r, f = f }
      w.requests, w.failures = w.requests + r, w.failures + f
    end
  end
  WINDOW = w
  return w
end

-- Adds an outcome of a call admitted at `at` to the bucket of that time; false when that
-- bucket has left the window (the outcome is dropped).
local function window_add(at, failed)
  local w = window()
  local id = math.floor(at / (C.window_ms / C.buckets))
  if id <= w.bid - C.buckets then return false end
  local slot = tostring(id % C.buckets)
  local bk = w.live[slot]
  if bk == nil then
    bk = { id = id, r = 0, f = 0 }
    w.live[slot] = bk
  end
  bk.r, w.requests = bk.r + 1, w.requests + 1
  if failed then bk.f, w.failures = bk.f + 1, w.failures + 1 end
  w.touched[slot] = true
  return true
end

local function should_trip(b, req, fail)
  local k = C.trip_kind
  if k == 1 then return b.consecutive_failures >= C.trip_n end
  if k == 4 then return fail >= C.trip_n end
  if req == 0 or req < C.min_requests then return false end
  if k == 2 then return fail * 1000000 >= C.trip_n * req end
  return fail * 1000000 > C.trip_n * req
end

-- Adds an outcome of a call admitted at `at` to the window it was admitted in. A fixed
-- window moves on in whole intervals from its start (so where a window begins never depends
-- on which outcome arrives first), and an outcome whose window has ended is dropped: the
-- order in which outcomes are recorded cannot shift them between windows. Returns false for a
-- dropped outcome.
local function window_count(b, at, failed)
  if C.window_kind ~= 1 then
    if not window_add(at, failed) then return false end
    b.requests, b.failures = WINDOW.requests, WINDOW.failures
    return true
  end
  if fixed_window_expired(b) then
    local passed = math.floor((NOW - b.window_start) / C.window_ms)
    b.window_start = b.window_start + passed * C.window_ms
    b.requests, b.failures, b.consecutive_failures = 0, 0, 0
  end
  if at < b.window_start then return false end
  b.requests = b.requests + 1
  if failed then b.failures = b.failures + 1 end
  return true
end

-- Counts one outcome of a closed, unforced circuit, admitted at `at` (at most NOW), and opens
-- the circuit when the trip policy says so (checked on failures only, as gobreaker does).
-- Returns whether it was counted (not dropped), and whether it opened the circuit.
local function count_closed(b, at, failed)
  if at > NOW then at = NOW end
  if not window_count(b, at, failed) then return false, false end
  if not failed then
    b.consecutive_failures = 0
    return true, false
  end
  b.consecutive_failures = b.consecutive_failures + 1
  if should_trip(b, b.requests, b.failures) then
    transition(b, 'open', 'failure threshold reached')
    return true, true
  end
  return true, false
end

-- Decides one admission (acquire.lua, exchange.lua). Returns the verdict, retry_after_ms (-1:
-- none), the transition it made (from, to; nil for none) and whether it changed the breaker.
--
-- Closed: admitted, nothing written. Half-open: admitted only while fewer than max_requests
-- unexpired leases exist fleet-wide; each admission adds a lease that expires on its own, so
-- a caller that crashes or is cancelled cannot wedge the circuit. Open: rejected until the
-- open timeout ends, and then moved to half-open before it asks for a trial permit.
--
-- retry_after_ms: open, the time left until the open timeout ends. Half-open with every
-- trial permit taken: a hint, not a deadline: a tenth of the lease, at most the open timeout,
-- and no later than the first lease expires (at least 1 ms). A lease is sized for the slowest
-- trial call, so waiting for it would make a client wait ten times longer than most trial
-- calls take; by then the circuit is closed again, or open with a deadline of its own.
local function admit(b, permit)
  if b.forced == 'open' then return 'rejected', -1 end
  if b.forced ~= 'none' or b.state == 'closed' then return 'admitted', -1 end
  local from, to, changed
  if b.state == 'open' then
    if NOW < b.open_until then return 'rejected', b.open_until - NOW end
    from, to, changed = transition(b, 'half-open', 'open timeout elapsed'), 'half-open', true
  end
  if FULL then return 'rejected', FULL, from, to, changed end
  -- Expired leases go, and so do leases ending later than a lease can (a corrupted score, or
  -- a longer lease configured elsewhere), which would otherwise hold a slot for good.
  on_leases('ZREMRANGEBYSCORE', '-inf', NOW)
  on_leases('ZREMRANGEBYSCORE', '(' .. (NOW + C.lease_ms), '+inf')
  if on_leases('ZCARD') >= C.max_requests then
    local first = tonumber(on_leases('ZRANGE', 0, 0, 'WITHSCORES')[2])
    FULL = math.max(1, math.min(math.floor(C.lease_ms / 10), C.open_ms, first - NOW))
    return 'rejected', FULL, from, to, changed
  end
  on_leases('ZADD', NOW + C.lease_ms, permit)
  redis.call('PEXPIRE', K_LEASES, C.ttl_ms)
  return 'admitted', -1, from, to, changed
end

-- Counts the outcome of a call admitted under `generation` at `at` (record.lua,
-- exchange.lua). Returns the verdict, the transition it made (from, to; nil for none) and
-- whether it changed the breaker.
--
-- Closed: counts the outcome in the window its call was admitted in (count_closed), so that
-- outcomes recorded late, or in another order than they happened, count where they belong.
-- Half-open: one failure reopens it; success_threshold successes close it. An outcome of
-- another generation, or whose half-open lease has expired, counts nothing.
local function settle(b, generation, permit, outcome, at)
  if generation ~= b.generation then return 'stale' end
  if b.state == 'half-open' then
    if on_leases('ZREM', permit) == 0 then return 'stale' end
    if outcome == 'release' then return 'released' end
    if outcome == 'failure' then
      return 'counted', transition(b, 'open', 'trial call failed'), 'open', true
    end
    b.half_open_successes = b.half_open_successes + 1
    if b.half_open_successes >= C.success_threshold then
      return 'counted', transition(b, 'closed', 'trial calls succeeded'), 'closed', true
    end
    return 'counted', nil, nil, true
  end
  if b.state ~= 'closed' or b.forced ~= 'none' or outcome == 'release' then return 'ignored' end
  local counted, tripped = count_closed(b, at, outcome == 'failure')
  if tripped then return 'counted', 'closed', 'open', true end
  return counted and 'counted' or 'stale', nil, nil, true
end

-- exchange.lua's letter for each verdict.
local VERDICT_CODES = { counted = 'C', released = 'L', stale = 'S', ignored = 'I',
  admitted = 'A', rejected = 'R' }
