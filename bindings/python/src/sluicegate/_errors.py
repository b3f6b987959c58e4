"""Result codes and the exceptions they become.

Every C call returns an ``sg_result``. ``SG_OK`` is success (a rate-limit rejection or an open
circuit is an answer, not an error); any other code becomes the exception of its class below,
carrying the code and the library's detail text for the calling thread (``sg_last_error``).
Errors meaning a bad value also derive from :class:`ValueError`, as Python's own do.
"""

from __future__ import annotations

import enum

from ._native import ffi, lib


class Result(enum.IntEnum):
    """The C library's result codes, by the numbers it gives them."""

    OK = lib.SG_OK
    NULL_ARGUMENT = lib.SG_NULL_ARGUMENT
    INVALID_CONFIG = lib.SG_INVALID_CONFIG
    UNSUPPORTED_STRUCT_SIZE = lib.SG_UNSUPPORTED_STRUCT_SIZE
    ZERO_COST = lib.SG_ZERO_COST
    COST_EXCEEDS_LIMIT = lib.SG_COST_EXCEEDS_LIMIT
    KEY_TOO_LONG = lib.SG_KEY_TOO_LONG
    KEYS_EXHAUSTED = lib.SG_KEYS_EXHAUSTED
    STALE_OUTCOME = lib.SG_STALE_OUTCOME
    INVALID_ARGUMENT = lib.SG_INVALID_ARGUMENT
    PANIC = lib.SG_PANIC
    WRONG_TIME_BASE = lib.SG_WRONG_TIME_BASE


class SluicegateError(Exception):
    """The base of every error this package raises.

    ``code`` is the library's :class:`Result` (``None`` for an error this package finds
    before calling the library). The message is the code's description followed by the
    library's detail for the failed call (``sg_last_error``), which names the setting or
    argument at fault.

    >>> from sluicegate import Limiter, Window, SluicegateError
    >>> try:
    ...     Limiter(Window(0, 60))
    ... except SluicegateError as error:
    ...     print(error.code.name)
    INVALID_CONFIG
    """

    def __init__(self, message: str, code: Result | None = None) -> None:
        super().__init__(message)
        self.code = code


class ConfigError(SluicegateError, ValueError):
    """A configuration was refused; the detail names the setting and says why.

    The library names its C settings: a duration ``open_for`` is ``open_for_us`` there.
    """


class UnsupportedLibraryError(SluicegateError):
    """The loaded ``libsluicegate.so`` does not understand this package's configuration
    structs: it is older than the header this package was built from. Load a newer one."""


class ZeroCostError(SluicegateError, ValueError):
    """A check with a cost of zero: every request costs at least 1."""


class CostExceedsLimitError(SluicegateError, ValueError):
    """A cost above the smallest window's limit: no amount of waiting admits it."""


class KeyTooLongError(SluicegateError, ValueError):
    """A key longer than the handle's ``max_key_len`` bytes."""


class KeysExhaustedError(SluicegateError):
    """A new key met a handle already holding its ``max_keys`` keys, none reclaimable."""


class InvalidArgumentError(SluicegateError, ValueError):
    """An argument was out of range, such as an unknown enumeration number."""


class NullArgumentError(SluicegateError):
    """The library was passed a NULL pointer; this package never does so on its own."""


class LibraryPanicError(SluicegateError):
    """The library panicked; it caught the panic, but the handle involved may be left
    inconsistent: close it and make a new one."""


class WrongTimeBaseError(SluicegateError):
    """A limiter was driven in the wrong time base: ``now=`` given to a limiter reading the
    library's clock, or left out for one built with ``TimeBase.CALLER``."""


class ClosedError(SluicegateError, ValueError):
    """A handle was used after ``close()``, or a permit after it was recorded or released."""


_ERROR_CLASSES: dict[Result, type[SluicegateError]] = {
    Result.NULL_ARGUMENT: NullArgumentError,
    Result.INVALID_CONFIG: ConfigError,
    Result.UNSUPPORTED_STRUCT_SIZE: UnsupportedLibraryError,
    Result.ZERO_COST: ZeroCostError,
    Result.COST_EXCEEDS_LIMIT: CostExceedsLimitError,
    Result.KEY_TOO_LONG: KeyTooLongError,
    Result.KEYS_EXHAUSTED: KeysExhaustedError,
    Result.INVALID_ARGUMENT: InvalidArgumentError,
    Result.PANIC: LibraryPanicError,
    Result.WRONG_TIME_BASE: WrongTimeBaseError,
}

_DETAIL_BUFFER = 256


def last_error() -> str:
    """The detail of the calling thread's most recent failed call, or ``''`` if none."""
    length = ffi.new("size_t *")
    buffer = ffi.new("char[]", _DETAIL_BUFFER)
    lib.sg_last_error(buffer, _DETAIL_BUFFER, length)
    if length[0] >= _DETAIL_BUFFER:
        buffer = ffi.new("char[]", length[0] + 1)
        lib.sg_last_error(buffer, length[0] + 1, length)
    detail: bytes = ffi.string(buffer)
    return detail.decode("utf-8", "replace")


def result_message(code: int) -> str:
    """The library's short description of a result code."""
    message: bytes = ffi.string(lib.sg_result_message(code))
    return message.decode("utf-8", "replace")


def error_for(code: int) -> SluicegateError:
    """The exception for a failed call's result ``code``, with the thread's detail text.

    Call it right after the failed call, on the same thread: the detail is per thread and
    the next failure replaces it.
    """
    try:
        result = Result(code)
    except ValueError:
        return SluicegateError(f"{result_message(code)} ({code})")
    message = result_message(code)
    detail = last_error()
    if detail and detail != message:
        message = f"{message}: {detail}"
    return _ERROR_CLASSES.get(result, SluicegateError)(message, result)
