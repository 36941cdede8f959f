--[[ release_hold: return the stock of active holds exactly once (cancel, failed payment, expiry).
  A released hold's record is deleted, so a second release of the same hold finds nothing.
  KEYS[1] tq:{ev:ID}:stock     HASH  tier_id -> seats still available to hold
  KEYS[2] tq:{ev:ID}:fancount  HASH  "fan:tier" -> seats the fan holds or bought
  KEYS[3] tq:{ev:ID}:holds     HASH  hold_id -> JSON {fan, state, exp, order, items}
  KEYS[4] tq:{ev:ID}:holdexp   ZSET  hold_id -> expiry (ms) of active holds
  KEYS[5] tq:{ev:ID}:meta      HASH  sold_out ("held") cleared when stock returns
  ARGV[1] now_ms   ARGV[2] owner fan id ("" = any owner)
  ARGV[3] "1" = release only holds already expired at now_ms, "0" = release even if live
  ARGV[4..] hold ids
  Returns {hold ids actually released} (active holds matching owner and expiry rule) ]]
local rcall = redis.call
-- @include sold_out
local stockKey, fanCountKey, holdsKey, expiryKey, metaKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local nowMs, owner, onlyExpired = tonumber(ARGV[1]), ARGV[2], ARGV[3] == '1'

local released = {}
for i = 4, #ARGV do
  local holdId = ARGV[i]
  local raw = rcall('HGET', holdsKey, holdId)
  if raw then
    local record = cjson.decode(raw)
    local expired = tonumber(record.exp) <= nowMs
    if record.state == 'active' and (owner == '' or record.fan == owner)
        and (expired or not onlyExpired) then
      for _, item in ipairs(record.items) do
        local tier, quantity = item[1], tonumber(item[2])
        rcall('HINCRBY', stockKey, tier, quantity)
        local countField = record.fan .. ':' .. tier
        if tonumber(rcall('HINCRBY', fanCountKey, countField, -quantity)) <= 0 then
          rcall('HDEL', fanCountKey, countField)
        end
      end
      rcall('HDEL', holdsKey, holdId)
      rcall('ZREM', expiryKey, holdId)
      released[#released + 1] = holdId
    end
  end
end
if #released > 0 then
  selloutStockBack(metaKey)
end
return released
