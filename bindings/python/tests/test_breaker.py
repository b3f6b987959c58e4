"""A lone breaker through the real library: tripping, probing, closing, stale outcomes,
operator controls and the transition listener. The library reads its own clock, so the tests
that wait use open times of tens of milliseconds, and those that must not see time pass use
open times of minutes."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from sluicegate import (
    Breaker,
    BreakerConfig,
    BreakerCounters,
    Cause,
    Outcome,
    Permit,
    Recorded,
    Rejection,
    RejectReason,
    State,
    Transition,
)

SHORT = 0.2  # an open time the tests wait out, longer than a busy machine's pauses
LONG = 600.0  # an open time no test waits out


def trip(breaker: Breaker, failures: int = 1) -> None:
    for _ in range(failures):
        permit = breaker.acquire()
        assert isinstance(permit, Permit)
        permit.record(Outcome.FAILURE)


def test_a_breaker_opens_probes_half_open_and_closes():
    transitions: list[Transition] = []
    breaker = Breaker(
        BreakerConfig(consecutive_failures=2, open_for=SHORT), on_transition=transitions.append
    )
    assert breaker.state() is State.CLOSED
    trip(breaker, 2)
    assert breaker.state() is State.OPEN

    rejection = breaker.acquire()
    assert isinstance(rejection, Rejection) and not rejection and not rejection.admitted
    assert rejection.reason is RejectReason.OPEN
    assert 0 < rejection.retry_after <= SHORT

    time.sleep(rejection.retry_after + 0.01)
    trial = breaker.acquire()
    assert trial and trial.admitted
    assert breaker.state() is State.HALF_OPEN
    full = breaker.acquire()
    assert full.reason is RejectReason.HALF_OPEN_FULL and full.retry_after > 0

    assert trial.record(Outcome.SUCCESS) is Recorded.COUNTED
    assert breaker.state() is State.CLOSED
    assert [(t.from_state, t.to_state, t.cause, t.generation) for t in transitions] == [
        (State.CLOSED, State.OPEN, Cause.CONSECUTIVE_FAILURES, 1),
        (State.OPEN, State.HALF_OPEN, Cause.OPEN_ELAPSED, 2),
        (State.HALF_OPEN, State.CLOSED, Cause.TRIALS_SUCCEEDED, 3),
    ]
    assert transitions[0].at <= transitions[1].at <= transitions[2].at
    assert transitions[1].at - transitions[0].at >= SHORT


def test_a_failed_trial_reopens_the_circuit():
    breaker = Breaker(BreakerConfig(consecutive_failures=1, open_for=SHORT))
    trip(breaker)
    time.sleep(SHORT + 0.01)
    breaker.acquire().record(Outcome.FAILURE)
    assert breaker.state() is State.OPEN


def test_an_outcome_from_before_a_state_change_is_stale():
    breaker = Breaker(BreakerConfig(consecutive_failures=1, open_for=LONG))
    slow_call = breaker.acquire()
    trip(breaker)  # another call fails and opens the circuit while `slow_call` runs
    assert slow_call.record(Outcome.FAILURE) is Recorded.STALE
    counters = breaker.counters()
    assert (counters.failures, counters.stale) == (1, 1)


def test_reset_makes_outstanding_outcomes_stale_and_closes():
    breaker = Breaker(BreakerConfig(consecutive_failures=1, open_for=LONG))
    permit = breaker.acquire()
    breaker.reset()
    assert breaker.state() is State.CLOSED
    assert permit.record(Outcome.SUCCESS) is Recorded.STALE


def test_an_unreported_trial_times_out_and_reopens():
    transitions: list[Transition] = []
    breaker = Breaker(
        BreakerConfig(consecutive_failures=1, open_for=SHORT, trial_timeout=SHORT),
        on_transition=transitions.append,
    )
    trip(breaker)
    time.sleep(SHORT + 0.01)
    forgotten = breaker.acquire()
    assert forgotten
    time.sleep(SHORT + 0.01)
    assert breaker.acquire().reason is RejectReason.OPEN
    assert transitions[-1].cause is Cause.TRIAL_TIMEOUT
    assert forgotten.record(Outcome.SUCCESS) is Recorded.STALE
    assert breaker.counters().trial_timeouts == 1


def test_slow_calls_trip_the_slow_call_policy():
    breaker = Breaker(
        BreakerConfig(
            slow_call_rate_percent=50,
            slow_call_threshold=0.5,
            count_window=4,
            min_calls=4,
            open_for=LONG,
        )
    )
    for elapsed in (0.1, 0.1, 0.5):
        breaker.acquire().record(Outcome.SUCCESS, elapsed)
    assert breaker.state() is State.CLOSED
    breaker.acquire().record(Outcome.SUCCESS, elapsed=2.0)
    assert breaker.state() is State.OPEN
    assert breaker.counters().slow == 2


def test_elapsed_defaults_to_the_time_since_the_permit_was_admitted():
    breaker = Breaker(
        BreakerConfig(
            slow_call_rate_percent=100, slow_call_threshold=0.02, count_window=1, min_calls=1
        )
    )
    permit = breaker.acquire()
    time.sleep(0.03)
    permit.record(Outcome.SUCCESS)
    assert breaker.counters().slow == 1


def test_the_failure_rate_policy_judges_its_window():
    breaker = Breaker(
        BreakerConfig(failure_rate_percent=50, count_window=4, min_calls=4, open_for=LONG)
    )
    for outcome in (Outcome.SUCCESS, Outcome.FAILURE, Outcome.SUCCESS):
        breaker.acquire().record(outcome)
    assert breaker.state() is State.CLOSED
    breaker.acquire().record(Outcome.FAILURE)
    assert breaker.state() is State.OPEN


def test_released_and_ignored_calls_count_as_ignored_and_trip_nothing():
    breaker = Breaker(BreakerConfig(consecutive_failures=1))
    breaker.acquire().release()
    breaker.acquire().record(Outcome.IGNORED)
    with breaker.acquire():
        pass
    with pytest.raises(RuntimeError), breaker.acquire():
        raise RuntimeError("the call's own error is not the upstream's failure")
    assert breaker.state() is State.CLOSED
    assert breaker.counters() == BreakerCounters(
        permitted=4,
        rejected=0,
        successes=0,
        failures=0,
        ignored=4,
        slow=0,
        stale=0,
        trial_timeouts=0,
    )


def test_a_permit_ends_once_and_releasing_again_does_nothing():
    breaker = Breaker(BreakerConfig(consecutive_failures=1))
    permit = breaker.acquire()
    assert not permit.done and "open" in repr(permit)
    permit.record(Outcome.SUCCESS)
    assert permit.done and "done" in repr(permit)
    permit.release()
    assert breaker.counters().ignored == 0


def test_force_open_disable_and_reset_are_the_operators_controls():
    transitions: list[Transition] = []
    breaker = Breaker(BreakerConfig(consecutive_failures=1), on_transition=transitions.append)
    assert breaker.force_open() is True
    assert breaker.force_open() is False
    rejection = breaker.acquire()
    assert rejection == Rejection(RejectReason.FORCED_OPEN, None)
    assert breaker.state() is State.FORCED_OPEN

    assert breaker.disable() is True
    assert breaker.disable() is False
    assert breaker.state() is State.DISABLED
    trip(breaker, 3)  # counted, but a disabled breaker never trips
    assert breaker.state() is State.DISABLED
    assert breaker.counters().failures == 3

    breaker.reset()
    assert breaker.state() is State.CLOSED
    assert [t.cause for t in transitions] == [Cause.FORCED, Cause.DISABLED, Cause.RESET]


def test_counters_add_up_once_no_permit_is_out():
    breaker = Breaker(BreakerConfig(consecutive_failures=3, open_for=LONG))
    held = breaker.acquire()
    breaker.acquire().record(Outcome.SUCCESS)
    trip(breaker, 3)
    breaker.acquire()
    held.record(Outcome.SUCCESS)
    c = breaker.counters()
    assert (c.permitted, c.rejected) == (5, 1)
    assert c.permitted == c.successes + c.failures + c.ignored + c.stale


def test_a_listener_may_call_back_into_its_breaker():
    seen: list[State] = []
    breaker: Breaker

    def on_transition(transition: Transition) -> None:
        seen.append(breaker.state())

    breaker = Breaker(BreakerConfig(consecutive_failures=1), on_transition=on_transition)
    trip(breaker)
    assert seen == [State.OPEN]


def test_a_listener_that_raises_is_logged_and_the_breaker_carries_on(caplog):
    def broken(transition: Transition) -> None:
        raise ValueError("listener bug")

    breaker = Breaker(BreakerConfig(consecutive_failures=1), on_transition=broken)
    with caplog.at_level(logging.ERROR, logger="sluicegate"):
        trip(breaker)
    assert breaker.state() is State.OPEN
    [record] = caplog.records
    assert record.name == "sluicegate" and "listener" in record.getMessage()
    assert record.exc_info[0] is ValueError


def test_transitions_caused_on_other_threads_reach_the_listener():
    threads_seen: set[int] = set()
    breaker = Breaker(
        BreakerConfig(consecutive_failures=1),
        on_transition=lambda t: threads_seen.add(threading.get_ident()),
    )
    worker = threading.Thread(target=trip, args=(breaker,))
    worker.start()
    worker.join()
    assert threads_seen == {worker.ident}


def test_a_breaker_tells_its_configuration_and_shows_its_state():
    config = BreakerConfig(consecutive_failures=1)
    breaker = Breaker(config)
    assert breaker.config is config
    assert repr(breaker) == "<Breaker CLOSED>"
    breaker.close()
    assert repr(breaker) == "<Breaker closed>"
