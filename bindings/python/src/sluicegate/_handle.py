"""Ownership of one library handle (a limiter, a breaker, a registry).

The handle's pointer lives in a cffi object whose finalizer calls the library's ``*_free``
when the last reference to it goes. The owner holds one reference; ``close()`` drops it. A
call in progress holds another for its duration, so a handle closed, or collected, while
another thread is inside a call is freed when that call returns, never under it. In CPython
the release is immediate when nothing else holds the pointer: on ``close()``, at the end of a
``with`` block, or when the owner is garbage-collected.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from ._errors import ClosedError, Result, SluicegateError, error_for
from ._native import ffi
from ._units import Key, key_bytes

_CLOSED = ffi.NULL
"""A closed handle's pointer: the library answers it with ``SG_NULL_ARGUMENT``, so the hot
path needs no test of its own for a closed handle."""


class Handle:
    """The base of the objects that own a library handle."""

    __slots__ = ("__weakref__", "_handle")

    def __init__(self, pointer: Any, release: Callable[[Any], None]) -> None:
        self._handle = ffi.gc(pointer, release)

    def close(self) -> None:
        """Releases the handle; later calls raise :class:`ClosedError`. Closing twice is
        allowed and does nothing. Calls already running on other threads finish first."""
        self._handle = _CLOSED

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._handle is _CLOSED

    def __enter__(self) -> Any:
        if self._handle is _CLOSED:
            raise self._closed_error()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _query(self, call: Callable[..., int], out_type: str, *args: Any) -> Any:
        """Calls ``call(handle, *args, out)`` with a new ``out_type`` output and returns the
        output, raising the call's error if it failed."""
        out = ffi.new(out_type)
        code = call(self._handle, *args, out)
        if code:
            raise self._error(code)
        return out

    def _keyed(self, call: Callable[..., int], out_type: str, key: Key) -> Any:
        """:meth:`_query` for a call whose arguments are a key's bytes and their length."""
        key = key_bytes(key)
        return self._query(call, out_type, key, len(key))

    def _error(self, code: int) -> SluicegateError:
        """The exception for a failed call. A closed handle is passed to the library as NULL,
        the only NULL this package ever passes, so that failure reads as the handle closed."""
        if code == Result.NULL_ARGUMENT and self._handle is _CLOSED:
            return self._closed_error()
        return error_for(code)

    def _closed_error(self) -> ClosedError:
        return ClosedError(f"this {type(self).__name__} is closed")
