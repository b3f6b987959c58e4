"""Transition listeners: Python callables the library calls when a breaker changes state.

The library calls a listener on whichever thread is delivering transitions (not always the one
whose call caused it), with no lock held; cffi takes the GIL for the call, and the listener
may call back into the breaker. The library goes on calling it until the breaker is released
and its last permit is recorded or released, so the :class:`Listener` that C holds a pointer
to is kept alive by the handle's finalizer and by every permit's.

A listener must not let an exception escape into C: one that does is logged, with its
traceback, on the ``sluicegate`` logger, and the breaker carries on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ._enums import Cause, State
from ._native import ffi
from ._units import seconds

LOG = logging.getLogger("sluicegate")


@dataclass(frozen=True)
class Transition:
    """One change of a breaker's state, as a listener receives it.

    - ``from_state``, ``to_state``: the state left and the state entered.
    - ``cause``: why.
    - ``at``: when, in seconds of the library's monotonic clock since the breaker or
      registry was built.
    - ``generation``: the generation entered, one more than the previous transition's.
    """

    from_state: State
    to_state: State
    cause: Cause
    at: float
    generation: int


TransitionListener = Callable[[Transition], object]
"""A lone breaker's listener: called with each :class:`Transition`."""

KeyedTransitionListener = Callable[[bytes, Transition], object]
"""A registry's listener: called with the breaker's key (as bytes) and each transition."""


class Listener:
    """A Python listener as the C ``userdata`` pointer that leads back to it: whatever holds
    this object keeps the pointer valid."""

    __slots__ = ("userdata",)

    def __init__(self, callback: Callable[..., object]) -> None:
        if not callable(callback):
            raise TypeError(f"a transition listener is callable, not {type(callback).__name__}")
        self.userdata = ffi.new_handle(callback)


def _transition(c_transition: Any) -> Transition:
    return Transition(
        State(getattr(c_transition, "from")),  # a keyword in Python
        State(c_transition.to),
        Cause(c_transition.cause),
        seconds(c_transition.at_us),
        c_transition.generation,
    )


def _log_listener_error(
    exc_type: type[BaseException],
    exc: BaseException,
    traceback: TracebackType | None,
) -> None:
    LOG.error("a breaker transition listener raised", exc_info=(exc_type, exc, traceback))


def _deliver(userdata: Any, c_transition: Any) -> None:
    ffi.from_handle(userdata)(_transition(c_transition))


def _deliver_keyed(userdata: Any, key: Any, key_len: int, c_transition: Any) -> None:
    ffi.from_handle(userdata)(ffi.buffer(key, key_len)[:], _transition(c_transition))


deliver = ffi.callback("sg_transition_listener", _deliver, onerror=_log_listener_error)
"""The C listener of every lone breaker with a Python listener."""

deliver_keyed = ffi.callback(
    "sg_keyed_transition_listener", _deliver_keyed, onerror=_log_listener_error
)
"""The C listener of every registry with a Python listener."""


def c_listener(listener: Listener | None, trampoline: Any) -> tuple[Any, Any]:
    """The C listener and ``userdata`` arguments for ``listener``: NULLs for none."""
    if listener is None:
        return ffi.NULL, ffi.NULL
    return trampoline, listener.userdata


def release_holding(
    free: Callable[[Any], None], listener: Listener | None
) -> Callable[[Any], None]:
    """A finalizer calling ``free`` that keeps ``listener`` alive until it has run, since
    the library may call the listener until then."""
    if listener is None:
        return free
    return functools.partial(_free_then_let_go, free, listener)


def _free_then_let_go(free: Callable[[Any], None], _listener: Listener, pointer: Any) -> None:
    free(pointer)
