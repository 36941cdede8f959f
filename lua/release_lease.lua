--[[ release_lease: give up a lease on shutdown so another worker takes over at once.
  KEYS[1] tq:{ev:ID}:lease  STRING  id of the worker holding the lease
  ARGV[1] worker id
  Returns 1 released | 0 this worker did not hold it ]]
local rcall = redis.call
local leaseKey = KEYS[1]

if rcall('GET', leaseKey) == ARGV[1] then
  rcall('DEL', leaseKey)
  return 1
end
return 0
