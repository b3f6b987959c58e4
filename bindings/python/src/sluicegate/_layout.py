"""Reading the library's output structs into Python values.

The field lists are the C declarations' own: a report struct becomes a dataclass of the same
field names, and the one struct read on the hot path, ``sg_decision``, is unpacked in one step
with a :class:`struct.Struct` built from the offsets cffi computed for it.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Any, TypeVar

from ._native import ffi

_FORMATS = {"_Bool": "?", "uint32_t": "I", "uint64_t": "Q"}

T = TypeVar("T")


def unpacker(c_type: str, field_names: tuple[str, ...]) -> struct.Struct:
    """A :class:`struct.Struct` reading ``c_type``'s fields in declaration order.

    ``field_names`` is the order the caller unpacks into; an ``ImportError`` says so if the
    declaration no longer has exactly those fields.
    """
    fields = ffi.typeof(c_type).fields
    names = tuple(name for name, _ in fields)
    if names != field_names:
        raise ImportError(f"{c_type} declares {names}; this package reads {field_names}")
    layout = ["="]  # native byte order; the padding is spelled out from cffi's offsets
    offset = 0
    for _, field in fields:
        layout.append("x" * (field.offset - offset))
        layout.append(_FORMATS[field.type.cname])
        offset = field.offset + ffi.sizeof(field.type)
    layout.append("x" * (ffi.sizeof(c_type) - offset))
    return struct.Struct("".join(layout))


def from_struct(cls: type[T], c_struct: Any) -> T:
    """A ``cls`` dataclass filled from the same-named fields of the C struct ``c_struct``."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: getattr(c_struct, name) for name in names})
