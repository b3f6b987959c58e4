package sluicegate

import (
	"fmt"
	"math"
	"time"
)

// Forever is the RetryAfter of a rejection that no wait ends: a breaker an operator forced
// open stays open until ForceOpen is undone by Reset or Disable.
const Forever = time.Duration(math.MaxInt64)

// The library counts time in microseconds. A configured duration is rounded up to a whole
// microsecond, so that no positive duration turns into 0, which a configuration reads as "the
// default"; a measured time (a clock reading, a call's elapsed time) is truncated, as a clock
// with a coarser tick would read it. Either is refused when negative. Coming out, a count of
// microseconds too large for a time.Duration (about 292 years) saturates at Forever.

// configMicros is a configured duration in whole microseconds, rounded up; a negative one is
// refused with an ErrInvalidConfig naming the field.
func configMicros(op, field string, d time.Duration) (uint64, error) {
	if d < 0 {
		return 0, invalid(op, ErrInvalidConfig, fmt.Sprintf("%s is negative (%v)", field, d))
	}
	us := d / time.Microsecond
	if d%time.Microsecond != 0 {
		us++
	}
	return uint64(us), nil
}

// measuredMicros is a measured time in whole microseconds, truncated; a negative one is
// refused with an ErrInvalidArgument naming the argument.
func measuredMicros(op, argument string, d time.Duration) (uint64, error) {
	if d < 0 {
		return 0, invalid(op, ErrInvalidArgument, fmt.Sprintf("%s is negative (%v)", argument, d))
	}
	return uint64(d / time.Microsecond), nil
}

// fromMicros is a library duration as a time.Duration, saturating at Forever.
func fromMicros(us uint64) time.Duration {
	if us > uint64(Forever/time.Microsecond) {
		return Forever
	}
	return time.Duration(us) * time.Microsecond
}
