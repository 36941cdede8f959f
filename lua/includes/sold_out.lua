-- lua/includes/sold_out.lua: a drop's sell-out state, meta field 'sold_out'. This file is
-- its only writer; core.drop_phase.read_sellout its only Python reader. Stored values:
--   (absent)  seats are left to hold
--   'held'    every seat is held or sold, but some holds may still expire
--   '1'       every seat is paid for: sold out for good (the queue refuses joins)
local SELLOUT_FIELD = 'sold_out'

-- '' | 'held' | 'sold' (Sellout in core/drop_phase.py); unknown values read as sold.
local function readSellout(stored)
  if not stored or stored == '' then return '' end
  if stored == 'held' then return 'held' end
  return 'sold'
end

-- Stock reached 0: 'held' while some hold may still expire and give seats back, else '1'.
local function selloutStockGone(metaKey, liveHolds)
  redis.call('HSET', metaKey, SELLOUT_FIELD, liveHolds > 0 and 'held' or '1')
end

-- Seats came back to stock (a release, a rebuild with room): there is something to hold.
local function selloutStockBack(metaKey)
  redis.call('HDEL', metaKey, SELLOUT_FIELD)
end

-- A hold was paid: once no live hold is left to expire, 'held' becomes sold for good.
local function selloutHoldPaid(metaKey, expiryKey)
  if redis.call('HGET', metaKey, SELLOUT_FIELD) == 'held'
      and redis.call('ZCARD', expiryKey) == 0 then
    redis.call('HSET', metaKey, SELLOUT_FIELD, '1')
  end
end
