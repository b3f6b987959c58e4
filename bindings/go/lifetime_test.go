package sluicegate

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every method of a closed or nil handle fails with ErrClosed, naming itself; Close stays
// harmless.
func TestClosedAndNilHandlesFailWithErrClosed(t *testing.T) {
	l, err := NewLimiter(LimiterConfig{Windows: []Window{{Limit: 1, Duration: time.Second}}})
	must(t, err)
	b, err := NewBreaker(BreakerConfig{ConsecutiveFailures: 1}, func(Transition) {})
	must(t, err)
	r, err := NewBreakers(BreakersConfig{Breaker: BreakerConfig{ConsecutiveFailures: 1}}, nil)
	must(t, err)
	for _, closer := range []interface{ Close() error }{l, b, r} {
		must(t, closer.Close())
		must(t, closer.Close())
	}
	var nilLimiter *Limiter
	var nilBreaker *Breaker
	var nilBreakers *Breakers
	must(t, nilLimiter.Close())
	must(t, nilBreaker.Close())
	must(t, nilBreakers.Close())

	calls := func(l *Limiter, b *Breaker, r *Breakers) map[string]error {
		errs := map[string]error{}
		_, errs["Limiter.Check"] = l.Check(client, 1)
		_, errs["Limiter.CheckAt"] = l.CheckAt(client, 1, 0)
		_, errs["Limiter.Peek"] = l.Peek(client, 1)
		_, errs["Limiter.PeekAt"] = l.PeekAt(client, 1, 0)
		_, errs["Limiter.Reset"] = l.Reset(client)
		_, errs["Limiter.Remove"] = l.Remove(client)
		_, errs["Limiter.Len"] = l.Len()
		_, errs["Limiter.Stats"] = l.Stats()
		_, errs["Breaker.Acquire"] = b.Acquire()
		_, errs["Breaker.State"] = b.State()
		_, errs["Breaker.Counters"] = b.Counters()
		_, errs["Breaker.ForceOpen"] = b.ForceOpen()
		_, errs["Breaker.Disable"] = b.Disable()
		errs["Breaker.Reset"] = b.Reset()
		_, errs["Breakers.Acquire"] = r.Acquire(client)
		_, errs["Breakers.State"] = r.State(client)
		_, errs["Breakers.Counters"] = r.Counters(client)
		_, errs["Breakers.ForceOpen"] = r.ForceOpen(client)
		_, errs["Breakers.Disable"] = r.Disable(client)
		_, errs["Breakers.Reset"] = r.Reset(client)
		_, errs["Breakers.Remove"] = r.Remove(client)
		_, errs["Breakers.Len"] = r.Len()
		_, errs["Breakers.Stats"] = r.Stats()
		return errs
	}
	for name, errs := range map[string]map[string]error{
		"closed":     calls(l, b, r),
		"nil":        calls(nilLimiter, nilBreaker, nilBreakers),
		"zero value": calls(&Limiter{}, &Breaker{}, &Breakers{}),
	} {
		for op, err := range errs {
			var e *Error
			if !errors.Is(err, ErrClosed) || !errors.As(err, &e) || e.Op != op {
				t.Errorf("%s handle, %s: %v", name, op, err)
			}
		}
	}
}

// Handles and permits dropped without Close or Record are released by finalizers; a permit
// released that way counts as ignored and frees its half-open trial slot.
func TestFinalizersReleaseWhatIsDropped(t *testing.T) {
	if !eventually(func() bool { return openHandles.Load() == 0 }) {
		t.Fatalf("%d handles open before the test", openHandles.Load())
	}
	b := newBreaker(t, BreakerConfig{ConsecutiveFailures: 1, OpenFor: time.Millisecond}, nil)
	func() {
		_, err := NewLimiter(LimiterConfig{Windows: []Window{{Limit: 1, Duration: time.Second}}})
		must(t, err)
		other, err := NewBreaker(BreakerConfig{ConsecutiveFailures: 1}, func(Transition) {})
		must(t, err)
		acquire(t, other) // a permit of a breaker dropped too
		_, err = NewBreakers(BreakersConfig{Breaker: BreakerConfig{ConsecutiveFailures: 1}}, func(string, Transition) {})
		must(t, err)

		record(t, acquire(t, b), OutcomeFailure, 0)
		time.Sleep(2 * time.Millisecond)
		acquire(t, b) // the half-open trial, dropped unrecorded
	}()
	// The breaker b is the one handle left.
	if !eventually(func() bool { return openHandles.Load() == 1 }) {
		t.Fatalf("%d handles open, want 1", openHandles.Load())
	}
	c, err := b.Counters()
	must(t, err)
	if c.Ignored != 1 || c.TrialTimeouts != 0 {
		t.Fatalf("counters %+v", c)
	}
	// The trial slot is free again: the next call is admitted as a new trial.
	record(t, acquire(t, b), OutcomeSuccess, 0)
	wantState(t, b, StateClosed)
}

