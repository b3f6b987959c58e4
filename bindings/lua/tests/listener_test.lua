-- Transition listeners: called from the library through FFI callbacks, under the JIT compiler,
-- with errors contained and re-entrant calls allowed.

local sluicegate = require "sluicegate"
local core = require "sluicegate.core"
local listener = require "sluicegate.listener"
local expect = require "expect"

--- Runs `rounds` calls through a breaker that opens on one failure, one call in a hundred
--- failing and an open breaker reset: a loop the JIT compiles while the calls that deliver
--- transitions are rare, which is when a compiled FFI call would meet a callback (LuaJIT stops
--- the VM with "bad callback" then). Returns how many calls were admitted.
local function run_hot(acquire, reset, rounds)
    local outcomes = {}
    for i = 1, rounds do
        outcomes[i] = i % 100 == 0 and "failure" or "success"
    end
    local admitted = 0
    for i = 1, rounds do
        local answer = acquire()
        if answer.allowed then
            admitted = admitted + 1
            assert(answer:record(outcomes[i], 0))
        else
            assert(reset())
        end
    end
    return admitted
end

local ROUNDS = 3000

--- Calls `fn` with core.report replaced by a function keeping what it is given; returns that.
local function reports_during(fn)
    local reports = {}
    local report = core.report
    core.report = function(message) reports[#reports + 1] = message end
    local ok, err = pcall(fn)
    core.report = report
    assert(ok, err)
    return reports
end

return {
    { "transitions reach listeners from hot, compiled loops", function()
        local count, last = 0, 0
        local breaker = expect.ok(sluicegate.breaker {
            consecutive_failures = 1,
            on_transition = function(t)
                count = count + 1
                assert(t.generation == last + 1, "generation order")
                last = t.generation
            end,
        })
        local admitted = run_hot(function() return breaker:acquire() end,
            function() return breaker:reset() end, ROUNDS)
        -- Each failure opens the breaker; the next call is rejected and resets it.
        expect.eq(admitted, ROUNDS - ROUNDS / 100 + 1, "admitted")
        expect.eq(count, 2 * (ROUNDS / 100) - 1, "transitions delivered")

        local keyed = 0
        local breakers = expect.ok(sluicegate.breakers {
            breaker = { consecutive_failures = 1 },
            on_transition = function(key) if key == "upstream" then keyed = keyed + 1 end end,
        })
        run_hot(function() return breakers:acquire("upstream") end,
            function() return breakers:reset("upstream") end, ROUNDS)
        expect.eq(keyed, 2 * (ROUNDS / 100) - 1, "keyed transitions delivered")
    end },

    { "a listener's error is reported, and the breaker goes on", function()
        local calls = 0
        local breaker = expect.ok(sluicegate.breaker {
            consecutive_failures = 1,
            on_transition = function(t)
                calls = calls + 1
                error("listener broke on " .. t.to)
            end,
        })
        local reports = reports_during(function()
            assert(expect.ok(breaker:acquire()):record("failure", 0))
            assert(breaker:reset())
        end)
        expect.eq(calls, 2, "both transitions reached the listener")
        expect.eq(#reports, 2, "each error reported")
        assert(reports[1]:find("a transition listener failed: .*listener broke on open"),
            reports[1])
        expect.eq(breaker:state(), "closed", "the breaker works on")
    end },

    { "a listener may call back into its breaker", function()
        local seen = {}
        local breaker
        breaker = expect.ok(sluicegate.breaker {
            consecutive_failures = 1,
            on_transition = function(t)
                seen[#seen + 1] = t.to
                if t.to == "open" then
                    assert(breaker:state() == "open")
                    assert(breaker:counters().failures == 1)
                    assert(breaker:reset())
                end
            end,
        })
        assert(expect.ok(breaker:acquire()):record("failure", 0))
        expect.eq(table.concat(seen, " "), "open closed", "its own transition follows")
        expect.eq(breaker:state(), "closed", "reset from the listener")
    end },

    { "a listener cannot close a breaker or registry, which go on working", function()
        local answers = {}
        local breaker, breakers
        local function close_all()
            answers[#answers + 1] = { breaker:close() }
            answers[#answers + 1] = { breakers:close() }
        end
        breaker = expect.ok(sluicegate.breaker { consecutive_failures = 1,
            on_transition = close_all })
        breakers = expect.ok(sluicegate.breakers { breaker = { consecutive_failures = 1 },
            on_transition = close_all })
        assert(expect.ok(breaker:acquire()):record("failure", 0))
        assert(expect.ok(breakers:acquire("upstream")):record("failure", 0))
        expect.eq(#answers, 4, "each listener tried to close both")
        for _, answer in ipairs(answers) do
            expect.failure("busy", "cannot be closed from inside a transition listener",
                answer[1], answer[2], answer[3])
        end
        expect.eq(breaker:state(), "open", "the breaker works on")
        expect.eq(breakers:state("upstream"), "open", "the registry works on")
        expect.eq(breaker:close(), true, "closed outside a listener")
        expect.eq(breakers:close(), true, "closed outside a listener")
    end },

    { "a listener is kept while its handle or a permit from it lives", function()
        local before = listener.count()
        local seen = {}
        local breaker = expect.ok(sluicegate.breaker {
            consecutive_failures = 1,
            on_transition = function(t) seen[#seen + 1] = t end,
        })
        expect.eq(listener.count(), before + 1, "held by the breaker")
        local permit = expect.ok(breaker:acquire())
        breaker:close()
        expect.eq(listener.count(), before + 1, "held by the permit")
        assert(permit:record("failure", 0))
        expect.eq(#seen, 1, "the permit's outcome tripped the closed breaker's listener")
        expect.eq(listener.count(), before, "let go")

        local failing = sluicegate.breaker { on_transition = print }
        assert(failing == nil, "a refused breaker")
        expect.eq(listener.count(), before, "a refused breaker keeps no listener")
    end },
}
