-- Extends a lease only if this holder still holds it (a lapsed lease may be another's by now).
-- KEYS[1]: the lease; ARGV[1]: the holder's token; ARGV[2]: the new time to live in ms.
-- Returns 1 when extended, else 0.
if redis.call("get", KEYS[1]) == ARGV[1] then
  return redis.call("pexpire", KEYS[1], ARGV[2])
else
  return 0
end
