package sluicegate_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"sluicegate.dev/sluicegate"
)

func ExampleLimiter() {
	// At most 2 requests per client in any 60 seconds, by the caller's clock.
	limiter, err := sluicegate.NewLimiter(sluicegate.LimiterConfig{
		Windows:  []sluicegate.Window{{Limit: 2, Duration: time.Minute}},
		TimeBase: sluicegate.TimeBaseCaller,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer limiter.Close()

	for i := 0; i < 3; i++ {
		now := time.Duration(i) * time.Millisecond // 0, 1 and 2 ms
		d, err := limiter.CheckAt("203.0.113.7", 1, now)
		if err != nil {
			log.Fatal(err)
		}
		if d.Allowed {
			fmt.Printf("request %d: allowed, %d left\n", i+1, d.Remaining)
		} else {
			fmt.Printf("request %d: rejected, retry in %v\n", i+1, d.RetryAfter)
		}
	}
	// Output:
	// request 1: allowed, 1 left
	// request 2: allowed, 0 left
	// request 3: rejected, retry in 59.998s
}

func ExampleNewLimiter_invalidConfig() {
	_, err := sluicegate.NewLimiter(sluicegate.LimiterConfig{
		Windows: []sluicegate.Window{{Limit: 0, Duration: time.Second}},
	})
	fmt.Println(errors.Is(err, sluicegate.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// sluicegate: NewLimiter: window 0: the limit must be at least 1
}

func ExampleBreaker() {
	breaker, err := sluicegate.NewBreaker(sluicegate.BreakerConfig{
		ConsecutiveFailures: 2,
		OpenFor:             30 * time.Second,
	}, func(t sluicegate.Transition) {
		fmt.Printf("circuit %v -> %v (%v)\n", t.From, t.To, t.Cause)
	})
	if err != nil {
		log.Fatal(err)
	}
	defer breaker.Close()
	callUpstream := func() error { return errors.New("connection refused") }

	for i := 0; i < 3; i++ {
		permit, err := breaker.Acquire()
		var rejection *sluicegate.Rejection
		if errors.As(err, &rejection) {
			fmt.Printf("call %d: rejected (%v), retry in %v\n",
				i+1, rejection.Reason, rejection.RetryAfter.Round(time.Second))
			continue
		} else if err != nil {
			log.Fatal(err)
		}
		start := time.Now()
		outcome := sluicegate.OutcomeSuccess
		if err := callUpstream(); err != nil {
			outcome = sluicegate.OutcomeFailure
		}
		if _, err := permit.Record(outcome, time.Since(start)); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("call %d: %v\n", i+1, outcome)
	}
	// Output:
	// call 1: failure
	// circuit closed -> open (consecutive failures)
	// call 2: failure
	// call 3: rejected (circuit open), retry in 30s
}

func ExampleBreakers() {
	upstreams, err := sluicegate.NewBreakers(sluicegate.BreakersConfig{
		Breaker: sluicegate.BreakerConfig{FailureRatePercent: 50, CountWindow: 20},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer upstreams.Close()

	// An operator takes one upstream out of rotation before its first call.
	if _, err := upstreams.ForceOpen("api-2:8080"); err != nil {
		log.Fatal(err)
	}
	for _, upstream := range []string{"api-1:8080", "api-2:8080"} {
		permit, err := upstreams.Acquire(upstream)
		if errors.Is(err, sluicegate.ErrRejected) {
			fmt.Printf("%s: %v\n", upstream, err)
			continue
		} else if err != nil {
			log.Fatal(err)
		}
		// Released as ignored unless recorded, whichever way the call ends.
		defer permit.Release()
		fmt.Printf("%s: called\n", upstream)
		if _, err := permit.Record(sluicegate.OutcomeSuccess, 3*time.Millisecond); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// api-1:8080: called
	// api-2:8080: sluicegate: call rejected: circuit forced open
}
