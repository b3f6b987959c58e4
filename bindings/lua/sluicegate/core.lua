-- The loaded library and what every handle shares: result codes turned into the OpenResty
-- style `nil, message, code`, and the checks and conversions of arguments (keys, costs, and
-- seconds, which the C ABI takes as whole microseconds).

local ffi = require "ffi"

ffi.cdef(require "sluicegate.cdef")

local floor = math.floor
local huge = math.huge

local core = {}

--- Loads the shared library from `$SLUICEGATE_LIB` when set, else `libsluicegate.so` from the
--- dynamic loader's path. Raises: without the library there is nothing the module can do.
local function load_library()
    local path = os.getenv("SLUICEGATE_LIB")
    local name = (path ~= nil and path ~= "") and path or "sluicegate"
    local ok, lib = pcall(ffi.load, name)
    if not ok then
        error(("sluicegate: cannot load the library %q (%s); set SLUICEGATE_LIB to the path of "
            .. "libsluicegate.so or put it on the loader's path"):format(name, tostring(lib)), 0)
    end
    return lib
end

local C = load_library()
core.C = C
core.OK = C.SG_OK

--- The code names handed out as the third value of a failure, by `sg_result` number.
local CODE_NAMES = {
    [C.SG_NULL_ARGUMENT] = "null_argument",
    [C.SG_INVALID_CONFIG] = "invalid_config",
    [C.SG_UNSUPPORTED_STRUCT_SIZE] = "unsupported_struct_size",
    [C.SG_ZERO_COST] = "zero_cost",
    [C.SG_COST_EXCEEDS_LIMIT] = "cost_exceeds_limit",
    [C.SG_KEY_TOO_LONG] = "key_too_long",
    [C.SG_KEYS_EXHAUSTED] = "keys_exhausted",
    [C.SG_STALE_OUTCOME] = "stale_outcome",
    [C.SG_INVALID_ARGUMENT] = "invalid_argument",
    [C.SG_PANIC] = "panic",
    [C.SG_WRONG_TIME_BASE] = "wrong_time_base",
}

local DETAIL_SIZE = 512
local detail_buffer = ffi.new("char[?]", DETAIL_SIZE)
local detail_length = ffi.new("size_t[1]")

--- The detail message of this thread's last failed library call ("" if there is none).
local function last_error()
    if C.sg_last_error(detail_buffer, DETAIL_SIZE, detail_length) ~= core.OK then
        return ""
    end
    local length = tonumber(detail_length[0])
    if length < DETAIL_SIZE then
        return ffi.string(detail_buffer, length)
    end
    local larger = ffi.new("char[?]", length + 1)
    C.sg_last_error(larger, length + 1, detail_length)
    return ffi.string(larger, length)
end

--- `nil, message, code` for a result code other than SG_OK: the library's detail message (or
--- the code's description when it left none) and the code's name.
function core.failure(result)
    local message = last_error()
    if message == "" then
        message = ffi.string(C.sg_result_message(result))
    end
    return nil, message, CODE_NAMES[result] or "unknown"
end

--- `nil, message, "invalid_argument"`: an argument the binding refused before calling the
--- library.
function core.invalid(message)
    return nil, message, "invalid_argument"
end

--- `nil, message, "closed"`: a call on a handle its owner already closed.
function core.closed(what)
    return nil, what .. " is closed", "closed"
end

local MAX_EXACT = 2 ^ 53

--- Whether `value` is a whole number a Lua number holds exactly (0 to 2^53).
function core.is_whole(value)
    return type(value) == "number" and value >= 0 and value <= MAX_EXACT and value % 1 == 0
end

--- `seconds` in whole microseconds (rounded to the nearest), or nil unless it is a finite
--- number of at least 0 whose microseconds a Lua number holds exactly.
function core.micros(seconds)
    if type(seconds) ~= "number" or seconds ~= seconds or seconds < 0
        or seconds * 1e6 > MAX_EXACT then
        return nil
    end
    return floor(seconds * 1e6 + 0.5)
end

local FOREVER = 0xffffffffffffffffULL

--- A library duration (`uint64_t` microseconds) in seconds; UINT64_MAX, "until an operator
--- acts", is `math.huge`.
function core.seconds(micros)
    if micros == FOREVER then
        return huge
    end
    return tonumber(micros) / 1e6
end

--- A table of the integer fields `names` of the struct `out`, as Lua numbers.
function core.numbers(out, names)
    local t = {}
    for i = 1, #names do
        local name = names[i]
        t[name] = tonumber(out[name])
    end
    return t
end

--- The refusal of a key that is not a string, or nil for a string.
function core.key_problem(key)
    if type(key) ~= "string" then
        return "the key must be a string, not " .. type(key)
    end
    return nil
end

--- A two-way table of an enum's names and numbers: `names[number]` and `numbers[name]`.
function core.enum(pairs_list)
    local names, numbers = {}, {}
    for i = 1, #pairs_list, 2 do
        local number, name = tonumber(pairs_list[i]), pairs_list[i + 1]
        names[number] = name
        numbers[name] = number
    end
    return names, numbers
end

--- Where a listener's errors and other things no caller can be handed go: nginx's error log
--- inside nginx, standard error elsewhere.
function core.report(message)
    local ngx = rawget(_G, "ngx")
    if type(ngx) == "table" and type(ngx.log) == "function" then
        ngx.log(ngx.ERR, message)
    else
        io.stderr:write(message, "\n")
    end
end

return core
