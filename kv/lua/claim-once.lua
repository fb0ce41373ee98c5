-- Takes a claim unless one is held; either way says who holds it now.
-- KEYS[1]: the claim; ARGV[1]: the claimant's value; ARGV[2]: how long it lasts, in ms.
-- Returns the value held before this call, or false (nil) when this call took it.
local held = redis.call("get", KEYS[1])
if held then return held end
redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2])
return false
