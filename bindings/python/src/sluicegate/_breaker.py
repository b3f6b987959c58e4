"""A lone circuit breaker, for one upstream."""

from __future__ import annotations

from dataclasses import dataclass

from ._breaker_config import BreakerConfig, breaker_struct
from ._enums import State
from ._errors import error_for
from ._handle import Handle
from ._layout import from_struct
from ._listener import Listener, TransitionListener, c_listener, deliver, release_holding
from ._native import ffi, lib
from ._permit import Admission, admission


@dataclass(frozen=True)
class BreakerCounters:
    """What a breaker has counted since it was built. Counters only grow; once no permit is
    outstanding, ``permitted == successes + failures + ignored + stale``."""

    permitted: int
    """Calls admitted (permits handed out)."""
    rejected: int
    """Calls rejected."""
    successes: int
    """Successes recorded in the generation they were admitted in."""
    failures: int
    """Failures recorded in the generation they were admitted in."""
    ignored: int
    """Permits recorded as ignored or released unrecorded, in their generation."""
    slow: int
    """Successes and failures that took at least the slow-call threshold."""
    stale: int
    """Permits that ended after their generation did, and so counted for nothing else."""
    trial_timeouts: int
    """Half-open trials that went unreported past the trial timeout and counted as failed."""


class Breaker(Handle):
    """A circuit breaker for one upstream, reading the library's monotonic clock.

    :meth:`acquire` before each call to the upstream; it gives a :class:`Permit` (report the
    outcome on it) or a :class:`Rejection`. ``on_transition``, if given, is called with a
    :class:`Transition` for every change of state, on whichever thread delivers it; an
    exception it raises is logged on the ``sluicegate`` logger and otherwise ignored.

    Thread-safe: one breaker may be shared by any number of threads. It is released by
    :meth:`close`, at the end of a ``with`` block, or when garbage-collected; permits still
    out keep it alive until they are recorded or released.

    >>> from sluicegate import BreakerConfig, Outcome, State
    >>> breaker = Breaker(BreakerConfig(consecutive_failures=2, open_for=30))
    >>> for _ in range(2):
    ...     breaker.acquire().record(Outcome.FAILURE)
    <Recorded.COUNTED: 'counted'>
    <Recorded.COUNTED: 'counted'>
    >>> breaker.state(), breaker.acquire().reason
    (<State.OPEN: 1>, <RejectReason.OPEN: 1>)
    """

    __slots__ = ("_config", "_listener")

    def __init__(
        self, config: BreakerConfig, *, on_transition: TransitionListener | None = None
    ) -> None:
        c_config = breaker_struct(config)
        self._config = config
        self._listener = None if on_transition is None else Listener(on_transition)
        out = ffi.new("sg_breaker **")
        code = lib.sg_breaker_new(c_config, *c_listener(self._listener, deliver), out)
        if code:
            raise error_for(code)
        super().__init__(out[0], release_holding(lib.sg_breaker_free, self._listener))

    @property
    def config(self) -> BreakerConfig:
        """The configuration the breaker was built from."""
        return self._config

    def acquire(self) -> Admission:
        """Asks to make one call: a :class:`Permit` when admitted, a :class:`Rejection` with
        its reason and the time to wait otherwise. Closed and disabled breakers admit; an open
        one rejects until its time is up, then turns half-open and admits this call as the
        first trial; a half-open one admits while a trial slot is free; a forced-open one
        rejects."""
        return admission(self._query(lib.sg_breaker_acquire, "sg_admission *"), self._listener)

    def state(self) -> State:
        """Where the breaker stands. It only reports: an open breaker whose time is up says
        open until the next :meth:`acquire`."""
        return State(self._query(lib.sg_breaker_get_state, "sg_state *")[0])

    def counters(self) -> BreakerCounters:
        """What the breaker has counted since it was built."""
        return from_struct(
            BreakerCounters, self._query(lib.sg_breaker_get_counters, "sg_breaker_counters *")
        )

    def force_open(self) -> bool:
        """Holds the breaker open, rejecting every call, until :meth:`reset` or
        :meth:`disable`. Returns false if it was already forced open."""
        return bool(self._query(lib.sg_breaker_force_open, "bool *")[0])

    def disable(self) -> bool:
        """Admits every call and keeps counting, but never trips, until :meth:`reset` or
        :meth:`force_open`. Returns false if it was already disabled."""
        return bool(self._query(lib.sg_breaker_disable, "bool *")[0])

    def reset(self) -> None:
        """Closes the breaker afresh from any state: a new generation (outstanding permits'
        outcomes become stale), empty windows, the backoff back at its base. The counters
        keep their history."""
        code = lib.sg_breaker_reset(self._handle)
        if code:
            raise self._error(code)

    def __repr__(self) -> str:
        return f"<Breaker {'closed' if self.closed else self.state().name}>"
