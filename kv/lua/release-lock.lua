-- Releases a lock only if this owner still holds it.
-- KEYS[1]: the lock; ARGV[1]: the owner's token. Returns 1 when released, else 0.
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end
