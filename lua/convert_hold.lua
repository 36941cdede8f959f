--[[ convert_hold: a payment succeeded; turn the live hold into a sale so expiry cannot take it.
  Its seats stay out of stock; the record stays (state "paid") until finish_hold, after the
  ledger commit, so a retried settlement of the same order finds it again.
  KEYS[1] tq:{ev:ID}:holds     HASH  hold_id -> JSON {fan, state, exp, order, items}
  KEYS[2] tq:{ev:ID}:holdexp   ZSET  hold_id -> expiry (ms) of active holds
  KEYS[3] tq:{ev:ID}:meta      HASH  sold_out "held" -> "1" when the last active hold is paid
  ARGV[1] hold_id   ARGV[2] order_id   ARGV[3] now_ms
  Returns 1 converted now | 2 already converted for this order
  Errors  TQ:HOLD_GONE (released, swept, or converted for another order)
          TQ:HOLD_EXPIRED (still active but past its expiry: the sweeper will return it) ]]
local rcall = redis.call
-- @include sold_out
local holdsKey, expiryKey, metaKey = KEYS[1], KEYS[2], KEYS[3]
local holdId, orderId, nowMs = ARGV[1], ARGV[2], tonumber(ARGV[3])

local raw = rcall('HGET', holdsKey, holdId)
if not raw then
  return redis.error_reply('TQ:HOLD_GONE')
end
local record = cjson.decode(raw)
if record.state == 'paid' then
  if record.order == orderId then
    return 2
  end
  return redis.error_reply('TQ:HOLD_GONE')
end
if tonumber(record.exp) <= nowMs then
  return redis.error_reply('TQ:HOLD_EXPIRED')
end
record.state = 'paid'
record.order = orderId
rcall('HSET', holdsKey, holdId, cjson.encode(record))
rcall('ZREM', expiryKey, holdId)
-- Stock is gone and no cart can expire any more: sold out for good (the queue refuses joins).
selloutHoldPaid(metaKey, expiryKey)
return 1
