--[[ reserve_hold: check a live admission pass, stock and per-fan limits, then hold seats.
  All tiers of one hold are all-or-nothing: every check runs before any write.
  KEYS[1] tq:{ev:ID}:stock     HASH  tier_id -> seats still available to hold
  KEYS[2] tq:{ev:ID}:fancount  HASH  "fan:tier" -> seats the fan holds or bought
  KEYS[3] tq:{ev:ID}:holds     HASH  hold_id -> JSON {fan, state, exp, order, items}
  KEYS[4] tq:{ev:ID}:holdexp   ZSET  hold_id -> expiry (ms) of active holds
  KEYS[5] tq:{ev:ID}:active    ZSET  fan -> admission pass expiry (ms), written by the queue
  KEYS[6] tq:{ev:ID}:passes    HASH  fan -> live pass id, written by the queue
  KEYS[7] tq:{ev:ID}:meta      HASH  sold_out = "held" once every tier's stock is 0
  ARGV[1] hold_id   ARGV[2] fan_id   ARGV[3] pass_id   ARGV[4] now_ms   ARGV[5] expires_ms
  ARGV[6] item count n, then n triples: tier_id, quantity, per_fan_limit
  Returns {stock left after the hold, per item in ARGV order}
  Errors  TQ:PASS_REVOKED | TQ:PASS_EXPIRED | TQ:HOLD_EXISTS | TQ:NOT_LOADED:tier
          TQ:SOLD_OUT:tier:available | TQ:LIMIT:tier:already_counted:limit ]]
local rcall = redis.call
-- @include sold_out
local stockKey, fanCountKey, holdsKey, expiryKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local activeKey, passesKey, metaKey = KEYS[5], KEYS[6], KEYS[7]
local holdId, fanId, passId = ARGV[1], ARGV[2], ARGV[3]
local nowMs, expiresMs = tonumber(ARGV[4]), ARGV[5]
local itemCount = tonumber(ARGV[6])

-- The pass must be the fan's current one (revocation deletes it) and unexpired.
if rcall('HGET', passesKey, fanId) ~= passId then
  return redis.error_reply('TQ:PASS_REVOKED')
end
local passExpiry = tonumber(rcall('ZSCORE', activeKey, fanId))
if passExpiry == nil or passExpiry <= nowMs then
  return redis.error_reply('TQ:PASS_EXPIRED')
end
if rcall('HEXISTS', holdsKey, holdId) == 1 then
  return redis.error_reply('TQ:HOLD_EXISTS')
end

local items, left = {}, {}
for i = 1, itemCount do
  local base = 6 + (i - 1) * 3
  local tier, quantity, limit = ARGV[base + 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  local stock = rcall('HGET', stockKey, tier)
  if not stock then
    return redis.error_reply('TQ:NOT_LOADED:' .. tier)
  end
  stock = tonumber(stock)
  if stock < quantity then
    return redis.error_reply('TQ:SOLD_OUT:' .. tier .. ':' .. stock)
  end
  local counted = tonumber(rcall('HGET', fanCountKey, fanId .. ':' .. tier) or '0')
  if counted + quantity > limit then
    return redis.error_reply('TQ:LIMIT:' .. tier .. ':' .. counted .. ':' .. limit)
  end
  items[i] = {tier, tostring(quantity)}
  left[i] = stock - quantity
end

for i = 1, itemCount do
  local tier, quantity = items[i][1], tonumber(items[i][2])
  rcall('HINCRBY', stockKey, tier, -quantity)
  rcall('HINCRBY', fanCountKey, fanId .. ':' .. tier, quantity)
end
local record = {fan = fanId, state = 'active', exp = expiresMs, order = '', items = items}
rcall('HSET', holdsKey, holdId, cjson.encode(record))
rcall('ZADD', expiryKey, expiresMs, holdId)

-- Nothing left to hold: the queue stops admitting (contract with queue_engine). "held",
-- not "1": this hold, at least, may still expire and bring its seats back.
local total = 0
for _, value in ipairs(rcall('HVALS', stockKey)) do
  total = total + tonumber(value)
end
if total <= 0 then
  selloutStockGone(metaKey, rcall('ZCARD', expiryKey))
end
return left
