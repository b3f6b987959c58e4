package sluicegate

/*
#include "sluicegate.h"
*/
import "C"

import (
	"fmt"
	"time"
)

// State is where a circuit breaker stands.
type State uint32

const (
	// StateClosed: calls pass; outcomes are measured against the trip policies.
	StateClosed State = C.SG_STATE_CLOSED
	// StateOpen: calls are rejected until the open time has passed.
	StateOpen State = C.SG_STATE_OPEN
	// StateHalfOpen: a bounded number of trial calls pass; their outcomes decide between
	// closed and open.
	StateHalfOpen State = C.SG_STATE_HALF_OPEN
	// StateForcedOpen: held open by an operator until reset or disabled.
	StateForcedOpen State = C.SG_STATE_FORCED_OPEN
	// StateDisabled: switched off by an operator; every call passes and is counted, nothing
	// trips.
	StateDisabled State = C.SG_STATE_DISABLED
)

// String names the state, as "closed" or "half-open".
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	case StateForcedOpen:
		return "forced open"
	case StateDisabled:
		return "disabled"
	}
	return fmt.Sprintf("State(%d)", uint32(s))
}

// Cause is why a breaker changed state.
type Cause uint32

const (
	// CauseConsecutiveFailures: closed to open, the run of failures reached its threshold.
	CauseConsecutiveFailures Cause = C.SG_CAUSE_CONSECUTIVE_FAILURES
	// CauseFailureRate: closed to open, the failure rate reached its threshold.
	CauseFailureRate Cause = C.SG_CAUSE_FAILURE_RATE
	// CauseSlowCallRate: closed to open, the slow-call rate reached its threshold.
	CauseSlowCallRate Cause = C.SG_CAUSE_SLOW_CALL_RATE
	// CauseOpenElapsed: open to half-open, the open time passed and a caller came to probe.
	CauseOpenElapsed Cause = C.SG_CAUSE_OPEN_ELAPSED
	// CauseTrialsSucceeded: half-open to closed, enough trials succeeded.
	CauseTrialsSucceeded Cause = C.SG_CAUSE_TRIALS_SUCCEEDED
	// CauseTrialsFailed: half-open to open, enough trials failed.
	CauseTrialsFailed Cause = C.SG_CAUSE_TRIALS_FAILED
	// CauseTrialTimeout: half-open to open, trials unreported past the trial timeout made
	// enough failures.
	CauseTrialTimeout Cause = C.SG_CAUSE_TRIAL_TIMEOUT
	// CauseForced: any state to forced open, by ForceOpen.
	CauseForced Cause = C.SG_CAUSE_FORCED
	// CauseDisabled: any state to disabled, by Disable.
	CauseDisabled Cause = C.SG_CAUSE_DISABLED
	// CauseReset: any state to closed, by Reset.
	CauseReset Cause = C.SG_CAUSE_RESET
)

// String names the cause, as "consecutive failures".
func (c Cause) String() string {
	switch c {
	case CauseConsecutiveFailures:
		return "consecutive failures"
	case CauseFailureRate:
		return "failure rate"
	case CauseSlowCallRate:
		return "slow-call rate"
	case CauseOpenElapsed:
		return "open time elapsed"
	case CauseTrialsSucceeded:
		return "trials succeeded"
	case CauseTrialsFailed:
		return "trials failed"
	case CauseTrialTimeout:
		return "trial timeout"
	case CauseForced:
		return "forced open"
	case CauseDisabled:
		return "disabled"
	case CauseReset:
		return "reset"
	}
	return fmt.Sprintf("Cause(%d)", uint32(c))
}

// Transition is one change of a breaker's state, as a listener receives it.
type Transition struct {
	// From is the state left.
	From State
	// To is the state entered.
	To State
	// Cause is why.
	Cause Cause
	// At is when, by the library's monotonic clock, counted from the creation of the
	// breaker or registry.
	At time.Duration
	// Generation is the generation entered: one more than the previous transition's.
	Generation uint64
}

func transitionFrom(t *C.sg_transition) Transition {
	return Transition{
		From:       State(t.from),
		To:         State(t.to),
		Cause:      Cause(t.cause),
		At:         fromMicros(uint64(t.at_us)),
		Generation: uint64(t.generation),
	}
}

// BreakerCounters are what a breaker has counted since it was built. They only grow; once no
// permit is outstanding, Permitted == Successes + Failures + Ignored + Stale.
type BreakerCounters struct {
	// Permitted is the number of calls admitted (permits handed out).
	Permitted uint64
	// Rejected is the number of calls rejected.
	Rejected uint64
	// Successes is the number of successes recorded in the generation they were admitted in.
	Successes uint64
	// Failures is the number of failures recorded in the generation they were admitted in.
	Failures uint64
	// Ignored is the number of permits recorded as ignored or released unrecorded, in their
	// generation.
	Ignored uint64
	// Slow is the number of successes and failures that took at least the slow-call
	// threshold.
	Slow uint64
	// Stale is the number of permits that ended after their generation did, and so counted
	// for nothing else.
	Stale uint64
	// TrialTimeouts is the number of half-open trials that went unreported past the trial
	// timeout and counted as failed.
	TrialTimeouts uint64
}

func countersFrom(c *C.sg_breaker_counters) BreakerCounters {
	return BreakerCounters{
		Permitted:     uint64(c.permitted),
		Rejected:      uint64(c.rejected),
		Successes:     uint64(c.successes),
		Failures:      uint64(c.failures),
		Ignored:       uint64(c.ignored),
		Slow:          uint64(c.slow),
		Stale:         uint64(c.stale),
		TrialTimeouts: uint64(c.trial_timeouts),
	}
}
