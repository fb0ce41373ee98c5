-- Clears a claim taken by claim-once.lua, unless the given claimant holds it.
-- KEYS[1]: the claim; ARGV[1]: the claimant to spare. Returns 1 when cleared, else 0.
local held = redis.call("get", KEYS[1])
if not held or string.sub(held, 1, #ARGV[1] + 1) == ARGV[1] .. "\n" then return 0 end
return redis.call("del", KEYS[1])
