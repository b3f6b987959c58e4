-- A breaker's settings, as a Lua table, into an `sg_breaker_config`. Durations are seconds;
-- every other setting is the C field of the same name (see include/sluicegate.h).

local ffi = require "ffi"
local settings = require "sluicegate.settings"

local FIELDS = {
    { "consecutive_failures", "u32", zero = "off" },
    { "failure_rate_percent", "number", zero = "off" },
    { "slow_call_rate_percent", "number", zero = "off" },
    { "slow_call_threshold", "seconds", zero = "off", c = "slow_call_threshold_us" },
    { "count_window", "u32", zero = "off" },
    { "time_window_buckets", "u32", zero = "default" },
    { "time_window", "seconds", zero = "off", c = "time_window_us" },
    { "min_calls", "u32", zero = "default" },
    { "half_open_permits", "u32", zero = "default" },
    { "open_for", "seconds", zero = "default", c = "open_for_us" },
    { "backoff_factor", "number", zero = "off" },
    { "backoff_max", "seconds", zero = "off", c = "backoff_max_us" },
    { "jitter", "number", zero = "off" },
    { "half_open_successes", "u32", zero = "default" },
    { "lanes", "u32", zero = "default" },
    { "half_open_failure_rate_percent", "number", zero = "off" },
    { "trial_timeout", "seconds", zero = "default", c = "trial_timeout_us" },
    { "seed", "u64", zero = "default" },
}

--- The `sg_breaker_config` for `options`, or nil, message, code. `extra` names the settings
--- the caller handles itself (such as `on_transition`); `where` prefixes messages.
local function build(options, extra, where)
    local config = ffi.new("sg_breaker_config")
    config.struct_size = ffi.sizeof(config)
    local ok, message, code = settings.fill(config, options, FIELDS, extra, where)
    if not ok then
        return nil, message, code
    end
    return config
end

return { build = build }
