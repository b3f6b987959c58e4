-- Nanoseconds per limiter:check in the hot-key scenario of benches/limiter.rs: one 16-byte key,
-- 100 requests per 60 s window, the library's clock. After the first 100 checks every check is
-- a rejection, as with a client hammering one route.
--
-- It times the binding's `limiter:check`, and beside it the bare FFI call the binding makes
-- (`sg_limiter_check` into a reused `sg_decision`), so the difference is the binding's own
-- cost. Each figure is the best of several runs in process CPU time, the figure least
-- disturbed by other work on a shared machine.
--
-- Usage, from bindings/lua: luajit bench/hot_key.lua [checks per run] [runs]

package.path = "./?.lua;" .. package.path

local ffi = require "ffi"
local sluicegate = require "sluicegate"
local C = require("sluicegate.core").C

ffi.cdef [[
typedef long time_t;
struct timespec { time_t tv_sec; long tv_nsec; };
int clock_gettime(int clock_id, struct timespec *tp);
]]

local CLOCK_PROCESS_CPUTIME_ID = 2
local timespec = ffi.new("struct timespec")

local function cpu_ns()
    ffi.C.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, timespec)
    return tonumber(timespec.tv_sec) * 1e9 + tonumber(timespec.tv_nsec)
end

local checks = tonumber(arg[1]) or 2000000
local runs = tonumber(arg[2]) or 7
if checks < 1 or runs < 1 then
    io.stderr:write("usage: luajit bench/hot_key.lua [checks per run > 0] [runs > 0]\n")
    os.exit(1)
end

local KEY = "client-000000000"
assert(#KEY == 16)

local function new_limiter()
    return assert(sluicegate.limiter { windows = { { limit = 100, seconds = 60 } } })
end

--- The best nanoseconds per check over `runs` runs of `run(checks)`, and the checks admitted
--- in all of them.
local function best_of(run)
    local best, admitted = math.huge, 0
    for _ = 1, runs do
        local start = cpu_ns()
        admitted = admitted + run(checks)
        best = math.min(best, (cpu_ns() - start) / checks)
    end
    return best, admitted
end

local limiter = new_limiter()
local binding, binding_admitted = best_of(function(n)
    local admitted = 0
    for _ = 1, n do
        if limiter:check(KEY).allowed then
            admitted = admitted + 1
        end
    end
    return admitted
end)

local bare_limiter = new_limiter()
local handle, out = bare_limiter.handle, ffi.new("sg_decision")
local bare, bare_admitted = best_of(function(n)
    local admitted = 0
    for _ = 1, n do
        assert(C.sg_limiter_check(handle, KEY, 16, 1, out) == 0)
        if out.allowed then
            admitted = admitted + 1
        end
    end
    return admitted
end)

print(("hot_key LuaJIT: %.2f ns per check (best of %d runs of %d, CPU time; %d admitted)")
    :format(binding, runs, checks, binding_admitted))
print(("hot_key LuaJIT bare FFI call: %.2f ns per check (%d admitted)"):format(bare, bare_admitted))
-- 100 admitted over all the runs: the window outlasts the benchmark.
os.exit((binding_admitted == 100 and bare_admitted == 100) and 0 or 1)
