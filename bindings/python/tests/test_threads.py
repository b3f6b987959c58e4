"""Handles shared between threads: exact counts under contention, a permit ended once however
many threads try, and a handle closed while other threads are calling it."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from sluicegate import (
    Breaker,
    BreakerConfig,
    Breakers,
    ClosedError,
    Limiter,
    Outcome,
    Permit,
    Recorded,
    TimeBase,
    Window,
)

THREADS = 4


def run_together(work: Callable[[int], object], threads: int = THREADS) -> list[object]:
    """Runs `work(i)` on `threads` threads released at once; returns their results."""
    start = threading.Barrier(threads)
    results: list[object] = [None] * threads

    def run(i: int) -> None:
        start.wait()
        results[i] = work(i)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
        assert not worker.is_alive()
    return results


def test_threads_sharing_a_limiter_are_admitted_exactly_the_limit():
    limiter = Limiter(Window(1_000, 60))
    admitted = run_together(lambda _: sum(limiter.check("hot").allowed for _ in range(500)))
    assert sum(admitted) == 1_000
    assert limiter.stats().rejected == THREADS * 500 - 1_000


def test_threads_with_their_own_times_each_get_their_own_numbers():
    limiter = Limiter(Window(10, 60), time_base=TimeBase.CALLER)

    def work(i: int) -> list[int]:
        return [limiter.check(f"client-{i}", now=t).remaining for t in range(10)]

    for remaining in run_together(work):
        assert remaining == list(range(9, -1, -1))


def end_permit(permit: Permit, i: int) -> str:
    """Half the threads record the permit, half release it."""
    try:
        if i % 2:
            permit.release()
            return "released"
        permit.record(Outcome.FAILURE)
        return "recorded"
    except ClosedError:
        return "refused"


def test_a_permit_ended_by_many_threads_at_once_ends_once():
    breaker = Breaker(BreakerConfig(consecutive_failures=1_000))
    recorded = 0
    for _ in range(50):
        results = run_together(functools.partial(end_permit, breaker.acquire()))
        assert results.count("recorded") <= 1
        assert results.count("refused") == (THREADS + 1) // 2 - results.count("recorded")
        recorded += results.count("recorded")
    c = breaker.counters()
    assert (c.permitted, c.failures, c.ignored) == (50, recorded, 50 - recorded)


def close_or_call(
    limiter: Limiter, breaker: Breaker, hosts: Breakers, calling: threading.Barrier, i: int
) -> str:
    """Thread 0 closes the handles once every other thread is inside its loop of calls on
    them; the others call until they find them closed."""
    if i == 0:
        calling.wait()
        for handle in (limiter, breaker, hosts):
            handle.close()
        return "closed"
    try:
        for n in range(100_000):
            limiter.check(f"k{n % 7}")
            admission = breaker.acquire()
            if admission:
                admission.record(Outcome.SUCCESS)
            hosts.acquire(f"h{n % 3}")
            if n == 0:
                calling.wait()
    except ClosedError:
        return "stopped"
    return "never closed"


def test_closing_handles_while_threads_call_them_frees_them_after_the_calls():
    for _ in range(10):
        use = functools.partial(
            close_or_call,
            Limiter(Window(100, 60)),
            Breaker(BreakerConfig(consecutive_failures=3)),
            Breakers(BreakerConfig(consecutive_failures=3)),
            threading.Barrier(THREADS),
        )
        assert run_together(use) == ["closed"] + ["stopped"] * (THREADS - 1)


def test_a_registry_delivers_transitions_from_every_thread():
    heard: list[bytes] = []
    lock = threading.Lock()

    def listener(key: bytes, transition: object) -> None:
        with lock:
            heard.append(key)

    hosts = Breakers(BreakerConfig(consecutive_failures=1, open_for=600), on_transition=listener)

    def fail_own_host(i: int) -> Recorded:
        return hosts.acquire(f"host-{i}").record(Outcome.FAILURE)

    assert run_together(fail_own_host) == [Recorded.COUNTED] * THREADS
    assert sorted(heard) == sorted(f"host-{i}".encode() for i in range(THREADS))
