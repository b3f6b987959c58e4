-- The rate limiter: an exact sliding-window log per key, over one or more windows.

local ffi = require "ffi"
local core = require "sluicegate.core"
local settings = require "sluicegate.settings"

local C = core.C
local OK = core.OK
local WRONG_TIME_BASE = C.SG_WRONG_TIME_BASE
local failure, invalid, closed = core.failure, core.invalid, core.closed
local is_whole, micros = core.is_whole, core.micros
local key_problem = core.key_problem

local _, TIME_BASES = core.enum {
    C.SG_TIME_BASE_LIBRARY, "library",
    C.SG_TIME_BASE_CALLER, "caller",
}
local _, FULL_POLICIES = core.enum {
    C.SG_FULL_EVICT_LEAST_RECENT, "evict_least_recent",
    C.SG_FULL_REJECT_NEW_KEYS, "reject_new_keys",
}

local FIELDS = {
    { "time_base", "enum", values = TIME_BASES },
    { "max_keys", "u64", zero = "default" },
    { "shards", "u32", zero = "default" },
    { "max_key_len", "u32", zero = "default" },
    { "on_full", "enum", values = FULL_POLICIES },
}
local WINDOW_FIELDS = {
    { "limit", "u64", zero = "refused", required = true },
    { "seconds", "seconds", zero = "refused", required = true, c = "duration_us" },
}
local HANDLED_HERE = { windows = true }

--- The `sg_window` array for `list`, a Lua list of `{ limit = n, seconds = s }`, or nil,
--- message, code. The library checks the rest (how many, no two of one length, ranges).
local function windows_array(list)
    if type(list) ~= "table" or #list == 0 then
        return nil, "windows must be a list of { limit = n, seconds = s }, at least one",
            "invalid_config"
    end
    local windows = ffi.new("sg_window[?]", #list)
    for i = 1, #list do
        local where = ("windows[%d]: "):format(i)
        local ok, message, code = settings.fill(windows[i - 1], list[i], WINDOW_FIELDS, nil, where)
        if not ok then
            return nil, message, code
        end
    end
    return windows
end

local Limiter = {}
Limiter.__index = Limiter

local function free(limiter)
    C.sg_limiter_free(limiter)
end

--- Builds a limiter; see README.md for the settings. Returns the limiter, or nil, message,
--- code.
local function new(options)
    local config = ffi.new("sg_limiter_config")
    config.struct_size = ffi.sizeof(config)
    local ok, message, code = settings.fill(config, options, FIELDS, HANDLED_HERE, "")
    if not ok then
        return nil, message, code
    end
    local windows
    windows, message, code = windows_array(options.windows)
    if not windows then
        return nil, message, code
    end
    local out = ffi.new("sg_limiter *[1]")
    -- Pointers last, after every allocation: a pointer field keeps nothing alive, and the
    -- collector can only run at an allocation.
    config.windows = windows
    config.windows_len = #options.windows
    local result = C.sg_limiter_new(config, out)
    if result ~= OK then
        return failure(result)
    end
    return setmetatable({ handle = ffi.gc(out[0], free) }, Limiter)
end

-- One output buffer for every limiter: a limiter call runs no Lua code between writing it and
-- the caller reading it, since the garbage collector's finalizers never run listeners (see
-- sluicegate/listener.lua).
local decision_out = ffi.new("sg_decision")

local function decision()
    local d = decision_out
    return {
        allowed = d.allowed,
        window = d.window + 1,
        limit = tonumber(d.limit),
        remaining = tonumber(d.remaining),
        reset_after = tonumber(d.reset_after_us) / 1e6,
        retry_after = tonumber(d.retry_after_us) / 1e6,
    }
end

--- Whether the library can be asked about this request.
local function askable(self, key, cost)
    return self.handle ~= nil and type(key) == "string" and is_whole(cost)
end

--- Why it cannot: nil, message, code.
local function refusal(self, key)
    if self.handle == nil then
        return closed("the limiter")
    end
    local problem = key_problem(key)
    if problem then
        return invalid(problem)
    end
    return invalid("the cost must be a whole number of at least 1")
end

--- The failure of a call whose time base the limiter was not built for: the library names
--- C functions, this names the methods.
local function wrong_time_base(built_for, use)
    return nil, ("this limiter was built with time_base = %q: use %s"):format(built_for, use),
        "wrong_time_base"
