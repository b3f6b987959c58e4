"""Turning Python values into what the C library takes: keys into bytes, durations into
microseconds, and back.

Durations are seconds, as everywhere in Python's standard library (``time.monotonic()``,
``asyncio.sleep``, ``timeout=``): an ``int`` or ``float``, or a :class:`datetime.timedelta`.
The library counts whole microseconds; a float is rounded to the nearest one. Every time the
library reports fits a float exactly to the microsecond (up to 2**53 of them, 285 years).
"""

from __future__ import annotations

import math
from datetime import timedelta

Key = str | bytes | bytearray | memoryview
"""A key: ``str`` (encoded as UTF-8) or any bytes-like object."""

Seconds = int | float | timedelta
"""A duration or a time in seconds: an ``int``, a ``float`` or a :class:`datetime.timedelta`."""

MICROS_PER_SECOND = 1_000_000
U64_MAX = 2**64 - 1
_ONE_MICROSECOND = timedelta(microseconds=1)


def key_bytes(key: Key) -> bytes:
    """The bytes of ``key``: UTF-8 for a ``str``, a copy of any other bytes-like object.

    >>> key_bytes("café")
    b'caf\\xc3\\xa9'
    """
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"a key is a str or bytes-like object, not {type(key).__name__}")


def micros(value: Seconds, name: str, error: type[ValueError] = ValueError) -> int:
    """``value`` seconds in whole microseconds, for the setting or argument ``name``.

    Raises ``error`` naming ``name`` when the value is negative, not finite, or too large for
    the library, and ``TypeError`` when it is not a number of seconds.

    >>> micros(0.25, "open_for"), micros(timedelta(minutes=1), "window")
    (250000, 60000000)
    """
    if isinstance(value, timedelta):
        us = value // _ONE_MICROSECOND
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise error(f"{name} must be a finite number of seconds, not {value}")
        us = round(value * MICROS_PER_SECOND)
    else:
        raise TypeError(f"{name} is a number of seconds or a timedelta, not {type(value).__name__}")
    if not 0 <= us <= U64_MAX:
        raise error(f"{name} must be from 0 to {U64_MAX} microseconds, not {value!r}")
    return us


def seconds(us: int) -> float:
    """``us`` microseconds in seconds."""
    return us / MICROS_PER_SECOND
