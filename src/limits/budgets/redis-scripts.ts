/**
 * The Lua scripts of the Redis budget backend, one per operation, each atomic on the server.
 * Per counter three keys: `<c>` a hash (spent, held, alerted), `<c>:h` a hash of reservation id
 * → amount, `<c>:x` a sorted set of reservation id by expiry (server clock, `TIME`). Every script
 * first charges the counter's expired reservations (a crashed instance's holds), then acts.
 * Amounts are integer micro-dollars (HINCRBY: exact 64-bit integers on the server).
 */

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- Integers go to HINCRBY as %d text: Lua's default number format would turn 2^50 into 1.1259e+15.
local function int(v)
  return string.format('%d', v)
end
local function sweep(c, h, x)
  local ids = redis.call('ZRANGEBYSCORE', x, '-inf', int(now), 'LIMIT', 0, 500)
  for _, rid in ipairs(ids) do
    local a = tonumber(redis.call('HGET', h, rid) or '0')
    redis.call('HDEL', h, rid)
    redis.call('ZREM', x, rid)
    redis.call('HINCRBY', c, 'held', int(-a))
    redis.call('HINCRBY', c, 'spent', int(a))
  end
end
-- Several fields of the counter hash in one call (every redis.call costs far more than the work).
local function nums(c, ...)
  local v = redis.call('HMGET', c, ...)
  for i = 1, #v do v[i] = tonumber(v[i] or '0') end
  return unpack(v)
end
local function keep(k, ttl)
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
end
`;

/**
 * KEYS: 3 per counter. ARGV: id, amount, reservation ttl ms, extend (1/0), then per counter: limit, counter ttl ms.
 * Returns: allowed, then per counter: fits, spent, held.
 */
export const RESERVE_SCRIPT = `${PRELUDE}
local id = ARGV[1]
local amount = tonumber(ARGV[2])
local rttl = tonumber(ARGV[3])
local extend = ARGV[4] == '1'
local n = #KEYS / 3
local allowed = 1
local out = {}
for i = 1, n do
  local c, h, x = KEYS[i * 3 - 2], KEYS[i * 3 - 1], KEYS[i * 3]
  sweep(c, h, x)
  local spent, held = nums(c, 'spent', 'held')
  local fits = 1
  if spent + held + amount > tonumber(ARGV[3 + i * 2]) then fits = 0; allowed = 0 end
  out[#out + 1] = fits
  out[#out + 1] = spent
  out[#out + 1] = held
end
if allowed == 1 then
  for i = 1, n do
    local c, h, x = KEYS[i * 3 - 2], KEYS[i * 3 - 1], KEYS[i * 3]
    local had = redis.call('HGET', h, id)
    if had == false or extend then
      redis.call('HINCRBY', h, id, int(amount))
      redis.call('HINCRBY', c, 'held', int(amount))
      local exp = now + rttl
      -- h and x always change together: an id not in h has no expiry in x yet.
      local old = 0
      if had ~= false then old = tonumber(redis.call('ZSCORE', x, id) or '0') end
      if exp > old then redis.call('ZADD', x, int(exp), id) end
      out[(i - 1) * 3 + 3] = out[(i - 1) * 3 + 3] + amount
    end
    local ttl = tonumber(ARGV[4 + i * 2])
    keep(c, ttl); keep(h, ttl); keep(x, ttl)
  end
end
table.insert(out, 1, allowed)
return out
`;

/**
 * KEYS: 3 per counter. ARGV: id, reserved, actual, then per counter: limit, counter ttl ms,
 * threshold count, thresholds…  Returns: found, then per counter: spent, held, crossed count, crossed…
 */
export const SETTLE_SCRIPT = `${PRELUDE}
local id = ARGV[1]
local reserved = tonumber(ARGV[2])
local actual = tonumber(ARGV[3])
local n = #KEYS / 3
local found = 0
local out = {}
local a = 4
for i = 1, n do
  local c, h, x = KEYS[i * 3 - 2], KEYS[i * 3 - 1], KEYS[i * 3]
  local limit = tonumber(ARGV[a]); local ttl = tonumber(ARGV[a + 1]); local nt = tonumber(ARGV[a + 2])
  sweep(c, h, x)
  local amt = redis.call('HGET', h, id)
  if amt then
    found = 1
    redis.call('HDEL', h, id)
    redis.call('ZREM', x, id)
    redis.call('HINCRBY', c, 'held', int(-tonumber(amt)))
    if actual > 0 then redis.call('HINCRBY', c, 'spent', int(actual)) end
  elseif actual > reserved then
    redis.call('HINCRBY', c, 'spent', int(actual - reserved))
  end
  local spent, alerted, held = nums(c, 'spent', 'alerted', 'held')
  local crossed = {}
  for j = 1, nt do
    local p = tonumber(ARGV[a + 2 + j])
    if p > alerted and spent * 100 >= p * limit then crossed[#crossed + 1] = p end
  end
  if #crossed > 0 then redis.call('HSET', c, 'alerted', int(crossed[#crossed])) end
  keep(c, ttl)
  out[#out + 1] = spent
  out[#out + 1] = held
  out[#out + 1] = #crossed
  for _, p in ipairs(crossed) do out[#out + 1] = p end
  a = a + 3 + nt
end
table.insert(out, 1, found)
return out
`;

/** KEYS: 3 per counter. Returns per counter: spent, held. */
export const PEEK_SCRIPT = `${PRELUDE}
local out = {}
for i = 1, #KEYS / 3 do
  local c, h, x = KEYS[i * 3 - 2], KEYS[i * 3 - 1], KEYS[i * 3]
  sweep(c, h, x)
  local spent, held = nums(c, 'spent', 'held')
  out[#out + 1] = spent
  out[#out + 1] = held
end
return out
`;
