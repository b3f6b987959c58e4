package sluicegate

/*
#include "sluicegate.h"
*/
import "C"

import "time"

// BreakerConfig says how to build a circuit breaker. Set at least one trip policy
// (ConsecutiveFailures, FailureRatePercent or SlowCallRatePercent); every other zero field
// means "off" or the default its comment names. A rate policy needs a window: CountWindow or
// TimeWindow, not both. Durations are rounded up to a whole microsecond.
type BreakerConfig struct {
	// ConsecutiveFailures opens the circuit after this many failures in a row (1 to 65,535);
	// 0 for no such policy.
	ConsecutiveFailures uint32
	// FailureRatePercent opens the circuit when failures make up this percentage (above 0,
	// at most 100) of the window's calls; 0 for no such policy.
	FailureRatePercent float64
	// SlowCallRatePercent opens the circuit when calls taking SlowCallThreshold or longer
	// make up this percentage of the window's calls; 0 for no such policy.
	SlowCallRatePercent float64
	// SlowCallThreshold is how long a slow call takes at least; required with, and only
	// with, SlowCallRatePercent.
	SlowCallThreshold time.Duration
	// CountWindow judges rates over the last this many calls (1 to 1,048,576); 0 for no
	// count window.
	CountWindow uint32
	// TimeWindowBuckets is the number of buckets TimeWindow is split into (1 to 4096, each a
	// whole number of microseconds); 0 for 10. Only with TimeWindow.
	TimeWindowBuckets uint32
	// TimeWindow judges rates over the last this long; 0 for no time window.
	TimeWindow time.Duration
	// MinCalls is how many calls the window must hold before rates are judged; 0 for 10 (or
	// the count window's size if smaller).
	MinCalls uint32
	// HalfOpenPermits is the number of half-open trial calls in flight at once (1 to 1024);
	// 0 for 1.
	HalfOpenPermits uint32
	// OpenFor is how long the circuit stays open (the first open time with a backoff); 0 for
	// 10 seconds.
	OpenFor time.Duration
	// BackoffFactor multiplies the open time after each failed half-open probe (a finite
	// number of at least 1), up to BackoffMax; 0 for a fixed open time.
	BackoffFactor float64
	// BackoffMax is the longest open time; required with, and only with, BackoffFactor.
	BackoffMax time.Duration
	// Jitter shortens each open time by a random part of up to this fraction of it (0 to 1),
	// so breakers that tripped together do not probe together; 0 for no jitter.
	Jitter float64
	// HalfOpenSuccesses is the number of half-open trials that must succeed to close the
	// circuit (1 to 65,535); 0 for 1.
	HalfOpenSuccesses uint32
	// Lanes is the number of counter stripes, a power of two up to 64: more cost memory and
	// spare goroutines counting at once from contending on one cache line; 0 for one per core
	// for a lone breaker and 1 for each breaker of a registry.
	Lanes uint32
	// HalfOpenFailureRatePercent judges the HalfOpenSuccesses trials by failure rate,
	// reopening once failures are this percentage of them; 0 for "the first failed trial
	// reopens".
	HalfOpenFailureRatePercent float64
	// TrialTimeout is how long a half-open trial may go unreported before it counts as
	// failed; 0 for 60 seconds. Set it above the upstream's timeout.
	TrialTimeout time.Duration
	// Seed seeds the jitter's random numbers, so runs repeat; 0 for a random seed.
	Seed uint64
}

// toC lays the configuration out for the library; a negative duration is refused with an
// error naming the field, prefixed by where the configuration sits.
func (c *BreakerConfig) toC(op, where string) (C.sg_breaker_config, error) {
	out := C.sg_breaker_config{
		struct_size:                    C.sizeof_sg_breaker_config,
		consecutive_failures:           C.uint32_t(c.ConsecutiveFailures),
		failure_rate_percent:           C.double(c.FailureRatePercent),
		slow_call_rate_percent:         C.double(c.SlowCallRatePercent),
		count_window:                   C.uint32_t(c.CountWindow),
		time_window_buckets:            C.uint32_t(c.TimeWindowBuckets),
		min_calls:                      C.uint32_t(c.MinCalls),
		half_open_permits:              C.uint32_t(c.HalfOpenPermits),
		backoff_factor:                 C.double(c.BackoffFactor),
		jitter:                         C.double(c.Jitter),
		half_open_successes:            C.uint32_t(c.HalfOpenSuccesses),
		lanes:                          C.uint32_t(c.Lanes),
		half_open_failure_rate_percent: C.double(c.HalfOpenFailureRatePercent),
		seed:                           C.uint64_t(c.Seed),
	}
	durations := []struct {
		field string
		value time.Duration
		us    *C.uint64_t
	}{
		{"SlowCallThreshold", c.SlowCallThreshold, &out.slow_call_threshold_us},
		{"TimeWindow", c.TimeWindow, &out.time_window_us},
		{"OpenFor", c.OpenFor, &out.open_for_us},
		{"BackoffMax", c.BackoffMax, &out.backoff_max_us},
		{"TrialTimeout", c.TrialTimeout, &out.trial_timeout_us},
	}
	for _, d := range durations {
		us, err := configMicros(op, where+d.field, d.value)
		if err != nil {
			return C.sg_breaker_config{}, err
		}
		*d.us = C.uint64_t(us)
	}
	return out, nil
}
