-- A circuit breaker for one upstream, reading the library's monotonic clock.

local ffi = require "ffi"
local core = require "sluicegate.core"
local breaker_config = require "sluicegate.breaker_config"
local listener = require "sluicegate.listener"
local permit = require "sluicegate.permit"

local C = core.C
local OK = core.OK
local failure, closed = core.failure, core.closed
local flush = listener.flush

local COUNTERS = {
    "permitted", "rejected", "successes", "failures", "ignored", "slow", "stale", "trial_timeouts",
}

--- A breaker's or a registry key's counters, from an `sg_breaker_counters`.
local function counters(out)
    return core.numbers(out, COUNTERS)
end

--- The listener setting of `options`: its owner, or nil, message, code.
local function owner_for(options, keyed)
    local fn = options.on_transition
    if fn == nil then
        return listener.none()
    end
    if type(fn) ~= "function" then
        return nil, "on_transition must be a function, not " .. type(fn), "invalid_config"
    end
    return listener.subscribe(fn, keyed)
end

local Breaker = {}
Breaker.__index = Breaker

--- Builds a breaker; see README.md for the settings. Returns the breaker, or nil, message,
--- code.
local function new(options)
    local config, message, code = breaker_config.build(options, { on_transition = true }, "")
    if not config then
        return nil, message, code
    end
    local owner
    owner, message, code = owner_for(options, false)
    if not owner then
        return nil, message, code
    end
    local out = ffi.new("sg_breaker *[1]")
    local result = C.sg_breaker_new(config, owner.callback, owner.userdata, out)
    if result ~= OK then
        owner:release()
        return failure(result)
    end
    local handle = ffi.gc(out[0], owner:finalizer(C.sg_breaker_free))
    return setmetatable({ handle = handle, owner = owner }, Breaker)
end

--- Asks to make one call. Returns a permit (`allowed` true; see sluicegate/permit.lua) or a
--- rejection `{ allowed = false, reason = ..., retry_after = seconds }`; or nil, message,
--- code.
function Breaker:acquire()
    flush()
    local handle = self.handle
    if handle == nil then
        return closed("the breaker")
    end
    local out = ffi.new("sg_admission")
    local result = self.owner.invoke(C.sg_breaker_acquire, handle, out)
    if result ~= OK then
        return failure(result)
    end
    return permit.from_admission(out, self.owner)
end

--- The breaker's state: "closed", "open", "half_open", "forced_open" or "disabled". It only
--- reports: an open breaker whose time is up says "open" until the next acquire.
function Breaker:state()
    flush()
    if self.handle == nil then
        return closed("the breaker")
    end
    local out = ffi.new("sg_state[1]")
    local result = C.sg_breaker_get_state(self.handle, out)
    if result ~= OK then
        return failure(result)
    end
    return listener.STATES[out[0]]
end

--- What the breaker has counted since it was built: permitted, rejected, successes, failures,
--- ignored, slow, stale, trial_timeouts.
function Breaker:counters()
    flush()
    if self.handle == nil then
        return closed("the breaker")
    end
    local out = ffi.new("sg_breaker_counters")
    local result = C.sg_breaker_get_counters(self.handle, out)
    if result ~= OK then
        return failure(result)
    end
    return counters(out)
end

--- Calls an operator switch that reports whether it changed the state.
local function switch(self, call)
    flush()
    local handle = self.handle
    if handle == nil then
        return closed("the breaker")
    end
    local changed = ffi.new("bool[1]")
    local result = self.owner.invoke(call, handle, changed)
    if result ~= OK then
        return failure(result)
    end
    return changed[0]
end

--- Holds the breaker open, rejecting every call, until `reset` or `disable`. Returns whether
--- it changed anything (false if it was already forced open).
function Breaker:force_open()
    return switch(self, C.sg_breaker_force_open)
end

--- Admits every call and keeps counting, never tripping, until `reset` or `force_open`.
--- Returns whether it changed anything.
function Breaker:disable()
    return switch(self, C.sg_breaker_disable)
end

--- Closes the breaker afresh from any state: outstanding permits' outcomes become stale,
--- windows empty, the backoff returns to its base. Counters keep their history. Returns true.
function Breaker:reset()
    flush()
    local handle = self.handle
    if handle == nil then
        return closed("the breaker")
    end
    local result = self.owner.invoke(C.sg_breaker_reset, handle)
    if result ~= OK then
        return failure(result)
    end
    return true
end

--- Releases the breaker now rather than when the garbage collector finds it. Permits still
--- outstanding stay valid and may still be recorded. Closing twice does nothing; closing
--- from inside a transition listener is refused (nil, message, "busy").
function Breaker:close()
    return self.owner:close(self, C.sg_breaker_free)
end

function Breaker:__tostring()
    return self.handle == nil and "sluicegate.breaker (closed)" or "sluicegate.breaker"
end

return { new = new, counters = counters, owner_for = owner_for }
