-- The registry of breakers by key through the binding.

local sluicegate = require "sluicegate"
local expect = require "expect"

--- Three failures open a key's breaker, one opens "payments"'s; at most two keys.
local function registry(seen)
    return expect.ok(sluicegate.breakers {
        breaker = { consecutive_failures = 3 },
        overrides = { payments = { consecutive_failures = 1 } },
        shards = 1, max_keys = 2, max_key_len = 16,
        on_transition = seen and function(key, t) seen[#seen + 1] = { key = key, t = t } end,
    })
end

return {
    { "breakers by key, with overrides and a keyed listener", function()
        local seen = {}
        local breakers = registry(seen)
        local permit = expect.ok(breakers:acquire("payments"))
        expect.eq(permit:record("failure", 0.1), true, "a failure")
        expect.eq(breakers:state("payments"), "open", "one failure opens payments")
        expect.eq(seen[1].key, "payments", "the listener is told the key")
        expect.fields(seen[1].t, { from = "closed", to = "open", cause = "consecutive_failures" },
            "the transition")
        expect.fields(expect.ok(breakers:acquire("payments")), { allowed = false, reason = "open" },
            "payments rejected")

        expect.eq(expect.ok(breakers:acquire("search")):record("failure", 0.1), true, "a failure")
        expect.eq(breakers:state("search"), "closed", "the shared settings need three")
        expect.fields(breakers:counters("payments"), { permitted = 1, failures = 1, rejected = 1 },
            "payments' counters")
        expect.eq(breakers:len(), 2, "keys held")
        expect.eq(breakers:remove("search"), true, "room for the empty key")

        expect.eq(expect.ok(breakers:acquire("")):record("failure", 0), true, "the empty key")
        expect.eq(breakers:force_open(""), true, "forced open")
        expect.eq(seen[#seen].key, "", "the listener is told the empty key")
    end },

    { "unknown keys read as closed and zero, and reading makes nothing", function()
        local breakers = registry()
        expect.eq(breakers:state("users"), "closed", "state")
        expect.fields(breakers:counters("users"), { permitted = 0, failures = 0 }, "counters")
        expect.eq(breakers:len(), 0, "nothing made")
        expect.eq(breakers:reset("users"), false, "reset of a key not held")
        expect.eq(breakers:remove("users"), false, "remove of a key not held")
    end },

    { "operator switches by key, and removal", function()
        local seen = {}
        local breakers = registry(seen)
        expect.eq(breakers:force_open("search"), true, "force open a key never called")
        expect.eq(breakers:force_open("search"), false, "again")
        expect.fields(expect.ok(breakers:acquire("search")), { allowed = false,
            reason = "forced_open", retry_after = math.huge }, "forced")
        expect.eq(breakers:disable("search"), true, "disable")
        expect.eq(breakers:disable("search"), false, "disable again")
        expect.eq(breakers:reset("search"), true, "reset")
        expect.fields(seen[#seen], { key = "search" }, "keyed transition")
        expect.eq(seen[#seen].t.cause, "reset", "reset's cause")

        local permit = expect.ok(breakers:acquire("search"))
        expect.eq(breakers:remove("search"), true, "remove")
        expect.eq(breakers:len(), 0, "forgotten")
        expect.eq(permit:record("success", 0), true, "a permit records into its removed breaker")
    end },

    { "keys the registry refuses", function()
        local breakers = registry()
        expect.ok(breakers:acquire("payments"))
        expect.ok(breakers:acquire("search"))
        expect.failure("keys_exhausted", "maximum of 2", breakers:acquire("users"))
        expect.failure("keys_exhausted", "", breakers:force_open("users"))
        expect.failure("keys_exhausted", "", breakers:disable("users"))
        expect.failure("key_too_long", "longer than the maximum 16",
            breakers:acquire("a-very-long-host-name"))
        for _, method in ipairs { "acquire", "state", "counters", "force_open", "disable",
            "reset", "remove" } do
            expect.failure("invalid_argument", "the key must be a string, not number",
                breakers[method](breakers, 42))
        end
        expect.eq(breakers:stats().refused, 3, "refused")
    end },

    { "settings refused by the binding and by the library", function()
        local good = { consecutive_failures = 1 }
        local cases = {
            { {}, "breaker is required" },
            { { breaker = {} }, "a breaker needs at least one trip policy" },
            { { breaker = { consecutive_failure = 1 } },
                "breaker: unknown setting consecutive_failure" },
            { { breaker = good, overrides = { payments = {} } },
                'override 0 (key "payments"): a breaker needs at least one trip policy' },
            { { breaker = good, overrides = { payments = { open_for = 0 } } },
                'overrides["payments"]: open_for must be above 0' },
            { { breaker = good, overrides = { good } },
                "overrides: every key must be a string, not number" },
            { { breaker = good, overrides = "payments" }, "overrides must be a table" },
            { { breaker = good, idle_after = 0 }, "idle_after must be above 0" },
            { { breaker = good, shards = 3 }, "power of two" },
            { { breaker = good, on_transition = true },
                "on_transition must be a function, not boolean" },
            { { breaker = good, breakers = 1 }, "unknown setting breakers" },
        }
        for _, case in ipairs(cases) do
            expect.failure("invalid_config", case[2], sluicegate.breakers(case[1]))
        end
        local breakers = expect.ok(sluicegate.breakers { breaker = good, idle_after = 30,
            max_keys = 10, overrides = { b = good, a = good } })
        expect.eq(breakers:len(), 0, "empty")
    end },

    { "a detail message longer than the binding's buffer comes whole", function()
        local key = ("k"):rep(600)
        local _, message, code = sluicegate.breakers {
            breaker = { consecutive_failures = 1 }, overrides = { [key] = {} },
        }
        expect.eq(code, "invalid_config", "code")
        assert(message:find('override 0 (key "' .. key .. '"): a breaker needs', 1, true), message)
        local ending = "or slow-call rate)"
        expect.eq(message:sub(-#ending), ending, "the end of the message")
    end },

    { "stats, and a closed registry refuses every call", function()
        local breakers = registry()
        local permit = expect.ok(breakers:acquire("search"))
        local stats = breakers:stats()
        expect.fields(stats, { keys = 1, reclaimed = 0, refused = 0 }, "stats")
        assert(stats.bytes > 0, "a registry uses memory")
        expect.eq(breakers:close(), true, "close")
        expect.eq(breakers:close(), true, "close again")
        expect.eq(tostring(breakers), "sluicegate.breakers (closed)", "closed")
        for _, method in ipairs { "acquire", "state", "counters", "force_open", "disable",
            "reset", "remove", "len", "stats" } do
            expect.failure("closed", "the registry is closed", breakers[method](breakers, "search"))
        end
        expect.eq(permit:record("success", 0), true, "a permit outlives its registry")
    end },
}
