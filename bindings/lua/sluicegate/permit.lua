-- The answer to an acquire: a permit to make one call, or a rejection.

local ffi = require "ffi"
local core = require "sluicegate.core"

local C = core.C
local OK = core.OK
local STALE = C.SG_STALE_OUTCOME
local failure, invalid, micros, seconds = core.failure, core.invalid, core.micros, core.seconds

local REASONS = core.enum {
    C.SG_REJECT_OPEN, "open",
    C.SG_REJECT_HALF_OPEN_FULL, "half_open_full",
    C.SG_REJECT_FORCED_OPEN, "forced_open",
}
local _, OUTCOMES = core.enum {
    C.SG_OUTCOME_SUCCESS, "success",
    C.SG_OUTCOME_FAILURE, "failure",
    C.SG_OUTCOME_IGNORED, "ignored",
}

--- Leave to make one call. `allowed` is true; `record` or `release` consumes it, and the
--- garbage collector releases one that was neither.
local Permit = { allowed = true }
Permit.__index = Permit

--- Reports how the call went, `outcome` ("success", "failure" or "ignored"), and how long it
--- took, `elapsed` seconds (for the slow-call policy), consuming the permit.
---
--- Returns true when the outcome counted; false, message, "stale_outcome" when the breaker
--- changed state after the permit was admitted, so the outcome changed nothing; or nil,
--- message, code, having done nothing, for a bad argument or a permit already consumed.
function Permit:record(outcome, elapsed)
    local handle = self.handle
    if handle == nil then
        return nil, "the permit was already recorded or released", "consumed"
    end
    local number = OUTCOMES[outcome]
    if number == nil then
        return invalid(('the outcome must be "success", "failure" or "ignored", not %s')
            :format(tostring(outcome)))
    end
    local elapsed_us = micros(elapsed)
    if elapsed_us == nil then
        return invalid("elapsed must be the call's duration in seconds, at least 0")
    end
    self.handle = nil
    local owner = self.owner
    local result = owner.invoke(C.sg_permit_record, ffi.gc(handle, nil), number, elapsed_us)
    owner:release()
    if result == OK then
        return true
    end
    local _, message, code = failure(result)
    if result == STALE then
        return false, message, code
    end
    return nil, message, code
end

--- Releases the permit without an outcome: the call counts as ignored and its half-open trial
--- slot is freed. Returns true; releasing a consumed permit does nothing.
function Permit:release()
    local handle = self.handle
    if handle ~= nil then
        self.handle = nil
        local owner = self.owner
        owner.invoke(C.sg_permit_free, ffi.gc(handle, nil))
        owner:release()
    end
    return true
end

function Permit:__tostring()
    return self.handle == nil and "sluicegate.permit (consumed)" or "sluicegate.permit"
end

local permit = {}

--- The Lua answer to the `sg_admission` at `out`, for a handle whose calls go through `owner`
--- (see sluicegate/listener.lua): a permit, or a rejection table `{ allowed = false, reason =
--- "open" | "half_open_full" | "forced_open", retry_after = seconds }`, where `retry_after`
--- is `math.huge` when only an operator can end the rejection.
function permit.from_admission(out, owner)
    if out.permit == nil then
        return {
            allowed = false,
            reason = REASONS[out.reject_reason],
            retry_after = seconds(out.retry_after_us),
        }
    end
    owner:retain()
    return setmetatable({ handle = ffi.gc(out.permit, owner.free_permit), owner = owner }, Permit)
end

return permit
