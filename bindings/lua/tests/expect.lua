-- The few assertions the tests share. Each raises an error naming what differed.

local expect = {}

local function show(value)
    if type(value) == "string" then
        return ("%q"):format(value)
    end
    return tostring(value)
end

--- `actual` equals `expected`.
function expect.eq(actual, expected, what)
    if actual ~= expected then
        error(("%s: expected %s, got %s"):format(what or "value", show(expected), show(actual)), 2)
    end
end

--- Every field of `expected` equals the same field of `actual`.
function expect.fields(actual, expected, what)
    if type(actual) ~= "table" then
        error(("%s: expected a table, got %s"):format(what or "value", show(actual)), 2)
    end
    for name, value in pairs(expected) do
        if actual[name] ~= value then
            error(("%s.%s: expected %s, got %s"):format(what or "value", name, show(value),
                show(actual[name])), 2)
        end
    end
end

--- A call answered (its first value is not nil); returns that answer.
function expect.ok(value, message, code)
    if value == nil then
        error(("expected an answer, got nil, %s, %s"):format(show(message), show(code)), 2)
    end
    return value
end

local function failed(failed_value, code, part, value, message, got_code)
    if value ~= failed_value then
        error(("expected %s, %s, got %s"):format(show(failed_value), code, show(value)), 3)
    end
    if got_code ~= code then
        error(("expected code %s, got %s (%s)"):format(code, show(got_code), show(message)), 3)
    end
    if type(message) ~= "string" or not message:find(part, 1, true) then
        error(("expected a message containing %s, got %s"):format(show(part), show(message)), 3)
    end
end

--- A call failed: it returned nil, a message containing `part` (plain text), and `code`.
function expect.failure(code, part, ...)
    failed(nil, code, part, ...)
end

--- A call answered no without failing: false, a message containing `part`, and `code`.
function expect.declined(code, part, ...)
    failed(false, code, part, ...)
end

--- Sleeps `seconds` (plain LuaJIT has no sleep of its own).
function expect.wait(seconds)
    local ffi = require "ffi"
    if not pcall(function() return ffi.C.usleep end) then
        ffi.cdef "int usleep(unsigned int usec);"
    end
    ffi.C.usleep(math.ceil(seconds * 1e6))
end

return expect
