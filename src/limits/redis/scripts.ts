/**
 * The Lua scripts of the Redis limit backend: one per operation, each atomic on the server.
 * Every script reads the server's clock (`TIME`) so that all gateway instances agree on "now"
 * whatever their own clocks say. The GCRA arithmetic is the same as ../gcra.ts.
 *
 * Numbers returned to the client are whole (Redis truncates Lua numbers to integers); TATs are
 * stored with %.17g so that sub-millisecond intervals (high token rates) keep their precision.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * A counter is stored as "<tat> <interval>" (see GcraCounter in ../gcra.ts). `load_tat` returns
 * its TAT at the interval asked for, keeping the units already used when the limit was edited.
 * A bare "<tat>" (written before the interval was stored) is read at the current interval.
 */
const LOAD_TAT = `
local function load_tat(key, interval)
  local v = redis.call('GET', key)
  if not v then return nil end
  local a, b = string.match(v, '^(%S+) (%S+)$')
  local tat, iv
  if a then tat = tonumber(a); iv = tonumber(b) else tat = tonumber(v) end
  if tat == nil then return nil end
  if iv ~= nil and iv > 0 and iv ~= interval and tat > now then tat = now + (tat - now) / iv * interval end
  return tat
end
local function store_tat(key, tat, interval, ttl)
  redis.call('SET', key, string.format('%.17g %.17g', tat, interval), 'PX', ttl)
end
`;

/**
 * KEYS: the n GCRA counters, then (optional) the reservation record.
 * ARGV: n, then interval,capacity,cost per counter, then reservation amount and ttl ('' = none).
 * Returns: allowed (1/0), then per counter: allowed, remaining, resetMs, retryAfterMs (-1 = none/never).
 */
export const TAKE_SCRIPT = `${NOW}${LOAD_TAT}
local n = tonumber(ARGV[1])
local eps = 1e-6
local allowed = 1
local out = {}
local newtats = {}
for i = 1, n do
  local interval = tonumber(ARGV[(i - 1) * 3 + 2])
  local capacity = tonumber(ARGV[(i - 1) * 3 + 3])
  local cost = tonumber(ARGV[(i - 1) * 3 + 4])
  local tat = load_tat(KEYS[i], interval)
  local base = now
  if tat ~= nil and tat > now then base = tat end
  local tol = capacity * interval
  local newtat = base + cost * interval
  if newtat - now <= tol + eps then
    newtats[i] = newtat
    out[#out + 1] = 1
    out[#out + 1] = math.max(0, math.floor((tol - (newtat - now)) / interval + 1e-9))
    out[#out + 1] = math.ceil(newtat - now)
    out[#out + 1] = -1
  else
    allowed = 0
    out[#out + 1] = 0
    out[#out + 1] = math.max(0, math.floor((tol - (base - now)) / interval + 1e-9))
    out[#out + 1] = math.ceil(base - now)
    if cost > capacity then
      out[#out + 1] = -1
    else
      out[#out + 1] = math.max(1, math.ceil(newtat - tol - now))
    end
  end
end
if allowed == 1 then
  for i = 1, n do
    local ttl = math.ceil(newtats[i] - now)
    if ttl > 0 then
      store_tat(KEYS[i], newtats[i], tonumber(ARGV[(i - 1) * 3 + 2]), ttl)
    end
  end
  local amount = ARGV[n * 3 + 2]
  if amount ~= nil and amount ~= '' then
    redis.call('SET', KEYS[n + 1], amount, 'PX', tonumber(ARGV[n * 3 + 3]))
  end
end
table.insert(out, 1, allowed)
return out
`;

/**
 * KEYS: the reservation record, then the token counters to adjust.
 * ARGV: reserved (the caller's copy), actual, then one interval per counter.
 * Returns 1 when the reservation was found (exact settle), 0 when it had expired.
 */
export const SETTLE_SCRIPT = `${NOW}${LOAD_TAT}
local rec = redis.call('GET', KEYS[1])
local found = 0
local delta
if rec then
  found = 1
  redis.call('DEL', KEYS[1])
  delta = tonumber(ARGV[2]) - tonumber(rec)
else
  delta = math.max(0, tonumber(ARGV[2]) - tonumber(ARGV[1]))
end
if delta ~= 0 then
  for i = 2, #KEYS do
    local interval = tonumber(ARGV[i + 1])
    local tat = load_tat(KEYS[i], interval)
    local base = now
    if tat ~= nil and tat > now then base = tat end
    local nt = math.max(now, base + delta * interval)
    local ttl = math.ceil(nt - now)
    if ttl > 0 then
      store_tat(KEYS[i], nt, interval, ttl)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return found
`;

