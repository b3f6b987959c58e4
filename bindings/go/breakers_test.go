package sluicegate

import (
	"testing"
	"time"
)

func newBreakers(t *testing.T, config BreakersConfig, listener func(string, Transition)) *Breakers {
	t.Helper()
	r, err := NewBreakers(config, listener)
	must(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func acquireKey(t *testing.T, r *Breakers, key string) *Permit {
	t.Helper()
	p, err := r.Acquire(key)
	must(t, err)
	return p
}

func wantKeyState(t *testing.T, r *Breakers, key string, want State) {
	t.Helper()
	if got, err := r.State(key); err != nil || got != want {
		t.Fatalf("%s: state %v (%v), want %v", key, got, err, want)
	}
}

// Breakers by key: an override with its own policy, the shared configuration for the rest, a
// keyed listener, a bounded number of keys, and operator switches by key.
func TestBreakersByKey(t *testing.T) {
	var seen transitions
	r := newBreakers(t, BreakersConfig{
		Breaker:   BreakerConfig{ConsecutiveFailures: 3},
		Overrides: map[string]BreakerConfig{"payments": {ConsecutiveFailures: 1}},
		Shards:    1,
		MaxKeys:   2,
		MaxKeyLen: 16,
	}, seen.listenKeyed)

	record(t, acquireKey(t, r, "payments"), OutcomeFailure, 100*time.Microsecond)
	wantKeyState(t, r, "payments", StateOpen)
	if got, n := seen.last(); n != 1 || seen.keys[0] != "payments" || got.To != StateOpen || got.Cause != CauseConsecutiveFailures {
		t.Fatalf("listener: %d transitions, keys %v, last %+v", n, seen.keys, got)
	}
	p, err := r.Acquire("payments")
	wantRejection(t, p, err, RejectOpen)

	// The shared configuration needs three failures.
	record(t, acquireKey(t, r, "search"), OutcomeFailure, 100*time.Microsecond)
	wantKeyState(t, r, "search", StateClosed)

	// Full: a third key is refused; so is too long a key.
	_, err = r.Acquire("users")
	wantError(t, err, ErrKeysExhausted, "the registry already holds its maximum of 2 breakers")
	_, err = r.Acquire("a-very-long-host-name")
	wantError(t, err, ErrKeyTooLong, "key of 21 bytes is longer than the maximum 16")
	_, err = r.ForceOpen("users")
	wantError(t, err, ErrKeysExhausted, "")
	_, err = r.Disable("a-very-long-host-name")
	wantError(t, err, ErrKeyTooLong, "")

	// Unknown keys read as closed and zero, and reading makes no breaker.
	wantKeyState(t, r, "users", StateClosed)
	if c, err := r.Counters("users"); err != nil || c != (BreakerCounters{}) {
		t.Fatalf("counters of an unknown key: %+v, %v", c, err)
	}
	if c, err := r.Counters("payments"); err != nil || c != (BreakerCounters{Permitted: 1, Failures: 1, Rejected: 1}) {
		t.Fatalf("counters of payments: %+v, %v", c, err)
	}
	if n, err := r.Len(); err != nil || n != 2 {
		t.Fatalf("Len() = %d, %v", n, err)
	}

	// Operator switches by key.
	if changed, err := r.ForceOpen("search"); err != nil || !changed {
		t.Fatalf("ForceOpen: %v, %v", changed, err)
	}
	p, err = r.Acquire("search")
	if rej := wantRejection(t, p, err, RejectForcedOpen); rej.RetryAfter != Forever {
		t.Fatalf("retry after %v", rej.RetryAfter)
	}
	if changed, err := r.Disable("search"); err != nil || !changed {
		t.Fatalf("Disable: %v, %v", changed, err)
	}
	wantKeyState(t, r, "search", StateDisabled)
	if held, err := r.Reset("search"); err != nil || !held {
		t.Fatalf("Reset: %v, %v", held, err)
	}
	if got, _ := seen.last(); got.Cause != CauseReset || seen.keys[len(seen.keys)-1] != "search" {
		t.Fatalf("last transition %+v of %v", got, seen.keys)
	}
	if held, err := r.Reset("users"); err != nil || held {
		t.Fatalf("Reset of an unknown key: %v, %v", held, err)
	}

	// Removing a key frees its place; a permit outlives both removal and the registry.
	outstanding := acquireKey(t, r, "search")
	if held, err := r.Remove("search"); err != nil || !held {
		t.Fatalf("Remove: %v, %v", held, err)
	}
	if held, err := r.Remove("search"); err != nil || held {
		t.Fatalf("second Remove: %v, %v", held, err)
	}
	users := acquireKey(t, r, "users")
	stats, err := r.Stats()
	must(t, err)
	if stats.Keys != 2 || stats.Refused != 2 || stats.Bytes == 0 {
		t.Fatalf("stats %+v", stats)
	}
	must(t, r.Close())
	record(t, outstanding, OutcomeSuccess, time.Microsecond)
	users.Release()
}

func TestBreakersRefuseBadConfigs(t *testing.T) {
	policy := BreakerConfig{ConsecutiveFailures: 1}
	for _, c := range []struct {
		name   string
		config BreakersConfig
		detail string
	}{
		{"no trip policy", BreakersConfig{}, "a breaker needs at least one trip policy"},
		{"a bad override", BreakersConfig{Breaker: policy, Overrides: map[string]BreakerConfig{"b": policy, "a": {}}},
			`override 0 (key "a"): a breaker needs at least one trip policy`},
		{"key length out of range", BreakersConfig{Breaker: policy, MaxKeyLen: 1 << 20}, "max_key_len 1048576 must be between 1 and 65536"},
		{"negative idle time", BreakersConfig{Breaker: policy, IdleAfter: -time.Minute}, "IdleAfter is negative (-1m0s)"},
		{"negative shared duration", BreakersConfig{Breaker: BreakerConfig{ConsecutiveFailures: 1, OpenFor: -1}}, "Breaker.OpenFor is negative"},
		{"negative override duration", BreakersConfig{Breaker: policy, Overrides: map[string]BreakerConfig{"payments": {ConsecutiveFailures: 1, BackoffMax: -1}}},
			`Overrides["payments"].BackoffMax is negative`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var seen transitions
			r, err := NewBreakers(c.config, seen.listenKeyed)
			if r != nil {
				t.Fatal("a refused configuration returned a registry")
			}
			wantError(t, err, ErrInvalidConfig, c.detail)
		})
	}
}

// Keys are byte strings, and the listener gets them back byte for byte.
func TestBreakersKeysAreByteStrings(t *testing.T) {
	var seen transitions
	r := newBreakers(t, BreakersConfig{Breaker: BreakerConfig{ConsecutiveFailures: 1}}, seen.listenKeyed)
	keys := []string{"", "\x00", "a\x00b", "\xff"}
	for _, key := range keys {
		record(t, acquireKey(t, r, key), OutcomeFailure, 0)
	}
	if n, _ := r.Len(); n != len(keys) {
		t.Fatalf("Len() = %d", n)
	}
	for i, key := range keys {
		if seen.keys[i] != key {
			t.Fatalf("listener key %d: %q, want %q", i, seen.keys[i], key)
		}
	}
}