// Close may race with calls on other goroutines: each call either runs on the live handle or
// fails with ErrClosed, and each handle, and its listener, is freed once, after the last call
// and the last permit.
func TestCloseRacesWithCalls(t *testing.T) {
	for round := 0; round < 20; round++ {
		l, err := NewLimiter(LimiterConfig{Windows: []Window{{Limit: 1000, Duration: time.Hour}}})
		must(t, err)
		var seen transitions
		b, err := NewBreaker(BreakerConfig{ConsecutiveFailures: 3}, seen.listen)
		must(t, err)
		r, err := NewBreakers(BreakersConfig{Breaker: BreakerConfig{ConsecutiveFailures: 3}}, seen.listenKeyed)
		must(t, err)
		// A permit outlives every Close below, and its listener with it.
		outstanding, err := r.Acquire("outstanding")
		must(t, err)
		var wg sync.WaitGroup
		var unexpected atomic.Value
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					if _, err := l.Check(client, 1); err != nil && !errors.Is(err, ErrClosed) {
						unexpected.Store(err)
					}
					for _, acquire := range []func() (*Permit, error){
						b.Acquire,
						func() (*Permit, error) { return r.Acquire(string(rune('a' + i%3))) },
					} {
						p, err := acquire()
						switch {
						case err == nil:
							if _, err := p.Record(OutcomeFailure, 0); err != nil {
								unexpected.Store(err)
							}
						case !errors.Is(err, ErrClosed) && !errors.Is(err, ErrRejected):
							unexpected.Store(err)
						}
					}
				}
			}()
		}
		runtime.Gosched()
		must(t, l.Close())
		must(t, b.Close())
		must(t, r.Close())
		wg.Wait()
		record(t, outstanding, OutcomeSuccess, 0)
		if err := unexpected.Load(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if n := openHandles.Load(); n != 0 {
		t.Fatalf("%d handles open after every call returned", n)
	}
}

// One limiter shared by goroutines admits exactly its limit.
func TestConcurrentChecksAdmitExactlyTheLimit(t *testing.T) {
	const goroutines, checks, limit = 4, 1000, 1500
	l := newLimiter(t, LimiterConfig{Windows: []Window{{Limit: limit, Duration: time.Hour}}})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < checks; i++ {
				d, err := l.Check(client, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != limit {
		t.Fatalf("admitted %d, want %d", admitted.Load(), limit)
	}
}

// A listener may close the breaker or registry it listens to: the handle is freed once the
// call delivering the transition has returned, and a permit's record goes on to the end.
func TestListenerMayCloseItsHandle(t *testing.T) {
	var b *Breaker
	b, err := NewBreaker(BreakerConfig{ConsecutiveFailures: 1}, func(Transition) { b.Close() })
	must(t, err)
	_, err = b.ForceOpen() // the transition closes b inside this call
	must(t, err)
	if _, err := b.State(); !errors.Is(err, ErrClosed) {
		t.Fatalf("State after the listener closed the breaker: %v", err)
	}

	var r *Breakers
	r, err = NewBreakers(BreakersConfig{Breaker: BreakerConfig{ConsecutiveFailures: 1}}, func(string, Transition) { r.Close() })
	must(t, err)
	p, err := r.Acquire(client)
	must(t, err)
	record(t, p, OutcomeFailure, 0) // opens the circuit; the listener closes r meanwhile
	if _, err := r.Acquire(client); !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire after the listener closed the registry: %v", err)
	}
	if !eventually(func() bool { return openHandles.Load() == 0 }) {
		t.Fatalf("%d handles open", openHandles.Load())
	}
}
