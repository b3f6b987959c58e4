"""A breaker's answer to a call: a :class:`Permit` to go ahead, or a :class:`Rejection`."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, NamedTuple

from ._enums import Outcome, Recorded, RejectReason
from ._errors import ClosedError, InvalidArgumentError, Result, error_for
from ._listener import Listener, release_holding
from ._native import ffi, lib
from ._units import U64_MAX, Seconds, micros, seconds


class Permit:
    """Leave to make one call through a circuit breaker.

    Report how the call went with :meth:`record`, or let it go unreported with
    :meth:`release` (the call then counts as ignored and frees its half-open trial slot).
    Either ends the permit. Leaving a ``with`` block releases a permit not recorded in it, as
    does garbage collection. A permit is true, a :class:`Rejection` false.

    A permit keeps its breaker alive: it may still be recorded after the breaker is closed.
    It may be recorded or released from any thread; only the first of those calls counts,
    however many threads make them at once.

    >>> from sluicegate import Breaker, BreakerConfig
    >>> breaker = Breaker(BreakerConfig(consecutive_failures=1))
    >>> with breaker.acquire() as permit:
    ...     permit.record(Outcome.FAILURE)
    <Recorded.COUNTED: 'counted'>
    >>> breaker.state()
    <State.OPEN: 1>
    """

    __slots__ = ("_admitted_ns", "_listener", "_pointer")

    def __init__(self, pointer: Any, listener: Listener | None) -> None:
        # A one-element list, so that taking the pointer is one atomic `pop`. Its finalizer
        # releases an unended permit, holding the listener until the library is done with it.
        self._pointer = [ffi.gc(pointer, release_holding(lib.sg_permit_free, listener))]
        # Recording may make the library call the listener: it lives as long as the permit.
        self._listener = listener
        self._admitted_ns = time.monotonic_ns()

    @property
    def admitted(self) -> bool:
        """Always true: the call may go ahead."""
        return True

    def record(self, outcome: Outcome, elapsed: Seconds | None = None) -> Recorded:
        """Reports how the call went and how long it took, and ends the permit.

        ``elapsed`` is the call's duration in seconds, judged against the slow-call
        threshold; by default, the time since the permit was admitted. Returns
        ``Recorded.STALE`` when the breaker changed state after the permit was admitted, so
        the outcome changed nothing but the ``stale`` counter.

        Raises :class:`InvalidArgumentError` for an ``outcome`` that is not an
        :class:`Outcome` or a negative ``elapsed`` (the permit stays usable), and
        :class:`ClosedError` if the permit was already recorded or released.
        """
        try:
            outcome = Outcome(outcome)
        except ValueError:
            raise InvalidArgumentError(f"outcome must be an Outcome, not {outcome!r}") from None
        if elapsed is None:
            elapsed_us = (time.monotonic_ns() - self._admitted_ns) // 1000
        else:
            elapsed_us = micros(elapsed, "elapsed", InvalidArgumentError)
        pointer = self._take()
        if pointer is None:
            raise ClosedError("this permit was already recorded or released")
        ffi.gc(pointer, None)  # the library takes it over now, whatever the call returns
        code = lib.sg_permit_record(pointer, outcome, elapsed_us)
        if code == Result.OK:
            return Recorded.COUNTED
        if code == Result.STALE_OUTCOME:
            return Recorded.STALE
        raise error_for(code)

    def release(self) -> None:
        """Ends the permit unreported: the call counts as ignored. Releasing a permit that
        was already recorded or released does nothing."""
        pointer = self._take()
        if pointer is not None:
            ffi.release(pointer)  # runs its finalizer, sg_permit_free, now

    @property
    def done(self) -> bool:
        """Whether the permit was recorded or released."""
        return not self._pointer

    def _take(self) -> Any:
        try:
            return self._pointer.pop()
        except IndexError:
            return None

    def __enter__(self) -> Permit:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<Permit {'done' if self.done else 'open'}>"


class Rejection(NamedTuple):
    """A call turned away by a circuit breaker; false in a boolean context.

    - ``reason``: why, a :class:`RejectReason`.
    - ``retry_after``: seconds until the reason stops holding by the clock alone (an open
      circuit's remaining open time; for full half-open slots, the oldest trial's timeout),
      or ``None`` when only an operator can end it (forced open).

    >>> from sluicegate import Breaker, BreakerConfig
    >>> breaker = Breaker(BreakerConfig(consecutive_failures=1))
    >>> breaker.force_open()
    True
    >>> breaker.acquire()
    Rejection(reason=<RejectReason.FORCED_OPEN: 3>, retry_after=None)
    """

    reason: RejectReason
    retry_after: float | None

    @property
    def admitted(self) -> bool:
        """Always false: the call must not go ahead."""
        return False

    def __bool__(self) -> bool:
        return False


Admission = Permit | Rejection
"""What acquiring from a breaker gives: a :class:`Permit` or a :class:`Rejection`."""


def admission(c_admission: Any, listener: Listener | None) -> Admission:
    """The Python answer for an ``sg_admission`` the library filled in."""
    if c_admission.permit != ffi.NULL:
        return Permit(c_admission.permit, listener)
    retry_us = c_admission.retry_after_us
    return Rejection(
        RejectReason(c_admission.reject_reason),
        None if retry_us == U64_MAX else seconds(retry_us),
    )
