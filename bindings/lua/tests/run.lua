-- Runs the binding's tests against the real library and prints one line per test, then
-- "N passed, N failed". Exits non-zero if any failed.
--
-- Usage, from bindings/lua: SLUICEGATE_LIB=/path/to/libsluicegate.so luajit tests/run.lua
-- [name filter]

package.path = "./?.lua;./tests/?.lua;" .. package.path

local SUITES = { "limiter_test", "breaker_test", "breakers_test", "listener_test", "release_test" }

local filter = arg[1]
local passed, failed = 0, 0
for _, suite in ipairs(SUITES) do
    for _, case in ipairs(require(suite)) do
        local name = suite .. ": " .. case[1]
        if filter == nil or name:find(filter, 1, true) then
            local ok, err = xpcall(case[2], debug.traceback)
            if ok then
                passed = passed + 1
                print("ok    " .. name)
            else
                failed = failed + 1
                print("FAIL  " .. name .. "\n" .. tostring(err))
            end
        end
    end
end
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and passed > 0 and 0 or 1)
