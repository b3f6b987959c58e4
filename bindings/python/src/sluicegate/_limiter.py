"""The rate limiter: exact sliding-window logs per key."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._config import Kind, Setting, fill, new_struct
from ._enums import FullPolicy, TimeBase
from ._errors import (
    InvalidArgumentError,
    Result,
    SluicegateError,
    WrongTimeBaseError,
    error_for,
)
from ._handle import Handle
from ._layout import from_struct, unpacker
from ._native import ffi, lib
from ._units import MICROS_PER_SECOND, U64_MAX, Key, Seconds, key_bytes, micros


class Window(NamedTuple):
    """At most ``limit`` cost units in any span of ``duration`` seconds.

    ``limit`` is 1 to 4,294,967,295; ``duration`` is seconds (or a ``timedelta``), at least one
    microsecond and at most 2**52 of them.

    >>> Window(100, 60) == Window.per_minute(100)
    True
    """

    limit: int
    duration: Seconds

    @classmethod
    def per_second(cls, limit: int) -> Window:
        """At most ``limit`` in any second."""
        return cls(limit, 1)

    @classmethod
    def per_minute(cls, limit: int) -> Window:
        """At most ``limit`` in any 60 seconds."""
        return cls(limit, 60)

    @classmethod
    def per_hour(cls, limit: int) -> Window:
        """At most ``limit`` in any 3,600 seconds."""
        return cls(limit, 3600)


class _DecisionFields(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float
    window: int


class Decision(_DecisionFields):
    """What the limiter decided for one request, and what a client needs to behave well.

    The numbers describe the binding window: the one with the least remaining (ties go to the
    longer window). An admitted request is already counted in them.

    - ``allowed``: whether the request was admitted (and, for a check, recorded).
    - ``limit``: the binding window's limit.
    - ``remaining``: units still available in the binding window, after this request if
      admitted.
    - ``reset_after``: seconds until the binding window's ``remaining`` next grows; 0 if it is
      empty.
    - ``retry_after``: for a rejection, the exact wait in seconds after which the same request
      is admitted if nothing else arrives; 0 when admitted.
    - ``window``: the binding window's index among the limiter's windows.

    A decision is true when the request was allowed, so ``if limiter.check(key):`` reads as it
    should; otherwise it is a named tuple.

    >>> limiter = Limiter(Window(1, 60), time_base=TimeBase.CALLER)
    >>> bool(limiter.check("k", now=0)), bool(limiter.check("k", now=1))
    (True, False)
    >>> limiter.check("k", now=1).retry_after
    59.0
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class LimiterStats:
    """A limiter's counters and sizes, as :meth:`Limiter.stats` reads them."""

    keys: int
    """Keys tracked now."""
    allowed: int
    """Checks admitted."""
    rejected: int
    """Checks rejected."""
    evictions: int
    """Live keys evicted because the limiter was full (``FullPolicy.EVICT_LEAST_RECENT``)."""
    reclaimed: int
    """Idle keys (nothing left in any window) freed."""
    refused_keys: int
    """New keys refused because the limiter was full (``FullPolicy.REJECT_NEW_KEYS``)."""
    bytes: int
    """Bytes of memory the limiter's tables, keys and logs hold."""


_WINDOW_SETTINGS = (
    Setting("limit", "limit", Kind.COUNT),
    Setting("duration", "duration_us", Kind.SECONDS),
)

_SETTINGS = (
    Setting("max_keys", "max_keys", Kind.COUNT, zero_means_default=True),
    Setting("shards", "shards", Kind.COUNT, zero_means_default=True),
    Setting("max_key_len", "max_key_len", Kind.COUNT, zero_means_default=True),
)

_DECISION = unpacker(
    "sg_decision",
    ("allowed", "window", "limit", "remaining", "reset_after_us", "retry_after_us"),
)
_unpack_decision = _DECISION.unpack_from
_new_decision = tuple.__new__
_US = float(MICROS_PER_SECOND)


class _Scratch(threading.local):
    """Each thread's output struct for decisions, reused call after call."""

    def __init__(self) -> None:
        decision = ffi.new("sg_decision *")
        self.decision = (decision, ffi.buffer(decision))


_SCRATCH = _Scratch()


_CHECK = lib.sg_limiter_check
_CHECK_NOW = lib.sg_limiter_check_now
_PEEK = lib.sg_limiter_peek
_PEEK_NOW = lib.sg_limiter_peek_now


