--[[ open_line: shuffle the pre-queue into the line once, at opens_at; later calls do nothing.
  KEYS[1] tq:{ev:ID}:meta      HASH  drop config and counters ('opened' marks the shuffle done)
  KEYS[2] tq:{ev:ID}:prequeue  SET   fans who joined before opens_at
  KEYS[3] tq:{ev:ID}:line      ZSET  fan -> sequence number
  KEYS[4] tq:{ev:ID}:fanseq    HASH  fan -> '<seq>:<last heartbeat ms>' or 'pre:<ms>'
  ARGV[1] seed (hex from a CSPRNG)   ARGV[2] now_ms
  Returns {opened_now 0|1, shuffled_count}
  Errors: TQ:NOT_SYNCED | TQ:NOT_YET:<opens_at_ms> (before opens_at) ]]
local rcall = redis.call
-- @include fan_place
local metaKey, prequeueKey, lineKey, fanSeqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local seed = ARGV[1]
local now = tonumber(ARGV[2])

local m = rcall('HMGET', metaKey, 'synced', 'opened', 'opens_at_ms', 'prequeue_size')
if not m[1] then return redis.error_reply('TQ:NOT_SYNCED') end
if m[2] == '1' then return {0, tonumber(m[4] or '0')} end
if now < tonumber(m[3]) then return redis.error_reply('TQ:NOT_YET:' .. m[3]) end

-- Order by SHA1(seed:fan): a uniformly random permutation for a secret random seed,
-- reproducible by anyone who later learns the seed (it is kept in meta for audit).
local fans = rcall('SMEMBERS', prequeueKey)
local sortKey = {}
for _, fan in ipairs(fans) do sortKey[fan] = redis.sha1hex(seed .. ':' .. fan) end
table.sort(fans, function(a, b) return sortKey[a] < sortKey[b] end)

-- unpack() has a small stack limit: write in chunks. Each fan keeps the heartbeat of its
-- pre-queue place, so silence before the opening counts against the grace period.
local chunk = 500
for start = 1, #fans, chunk do
  local zargs, hargs, members = {}, {}, {}
  local last = math.min(start + chunk - 1, #fans)
  for i = start, last do members[#members + 1] = fans[i] end
  local places = rcall('HMGET', fanSeqKey, unpack(members))
  for i = start, last do
    local _, beat = readPlace(places[i - start + 1] or '')
    zargs[#zargs + 1] = i
    zargs[#zargs + 1] = fans[i]
    hargs[#hargs + 1] = fans[i]
    hargs[#hargs + 1] = formatPlace(i, placeHeartbeat(beat, now))
  end
  rcall('ZADD', lineKey, unpack(zargs))
  rcall('HSET', fanSeqKey, unpack(hargs))
end
rcall('DEL', prequeueKey)
rcall('HSET', metaKey, 'opened', '1', 'opened_at_ms', now, 'next_seq', #fans,
  'prequeue_size', #fans, 'shuffle_seed', seed, 'tokens', '0', 'tokens_at_ms', now)
return {1, #fans}
