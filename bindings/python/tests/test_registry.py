"""The registry of breakers by key through the real library."""

from __future__ import annotations

import time

import pytest

from sluicegate import (
    BreakerConfig,
    BreakerCounters,
    Breakers,
    Cause,
    KeysExhaustedError,
    Outcome,
    Recorded,
    RegistryStats,
    RejectReason,
    State,
    Transition,
)

ONE_FAILURE_OPENS = BreakerConfig(consecutive_failures=1, open_for=600)


def fail(hosts: Breakers, key: str | bytes) -> None:
    assert hosts.acquire(key).record(Outcome.FAILURE) is Recorded.COUNTED


def test_each_key_has_its_own_breaker():
    hosts = Breakers(ONE_FAILURE_OPENS)
    fail(hosts, "a")
    assert hosts.state("a") is State.OPEN
    assert hosts.acquire("a").reason is RejectReason.OPEN
    assert hosts.state("b") is State.CLOSED
    assert hosts.acquire("b")
    assert len(hosts) == 2


def test_str_and_bytes_name_the_same_breaker():
    hosts = Breakers(ONE_FAILURE_OPENS)
    fail(hosts, "höst")
    assert hosts.state("höst".encode()) is State.OPEN
    assert len(hosts) == 1


def test_an_override_gives_a_key_its_own_configuration():
    hosts = Breakers(ONE_FAILURE_OPENS, overrides={"flaky": BreakerConfig(consecutive_failures=2)})
    fail(hosts, "flaky")
    assert hosts.state("flaky") is State.CLOSED
    fail(hosts, "flaky")
    assert hosts.state("flaky") is State.OPEN


def test_reading_a_key_makes_no_breaker():
    hosts = Breakers(ONE_FAILURE_OPENS)
    assert hosts.state("unseen") is State.CLOSED
    assert hosts.counters("unseen") == BreakerCounters(0, 0, 0, 0, 0, 0, 0, 0)
    assert hosts.reset("unseen") is False
    assert hosts.remove("unseen") is False
    assert len(hosts) == 0


def test_operators_can_hold_off_a_host_before_its_first_call():
    hosts = Breakers(ONE_FAILURE_OPENS)
    assert hosts.force_open("new") is True
    assert hosts.force_open("new") is False
    assert len(hosts) == 1
    assert hosts.acquire("new").reason is RejectReason.FORCED_OPEN
    assert hosts.disable("new") is True
    assert hosts.disable("new") is False
    fail(hosts, "new")
    assert hosts.state("new") is State.DISABLED
    assert hosts.reset("new") is True
    assert hosts.state("new") is State.CLOSED


def test_a_removed_key_starts_afresh_and_its_permits_still_record():
    hosts = Breakers(ONE_FAILURE_OPENS)
    permit = hosts.acquire("h")
    fail(hosts, "h")
    assert hosts.remove("h") is True
    assert hosts.state("h") is State.CLOSED
    assert permit.record(Outcome.SUCCESS) is Recorded.STALE


def test_counters_and_stats():
    hosts = Breakers(ONE_FAILURE_OPENS)
    hosts.acquire("a").record(Outcome.SUCCESS)
    fail(hosts, "a")
    hosts.acquire("a")
    c = hosts.counters("a")
    assert (c.permitted, c.rejected, c.successes, c.failures) == (2, 1, 1, 1)
    stats = hosts.stats()
    assert isinstance(stats, RegistryStats)
    assert (stats.keys, stats.reclaimed, stats.refused) == (1, 0, 0)
    assert stats.bytes > 0


def test_a_full_registry_refuses_new_keys_until_a_breaker_has_been_idle_long_enough():
    hosts = Breakers(ONE_FAILURE_OPENS, shards=1, max_keys=1, idle_after=0.05)
    hosts.acquire("old").record(Outcome.SUCCESS)
    # Idleness is timed from when the registry, looking for room, first sees no new calls.
    with pytest.raises(KeysExhaustedError, match="maximum of 1 breakers"):
        hosts.acquire("new")
    time.sleep(0.06)
    assert hosts.acquire("new")
    stats = hosts.stats()
    assert (stats.keys, stats.reclaimed, stats.refused) == (1, 1, 1)


def test_a_breaker_with_a_permit_out_is_never_reclaimed():
    hosts = Breakers(ONE_FAILURE_OPENS, shards=1, max_keys=1, idle_after=0.05)
    held = hosts.acquire("busy")
    with pytest.raises(KeysExhaustedError):
        hosts.acquire("new")
    time.sleep(0.06)
    with pytest.raises(KeysExhaustedError):
        hosts.acquire("new")
    held.release()


def test_the_listener_hears_every_key_with_its_bytes():
    heard: list[tuple[bytes, Transition]] = []
    hosts = Breakers(ONE_FAILURE_OPENS, on_transition=lambda k, t: heard.append((k, t)))
    fail(hosts, "api.example:443")
    hosts.force_open(b"\x00binary")
    assert [(k, t.to_state, t.cause) for k, t in heard] == [
        (b"api.example:443", State.OPEN, Cause.CONSECUTIVE_FAILURES),
        (b"\x00binary", State.FORCED_OPEN, Cause.FORCED),
    ]


def test_a_registry_tells_its_configuration_and_shows_its_size():
    hosts = Breakers(ONE_FAILURE_OPENS)
    hosts.acquire("a")
    assert hosts.config is ONE_FAILURE_OPENS
    assert repr(hosts) == "<Breakers 1 keys>"
