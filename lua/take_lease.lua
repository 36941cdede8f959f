--[[ take_lease: take or renew the right to pace one drop (one worker at a time).
  KEYS[1] tq:{ev:ID}:lease  STRING  id of the worker holding the lease, with a TTL
  ARGV[1] worker id   ARGV[2] ttl_ms
  Returns 1 this worker holds the lease (taken or renewed) | 0 another worker holds it ]]
local rcall = redis.call
local leaseKey = KEYS[1]
local workerId = ARGV[1]
local ttl = tonumber(ARGV[2])

local holder = rcall('GET', leaseKey)
if holder == workerId then
  rcall('PEXPIRE', leaseKey, ttl)
  return 1
end
if holder then return 0 end
rcall('SET', leaseKey, workerId, 'PX', ttl)
return 1
