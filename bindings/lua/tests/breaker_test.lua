-- A lone breaker through the binding: its states, permits, operator switches and failures.

local sluicegate = require "sluicegate"
local expect = require "expect"

local OPEN_FOR = 0.02

--- A breaker that opens after two failures in a row, for OPEN_FOR seconds, with the
--- transitions it makes in `seen`.
local function tripping_breaker(settings)
    local seen = {}
    local options = { consecutive_failures = 2, open_for = OPEN_FOR, seed = 7,
        on_transition = function(t) seen[#seen + 1] = t end }
    for name, value in pairs(settings or {}) do
        options[name] = value
    end
    return expect.ok(sluicegate.breaker(options)), seen
end

local function trip(breaker)
    for _ = 1, 2 do
        local permit = expect.ok(breaker:acquire())
        expect.eq(permit:record("failure", 0.001), true, "a failure counted")
    end
end

return {
    { "closed, open, half-open and closed again", function()
        local breaker, seen = tripping_breaker()
        expect.eq(breaker:state(), "closed", "a new breaker")
        trip(breaker)
        expect.eq(breaker:state(), "open", "after two failures")
        expect.fields(seen[1], { from = "closed", to = "open", cause = "consecutive_failures",
            generation = 1 }, "the trip")
        assert(seen[1].at >= 0, "a transition's time is in seconds of the library's clock")

        local rejection = expect.ok(breaker:acquire())
        expect.fields(rejection, { allowed = false, reason = "open" }, "while open")
        assert(rejection.retry_after > 0 and rejection.retry_after <= OPEN_FOR,
            "retry after the rest of the open time, got " .. rejection.retry_after)

        expect.wait(OPEN_FOR + 0.005)
        local trial = expect.ok(breaker:acquire())
        expect.eq(trial.allowed, true, "the first call after the open time is a trial")
        expect.fields(seen[2], { from = "open", to = "half_open", cause = "open_elapsed" }, "probe")
        expect.eq(breaker:state(), "half_open", "during the trial")
        expect.fields(expect.ok(breaker:acquire()), { allowed = false, reason = "half_open_full" },
            "a second call while the one trial slot is taken")
        expect.eq(trial:record("success", 0.003), true, "the trial's success counted")
        expect.fields(seen[3], { from = "half_open", to = "closed", cause = "trials_succeeded",
            generation = 3 }, "closing")
        expect.eq(breaker:state(), "closed", "after the trial")
    end },

    { "a failed trial opens the breaker again", function()
        local breaker, seen = tripping_breaker()
        trip(breaker)
        expect.wait(OPEN_FOR + 0.005)
        local trial = expect.ok(breaker:acquire())
        expect.eq(trial:record("failure", 0), true, "the failed trial counted")
        expect.fields(seen[3], { from = "half_open", to = "open", cause = "trials_failed" },
            "reopen")
    end },

    { "an outcome reported after a state change is stale", function()
        local breaker = tripping_breaker()
        local permit = expect.ok(breaker:acquire())
        expect.eq(breaker:reset(), true, "reset")
        expect.declined("stale_outcome", "stale", permit:record("failure", 0.001))
        expect.failure("consumed", "already recorded or released", permit:record("success", 0))
        local counters = breaker:counters()
        expect.fields(counters, { permitted = 1, failures = 0, stale = 1 }, "counters")
    end },

    { "operator switches", function()
        local breaker, seen = tripping_breaker()
        expect.eq(breaker:force_open(), true, "force open")
        expect.eq(breaker:force_open(), false, "force open again")
        expect.fields(seen[1], { to = "forced_open", cause = "forced" }, "forced")
        expect.fields(expect.ok(breaker:acquire()), { allowed = false, reason = "forced_open",
            retry_after = math.huge }, "forced open rejects until an operator acts")
        expect.eq(breaker:disable(), true, "disable")
        expect.eq(breaker:disable(), false, "disable again")
        expect.eq(breaker:state(), "disabled", "disabled")
        for _ = 1, 5 do
            expect.eq(expect.ok(breaker:acquire()):record("failure", 0), true, "counted")
        end
        expect.eq(breaker:state(), "disabled", "a disabled breaker never trips")
        expect.eq(breaker:reset(), true, "reset")
        expect.fields(seen[#seen], { from = "disabled", to = "closed", cause = "reset" }, "reset")
    end },

    { "counters add up, with ignored, released and slow calls", function()
        local breaker = expect.ok(sluicegate.breaker {
            consecutive_failures = 5,
            failure_rate_percent = 90, slow_call_rate_percent = 90, slow_call_threshold = 0.5,
            count_window = 100,
        })
        expect.eq(expect.ok(breaker:acquire()):record("success", 0.6), true, "a slow success")
        expect.eq(expect.ok(breaker:acquire()):record("failure", 0.1), true, "a failure")
        expect.eq(expect.ok(breaker:acquire()):record("ignored", 0), true, "an ignored call")
        expect.eq(expect.ok(breaker:acquire()):release(), true, "a released permit")
        expect.fields(breaker:counters(), { permitted = 4, rejected = 0, successes = 1,
            failures = 1, ignored = 2, slow = 1, stale = 0, trial_timeouts = 0 }, "counters")
    end },

    { "a bad outcome or elapsed time is refused and leaves the permit usable", function()
        local breaker = tripping_breaker()
        local permit = expect.ok(breaker:acquire())
        expect.failure("invalid_argument",
            'the outcome must be "success", "failure" or "ignored", not ok',
            permit:record("ok", 0))
        expect.failure("invalid_argument", "elapsed must be the call's duration in seconds",
            permit:record("success"))
        expect.failure("invalid_argument", "elapsed must be", permit:record("success", -1))
        expect.eq(tostring(permit), "sluicegate.permit", "still usable")
        expect.eq(permit:record("success", 0), true, "recorded")
        expect.eq(tostring(permit), "sluicegate.permit (consumed)", "consumed")
        expect.eq(permit:release(), true, "releasing a consumed permit does nothing")
        expect.fields(breaker:counters(), { permitted = 1, successes = 1, ignored = 0 }, "counters")
    end },

    { "settings refused by the binding and by the library", function()
        local cases = {
            { {}, "a breaker needs at least one trip policy" },
            { { failure_rate_percent = 50 }, "needs a count or time window" },
            { { consecutive_failures = 1, open_for = 0 },
                "open_for must be above 0 (leave it out for the default)" },
            { { consecutive_failures = 1, open_for = "10s" },
                "open_for must be a number of seconds" },
            { { consecutive_failures = -1 }, "consecutive_failures must be a whole number" },
            { { consecutive_failures = 1, jitter = 0 / 0 }, "jitter must be a finite number" },
            { { consecutive_failures = 1, backoff_factor = 2 }, "backoff cap" },
            { { consecutive_failures = 1, lanes = 3 }, "lanes" },
            { { consecutive_failure = 1 }, "unknown setting consecutive_failure" },
            { { consecutive_failures = 1, on_transition = "log" },
                "on_transition must be a function, not string" },
            { "strict", "the settings must be a table, not string" },
        }
        for _, case in ipairs(cases) do
            expect.failure("invalid_config", case[2], sluicegate.breaker(case[1]))
        end
        expect.ok(sluicegate.breaker {
            failure_rate_percent = 50, slow_call_rate_percent = 80, slow_call_threshold = 0.0001,
            time_window = 1, time_window_buckets = 4, min_calls = 5, half_open_permits = 2,
            half_open_successes = 4, half_open_failure_rate_percent = 50, jitter = 0.1,
            backoff_factor = 2, backoff_max = 60, trial_timeout = 5, lanes = 2, seed = 1,
        })
    end },

    { "a closed breaker refuses every call; its permits live on", function()
        local breaker = tripping_breaker()
        local permit = expect.ok(breaker:acquire())
        expect.eq(breaker:close(), true, "close")
        expect.eq(breaker:close(), true, "close again")
        expect.eq(tostring(breaker), "sluicegate.breaker (closed)", "closed")
        for _, method in ipairs { "acquire", "state", "counters", "force_open", "disable",
            "reset" } do
            expect.failure("closed", "the breaker is closed", breaker[method](breaker))
        end
        expect.eq(permit:record("success", 0), true, "a permit outlives its breaker")
    end },
}
