"""The library's enumerations, with the numbers the C library gives them.

Each member takes its value from the constant the library declares, so the two cannot drift
apart; a test checks that every C constant has its member.
"""

from __future__ import annotations

import enum

from ._native import lib


class State(enum.IntEnum):
    """Where a circuit breaker stands.

    - ``CLOSED``: calls pass; outcomes are measured against the trip policies.
    - ``OPEN``: calls are rejected until the open time has passed.
    - ``HALF_OPEN``: a bounded number of trial calls pass; their outcomes decide between
      closed and open.
    - ``FORCED_OPEN``: held open by an operator until reset or disabled.
    - ``DISABLED``: switched off by an operator; every call passes and is counted, nothing trips.

    >>> State.HALF_OPEN.name
    'HALF_OPEN'
    """

    CLOSED = lib.SG_STATE_CLOSED
    OPEN = lib.SG_STATE_OPEN
    HALF_OPEN = lib.SG_STATE_HALF_OPEN
    FORCED_OPEN = lib.SG_STATE_FORCED_OPEN
    DISABLED = lib.SG_STATE_DISABLED


class Cause(enum.IntEnum):
    """Why a circuit breaker changed state.

    - ``CONSECUTIVE_FAILURES``, ``FAILURE_RATE``, ``SLOW_CALL_RATE``: closed to open, by the
      trip policy of that name.
    - ``OPEN_ELAPSED``: open to half-open; the open time passed and a caller came to probe.
    - ``TRIALS_SUCCEEDED``: half-open to closed.
    - ``TRIALS_FAILED``: half-open to open.
    - ``TRIAL_TIMEOUT``: half-open to open; trials unreported past the trial timeout counted
      as failures.
    - ``FORCED``, ``DISABLED``, ``RESET``: an operator's ``force_open``, ``disable`` or
      ``reset``.
    """

    CONSECUTIVE_FAILURES = lib.SG_CAUSE_CONSECUTIVE_FAILURES
    FAILURE_RATE = lib.SG_CAUSE_FAILURE_RATE
    SLOW_CALL_RATE = lib.SG_CAUSE_SLOW_CALL_RATE
    OPEN_ELAPSED = lib.SG_CAUSE_OPEN_ELAPSED
    TRIALS_SUCCEEDED = lib.SG_CAUSE_TRIALS_SUCCEEDED
    TRIALS_FAILED = lib.SG_CAUSE_TRIALS_FAILED
    TRIAL_TIMEOUT = lib.SG_CAUSE_TRIAL_TIMEOUT
    FORCED = lib.SG_CAUSE_FORCED
    DISABLED = lib.SG_CAUSE_DISABLED
    RESET = lib.SG_CAUSE_RESET


class RejectReason(enum.IntEnum):
    """Why a circuit breaker turned a call away.

    - ``OPEN``: the circuit is open.
    - ``HALF_OPEN_FULL``: the circuit is half-open and every trial slot is taken.
    - ``FORCED_OPEN``: an operator forced the circuit open.
    """

    OPEN = lib.SG_REJECT_OPEN
    HALF_OPEN_FULL = lib.SG_REJECT_HALF_OPEN_FULL
    FORCED_OPEN = lib.SG_REJECT_FORCED_OPEN


class Outcome(enum.IntEnum):
    """How a call through a circuit breaker ended, as the caller classifies it.

    Classify by whose fault it was: an upstream that is down, overloaded or timing out is a
    ``FAILURE``; a client's mistake (a 404, a 400) is a ``SUCCESS`` or ``IGNORED``, or one
    client's bad requests would open the circuit for everyone.

    - ``SUCCESS``: the upstream did its job.
    - ``FAILURE``: the upstream failed.
    - ``IGNORED``: says nothing about the upstream (the client went away, the call was
      cancelled).
    """

    SUCCESS = lib.SG_OUTCOME_SUCCESS
    FAILURE = lib.SG_OUTCOME_FAILURE
    IGNORED = lib.SG_OUTCOME_IGNORED


class TimeBase(enum.IntEnum):
    """Where a limiter's time comes from; one limiter is driven by one time base only.

    - ``LIBRARY``: the library reads its own monotonic clock; call ``check(key)`` and
      ``peek(key)`` without ``now``.
    - ``CALLER``: the caller passes the time, in seconds of its own monotonic clock (such as
      ``time.monotonic()`` or an event loop's ``loop.time()``), as ``now=`` to every
      ``check`` and ``peek``. Any origin will do; a time earlier than one already seen counts
      as that time.
    """

    LIBRARY = lib.SG_TIME_BASE_LIBRARY
    CALLER = lib.SG_TIME_BASE_CALLER


class FullPolicy(enum.IntEnum):
    """What a full limiter does with a new key once no idle key can be reclaimed.

    - ``EVICT_LEAST_RECENT`` (the default): evict the key seen least recently; it starts
      afresh if it comes back, so a flood of new keys cannot lock legitimate clients out.
    - ``REJECT_NEW_KEYS``: refuse new keys with :class:`KeysExhaustedError`; no key ever
      loses its history.
    """

    EVICT_LEAST_RECENT = lib.SG_FULL_EVICT_LEAST_RECENT
    REJECT_NEW_KEYS = lib.SG_FULL_REJECT_NEW_KEYS


class Recorded(enum.Enum):
    """What became of an outcome reported with :meth:`Permit.record`.

    - ``COUNTED``: counted in the breaker state the permit was admitted in.
    - ``STALE``: the breaker changed state after the permit was admitted (or its half-open
      trial timed out), so the outcome changed nothing but the ``stale`` counter.
    """

    COUNTED = "counted"
    STALE = "stale"