class Limiter(Handle):
    """An exact sliding-window-log rate limiter over keys.

    Each key may use at most ``limit`` cost units in any span of each window's ``duration``,
    all windows at once (one to eight, no two of the same length). Keys are ``str`` (UTF-8) or
    bytes.

    The settings (``None`` takes the library's default, given in brackets):

    - ``time_base``: where time comes from (see :class:`TimeBase`): the library's clock, or
      the caller's with ``TimeBase.CALLER``.
    - ``max_keys``: the most keys tracked at once, split evenly over the shards (2,097,152).
    - ``shards``: a power of two up to 4096 (four per core).
    - ``max_key_len``: the longest key accepted, in bytes, up to 65,536 (1024).
    - ``on_full``: what to do with a new key when full (see :class:`FullPolicy`).

    Thread-safe: one limiter may be shared by any number of threads. It is released by
    :meth:`close`, at the end of a ``with`` block, or when garbage-collected.

    >>> with Limiter(Window.per_minute(2)) as limiter:
    ...     [limiter.check("203.0.113.7").allowed for _ in range(3)]
    [True, True, False]
    """

    __slots__ = ("_time_base", "_windows")

    def __init__(
        self,
        *windows: Window,
        time_base: TimeBase = TimeBase.LIBRARY,
        max_keys: int | None = None,
        shards: int | None = None,
        max_key_len: int | None = None,
        on_full: FullPolicy = FullPolicy.EVICT_LEAST_RECENT,
    ) -> None:
        self._windows = tuple(Window(*window) for window in windows)
        self._time_base = TimeBase(time_base)
        config = new_struct("sg_limiter_config")
        c_windows = ffi.new("sg_window[]", len(self._windows))
        for c_window, window in zip(c_windows, self._windows, strict=True):
            fill(c_window, _WINDOW_SETTINGS, window._asdict())
        config.windows = c_windows
        config.windows_len = len(self._windows)
        config.time_base = self._time_base
        config.on_full = FullPolicy(on_full)
        fill(
            config,
            _SETTINGS,
            {"max_keys": max_keys, "shards": shards, "max_key_len": max_key_len},
        )
        out = ffi.new("sg_limiter **")
        code = lib.sg_limiter_new(config, out)
        if code:
            raise error_for(code)
        super().__init__(out[0], lib.sg_limiter_free)

    @property
    def windows(self) -> tuple[Window, ...]:
        """The windows every request must fit, in the order given."""
        return self._windows

    @property
    def time_base(self) -> TimeBase:
        """Where the limiter's time comes from."""
        return self._time_base

    def check(self, key: Key, cost: int = 1, *, now: Seconds | None = None) -> Decision:
        """Decides one request of ``cost`` units for ``key``, and records it if admitted.

        ``now`` is the caller's time in seconds, for a limiter built with
        ``TimeBase.CALLER``, and must be left out otherwise. A rejection is a decision that
        is not ``allowed``, not an error.

        Raises :class:`ZeroCostError` for a cost of 0, :class:`CostExceedsLimitError` for a
        cost above the smallest limit, :class:`KeyTooLongError`, :class:`KeysExhaustedError`
        (only with ``FullPolicy.REJECT_NEW_KEYS``), :class:`WrongTimeBaseError` and
        :class:`ClosedError`.
        """
        return self._decide(_CHECK, _CHECK_NOW, key, cost, now)

    def peek(self, key: Key, cost: int = 1, *, now: Seconds | None = None) -> Decision:
        """What :meth:`check` would decide, recording nothing. An admissible peek reports the
        numbers the check would report after recording. Raises as :meth:`check`.

        >>> limiter = Limiter(Window.per_minute(5))
        >>> limiter.peek("k").remaining, limiter.peek("k").remaining
        (4, 4)
        """
        return self._decide(_PEEK, _PEEK_NOW, key, cost, now)

    def _decide(
        self, call: Any, call_now: Any, key: Key, cost: int, now: Seconds | None
    ) -> Decision:
        """Makes the C call ``call`` (``call_now`` given ``now``) and returns its decision.

        This is the hot path of the package: one C call, one unpack of its output, one tuple.
        """
        if type(key) is not bytes:
            key = key_bytes(key)
        out, view = _SCRATCH.decision
        now_us = None if now is None else micros(now, "now", InvalidArgumentError)
        try:
            if now_us is None:
                code = call(self._handle, key, len(key), cost, out)
            else:
                code = call_now(self._handle, key, len(key), cost, now_us, out)
        except (OverflowError, TypeError):  # only `cost` can be of the wrong kind
            raise _cost_error(cost) from None
        if code:
            raise self._error(code)
        allowed, window, limit, remaining, reset_us, retry_us = _unpack_decision(view)
        return _new_decision(
            Decision, (allowed, limit, remaining, reset_us / _US, retry_us / _US, window)
        )

    def reset(self, key: Key) -> bool:
        """Forgets what ``key`` has used, as if it had never been seen; returns whether it was
        tracked.

        >>> limiter = Limiter(Window.per_minute(1))
        >>> limiter.check("k").allowed, limiter.check("k").allowed
        (True, False)
        >>> limiter.reset("k"), limiter.check("k").allowed
        (True, True)
        """
        return bool(self._keyed(lib.sg_limiter_reset, "bool *", key)[0])

    def remove(self, key: Key) -> bool:
        """Stops tracking ``key`` and frees its memory; returns whether it was tracked."""
        return bool(self._keyed(lib.sg_limiter_remove, "bool *", key)[0])

    def __len__(self) -> int:
        """How many keys the limiter tracks."""
        return int(self._query(lib.sg_limiter_len, "size_t *")[0])

    def stats(self) -> LimiterStats:
        """The limiter's counters and sizes now.

        >>> limiter = Limiter(Window.per_minute(1))
        >>> _ = limiter.check("a"), limiter.check("a"), limiter.check("b")
        >>> stats = limiter.stats()
        >>> stats.keys, stats.allowed, stats.rejected
        (2, 2, 1)
        """
        return from_struct(
            LimiterStats, self._query(lib.sg_limiter_get_stats, "sg_limiter_stats *")
        )

    def _error(self, code: int) -> SluicegateError:
        if code == Result.WRONG_TIME_BASE:  # said in this package's terms, not C's
            if self._time_base is TimeBase.CALLER:
                message = "this limiter takes the caller's time (TimeBase.CALLER): pass now="
            else:
                message = "this limiter reads the library's clock: leave now= out"
            return WrongTimeBaseError(message, Result.WRONG_TIME_BASE)
        return super()._error(code)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"time_base={self._time_base.name}"
        return f"<Limiter {list(self._windows)} {state}>"


def _cost_error(cost: object) -> SluicegateError | TypeError:
    if isinstance(cost, int):
        return InvalidArgumentError(f"cost must be from 1 to {U64_MAX}, not {cost}")
    return TypeError(f"cost is a whole number, not {type(cost).__name__}")
