-- Transition listeners: Lua functions the library calls back through FFI callbacks.
--
-- Three constraints of LuaJIT shape this module:
--
-- * A C function called from a compiled trace must not call back into Lua. Every library call
--   that can deliver a transition (acquire, record, release, force_open, disable, reset) goes
--   through `owner.invoke`, which for a breaker with a listener is a function JIT compilation
--   is switched off for: the call then always runs in the interpreter, and a trace that
--   reaches it stops there. Breakers without a listener call the library directly.
-- * Callback slots are few and never garbage collected, so there are exactly two, made on
--   first use and shared by every breaker and registry: the `userdata` pointer the library
--   hands back carries the number of the listener to call.
-- * An error must not unwind through the library's frames, and Lua code run by a garbage
--   collector's finalizer must not touch the buffers a call in progress is reading. So a
--   listener runs under pcall (its errors go to nginx's error log or standard error), and a
--   transition caused by a permit the garbage collector released is queued, then delivered at
--   the start of the next breaker or registry call in this Lua state.
--
-- A listener is kept while its handle is open and while any permit from that handle is
-- outstanding: the library may call it until the last of them is gone. While a listener runs,
-- closing a breaker or registry is refused: the library may be inside a call on it.

local ffi = require "ffi"
local core = require "sluicegate.core"

local C = core.C

local listener = {}

local STATES = core.enum {
    C.SG_STATE_CLOSED, "closed",
    C.SG_STATE_OPEN, "open",
    C.SG_STATE_HALF_OPEN, "half_open",
    C.SG_STATE_FORCED_OPEN, "forced_open",
    C.SG_STATE_DISABLED, "disabled",
}
local CAUSES = core.enum {
    C.SG_CAUSE_CONSECUTIVE_FAILURES, "consecutive_failures",
    C.SG_CAUSE_FAILURE_RATE, "failure_rate",
    C.SG_CAUSE_SLOW_CALL_RATE, "slow_call_rate",
    C.SG_CAUSE_OPEN_ELAPSED, "open_elapsed",
    C.SG_CAUSE_TRIALS_SUCCEEDED, "trials_succeeded",
    C.SG_CAUSE_TRIALS_FAILED, "trials_failed",
    C.SG_CAUSE_TRIAL_TIMEOUT, "trial_timeout",
    C.SG_CAUSE_FORCED, "forced",
    C.SG_CAUSE_DISABLED, "disabled",
    C.SG_CAUSE_RESET, "reset",
}

--- The names of `sg_state` numbers, for the breaker modules.
listener.STATES = STATES

--- Calls `fn` with the rest of the arguments; compiled into traces like any call.
local function call_compiled(fn, ...)
    return fn(...)
end

--- Calls `fn` with the rest of the arguments, always in the interpreter.
local function call_interpreted(fn, ...)
    return fn(...)
end
jit.off(call_interpreted)

-- Listeners by number, each `{ fn = function, keyed = boolean, holds = count }`.
local active = {}
local last_number = 0

-- Transitions waiting for delivery: `{ fn, keyed, key, transition }` in arrival order.
local pending = {}
-- True while one of this binding's finalizers runs.
local finalizing = false

-- How many listeners are running (a listener may cause a transition whose listener runs).
local running = 0

local function run(fn, keyed, key, transition)
    local ok, err
    running = running + 1
    if keyed then
        ok, err = pcall(fn, key, transition)
    else
        ok, err = pcall(fn, transition)
    end
    running = running - 1
    if not ok then
        core.report("sluicegate: a transition listener failed: " .. tostring(err))
    end
end

--- Delivers the queued transitions, oldest first.
function listener.flush()
    if pending[1] == nil then
        return
    end
    local queued = pending
    pending = {}
    for i = 1, #queued do
        local q = queued[i]
        run(q[1], q[2], q[3], q[4])
    end
end

local function deliver(userdata, key, key_len, t)
    local entry = active[tonumber(ffi.cast("uintptr_t", userdata))]
    if entry == nil then
        return
    end
    local transition = {
        from = STATES[t.from],
        to = STATES[t.to],
        cause = CAUSES[t.cause],
        at = tonumber(t.at_us) / 1e6,
        generation = tonumber(t.generation),
    }
    local name
    if entry.keyed then
        name = key_len > 0 and ffi.string(key, key_len) or ""
    end
    if finalizing then
        pending[#pending + 1] = { entry.fn, entry.keyed, name, transition }
        return
    end
    listener.flush()
    run(entry.fn, entry.keyed, name, transition)
end

--- Runs `deliver` so that nothing raised can unwind into the library.
local function deliver_safely(userdata, key, key_len, t)
    local ok, err = pcall(deliver, userdata, key, key_len, t)
    if not ok then
        core.report("sluicegate: a transition could not be delivered: " .. tostring(err))
    end
end

local callbacks = {}

--- The shared C callback for a lone breaker (`keyed` false) or a registry (`keyed` true).
local function callback(keyed)
    if callbacks[keyed] == nil then
        if keyed then
            callbacks[keyed] = ffi.cast("sg_keyed_transition_listener", deliver_safely)
        else
            callbacks[keyed] = ffi.cast("sg_transition_listener",
                function(userdata, t) deliver_safely(userdata, nil, 0, t) end)
        end
    end
    return callbacks[keyed]
end

--- An owner: what a handle and its permits share about calling the library (`invoke`, the
--- listener's `callback` and `userdata`, and `free_permit`, the permits' finalizer). The handle
--- holds it once, and each outstanding permit once more.
local Owner = {}
Owner.__index = Owner

function Owner:retain()
    if self.entry then
        self.entry.holds = self.entry.holds + 1
    end
end

function Owner:release()
    local entry = self.entry
    if entry then
        entry.holds = entry.holds - 1
        if entry.holds == 0 then
            active[self.number] = nil
        end
    end
end

--- Frees `object.handle` with `free` now, instead of by its finalizer, clears it and releases
--- the handle's hold. Returns true, also when the handle is closed already; or nil, message,
--- "busy" while a listener runs, since the library may then be inside a call on that very
--- handle, and freeing it there would pull it from under the call.
function Owner:close(object, free)
    local handle = object.handle
    if handle == nil then
        return true
    end
    if running > 0 then
        return nil, "a breaker or registry cannot be closed from inside a transition listener",
            "busy"
    end
    object.handle = nil
    free(ffi.gc(handle, nil))
    self:release()
    return true
end

--- Makes `free(pointer)` a finalizer: run as a library call that may deliver transitions,
--- with deliveries queued, and then releasing the owner's hold.
function Owner:finalizer(free)
    local invoke = self.invoke
    return function(pointer)
        finalizing = true
        invoke(free, pointer)
        finalizing = false
        self:release()
    end
end

local function new_owner(fields)
    local owner = setmetatable(fields, Owner)
    owner.free_permit = owner:finalizer(C.sg_permit_free)
    return owner
end

--- The owner for a handle with no listener: library calls are compiled, nothing is counted.
function listener.none()
    return new_owner({ invoke = call_compiled, callback = nil, userdata = nil })
end

--- The owner for a handle whose transitions go to `fn`: `fn(transition)` for a breaker,
--- `fn(key, transition)` for a registry (`keyed`). Pass its `callback` and `userdata` to the
--- library's constructor; if that fails, `release` it.
function listener.subscribe(fn, keyed)
    last_number = last_number + 1
    local entry = { fn = fn, keyed = keyed, holds = 1 }
    active[last_number] = entry
    return new_owner({
        invoke = call_interpreted,
        callback = callback(keyed),
        userdata = ffi.cast("void *", last_number),
        entry = entry,
        number = last_number,
    })
end

--- How many listeners the library may still call (for tests of the bookkeeping).
function listener.count()
    local n = 0
    for _ in pairs(active) do
        n = n + 1
    end
    return n
end

return listener
