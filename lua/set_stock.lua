--[[ set_stock: (re)build a drop's inventory from the ledger, atomically against every hold.
  Stock = ledger room (capacity - sold, per tier) - seats in holds that are still open here
  (active, or paid but not yet in the ledger) - ledger holds this Redis lost (re-created).
  KEYS[1] tq:{ev:ID}:stock     HASH  tier_id -> seats still available to hold
  KEYS[2] tq:{ev:ID}:fancount  HASH  "fan:tier" -> seats the fan holds or bought
  KEYS[3] tq:{ev:ID}:holds     HASH  hold_id -> JSON {fan, state, exp, order, items}
  KEYS[4] tq:{ev:ID}:holdexp   ZSET  hold_id -> expiry (ms) of active holds
  KEYS[5] tq:{ev:ID}:meta      HASH  sold_out = "held" (holds may expire) or "1" at stock 0
  ARGV[1] JSON {room: {tier: n}, bought: {"fan:tier": n}, ticketed: [hold_id],
               holds: {hold_id: {fan, exp, items: list of (tier, qty)}}}   (the ledger's view)
  ARGV[2] "rebuild" | "if_missing" (do nothing when every tier in room already has stock)
  ARGV[3] now_ms
  Returns JSON {loaded: 0|1, tiers: {tier: [old stock or -1, new stock, held]},
                restored_holds: n, finished_holds: n, clamped: [tier]} ]]
local rcall = redis.call
-- @include sold_out
local stockKey, fanCountKey, holdsKey, expiryKey, metaKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local ledger, mode, nowMs = cjson.decode(ARGV[1]), ARGV[2], tonumber(ARGV[3])

if mode == 'if_missing' then
  local missing = false
  for tier, _ in pairs(ledger.room) do
    if rcall('HEXISTS', stockKey, tier) == 0 then
      missing = true
    end
  end
  if not missing then
    return cjson.encode({loaded = 0})
  end
end

local held, fanHeld = {}, {}
local function count(fan, items)
  for _, item in ipairs(items) do
    local tier, quantity = tostring(item[1]), tonumber(item[2])
    held[tier] = (held[tier] or 0) + quantity
    local field = fan .. ':' .. tier
    fanHeld[field] = (fanHeld[field] or 0) + quantity
  end
end

local ticketed = {}
for _, holdId in ipairs(ledger.ticketed) do
  ticketed[holdId] = true
end
local finished, restored = 0, 0
local entries = rcall('HGETALL', holdsKey)
local present = {}
for i = 1, #entries, 2 do
  local holdId, record = entries[i], cjson.decode(entries[i + 1])
  if record.state == 'paid' and ticketed[holdId] then
    rcall('HDEL', holdsKey, holdId)
    finished = finished + 1
  else
    present[holdId] = true
    count(record.fan, record.items)
  end
end
for holdId, hold in pairs(ledger.holds) do
  if not present[holdId] and tonumber(hold.exp) > nowMs then
    local items = {}
    for i, item in ipairs(hold.items) do
      items[i] = {tostring(item[1]), tostring(item[2])}
    end
    local record = {fan = tostring(hold.fan), state = 'active', exp = tostring(hold.exp),
                    order = '', items = items}
    rcall('HSET', holdsKey, holdId, cjson.encode(record))
    rcall('ZADD', expiryKey, hold.exp, holdId)
    count(record.fan, items)
    restored = restored + 1
  end
end

local report, clamped, total = {}, {}, 0
for tier, room in pairs(ledger.room) do
  local old = tonumber(rcall('HGET', stockKey, tier) or '-1')
  local stock = tonumber(room) - (held[tier] or 0)
  if stock < 0 then
    clamped[#clamped + 1] = tier
    stock = 0
  end
  rcall('HSET', stockKey, tier, stock)
  report[tier] = {old, stock, held[tier] or 0}
  total = total + stock
end

rcall('DEL', fanCountKey)
for field, n in pairs(ledger.bought) do
  fanHeld[field] = (fanHeld[field] or 0) + tonumber(n)
end
for field, n in pairs(fanHeld) do
  if n > 0 then
    rcall('HSET', fanCountKey, field, n)
  end
end
if total <= 0 then
  selloutStockGone(metaKey, rcall('ZCARD', expiryKey))
else
  selloutStockBack(metaKey)
end
return cjson.encode({loaded = 1, tiers = report, restored_holds = restored,
                     finished_holds = finished, clamped = clamped})