/**
 * Concurrency slots: one sorted set per counter, member = lease id, score = lease expiry (ms).
 * KEYS: the slot sets. ARGV: lease id, ttl ms, then max per set.
 * Returns: allowed (1/0), then per set: allowed, in use.
 */
export const ACQUIRE_SCRIPT = `${NOW}
local lease = ARGV[1]
local ttl = tonumber(ARGV[2])
local allowed = 1
local out = {}
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  local held = redis.call('ZSCORE', KEYS[i], lease)
  local count = redis.call('ZCARD', KEYS[i])
  if held then
    out[#out + 1] = 1
    out[#out + 1] = count
  elseif count < tonumber(ARGV[i + 2]) then
    out[#out + 1] = 1
    out[#out + 1] = count + 1
  else
    allowed = 0
    out[#out + 1] = 0
    out[#out + 1] = count
  end
end
if allowed == 1 then
  for i = 1, #KEYS do
    redis.call('ZADD', KEYS[i], string.format('%.17g', now + ttl), lease)
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
table.insert(out, 1, allowed)
return out
`;

/** KEYS: the slot sets. ARGV: lease id, ttl ms. Returns 1 when every lease was still held. */
export const RENEW_SCRIPT = `${NOW}
local lease = ARGV[1]
local ttl = tonumber(ARGV[2])
local all = 1
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('ZSCORE', KEYS[i], lease) then
    redis.call('ZADD', KEYS[i], 'XX', string.format('%.17g', now + ttl), lease)
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  else
    all = 0
  end
end
return all
`;

/** KEYS: the slot sets. ARGV: lease id. */
export const RELEASE_SCRIPT = `
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return 1
`;

/** A script body as a local function of its own KEYS and ARGV, so scripts can be combined. */
const asFunction = (name: string, body: string) => `local function ${name}(KEYS, ARGV)\n${body}\nend\n`;

/**
 * acquire, then take, in one round trip (the two scripts above, unchanged, as functions); a
 * refused take gives the slots back, so a refused admit holds and consumes nothing.
 * KEYS: the ns slot sets, then the take's keys. ARGV: ns, then the acquire's ARGV (lease, ttl,
 * ns maxima), then the take's ARGV (empty: no rates). Returns {acquire reply, take reply or {}}.
 */
export const ADMIT_SCRIPT = `${asFunction('acquire', ACQUIRE_SCRIPT)}${asFunction('take', TAKE_SCRIPT)}${asFunction('release', RELEASE_SCRIPT)}
local ns = tonumber(ARGV[1])
local skeys, sargs, rkeys, rargs = {}, {}, {}, {}
for i = 1, ns do skeys[i] = KEYS[i] end
for i = ns + 1, #KEYS do rkeys[#rkeys + 1] = KEYS[i] end
for i = 2, ns + 3 do sargs[#sargs + 1] = ARGV[i] end
for i = ns + 4, #ARGV do rargs[#rargs + 1] = ARGV[i] end
local a = {1}
if ns > 0 then
  a = acquire(skeys, sargs)
  if a[1] ~= 1 then return {a, {}} end
end
local t = {}
if #rargs > 0 then
  t = take(rkeys, rargs)
  if t[1] ~= 1 and ns > 0 then release(skeys, {sargs[1]}) end
end
return {a, t}
`;

/**
 * settle (when there is a reservation), then release, in one round trip.
 * KEYS: the settle's keys (nk of them, 0 = no settle), then the slot sets. ARGV: nk, then the
 * settle's ARGV (nk + 1 values), then the lease id. Returns the settle's reply, or -1 without one.
 */
export const FINISH_SCRIPT = `${asFunction('settle', SETTLE_SCRIPT)}${asFunction('release', RELEASE_SCRIPT)}
local nk = tonumber(ARGV[1])
local skeys, sargs, lkeys = {}, {}, {}
for i = 1, nk do skeys[i] = KEYS[i] end
for i = nk + 1, #KEYS do lkeys[#lkeys + 1] = KEYS[i] end
if nk > 0 then for i = 2, nk + 2 do sargs[#sargs + 1] = ARGV[i] end end
local found = -1
if nk > 0 then found = settle(skeys, sargs) end
if #lkeys > 0 then release(lkeys, {ARGV[#ARGV]}) end
return found
`;
