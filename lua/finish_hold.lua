--[[ finish_hold: forget a converted hold once the ledger has decided its fate.
  "ticketed": the seats are sold; the fan's counts keep them (per-fan limit covers orders).
  "refunded": the ledger refused the sale (tier full at commit); the fan's counts drop,
  stock does not return (Redis believed in seats Postgres did not have; reconcile fixes it).
  KEYS[1] tq:{ev:ID}:holds     HASH  hold_id -> JSON {fan, state, exp, order, items}
  KEYS[2] tq:{ev:ID}:fancount  HASH  "fan:tier" -> seats the fan holds or bought
  ARGV[1] hold_id   ARGV[2] "ticketed" | "refunded"
  Returns 1 forgotten | 0 no converted hold with this id ]]
local rcall = redis.call
local holdsKey, fanCountKey = KEYS[1], KEYS[2]
local holdId, outcome = ARGV[1], ARGV[2]

local raw = rcall('HGET', holdsKey, holdId)
if not raw then
  return 0
end
local record = cjson.decode(raw)
if record.state ~= 'paid' then
  return 0
end
if outcome == 'refunded' then
  for _, item in ipairs(record.items) do
    local countField = record.fan .. ':' .. item[1]
    if tonumber(rcall('HINCRBY', fanCountKey, countField, -tonumber(item[2]))) <= 0 then
      rcall('HDEL', fanCountKey, countField)
    end
  end
end
rcall('HDEL', holdsKey, holdId)
return 1