end

--- The decision a check or peek left, or nil, message, code for its `result`; `built_for`
--- and `use` say what to call instead when the limiter's time base does not fit the call.
local function answer(result, built_for, use)
    if result ~= OK then
        if result == WRONG_TIME_BASE then
            return wrong_time_base(built_for, use)
        end
        return failure(result)
    end
    return decision()
end

--- A check or peek by the library's clock.
local function decide(self, call, key, cost)
    cost = cost or 1
    if not askable(self, key, cost) then
        return refusal(self, key)
    end
    return answer(call(self.handle, key, #key, cost, decision_out), "caller",
        "check_at and peek_at")
end

--- A check or peek at the caller's time `now`, in seconds.
local function decide_at(self, call, key, now, cost)
    cost = cost or 1
    if not askable(self, key, cost) then
        return refusal(self, key)
    end
    local now_us = micros(now)
    if now_us == nil then
        return invalid("now must be a time in seconds, at least 0, as ngx.now() gives")
    end
    return answer(call(self.handle, key, #key, cost, now_us, decision_out), "library",
        "check and peek")
end

--- Checks one request of `cost` (default 1) for `key` now, by the library's monotonic clock,
--- and records it if admitted. Returns the decision, or nil, message, code.
function Limiter:check(key, cost)
    return decide(self, C.sg_limiter_check, key, cost)
end

--- `check` at the caller's time `now`, in seconds of one clock the caller keeps for this
--- limiter (`ngx.now()` in nginx). Only for a limiter built with `time_base = "caller"`.
function Limiter:check_at(key, now, cost)
    return decide_at(self, C.sg_limiter_check_now, key, now, cost)
end

--- What `check` would decide now, recording nothing.
function Limiter:peek(key, cost)
    return decide(self, C.sg_limiter_peek, key, cost)
end

--- What `check_at` would decide at `now`, recording nothing.
function Limiter:peek_at(key, now, cost)
    return decide_at(self, C.sg_limiter_peek_now, key, now, cost)
end

local flag_out = ffi.new("bool[1]")

--- Calls `forget` (reset or remove) on `key`; returns whether it was tracked.
local function forget(self, call, key)
    if self.handle == nil then
        return closed("the limiter")
    end
    local problem = key_problem(key)
    if problem then
        return invalid(problem)
    end
    local result = call(self.handle, key, #key, flag_out)
    if result ~= OK then
        return failure(result)
    end
    return flag_out[0]
end

--- Forgets what `key` has used, as if it had never been seen. Returns whether it was tracked.
function Limiter:reset(key)
    return forget(self, C.sg_limiter_reset, key)
end

--- Stops tracking `key` and frees its memory. Returns whether it was tracked.
function Limiter:remove(key)
    return forget(self, C.sg_limiter_remove, key)
end

local size_out = ffi.new("size_t[1]")
local STATS = { "keys", "allowed", "rejected", "evictions", "reclaimed", "refused_keys", "bytes" }

--- How many keys the limiter tracks.
function Limiter:len()
    if self.handle == nil then
        return closed("the limiter")
    end
    local result = C.sg_limiter_len(self.handle, size_out)
    if result ~= OK then
        return failure(result)
    end
    return tonumber(size_out[0])
end

--- The limiter's counters and sizes: keys, allowed, rejected, evictions, reclaimed,
--- refused_keys, bytes.
function Limiter:stats()
    if self.handle == nil then
        return closed("the limiter")
    end
    local out = ffi.new("sg_limiter_stats")
    local result = C.sg_limiter_get_stats(self.handle, out)
    if result ~= OK then
        return failure(result)
    end
    return core.numbers(out, STATS)
end

--- Releases the limiter now rather than when the garbage collector finds it. Later calls
--- return nil, "the limiter is closed", "closed". Closing twice does nothing.
function Limiter:close()
    local handle = self.handle
    if handle ~= nil then
        self.handle = nil
        C.sg_limiter_free(ffi.gc(handle, nil))
    end
    return true
end

function Limiter:__tostring()
    return self.handle == nil and "sluicegate.limiter (closed)" or "sluicegate.limiter"
end

return { new = new }
