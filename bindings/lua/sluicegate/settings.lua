-- Lua option tables into the C ABI's config structs, by a list of field descriptions.
--
-- The binding checks the type and the Lua-side shape of each setting (a whole number, a number
-- of seconds, a known name) and refuses unknown settings, so a typo is an error and not a
-- silent default. The library checks the ranges and how settings combine, and its message
-- names the setting at fault.
--
-- Where the C ABI reads 0 as "the default" (not "off"), a setting given explicitly as 0 is
-- refused: leave it out to get the default. Where 0 means "off", 0 is accepted.

local core = require "sluicegate.core"

local settings = {}

local MAX_U32 = 2 ^ 32 - 1

--- Field kinds: each converts a Lua value into the C field's value, or returns nil and why not.
local KINDS = {}

function KINDS.u32(value)
    if not core.is_whole(value) or value > MAX_U32 then
        return nil, "must be a whole number from 0 to 4294967295"
    end
    return value
end

function KINDS.u64(value)
    if not core.is_whole(value) then
        return nil, "must be a whole number from 0 to 2^53"
    end
    return value
end

function KINDS.number(value)
    if type(value) ~= "number" or value ~= value or value == math.huge or value == -math.huge then
        return nil, "must be a finite number"
    end
    return value
end

function KINDS.seconds(value)
    local micros = core.micros(value)
    if micros == nil then
        return nil, "must be a number of seconds, at least 0"
    end
    return micros
end

--- `value` converted for `field`, a field description: `{ name, kind, zero = "off" |
--- "default" | "refused", required = true when it may not be left out, c = the C field's name
--- (default: name), values = { name = number } for kind "enum" }`. Or nil and why not.
local function convert(field, value)
    local kind = field[2]
    if kind == "enum" then
        local number = field.values[value]
        if number == nil then
            local known = {}
            for name in pairs(field.values) do
                known[#known + 1] = ("%q"):format(name)
            end
            table.sort(known)
            return nil, "must be one of " .. table.concat(known, ", ")
        end
        return number
    end
    local converted, why = KINDS[kind](value)
    if converted == nil then
        return nil, why
    end
    if converted == 0 and field.zero == "default" then
        return nil, "must be above 0 (leave it out for the default)"
    elseif converted == 0 and field.zero == "refused" then
        return nil, "must be above 0"
    end
    return converted
end

--- Sets `struct`'s fields from `options` by `fields`. Keys of `options` that are neither in
--- `fields` nor in `extra` (a set of names the caller handles itself) are refused. `where`
--- prefixes messages ("" or e.g. "override \"payments\": ").
---
--- Returns true, or nil, message, "invalid_config".
function settings.fill(struct, options, fields, extra, where)
    if type(options) ~= "table" then
        return nil, where .. "the settings must be a table, not " .. type(options), "invalid_config"
    end
    local by_name = {}
    for _, field in ipairs(fields) do
        by_name[field[1]] = field
    end
    for name in pairs(options) do
        if by_name[name] == nil and not (extra and extra[name]) then
            return nil, ("%sunknown setting %s"):format(where, tostring(name)), "invalid_config"
        end
    end
    for _, field in ipairs(fields) do
        local name = field[1]
        local value = options[name]
        if value == nil and field.required then
            return nil, ("%s%s is required"):format(where, name), "invalid_config"
        elseif value ~= nil then
            local converted, why = convert(field, value)
            if converted == nil then
                return nil, ("%s%s %s"):format(where, name, why), "invalid_config"
            end
            struct[field.c or name] = converted
        end
    end
    return true
end

return settings
