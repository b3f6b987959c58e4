-- Release by the garbage collector: finalizers free handles and permits, and transitions they
-- cause wait for the next call instead of running inside the collector.

local sluicegate = require "sluicegate"
local listener = require "sluicegate.listener"
local expect = require "expect"

--- Resident memory of this process, in bytes.
local function resident()
    local statm = assert(io.open("/proc/self/statm"))
    local _, pages = statm:read("*n", "*n")
    statm:close()
    return pages * 4096
end

local function collect()
    collectgarbage()
    collectgarbage()
end

--- The growth of resident memory while `make` is called `rounds` times and its results are
--- dropped, each round after a full collection. Freed memory is reused, so growth stays small
--- unless finalizers leak.
local function growth(rounds, make)
    make() -- the allocator's first growth is not a leak
    collect()
    local before = resident()
    for _ = 1, rounds do
        make()
        collect()
    end
    return resident() - before
end

local MB = 1024 * 1024

return {
    { "a limiter the collector finds is freed", function()
        local keys = {}
        for i = 1, 2000 do
            keys[i] = "client-" .. i
        end
        local bytes
        local grown = growth(60, function()
            local limiter = expect.ok(sluicegate.limiter {
                windows = { { limit = 5, seconds = 60 } },
            })
            for _, key in ipairs(keys) do
                expect.ok(limiter:check(key))
            end
            bytes = limiter:stats().bytes
        end)
        -- Leaked, 60 limiters would hold 60 * bytes (about 10 MB).
        assert(grown < 10 * bytes, ("resident memory grew by %d bytes; one limiter holds %d")
            :format(grown, bytes))
    end },

    { "breakers and registries the collector finds are freed", function()
        local grown = growth(20, function()
            for _ = 1, 1000 do
                expect.ok(sluicegate.breaker { consecutive_failures = 1 })
            end
        end)
        assert(grown < 4 * MB,
            ("20000 dropped breakers grew resident memory by %d bytes"):format(grown))
        local registry_bytes
        grown = growth(20, function()
            local breakers = expect.ok(sluicegate.breakers {
                breaker = { consecutive_failures = 1 },
            })
            for i = 1, 500 do
                expect.ok(breakers:acquire("host-" .. i)):release()
            end
            registry_bytes = breakers:stats().bytes
        end)
        assert(grown < 5 * registry_bytes,
            ("resident memory grew by %d bytes; one registry holds %d"):format(grown,
                registry_bytes))
    end },

    { "a permit the collector finds counts as ignored and frees its trial slot", function()
        local breaker = expect.ok(sluicegate.breaker { consecutive_failures = 1, open_for = 0.005 })
        assert(expect.ok(breaker:acquire()):record("failure", 0))
        expect.wait(0.01)
        local trial = expect.ok(breaker:acquire())
        expect.eq(trial.allowed, true, "the trial")
        expect.fields(expect.ok(breaker:acquire()), { allowed = false, reason = "half_open_full" },
            "the slot is taken")
        trial = nil -- luacheck: ignore 311 (dropped, for the collector to find)
        collect()
        expect.eq(expect.ok(breaker:acquire()).allowed, true, "the slot was freed")
        expect.eq(breaker:counters().ignored, 1, "the dropped trial counted as ignored")
    end },

    { "a transition a collected permit causes is delivered at the next call", function()
        local seen = {}
        local breaker = expect.ok(sluicegate.breaker {
            consecutive_failures = 1, open_for = 0.005, trial_timeout = 0.005,
            on_transition = function(t) seen[#seen + 1] = t end,
        })
        assert(expect.ok(breaker:acquire()):record("failure", 0))
        expect.wait(0.01)
        local trial = expect.ok(breaker:acquire())
        expect.eq(trial.allowed, true, "the trial")
        expect.eq(seen[#seen].to, "half_open", "probing")
        expect.wait(0.01)
        -- Releasing the timed-out trial counts its timeout, which reopens the breaker.
        trial = nil -- luacheck: ignore 311 (dropped, for the collector to find)
        collect()
        expect.eq(#seen, 2, "nothing delivered inside the collector")
        expect.eq(breaker:state(), "open", "the next call")
        expect.eq(#seen, 3, "delivered by the next call")
        expect.fields(seen[3], { from = "half_open", to = "open", cause = "trial_timeout" },
            "timeout")
        expect.eq(breaker:counters().trial_timeouts, 1, "counted")
    end },

    { "handles with listeners the collector finds let their listeners go", function()
        collect()
        local before = listener.count()
        for _ = 1, 50 do
            expect.ok(sluicegate.breaker { consecutive_failures = 1, on_transition = print })
            expect.ok(sluicegate.breakers { breaker = { consecutive_failures = 1 },
                on_transition = print })
        end
        local permit = expect.ok(expect.ok(sluicegate.breaker {
            consecutive_failures = 1, on_transition = print }):acquire())
        collect()
        expect.eq(listener.count(), before + 1, "only the outstanding permit's listener is kept")
        permit:release()
        expect.eq(listener.count(), before, "none kept")
    end },

    { "a library that cannot be loaded is a clear error at require", function()
        local luajit = arg[-1] or "luajit"
        local pipe = assert(io.popen(("SLUICEGATE_LIB=/nonexistent/libsluicegate.so %s -e "
            .. "'package.path = \"./?.lua;\" .. package.path; require \"sluicegate\"' 2>&1")
            :format(luajit)))
        local output = pipe:read("*a")
        pipe:close()
        assert(output:find("sluicegate: cannot load the library \"/nonexistent/libsluicegate.so\"",
            1, true), output)
        assert(output:find("set SLUICEGATE_LIB", 1, true), output)
    end },
}
