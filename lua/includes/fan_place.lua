-- lua/includes/fan_place.lua: a fan's place, the value of the drop's `fanseq` HASH. This file
-- is its only writer and Lua reader (loadtest/ledger_check.py reads the seq after a run).
--   '<seq>:<heartbeat_ms>'  in the line (or admitted: the line no longer holds the fan)
--   'pre:<heartbeat_ms>'    in the pre-queue, waiting for the opening shuffle
-- One short string a fan instead of a hash entry plus a heartbeat ZSET entry (issue 14:
-- 262 MB for a million fans became 197 MB). Values written before that ('<seq>' or 'pre', the
-- heartbeat then in a ZSET no script reads any more) read with no heartbeat: see
-- placeHeartbeat.

-- seq (a string: digits or 'pre'), heartbeat_ms (a number, or nil for an old-format value)
local function readPlace(value)
  local seq, beat = string.match(value, '^([^:]+):(%d+)$')
  if seq then return seq, tonumber(beat) end
  return value, nil
end

local function formatPlace(seq, heartbeatMs)
  return seq .. ':' .. string.format('%d', heartbeatMs)
end

-- A value with no heartbeat (a drop upgraded mid-sale) counts as heard from at `now`: its fan
-- keeps the place for one more grace period, as if they had just heart-beaten.
local function placeHeartbeat(beat, now)
  return beat or now
end

-- Take a fan out of the line or the pre-queue (it left, went silent, or was skipped at the
-- head). Returns 'line' | 'pre' | nil (no waiting place: admitted, or unknown).
local function leavePlace(prequeueKey, lineKey, fanSeqKey, departuresKey, fan, value)
  local seq = readPlace(value)
  if seq == 'pre' then
    redis.call('SREM', prequeueKey, fan)
    redis.call('HDEL', fanSeqKey, fan)
    return 'pre'
  end
  if redis.call('ZREM', lineKey, fan) == 1 then
    -- Positions are streamed from counters: the departure log lets every gateway
    -- subtract leavers ahead of each socket without a per-fan read.
    redis.call('RPUSH', departuresKey, seq)
    redis.call('HDEL', fanSeqKey, fan)
    return 'line'
  end
  return nil
end
