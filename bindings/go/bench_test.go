package sluicegate

import (
	"testing"
	"time"
)

// BenchmarkHotKey is the hot-key scenario of benches/limiter.rs and tests/c/bench_hot_key.c:
// Limiter.Check on one 16-byte key, 100 requests per 60 s window, by the library's clock.
// After the first 100 checks every check is a rejection, as with a client hammering one
// route. It reports ns/check (the same figure as ns/op, named for what is measured). On a
// busy machine, take the best of many short runs:
//
//	go test -run '^$' -bench '^BenchmarkHotKey$' -benchtime 50000x -count 200
func BenchmarkHotKey(b *testing.B) {
	l, err := NewLimiter(LimiterConfig{Windows: []Window{{Limit: 100, Duration: 60 * time.Second}}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	const key = "client-000000000"
	admitted := 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		d, err := l.Check(key, 1)
		if err != nil {
			b.Fatal(err)
		}
		if d.Allowed {
			admitted++
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/check")
	// The window outlasts the benchmark: exactly the first 100 are admitted.
	if want := 100; admitted != want && !(b.N < want && admitted == b.N) {
		b.Fatalf("admitted %d of %d checks, want %d", admitted, b.N, want)
	}
}

// BenchmarkHotKeyParallel is BenchmarkHotKey from every core at once, on one limiter.
func BenchmarkHotKeyParallel(b *testing.B) {
	l, err := NewLimiter(LimiterConfig{Windows: []Window{{Limit: 100, Duration: 60 * time.Second}}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Check("client-000000000", 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBreakerAcquireRecord is one call through a closed breaker: Acquire, then Record.
func BenchmarkBreakerAcquireRecord(b *testing.B) {
	breaker, err := NewBreaker(BreakerConfig{ConsecutiveFailures: 5}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer breaker.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := breaker.Acquire()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Record(OutcomeSuccess, time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
}
