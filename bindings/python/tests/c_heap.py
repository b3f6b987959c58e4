"""How much memory the C heap holds, to see the library free what a handle owned."""

from __future__ import annotations

import ctypes
import gc


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


_LIBC = ctypes.CDLL(None)
_LIBC.mallinfo2.restype = _MallInfo2


def heap_in_use() -> int:
    """Bytes the C heap (glibc's malloc, which the library allocates from) has handed out and
    not had back, after a full garbage collection on the Python side."""
    gc.collect()
    info = _LIBC.mallinfo2()
    return info.uordblks + info.hblkhd
