-- A registry of circuit breakers by key (one per upstream host, say), made on first use.

local ffi = require "ffi"
local core = require "sluicegate.core"
local breaker = require "sluicegate.breaker"
local breaker_config = require "sluicegate.breaker_config"
local listener = require "sluicegate.listener"
local permit = require "sluicegate.permit"
local settings = require "sluicegate.settings"

local C = core.C
local OK = core.OK
local failure, invalid, closed, key_problem = core.failure, core.invalid, core.closed,
    core.key_problem
local flush = listener.flush

local FIELDS = {
    { "shards", "u32", zero = "default" },
    { "max_keys", "u64", zero = "default" },
    { "idle_after", "seconds", zero = "default", c = "idle_after_us" },
    { "max_key_len", "u32", zero = "default" },
}
local HANDLED_HERE = { breaker = true, overrides = true, on_transition = true }

--- The overrides, a table of per-key breaker settings, as `{ array = sg_breaker_override[n],
--- count = n, configs = {...} }` in the order of their keys (`configs` holds what the array
--- points to); or nil, message, code.
local function overrides_array(overrides)
    if overrides == nil then
        return { count = 0 }
    end
    if type(overrides) ~= "table" then
        return nil, "overrides must be a table of key = breaker settings", "invalid_config"
    end
    local keys = {}
    for key in pairs(overrides) do
        if type(key) ~= "string" then
            return nil, "overrides: every key must be a string, not " .. type(key),
                "invalid_config"
        end
        keys[#keys + 1] = key
    end
    table.sort(keys)
    local configs = {}
    for i, key in ipairs(keys) do
        local config, message, code = breaker_config.build(overrides[key], nil,
            ("overrides[%q]: "):format(key))
        if not config then
            return nil, message, code
        end
        configs[i] = config
    end
    local array = ffi.new("sg_breaker_override[?]", #keys)
    for i, key in ipairs(keys) do
        array[i - 1].key = key
        array[i - 1].key_len = #key
        array[i - 1].config = configs[i]
    end
    return { array = array, count = #keys, configs = configs, keys = keys }
end

local Breakers = {}
Breakers.__index = Breakers

--- Builds a registry; see README.md for the settings. Returns the registry, or nil, message,
--- code.
local function new(options)
    local config = ffi.new("sg_breakers_config")
    config.struct_size = ffi.sizeof(config)
    local ok, message, code = settings.fill(config, options, FIELDS, HANDLED_HERE, "")
    if not ok then
        return nil, message, code
    end
    if options.breaker == nil then
        return nil, "breaker is required: the settings of every key's breaker", "invalid_config"
    end
    local shared
    shared, message, code = breaker_config.build(options.breaker, nil, "breaker: ")
    if not shared then
        return nil, message, code
    end
    local overrides
    overrides, message, code = overrides_array(options.overrides)
    if not overrides then
        return nil, message, code
    end
    local owner
    owner, message, code = breaker.owner_for(options, true)
    if not owner then
        return nil, message, code
    end
    local out = ffi.new("sg_breakers *[1]")
    -- Pointers last, after every allocation: a pointer field keeps nothing alive, and the
    -- collector can only run at an allocation.
    config.breaker = shared
    config.overrides = overrides.array
    config.overrides_len = overrides.count
    local result = C.sg_breakers_new(config, owner.callback, owner.userdata, out)
    if result ~= OK then
        owner:release()
        return failure(result)
    end
    local handle = ffi.gc(out[0], owner:finalizer(C.sg_breakers_free))
    return setmetatable({ handle = handle, owner = owner }, Breakers)
end

--- Why a keyed call cannot be made, as nil, message, code; nil when it can.
local function refusal(self, key)
    if self.handle == nil then
        return closed("the registry")
    end
    local problem = key_problem(key)
    if problem then
        return invalid(problem)
    end
    return nil
end

--- Asks `key`'s breaker (made if new) to make one call. Returns a permit or a rejection, as
--- `breaker:acquire` does; or nil, message, code.
function Breakers:acquire(key)
    flush()
    if self.handle == nil or type(key) ~= "string" then
        return refusal(self, key)
    end
    local out = ffi.new("sg_admission")
    local result = self.owner.invoke(C.sg_breakers_acquire, self.handle, key, #key, out)
    if result ~= OK then
        return failure(result)
    end
    return permit.from_admission(out, self.owner)
end

--- The state of `key`'s breaker; a key the registry does not hold is "closed", the state its
--- next call would find. Makes nothing.
function Breakers:state(key)
    flush()
    if self.handle == nil or type(key) ~= "string" then
        return refusal(self, key)
    end
    local out = ffi.new("sg_state[1]")
    local result = C.sg_breakers_get_state(self.handle, key, #key, out)
    if result ~= OK then
        return failure(result)
    end
    return listener.STATES[out[0]]
end

--- The counters of `key`'s breaker, as `breaker:counters` gives them; all zero for a key the
--- registry does not hold. Makes nothing.
function Breakers:counters(key)
    flush()
    if self.handle == nil or type(key) ~= "string" then
        return refusal(self, key)
    end
    local out = ffi.new("sg_breaker_counters")
    local result = C.sg_breakers_get_counters(self.handle, key, #key, out)
    if result ~= OK then
        return failure(result)
    end
    return breaker.counters(out)
end

--- Calls a keyed function that answers with one flag.
local function keyed_flag(self, call, key)
    flush()
    if self.handle == nil or type(key) ~= "string" then
        return refusal(self, key)
    end
    local flag = ffi.new("bool[1]")
    local result = self.owner.invoke(call, self.handle, key, #key, flag)
    if result ~= OK then
        return failure(result)
    end
    return flag[0]
end

--- `breaker:force_open` on `key`'s breaker, made if new (so an operator can hold a host off
--- before its first call). Returns whether it changed anything.
function Breakers:force_open(key)
    return keyed_flag(self, C.sg_breakers_force_open, key)
end

--- `breaker:disable` on `key`'s breaker, made if new. Returns whether it changed anything.
function Breakers:disable(key)
    return keyed_flag(self, C.sg_breakers_disable, key)
end

--- `breaker:reset` on `key`'s breaker, if the registry holds one. Returns whether it did.
function Breakers:reset(key)
    return keyed_flag(self, C.sg_breakers_reset, key)
end

--- Forgets `key`'s breaker; its outstanding permits still record into it, and the key's next
--- call starts a new one. Returns whether the registry held one.
function Breakers:remove(key)
    return keyed_flag(self, C.sg_breakers_remove, key)
end

--- How many breakers the registry holds.
function Breakers:len()
    flush()
    if self.handle == nil then
        return closed("the registry")
    end
    local out = ffi.new("size_t[1]")
    local result = C.sg_breakers_len(self.handle, out)
    if result ~= OK then
        return failure(result)
    end
    return tonumber(out[0])
end

local STATS = { "keys", "reclaimed", "refused", "bytes" }

--- The registry's counters and sizes: keys, reclaimed, refused, bytes.
function Breakers:stats()
    flush()
    if self.handle == nil then
        return closed("the registry")
    end
    local out = ffi.new("sg_breakers_stats")
    local result = C.sg_breakers_get_stats(self.handle, out)
    if result ~= OK then
        return failure(result)
    end
    return core.numbers(out, STATS)
end

--- Releases the registry now rather than when the garbage collector finds it. Permits still
--- outstanding stay valid and may still be recorded. Closing twice does nothing; closing
--- from inside a transition listener is refused (nil, message, "busy").
function Breakers:close()
    return self.owner:close(self, C.sg_breakers_free)
end

function Breakers:__tostring()
    return self.handle == nil and "sluicegate.breakers (closed)" or "sluicegate.breakers"
end

return { new = new }
