-- lua/includes/drop_phase.lua: a drop's phase, the rule of `phase_at` in core/drop_phase.py
-- line for line (tests/core/test_drop_phase.py runs both over one table: change both).
-- @include sold_out

-- state: the operator's (meta 'state'); sellout: readSellout(meta 'sold_out');
-- opened: the pre-queue has been shuffled into the line (meta 'opened' == '1').
-- Returns 'cancelled' | 'closed' | 'sold_out' | 'scheduled' | 'prequeue' | 'paused' | 'open'
local function dropPhase(state, sellout, prequeueOpensAt, closesAt, opened, now)
  if state == 'cancelled' then return 'cancelled' end
  if state == 'closed' or now >= closesAt then return 'closed' end
  if state == 'sold_out' or sellout == 'sold' then return 'sold_out' end
  if now < prequeueOpensAt then return 'scheduled' end
  if not opened then return 'prequeue' end
  if state == 'paused' then return 'paused' end
  return 'open'
end
