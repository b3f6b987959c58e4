"""Sluicegate for Python: an exact sliding-window-log rate limiter and circuit breakers,
running in-process in ``libsluicegate.so`` through its C interface.

- :class:`Limiter`: "at most N in any window of length W", for one or several windows at
  once, per key, with the numbers (remaining, reset, retry-after) a client can trust.
- :class:`Breaker`: a circuit breaker with generation-safe outcomes; :class:`Breakers` keeps
  one per key.

The C library is found through the ``SLUICEGATE_LIB`` environment variable (its path) when
set, else as ``libsluicegate.so`` on the dynamic loader's path. Every object here may be shared
between threads. Durations and times are seconds (``int``, ``float`` or ``timedelta``).

>>> import sluicegate
>>> limiter = sluicegate.Limiter(sluicegate.Window.per_second(10))
>>> limiter.check("203.0.113.7").remaining
9
"""

from __future__ import annotations

from ._breaker import Breaker, BreakerCounters
from ._breaker_config import BreakerConfig
from ._enums import Cause, FullPolicy, Outcome, Recorded, RejectReason, State, TimeBase
from ._errors import (
    ClosedError,
    ConfigError,
    CostExceedsLimitError,
    InvalidArgumentError,
    KeysExhaustedError,
    KeyTooLongError,
    LibraryPanicError,
    NullArgumentError,
    Result,
    SluicegateError,
    UnsupportedLibraryError,
    WrongTimeBaseError,
    ZeroCostError,
)
from ._limiter import Decision, Limiter, LimiterStats, Window
from ._listener import KeyedTransitionListener, Transition, TransitionListener
from ._native import ffi as _ffi
from ._native import lib as _lib
from ._permit import Admission, Permit, Rejection
from ._registry import Breakers, RegistryStats

__version__ = "0.1.0"
"""This package's version (``pyproject.toml`` reads it from here)."""


def library_version() -> str:
    """The version of the loaded ``libsluicegate.so``, "MAJOR.MINOR.PATCH".

    >>> library_version().count(".")
    2
    """
    version: bytes = _ffi.string(_lib.sg_version())
    return version.decode("ascii")


__all__ = [
    "Admission",
    "Breaker",
    "BreakerConfig",
    "BreakerCounters",
    "Breakers",
    "Cause",
    "ClosedError",
    "ConfigError",
    "CostExceedsLimitError",
    "Decision",
    "FullPolicy",
    "InvalidArgumentError",
    "KeyTooLongError",
    "KeyedTransitionListener",
    "KeysExhaustedError",
    "LibraryPanicError",
    "Limiter",
    "LimiterStats",
    "NullArgumentError",
    "Outcome",
    "Permit",
    "Recorded",
    "RegistryStats",
    "RejectReason",
    "Rejection",
    "Result",
    "SluicegateError",
    "State",
    "TimeBase",
    "Transition",
    "TransitionListener",
    "UnsupportedLibraryError",
    "Window",
    "WrongTimeBaseError",
    "ZeroCostError",
    "library_version",
]
