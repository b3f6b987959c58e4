-- Sluicegate for LuaJIT and OpenResty: an exact sliding-window rate limiter and circuit
-- breakers, embedded in the process through libsluicegate.so's C ABI.
--
--     local sluicegate = require "sluicegate"
--     local limiter = assert(sluicegate.limiter { windows = { { limit = 100, seconds = 60 } } })
--     local decision, err = limiter:check(ngx.var.binary_remote_addr)
--
-- Every call returns its answer, or nil, a message and a code name (OpenResty style); the
-- handles are released by `close()` or by the garbage collector. README.md describes the
-- settings, the answers, thread-safety and how the library is found.

local core = require "sluicegate.core"
local limiter = require "sluicegate.limiter"
local breaker = require "sluicegate.breaker"
local breakers = require "sluicegate.breakers"

local ffi = require "ffi"

return {
    --- The library's version, "MAJOR.MINOR.PATCH".
    version = ffi.string(core.C.sg_version()),
    --- `sluicegate.limiter(settings)`: a rate limiter, or nil, message, code.
    limiter = limiter.new,
    --- `sluicegate.breaker(settings)`: a circuit breaker, or nil, message, code.
    breaker = breaker.new,
    --- `sluicegate.breakers(settings)`: a registry of breakers by key, or nil, message, code.
    breakers = breakers.new,
}
