"""The limiter through the real library: decisions, caller time, keys, bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sluicegate import (
    Decision,
    FullPolicy,
    Limiter,
    LimiterStats,
    TimeBase,
    Window,
)


def caller_limiter(*windows: Window, **settings: object) -> Limiter:
    return Limiter(*windows, time_base=TimeBase.CALLER, **settings)


def test_a_key_exhausts_its_window_and_recovers_at_the_time_it_was_told():
    limiter = caller_limiter(Window(3, 10))
    decisions = [limiter.check("client", now=t) for t in (0, 1, 2)]
    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]

    rejected = limiter.check("client", now=3)
    assert rejected == Decision(
        allowed=False, limit=3, remaining=0, reset_after=7.0, retry_after=7.0, window=0
    )
    # One microsecond early is still too early; the time it gave is exactly enough.
    assert not limiter.check("client", now=10 - 1e-6)
    recovered = limiter.check("client", now=3 + rejected.retry_after)
    assert recovered.allowed
    assert recovered.remaining == 0
    assert recovered.reset_after == 1.0  # the request made at t=1 leaves the window next


def test_a_decision_is_true_exactly_when_the_request_was_allowed():
    limiter = caller_limiter(Window(1, 60))
    admitted, rejected = limiter.check("k", now=0), limiter.check("k", now=0)
    assert admitted and admitted.allowed
    assert not rejected and not rejected.allowed
    allowed, limit, remaining, _reset_after, retry_after, window = rejected
    assert (allowed, limit, remaining, retry_after, window) == (False, 1, 0, 60.0, 0)


def test_peek_reports_what_check_would_say_and_records_nothing():
    limiter = caller_limiter(Window(2, 60))
    peeked = limiter.peek("k", now=5)
    assert peeked == limiter.peek("k", now=5)
    assert limiter.check("k", now=5) == peeked
    limiter.check("k", now=5)
    assert not limiter.peek("k", now=6)
    assert limiter.stats().allowed == 2


def test_a_cost_uses_that_many_units():
    limiter = caller_limiter(Window(5, 60))
    assert limiter.check("k", 3, now=0).remaining == 2
    over = limiter.check("k", 3, now=0)
    assert not over
    assert limiter.check("k", 2, now=0).remaining == 0


def test_the_binding_window_is_the_one_with_least_remaining():
    limiter = caller_limiter(Window(2, 1), Window(3, 60))
    assert limiter.check("k", now=0).window == 0  # 1 of 2 left beats 2 of 3
    assert limiter.check("k", now=0).window == 0
    d = limiter.check("k", now=1)  # the short window emptied; the long one has 1 left
    assert (d.window, d.limit, d.remaining) == (1, 3, 0)
    refused = limiter.check("k", now=2)
    assert (refused.window, refused.retry_after) == (1, 58.0)


def test_a_time_earlier_than_one_seen_counts_as_that_time():
    limiter = caller_limiter(Window(1, 10))
    limiter.check("k", now=100)
    late = limiter.check("k", now=50)
    assert not late
    assert late.retry_after == 10.0


def test_times_may_be_timedeltas_and_windows_fractions_of_a_second():
    limiter = caller_limiter(Window(1, timedelta(milliseconds=250)))
    assert limiter.check("k", now=timedelta(seconds=1))
    refused = limiter.check("k", now=timedelta(seconds=1, milliseconds=100))
    assert refused.retry_after == pytest.approx(0.15)
    assert limiter.check("k", now=1.25)


def test_str_keys_are_their_utf8_bytes_and_any_bytes_like_key_works():
    limiter = caller_limiter(Window(4, 60))
    for key in ("café", "café".encode(), bytearray("café".encode()), memoryview("café".encode())):
        limiter.check(key, now=0)
    assert len(limiter) == 1
    assert not limiter.check(b"caf\xc3\xa9", now=0)
    limiter.check(b"", now=0)  # the empty key is a key like any other
    assert len(limiter) == 2


def test_reset_forgets_a_key_and_remove_stops_tracking_it():
    limiter = caller_limiter(Window(1, 60))
    limiter.check("a", now=0)
    limiter.check("b", now=0)
    assert limiter.reset("a") is True
    assert limiter.check("a", now=1)
    assert limiter.reset("never seen") is False
    assert len(limiter) == 2
    assert limiter.remove("b") is True
    assert limiter.remove("b") is False
    assert len(limiter) == 1
    assert limiter.check("b", now=1)


def test_stats_count_decisions_and_memory():
    limiter = caller_limiter(Window(1, 60))
    for key in ("a", "a", "b"):
        limiter.check(key, now=0)
    stats = limiter.stats()
    assert isinstance(stats, LimiterStats)
    assert (stats.keys, stats.allowed, stats.rejected) == (2, 2, 1)
    assert (stats.evictions, stats.reclaimed, stats.refused_keys) == (0, 0, 0)
    assert stats.bytes > 0


def test_a_full_limiter_evicts_the_least_recent_key_by_default():
    limiter = caller_limiter(Window(1, 60), max_keys=2, shards=1)
    for key in ("a", "b", "c"):
        assert limiter.check(key, now=0)
    assert len(limiter) == 2
    assert limiter.stats().evictions == 1
    assert limiter.check("a", now=0)  # "a" was evicted, so it starts afresh
    assert not limiter.check("c", now=0)


def test_keys_whose_windows_emptied_are_reclaimed_when_room_is_needed():
    limiter = caller_limiter(Window(1, 1), max_keys=1, shards=1, on_full=FullPolicy.REJECT_NEW_KEYS)
    limiter.check("a", now=0)
    assert limiter.check("b", now=2)
    assert limiter.stats().reclaimed == 1


def test_the_library_clock_drives_a_limiter_by_default():
    with Limiter(Window.per_minute(2)) as limiter:
        assert limiter.time_base is TimeBase.LIBRARY
        first = limiter.check("k")
        assert first.allowed and first.remaining == 1
        assert 59.9 < first.reset_after <= 60.0
        assert limiter.peek("k").remaining == 0
        limiter.check("k")
        refused = limiter.check("k")
        assert not refused and 59.9 < refused.retry_after <= 60.0


def test_a_limiter_tells_its_windows_and_shows_them():
    limiter = Limiter(Window.per_second(10), Window.per_hour(1000))
    assert limiter.windows == (Window(10, 1), Window(1000, 3600))
    assert "time_base=LIBRARY" in repr(limiter)
    limiter.close()
    assert "closed" in repr(limiter)
