"""Filling the C library's configuration structs from keyword settings.

In C a zero field means "off" or "the default". Here a setting left as ``None`` means that;
an explicit value is passed on as given, and the library checks it. One exception, so that a
setting never silently means something else than it says: where the library reads zero as
"use the default" (``open_for=0`` would mean ten seconds), an explicit zero, or a duration
that rounds to zero microseconds, is refused with a :class:`ConfigError`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigError
from ._native import ffi
from ._units import micros


class Kind(enum.Enum):
    """What a setting holds."""

    COUNT = "a whole number"
    NUMBER = "a number"
    SECONDS = "a number of seconds or a timedelta"


@dataclass(frozen=True)
class Setting:
    """One keyword setting and the C field it fills."""

    name: str
    c_field: str
    kind: Kind
    zero_means_default: bool = False


def new_struct(c_type: str) -> Any:
    """A zeroed C config struct of ``c_type`` with its ``struct_size`` set."""
    struct = ffi.new(f"{c_type} *")
    struct.struct_size = ffi.sizeof(c_type)
    return struct


def fill(struct: Any, settings: Iterable[Setting], values: Mapping[str, Any]) -> None:
    """Writes each setting's value from ``values`` into ``struct``, leaving ``None`` unset."""
    for setting in settings:
        value = values[setting.name]
        if value is not None:
            _write(struct, setting, value)


def _write(struct: Any, setting: Setting, value: Any) -> None:
    name = setting.name
    c_value: int | float
    if setting.kind is Kind.SECONDS:
        c_value = micros(value, name, ConfigError)
    elif isinstance(value, bool) or not isinstance(
        value, int if setting.kind is Kind.COUNT else (int, float)
    ):
        raise TypeError(f"{name} is {setting.kind.value}, not {type(value).__name__}")
    else:
        c_value = value
    if c_value == 0 and setting.zero_means_default:
        raise ConfigError(
            f"{name} must be above zero (zero would mean the default: leave it unset for that)"
        )
    try:
        setattr(struct, setting.c_field, c_value)
    except OverflowError:
        raise ConfigError(f"{name} is out of range: {value!r}") from None
