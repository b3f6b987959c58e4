package sluicegate

import (
	"bytes"
	"errors"
	"log"
	"strings"
	"sync"
	"testing"
	"time"
)

// transitions collects what a listener was given.
type transitions struct {
	mu   sync.Mutex
	seen []Transition
	keys []string
}

func (ts *transitions) listen(t Transition) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.seen = append(ts.seen, t)
}

func (ts *transitions) listenKeyed(key string, t Transition) {
	ts.mu.Lock()
	ts.keys = append(ts.keys, key)
	ts.mu.Unlock()
	ts.listen(t)
}

// last is the latest transition and how many there were.
func (ts *transitions) last() (Transition, int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.seen) == 0 {
		return Transition{}, 0
	}
	return ts.seen[len(ts.seen)-1], len(ts.seen)
}

func newBreaker(t *testing.T, config BreakerConfig, listener func(Transition)) *Breaker {
	t.Helper()
	b, err := NewBreaker(config, listener)
	must(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

func acquire(t *testing.T, b *Breaker) *Permit {
	t.Helper()
	p, err := b.Acquire()
	must(t, err)
	return p
}

func record(t *testing.T, p *Permit, outcome Outcome, elapsed time.Duration) {
	t.Helper()
	stale, err := p.Record(outcome, elapsed)
	must(t, err)
	if stale {
		t.Fatal("the outcome was stale")
	}
}

func wantState(t *testing.T, b *Breaker, want State) {
	t.Helper()
	if got, err := b.State(); err != nil || got != want {
		t.Fatalf("state %v (%v), want %v", got, err, want)
	}
}

// wantRejection fails the test unless err is a *Rejection for reason.
func wantRejection(t *testing.T, p *Permit, err error, reason RejectReason) *Rejection {
	t.Helper()
	var r *Rejection
	if p != nil || !errors.As(err, &r) || !errors.Is(err, ErrRejected) || r.Reason != reason {
		t.Fatalf("got permit %v and error %v, want a rejection for %v", p, err, reason)
	}
	return r
}

// Two failures open the circuit; after the open time one trial passes, and its success
// closes the circuit again. The listener sees each transition, in order.
func TestBreakerOpensHalfOpensAndCloses(t *testing.T) {
	var seen transitions
	// Long enough that a busy machine does not end it between two calls.
	const openFor = 100 * time.Millisecond
	b := newBreaker(t, BreakerConfig{ConsecutiveFailures: 2, OpenFor: openFor, Seed: 7}, seen.listen)

	for i := 0; i < 2; i++ {
		record(t, acquire(t, b), OutcomeFailure, 1500*time.Microsecond)
	}
	wantState(t, b, StateOpen)
	got, n := seen.last()
	if want := (Transition{From: StateClosed, To: StateOpen, Cause: CauseConsecutiveFailures, At: got.At, Generation: 1}); n != 1 || got != want {
		t.Fatalf("transition %d: %+v, want %+v", n, got, want)
	}

	p, err := b.Acquire()
	r := wantRejection(t, p, err, RejectOpen)
	if r.RetryAfter <= 0 || r.RetryAfter > openFor {
		t.Fatalf("retry after %v", r.RetryAfter)
	}
	if !strings.HasPrefix(err.Error(), "sluicegate: call rejected: circuit open, retry after ") {
		t.Fatalf("error text %q", err)
	}

	time.Sleep(openFor + 10*time.Millisecond)
	trial := acquire(t, b)
	if got, _ := seen.last(); got.To != StateHalfOpen || got.Cause != CauseOpenElapsed {
		t.Fatalf("after the open time: %+v", got)
	}
	wantState(t, b, StateHalfOpen)
	p, err = b.Acquire()
	wantRejection(t, p, err, RejectHalfOpenFull)

	record(t, trial, OutcomeSuccess, 10*time.Microsecond)
	wantState(t, b, StateClosed)
	got, n = seen.last()
	if got.From != StateHalfOpen || got.To != StateClosed || got.Cause != CauseTrialsSucceeded || n != 3 || got.Generation != 3 {
		t.Fatalf("transition %d: %+v", n, got)
	}
	if got.At < openFor {
		t.Fatalf("the close is dated %v, before the open time passed", got.At)
	}
}

// An outcome reported after the breaker changed state counts only as stale.
func TestBreakerOutcomeAfterATransitionIsStale(t *testing.T) {
	b := newBreaker(t, BreakerConfig{ConsecutiveFailures: 1}, nil)
	p := acquire(t, b)
	must(t, b.Reset())
	stale, err := p.Record(OutcomeFailure, time.Millisecond)
	if err != nil || !stale {
		t.Fatalf("Record after Reset: stale %v, error %v", stale, err)
	}
	wantState(t, b, StateClosed)
	c, err := b.Counters()
	must(t, err)
	if c != (BreakerCounters{Permitted: 1, Stale: 1}) {
		t.Fatalf("counters %+v", c)
	}
}

func TestBreakerOperatorSwitches(t *testing.T) {
	var seen transitions
	b := newBreaker(t, BreakerConfig{ConsecutiveFailures: 1}, seen.listen)

	changed, err := b.ForceOpen()
	if err != nil || !changed {
		t.Fatalf("ForceOpen: %v, %v", changed, err)
	}
	if changed, err = b.ForceOpen(); err != nil || changed {
		t.Fatalf("second ForceOpen: %v, %v", changed, err)
	}
	wantState(t, b, StateForcedOpen)
	p, err := b.Acquire()
	if r := wantRejection(t, p, err, RejectForcedOpen); r.RetryAfter != Forever {
		t.Fatalf("a forced-open rejection retries after %v", r.RetryAfter)
	}
	if err.Error() != "sluicegate: call rejected: circuit forced open" {
		t.Fatalf("error text %q", err)
	}

	if changed, err = b.Disable(); err != nil || !changed {
		t.Fatalf("Disable: %v, %v", changed, err)
	}
	if changed, err = b.Disable(); err != nil || changed {
		t.Fatalf("second Disable: %v, %v", changed, err)
	}
	wantState(t, b, StateDisabled)
	// Disabled: failures are counted, nothing trips.
	for i := 0; i < 3; i++ {
		record(t, acquire(t, b), OutcomeFailure, 0)
	}
	wantState(t, b, StateDisabled)

	must(t, b.Reset())
	wantState(t, b, StateClosed)
	causes := []Cause{}
	seen.mu.Lock()
	for _, tr := range seen.seen {
		causes = append(causes, tr.Cause)
	}
	seen.mu.Unlock()
	if want := []Cause{CauseForced, CauseDisabled, CauseReset}; len(causes) != 3 || causes[0] != want[0] || causes[1] != want[1] || causes[2] != want[2] {
		t.Fatalf("causes %v, want %v", causes, want)
	}
	c, err := b.Counters()
	must(t, err)
	if c.Permitted != 3 || c.Failures != 3 || c.Rejected != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestPermitIsConsumedOnce(t *testing.T) {
	b := newBreaker(t, BreakerConfig{ConsecutiveFailures: 5}, nil)

	p := acquire(t, b)
	record(t, p, OutcomeSuccess, 0)
	_, err := p.Record(OutcomeSuccess, 0)
	wantError(t, err, ErrPermitUsed, "")
	p.Release() // after Record: nothing

	p = acquire(t, b)
	p.Release()
	p.Release()
	_, err = p.Record(OutcomeFailure, 0)
	wantError(t, err, ErrPermitUsed, "")

	// Refused arguments still consume the permit, as ignored.
	p = acquire(t, b)
	_, err = p.Record(Outcome(7), 0)
	wantError(t, err, ErrInvalidArgument, "outcome 7 is not")
	p = acquire(t, b)
	_, err = p.Record(OutcomeFailure, -time.Second)
	wantError(t, err, ErrInvalidArgument, "elapsed is negative (-1s)")
	_, err = p.Record(OutcomeFailure, 0)
	wantError(t, err, ErrPermitUsed, "")

	var nilPermit *Permit
	_, err = nilPermit.Record(OutcomeSuccess, 0)
	wantError(t, err, ErrPermitUsed, "")
	nilPermit.Release()

	c, err := b.Counters()
	must(t, err)
	if c != (BreakerCounters{Permitted: 4, Successes: 1, Ignored: 3}) {
		t.Fatalf("counters %+v", c)
	}
}

// Recorded elapsed times feed the slow-call policy: at the threshold a call is slow.
func TestBreakerCountsSlowCalls(t *testing.T) {
	b := newBreaker(t, BreakerConfig{
		SlowCallRatePercent: 50,
		SlowCallThreshold:   time.Millisecond,
		CountWindow:         4,
		MinCalls:            4,
	}, nil)
	for _, elapsed := range []time.Duration{999 * time.Microsecond, 1999 * time.Microsecond / 2, time.Millisecond, 2 * time.Millisecond} {
		record(t, acquire(t, b), OutcomeSuccess, elapsed)
	}
	c, err := b.Counters()
	must(t, err)
	if c.Slow != 2 || c.Successes != 4 {
		t.Fatalf("counters %+v", c)
	}
	wantState(t, b, StateOpen)
}

// A permit keeps its breaker, and the breaker's listener, alive past Close.
func TestPermitOutlivesItsBreaker(t *testing.T) {
	var seen transitions
	b, err := NewBreaker(BreakerConfig{ConsecutiveFailures: 1}, seen.listen)
	must(t, err)
	p := acquire(t, b)
	must(t, b.Close())
	if _, err := b.Acquire(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire after Close: %v", err)
	}
	record(t, p, OutcomeFailure, 0)
	if got, n := seen.last(); n != 1 || got.To != StateOpen {
		t.Fatalf("the listener saw %d transitions, the last %+v", n, got)
	}
}

func TestBreakerRefusesBadConfigs(t *testing.T) {
	for _, c := range []struct {
		name   string
		config BreakerConfig
		detail string
	}{
		{"no trip policy", BreakerConfig{}, "a breaker needs at least one trip policy"},
		{"rate without a window", BreakerConfig{FailureRatePercent: 50}, "needs a count or time window"},
		{"rate above 100", BreakerConfig{FailureRatePercent: 150, CountWindow: 10}, "failure rate 150% must be above 0 and at most 100"},
		{"two windows", BreakerConfig{FailureRatePercent: 50, CountWindow: 10, TimeWindow: time.Second}, "not both"},
		{"uneven buckets", BreakerConfig{FailureRatePercent: 50, TimeWindow: time.Second, TimeWindowBuckets: 3}, "does not split into 3 buckets"},
		{"backoff without a cap", BreakerConfig{FailureRatePercent: 50, CountWindow: 10, BackoffFactor: 2}, "backoff cap"},
		{"lanes not a power of two", BreakerConfig{ConsecutiveFailures: 1, Lanes: 3}, "counter lanes 3 must be a power of two"},
		{"negative open time", BreakerConfig{ConsecutiveFailures: 1, OpenFor: -time.Second}, "OpenFor is negative (-1s)"},
		{"negative trial timeout", BreakerConfig{ConsecutiveFailures: 1, TrialTimeout: -1}, "TrialTimeout is negative (-1ns)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var seen transitions
			b, err := NewBreaker(c.config, seen.listen)
			if b != nil {
				t.Fatal("a refused configuration returned a breaker")
			}
			wantError(t, err, ErrInvalidConfig, c.detail)
		})
	}
	// Every setting at once, each in range.
	b := newBreaker(t, BreakerConfig{
		FailureRatePercent: 50, SlowCallRatePercent: 80, SlowCallThreshold: 100 * time.Microsecond,
		TimeWindow: time.Second, TimeWindowBuckets: 4, MinCalls: 5, HalfOpenPermits: 2,
		OpenFor: time.Second, BackoffFactor: 2, BackoffMax: time.Minute, Jitter: 0.1,
		HalfOpenSuccesses: 4, Lanes: 2, HalfOpenFailureRatePercent: 50,
		TrialTimeout: 5 * time.Second, Seed: 1,
	}, nil)
	wantState(t, b, StateClosed)
}

// A listener runs with no lock held, so it may call back into its breaker.
func TestListenerMayCallItsBreaker(t *testing.T) {
	var b *Breaker
	var during []State
	b = newBreaker(t, BreakerConfig{ConsecutiveFailures: 1}, func(tr Transition) {
		s, err := b.State()
		if err != nil {
			panic(err)
		}
		during = append(during, s)
	})
	record(t, acquire(t, b), OutcomeFailure, 0)
	if len(during) != 1 || during[0] != StateOpen {
		t.Fatalf("the listener read %v", during)
	}
}

// A panicking listener is stopped at the boundary and logged; the breaker goes on.
func TestListenerPanicIsRecoveredAndLogged(t *testing.T) {
	var logged bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&logged)
	b := newBreaker(t, BreakerConfig{ConsecutiveFailures: 1}, func(Transition) { panic("listener bug") })
	record(t, acquire(t, b), OutcomeFailure, 0)
	wantState(t, b, StateOpen)
	if text := logged.String(); !strings.Contains(text, "a transition listener panicked: listener bug") || !strings.Contains(text, "goroutine") {
		t.Fatalf("logged %q", text)
	}
}
