package sluicegate

import (
	"testing"
	"time"
)

const client = "203.0.113.7"

func newLimiter(t *testing.T, config LimiterConfig) *Limiter {
	t.Helper()
	l, err := NewLimiter(config)
	must(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func checkAt(t *testing.T, l *Limiter, key string, cost uint64, now time.Duration) Decision {
	t.Helper()
	d, err := l.CheckAt(key, cost, now)
	must(t, err)
	return d
}

// A client exhausts its minute, is told exactly how long to wait, and is admitted again once
// the wait is over, all by the caller's clock.
func TestLimiterExhaustsAndRecoversAtCallerTime(t *testing.T) {
	l := newLimiter(t, LimiterConfig{
		Windows:  []Window{{Limit: 10, Duration: time.Second}, {Limit: 2, Duration: time.Minute}},
		TimeBase: TimeBaseCaller,
	})
	us := time.Microsecond

	want := Decision{Allowed: true, Window: 1, Limit: 2, Remaining: 1, ResetAfter: time.Minute}
	if got := checkAt(t, l, client, 1, 0); got != want {
		t.Fatalf("first check: got %+v, want %+v", got, want)
	}
	if got := checkAt(t, l, client, 1, 1000*us); !got.Allowed || got.Remaining != 0 {
		t.Fatalf("second check: %+v", got)
	}
	want = Decision{Window: 1, Limit: 2, ResetAfter: time.Minute - 2000*us, RetryAfter: time.Minute - 2000*us}
	if got := checkAt(t, l, client, 1, 2000*us); got != want {
		t.Fatalf("third check: got %+v, want %+v", got, want)
	}
	if got := checkAt(t, l, client, 1, time.Minute-us); got.Allowed || got.RetryAfter != us {
		t.Fatalf("a microsecond early: %+v", got)
	}
	if got := checkAt(t, l, client, 1, time.Minute); !got.Allowed || got.Remaining != 0 {
		t.Fatalf("once the first request left the window: %+v", got)
	}
	// A time going back counts as the latest seen: still full.
	if got := checkAt(t, l, client, 1, 0); got.Allowed {
		t.Fatalf("a time going back: %+v", got)
	}
}

func TestLimiterPeekRecordsNothing(t *testing.T) {
	l := newLimiter(t, LimiterConfig{Windows: []Window{{Limit: 2, Duration: time.Minute}}, TimeBase: TimeBaseCaller})
	for i := 0; i < 3; i++ {
		d, err := l.PeekAt(client, 2, time.Duration(i)*time.Millisecond)
		must(t, err)
		if !d.Allowed || d.Remaining != 0 {
			t.Fatalf("peek %d: %+v", i, d)
		}
	}
	if n, err := l.Len(); err != nil || n != 0 {
		t.Fatalf("peeks tracked %d keys (%v)", n, err)
	}
	checkAt(t, l, client, 2, 2*time.Millisecond)
	if d, err := l.PeekAt(client, 1, time.Second); err != nil || d.Allowed || d.RetryAfter != time.Minute-time.Second+2*time.Millisecond {
		t.Fatalf("peek after the check: %+v (%v)", d, err)
	}
}

func TestLimiterByTheLibrarysClock(t *testing.T) {
	l := newLimiter(t, LimiterConfig{Windows: []Window{{Limit: 3, Duration: time.Minute}}})
	d, err := l.Peek(client, 3)
	must(t, err)
	if !d.Allowed || d.Remaining != 0 {
		t.Fatalf("peek: %+v", d)
	}
	d, err = l.Check(client, 3)
	must(t, err)
	if !d.Allowed || d.Remaining != 0 || d.ResetAfter <= 59*time.Second {
		t.Fatalf("check: %+v", d)
	}
	d, err = l.Check(client, 1)
	must(t, err)
	if d.Allowed || d.RetryAfter <= 59*time.Second || d.RetryAfter > time.Minute {
		t.Fatalf("check over the limit: %+v", d)
	}
}

// One limiter, one clock: the library refuses the other kind of call.
func TestLimiterRefusesTheOtherTimeBase(t *testing.T) {
	windows := []Window{{Limit: 1, Duration: time.Second}}
	library := newLimiter(t, LimiterConfig{Windows: windows})
	caller := newLimiter(t, LimiterConfig{Windows: windows, TimeBase: TimeBaseCaller})
	_, err := library.CheckAt(client, 1, 0)
	wantError(t, err, ErrWrongTimeBase, "this limiter reads the library's clock")
	_, err = library.PeekAt(client, 1, 0)
	wantError(t, err, ErrWrongTimeBase, "")
	_, err = caller.Check(client, 1)
	wantError(t, err, ErrWrongTimeBase, "")
	_, err = caller.Peek(client, 1)
	wantError(t, err, ErrWrongTimeBase, "")
}

func TestLimiterRefusesBadChecks(t *testing.T) {
	l := newLimiter(t, LimiterConfig{
		Windows:   []Window{{Limit: 3, Duration: time.Minute}},
		TimeBase:  TimeBaseCaller,
		MaxKeyLen: 4,
		MaxKeys:   1,
		Shards:    1,
		OnFull:    FullRejectNewKeys,
	})
	checkAt(t, l, "a", 1, 0)
	_, err := l.CheckAt("a", 0, 0)
	wantError(t, err, ErrZeroCost, "a request must cost at least 1")
	_, err = l.CheckAt("a", 9, 0)
	wantError(t, err, ErrCostExceedsLimit, "cost 9 is above the limit 3 of a window, so it can never be admitted")
	_, err = l.PeekAt("abcde", 1, 0)
	wantError(t, err, ErrKeyTooLong, "key of 5 bytes is longer than the maximum 4")
	_, err = l.CheckAt("b", 1, 0)
	wantError(t, err, ErrKeysExhausted, "already tracks its maximum of 1 keys")
	_, err = l.CheckAt("a", 1, -time.Microsecond)
	wantError(t, err, ErrInvalidArgument, "now is negative (-1µs)")
	stats, err := l.Stats()
	must(t, err)
	if stats.RefusedKeys != 1 || stats.Keys != 1 || stats.Allowed != 1 {
		t.Fatalf("stats: %+v", stats)
	}
}

func TestLimiterRefusesBadConfigs(t *testing.T) {
	minute := []Window{{Limit: 5, Duration: time.Minute}}
	nine := make([]Window, 9)
	for i := range nine {
		nine[i] = Window{Limit: 5, Duration: time.Duration(i+1) * time.Second}
	}
	for _, c := range []struct {
		name   string
		config LimiterConfig
		detail string
	}{
		{"zero limit", LimiterConfig{Windows: []Window{{Limit: 0, Duration: time.Second}}}, "window 0: the limit must be at least 1"},
		{"no window", LimiterConfig{}, "a limiter needs at least one window"},
		{"nine windows", LimiterConfig{Windows: nine}, "9 windows given; a limiter combines at most 8"},
		{"zero duration", LimiterConfig{Windows: []Window{{Limit: 1}}}, "window 0: 0ns is shorter than the engine's tick"},
		{"two windows of one length", LimiterConfig{Windows: append(minute, minute...)}, "windows 0 and 1 are both 60s long"},
		{"negative duration", LimiterConfig{Windows: []Window{{Limit: 1, Duration: -time.Second}}}, "window 0: Duration is negative (-1s)"},
		{"unknown time base", LimiterConfig{Windows: minute, TimeBase: 7}, "time_base 7 is not"},
		{"unknown full policy", LimiterConfig{Windows: minute, OnFull: 9}, "on_full 9 is not"},
		{"shards not a power of two", LimiterConfig{Windows: minute, Shards: 3}, "power of two"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := NewLimiter(c.config)
			if l != nil {
				t.Fatal("a refused configuration returned a limiter")
			}
			wantError(t, err, ErrInvalidConfig, c.detail)
		})
	}
}

func TestLimiterResetRemoveLenStats(t *testing.T) {
	l := newLimiter(t, LimiterConfig{Windows: []Window{{Limit: 2, Duration: time.Minute}}, TimeBase: TimeBaseCaller})
	checkAt(t, l, client, 2, 0)
	checkAt(t, l, "other", 2, 0)
	if d := checkAt(t, l, client, 1, 0); d.Allowed {
		t.Fatalf("over the limit: %+v", d)
	}
	if n, err := l.Len(); err != nil || n != 2 {
		t.Fatalf("Len() = %d, %v", n, err)
	}

	tracked, err := l.Reset(client)
	must(t, err)
	if !tracked {
		t.Fatal("Reset did not find the key")
	}
	if d := checkAt(t, l, client, 2, 1); !d.Allowed {
		t.Fatalf("after Reset: %+v", d)
	}
	if tracked, err = l.Reset("never"); err != nil || tracked {
		t.Fatalf("Reset of an unknown key: %v, %v", tracked, err)
	}

	if tracked, err = l.Remove("other"); err != nil || !tracked {
		t.Fatalf("Remove: %v, %v", tracked, err)
	}
	if tracked, err = l.Remove("other"); err != nil || tracked {
		t.Fatalf("second Remove: %v, %v", tracked, err)
	}
	if n, err := l.Len(); err != nil || n != 1 {
		t.Fatalf("Len() after Remove = %d, %v", n, err)
	}

	stats, err := l.Stats()
	must(t, err)
	if stats.Keys != 1 || stats.Allowed != 3 || stats.Rejected != 1 || stats.Evictions != 0 || stats.Bytes == 0 {
		t.Fatalf("stats: %+v", stats)
	}
}

// Keys are byte strings: bytes that are not text, NUL included, and the empty key.
func TestLimiterKeysAreByteStrings(t *testing.T) {
	l := newLimiter(t, LimiterConfig{Windows: []Window{{Limit: 1, Duration: time.Minute}}, TimeBase: TimeBaseCaller})
	for _, key := range []string{"", "\x00", "\x00\x00", "\xff\xfe", "a\x00b"} {
		if d := checkAt(t, l, key, 1, 0); !d.Allowed {
			t.Fatalf("key %q was not a key of its own: %+v", key, d)
		}
	}
	if n, _ := l.Len(); n != 5 {
		t.Fatalf("Len() = %d, want 5", n)
	}
}

// A window shorter than a microsecond is rounded up to one, not down to "the default", and
// the caller's time is truncated.
func TestLimiterRoundsConfiguredDurationsUpAndMeasuredOnesDown(t *testing.T) {
	l := newLimiter(t, LimiterConfig{Windows: []Window{{Limit: 1, Duration: 1500 * time.Nanosecond}}, TimeBase: TimeBaseCaller})
	checkAt(t, l, client, 1, 0)
	if d := checkAt(t, l, client, 1, 1999*time.Nanosecond); d.Allowed || d.RetryAfter != time.Microsecond {
		t.Fatalf("within the 2 µs window: %+v", d)
	}
	if d := checkAt(t, l, client, 1, 2*time.Microsecond); !d.Allowed {
		t.Fatalf("after the 2 µs window: %+v", d)
	}
}
