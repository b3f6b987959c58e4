-- The limiter through the binding: decisions in both time bases, and every way a call fails.

local sluicegate = require "sluicegate"
local expect = require "expect"

local KEY = "203.0.113.7"

--- A limiter driven by the caller's time: 10 per second and 2 per minute.
local function caller_limiter()
    return expect.ok(sluicegate.limiter {
        windows = { { limit = 10, seconds = 1 }, { limit = 2, seconds = 60 } },
        time_base = "caller",
    })
end

return {
    { "a client is refused after its limit and let back in when the window allows", function()
        local limiter = caller_limiter()
        local d = expect.ok(limiter:check_at(KEY, 0))
        expect.fields(d, { allowed = true, window = 2, limit = 2, remaining = 1,
            reset_after = 60, retry_after = 0 }, "first")
        expect.fields(expect.ok(limiter:check_at(KEY, 0.001)), { allowed = true, remaining = 0 },
            "second")

        d = expect.ok(limiter:check_at(KEY, 0.002))
        expect.fields(d, { allowed = false, window = 2, limit = 2, remaining = 0,
            retry_after = 59.998 }, "third")
        expect.fields(expect.ok(limiter:check_at(KEY, 59.999999)),
            { allowed = false, retry_after = 0.000001 }, "a microsecond early")
        expect.fields(expect.ok(limiter:check_at(KEY, 60)), { allowed = true, remaining = 0 },
            "at the minute")
        -- Rejections recorded nothing: the second request leaves the window at 60.001 s.
        expect.fields(expect.ok(limiter:check_at(KEY, 60.001)), { allowed = true }, "then")
    end },

    { "a peek reports what a check would and records nothing", function()
        local limiter = caller_limiter()
        expect.fields(expect.ok(limiter:peek_at(KEY, 0)), { allowed = true, remaining = 1 }, "peek")
        expect.fields(expect.ok(limiter:peek_at(KEY, 0, 2)), { allowed = true, remaining = 0 },
            "peek of cost 2")
        expect.eq(expect.ok(limiter:len()), 0, "keys after peeking")
        expect.fields(expect.ok(limiter:check_at(KEY, 0, 2)), { allowed = true, remaining = 0 },
            "check of cost 2")
        expect.fields(expect.ok(limiter:peek_at(KEY, 1)), { allowed = false,
            retry_after = 59 }, "peek when spent")
    end },

    { "keys are independent, the empty key is a key, and time never runs backwards", function()
        local limiter = caller_limiter()
        expect.ok(limiter:check_at(KEY, 10, 2))
        expect.fields(expect.ok(limiter:check_at("other", 10)), { allowed = true, remaining = 1 },
            "another key")
        expect.fields(expect.ok(limiter:check_at("", 10)), { allowed = true }, "the empty key")
        -- An earlier time counts as the latest seen: KEY stays spent.
        expect.fields(expect.ok(limiter:check_at(KEY, 0)), { allowed = false,
            retry_after = 60 }, "a time from the past")
        expect.eq(expect.ok(limiter:len()), 3, "keys")
    end },

    { "reset, remove, len and stats", function()
        local limiter = caller_limiter()
        expect.ok(limiter:check_at(KEY, 0, 2))
        expect.ok(limiter:check_at(KEY, 0))
        expect.ok(limiter:check_at("other", 0))
        expect.eq(limiter:reset(KEY), true, "reset of a tracked key")
        expect.fields(expect.ok(limiter:check_at(KEY, 0.5, 2)), { allowed = true }, "after reset")
        expect.eq(limiter:reset("never seen"), false, "reset of an unknown key")
        expect.eq(limiter:remove("other"), true, "remove")
        expect.eq(limiter:remove("other"), false, "remove again")
        expect.eq(limiter:len(), 1, "keys")
        local stats = expect.ok(limiter:stats())
        expect.fields(stats, { keys = 1, allowed = 3, rejected = 1, evictions = 0,
            refused_keys = 0 }, "stats")
        assert(stats.bytes > 0, "a limiter holding a key uses memory")
    end },

    { "the library's clock", function()
        local limiter = expect.ok(sluicegate.limiter { windows = { { limit = 3, seconds = 60 } } })
        expect.fields(expect.ok(limiter:check(KEY)), { allowed = true, remaining = 2 }, "first")
        expect.fields(expect.ok(limiter:check(KEY, 2)), { allowed = true, remaining = 0 }, "second")
        local d = expect.ok(limiter:check(KEY))
        assert(not d.allowed and d.retry_after > 59 and d.retry_after <= 60, "spent for a minute")
        expect.fields(expect.ok(limiter:peek("fresh")), { allowed = true, remaining = 2 }, "peek")
    end },

    { "each time base refuses the other's calls", function()
        local caller = caller_limiter()
        expect.failure("wrong_time_base", 'time_base = "caller": use check_at and peek_at',
            caller:check(KEY))
        expect.failure("wrong_time_base", "use check_at", caller:peek(KEY))
        local library = expect.ok(sluicegate.limiter { windows = { { limit = 3, seconds = 1 } } })
        expect.failure("wrong_time_base", 'time_base = "library": use check and peek',
            library:check_at(KEY, 0))
        expect.failure("wrong_time_base", "use check and peek", library:peek_at(KEY, 0))
    end },

    { "requests the library refuses", function()
        local limiter = expect.ok(sluicegate.limiter {
            windows = { { limit = 3, seconds = 60 } },
            max_key_len = 4, max_keys = 1, shards = 1, on_full = "reject_new_keys",
        })
        expect.failure("zero_cost", "cost", limiter:check("a", 0))
        expect.failure("cost_exceeds_limit",
            "cost 9 is above the limit 3 of a window, so it can never be admitted",
            limiter:peek("a", 9))
        expect.failure("key_too_long", "longer than", limiter:check("abcde"))
        expect.ok(limiter:check("a"))
        expect.failure("keys_exhausted", "", limiter:check("b"))
        expect.eq(limiter:stats().refused_keys, 1, "refused keys")
    end },

    { "arguments the binding refuses before calling the library", function()
        local limiter = caller_limiter()
        expect.failure("invalid_argument", "the key must be a string, not nil",
            limiter:check_at(nil, 0))
        expect.failure("invalid_argument", "not number", limiter:check_at(42, 0))
        for _, cost in ipairs { -1, 1.5, 0 / 0, math.huge, "1" } do
            expect.failure("invalid_argument", "the cost must be a whole number",
                limiter:check_at(KEY, 0, cost))
        end
        for _, now in ipairs { -1, 0 / 0, math.huge, "0", 1e12 } do
            expect.failure("invalid_argument", "now must be a time in seconds",
                limiter:peek_at(KEY, now))
        end
        expect.failure("invalid_argument", "the key must be a string", limiter:reset(false))
        expect.failure("invalid_argument", "the key must be a string", limiter:remove({}))
        expect.eq(limiter:len(), 0, "nothing refused made a key")
    end },

    { "settings the binding refuses, each named", function()
        local cases = {
            { nil, "the settings must be a table, not nil" },
            { {}, "windows must be a list of { limit = n, seconds = s }, at least one" },
            { { windows = {} }, "at least one" },
            { { windows = { 5 } }, "windows[1]: the settings must be a table, not number" },
            { { windows = { { limit = 5 } } }, "windows[1]: seconds is required" },
            { { windows = { { seconds = 5 } } }, "windows[1]: limit is required" },
            { { windows = { { limit = 0, seconds = 1 } } }, "windows[1]: limit must be above 0" },
            { { windows = { { limit = 1, seconds = 1 }, { limit = 2.5, seconds = 9 } } },
                "windows[2]: limit must be a whole number" },
            { { windows = { { limit = 1, seconds = -1 } } },
                "windows[1]: seconds must be a number of seconds" },
            { { windows = { { limit = 1, seconds = 1, burst = 2 } } },
                "windows[1]: unknown setting burst" },
            { { windows = { { limit = 1, seconds = 1 } }, time_base = "wall" },
                'time_base must be one of "caller", "library"' },
            { { windows = { { limit = 1, seconds = 1 } }, on_full = "drop" },
                'on_full must be one of "evict_least_recent", "reject_new_keys"' },
            { { windows = { { limit = 1, seconds = 1 } }, shards = 0 },
                "shards must be above 0 (leave it out for the default)" },
            { { windows = { { limit = 1, seconds = 1 } }, max_key_len = 2 ^ 32 },
                "max_key_len must be a whole number from 0 to 4294967295" },
            { { windows = { { limit = 1, seconds = 1 } }, max_keys = "many" },
                "max_keys must be a whole number" },
            { { windows = { { limit = 1, seconds = 1 } }, window = 1 }, "unknown setting window" },
        }
        for _, case in ipairs(cases) do
            expect.failure("invalid_config", case[2], sluicegate.limiter(case[1]))
        end
    end },

    { "settings the library refuses, with its detail message", function()
        local one = { limit = 1, seconds = 1 }
        expect.failure("invalid_config", "power of two",
            sluicegate.limiter { windows = { one }, shards = 3 })
        expect.failure("invalid_config", "both 1s long",
            sluicegate.limiter { windows = { one, { limit = 2, seconds = 1 } } })
        local nine = {}
        for i = 1, 9 do
            nine[i] = { limit = i, seconds = i }
        end
        expect.failure("invalid_config", "window", sluicegate.limiter { windows = nine })
        expect.failure("invalid_config", "max",
            sluicegate.limiter { windows = { one }, max_key_len = 70000 })
    end },

    { "a closed limiter refuses every call, and closing is idempotent", function()
        local limiter = caller_limiter()
        expect.eq(tostring(limiter), "sluicegate.limiter", "open")
        expect.eq(limiter:close(), true, "close")
        expect.eq(limiter:close(), true, "close again")
        expect.eq(tostring(limiter), "sluicegate.limiter (closed)", "closed")
        expect.failure("closed", "the limiter is closed", limiter:check_at(KEY, 0))
        expect.failure("closed", "the limiter is closed", limiter:check(KEY))
        expect.failure("closed", "the limiter is closed", limiter:peek_at(KEY, 0))
        expect.failure("closed", "the limiter is closed", limiter:reset(KEY))
        expect.failure("closed", "the limiter is closed", limiter:remove(KEY))
        expect.failure("closed", "the limiter is closed", limiter:len())
        expect.failure("closed", "the limiter is closed", limiter:stats())
    end },

    { "the version is the library's", function()
        assert(sluicegate.version:match("^%d+%.%d+%.%d+$"), sluicegate.version)
    end },
}
