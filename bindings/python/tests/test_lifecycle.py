"""Handles are released by close(), by a with block and by garbage collection, and what the
library frees is seen leaving the C heap; a listener lives exactly as long as the library may
call it; a permit keeps its breaker alive."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable

import pytest
from c_heap import heap_in_use

from sluicegate import (
    Breaker,
    BreakerConfig,
    Breakers,
    ClosedError,
    Limiter,
    Outcome,
    Recorded,
    RejectReason,
    State,
    TimeBase,
    Transition,
    Window,
)

KEYS = 20_000


def big_limiter() -> tuple[Limiter, int]:
    """A limiter holding many keys, and the bytes the library says it holds."""
    limiter = Limiter(Window(10, 60), time_base=TimeBase.CALLER)
    for n in range(KEYS):
        limiter.check(b"client-%08d" % n, now=0)
    return limiter, limiter.stats().bytes


def big_registry() -> tuple[Breakers, int]:
    hosts = Breakers(BreakerConfig(consecutive_failures=1))
    for n in range(KEYS):
        hosts.force_open(b"host-%08d" % n)
    return hosts, hosts.stats().bytes


def freed_by(make: Callable[[], tuple[object, int]], release: Callable[[list], None]) -> float:
    """The share of what the handle `make` builds holds that `release` gives back to the heap.

    `release` gets a list holding the handle: the handle object stays alive through the
    measurement unless `release` takes it out.
    """
    before = heap_in_use()
    held_handle, held = make()
    assert held > 1_000_000
    grown = heap_in_use() - before
    assert grown >= 0.9 * held  # the library's count is what the heap sees
    box = [held_handle]
    del held_handle
    release(box)
    return (grown - (heap_in_use() - before)) / grown


def close(box: list) -> None:
    box[0].close()


def leave_with_block(box: list) -> None:
    with box[0]:
        pass


def drop(box: list) -> None:
    """The last reference goes, and the finalizer runs."""
    box.clear()


@pytest.mark.parametrize("make", [big_limiter, big_registry], ids=["limiter", "registry"])
@pytest.mark.parametrize("release", [close, leave_with_block, drop])
def test_releasing_a_handle_gives_its_memory_back(make, release):
    assert freed_by(make, release) > 0.95


def test_a_registry_whose_listener_refers_to_it_is_freed_by_the_garbage_collector():
    def cyclic() -> tuple[Breakers, int]:
        registry: list[Breakers] = []
        hosts = Breakers(
            BreakerConfig(consecutive_failures=1),
            on_transition=lambda key, t: registry[0].state(key),
        )
        registry.append(hosts)
        for n in range(KEYS):
            hosts.force_open(b"host-%08d" % n)
        return hosts, hosts.stats().bytes

    assert freed_by(cyclic, drop) > 0.95


def test_a_listener_is_let_go_once_the_breaker_and_its_permits_are_gone():
    def listener(transition: Transition) -> None:
        pass

    breaker = Breaker(BreakerConfig(consecutive_failures=1), on_transition=listener)
    permit = breaker.acquire()
    watch = weakref.ref(listener)
    del listener, breaker
    gc.collect()
    assert watch() is not None  # the permit may still make the library call it
    permit.release()
    del permit
    assert watch() is None  # at once, with no garbage collection: no reference cycle holds it


def test_a_listener_in_a_cycle_with_its_breaker_is_collected():
    class Owner:
        def __init__(self) -> None:
            self.breaker = Breaker(
                BreakerConfig(consecutive_failures=1), on_transition=self.on_transition
            )

        def on_transition(self, transition: Transition) -> None:
            pass

    watch = weakref.ref(Owner())
    gc.collect()
    assert watch() is None


def test_a_permit_outlives_its_breaker_and_still_reports():
    transitions: list[Transition] = []
    breaker = Breaker(BreakerConfig(consecutive_failures=1), on_transition=transitions.append)
    permit = breaker.acquire()
    del breaker
    gc.collect()
    assert permit.record(Outcome.FAILURE) is Recorded.COUNTED
    assert [t.to_state for t in transitions] == [State.OPEN]


def test_a_registry_permit_outlives_its_registry():
    heard: list[bytes] = []
    hosts = Breakers(
        BreakerConfig(consecutive_failures=1), on_transition=lambda k, t: heard.append(k)
    )
    permit = hosts.acquire("h")
    hosts.close()
    assert permit.record(Outcome.FAILURE) is Recorded.COUNTED
    assert heard == [b"h"]


def test_a_collected_permit_is_released_and_frees_its_trial_slot():
    breaker = Breaker(BreakerConfig(consecutive_failures=1, open_for=0.05))
    breaker.acquire().record(Outcome.FAILURE)
    time.sleep(0.06)
    trial = breaker.acquire()
    assert trial
    assert breaker.acquire().reason is RejectReason.HALF_OPEN_FULL
    del trial  # never recorded: the finalizer releases it
    next_trial = breaker.acquire()
    assert next_trial  # the slot is free again
    assert breaker.counters().ignored == 1


def test_permits_given_back_in_any_order_leave_nothing_behind():
    before = heap_in_use()
    breaker = Breaker(BreakerConfig(consecutive_failures=1_000))
    permits = [breaker.acquire() for _ in range(5_000)]
    for permit in permits[::2]:
        permit.record(Outcome.SUCCESS)
    del permits, permit
    breaker.close()
    del breaker
    assert heap_in_use() - before < 64 * 1024


def test_a_listener_may_close_the_breaker_it_listens_to():
    # The call delivering the transition holds the handle: the free waits for it to return.
    breaker: Breaker
    breaker = Breaker(
        BreakerConfig(consecutive_failures=1), on_transition=lambda t: breaker.close()
    )
    assert breaker.acquire().record(Outcome.FAILURE) is Recorded.COUNTED
    assert breaker.closed
    with pytest.raises(ClosedError):
        breaker.acquire()


def test_a_listener_may_close_the_registry_it_listens_to():
    hosts: Breakers
    hosts = Breakers(
        BreakerConfig(consecutive_failures=1), on_transition=lambda k, t: hosts.close()
    )
    assert hosts.force_open("h") is True
    with pytest.raises(ClosedError):
        hosts.state("h")
