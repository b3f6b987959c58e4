"""The C library, loaded once per process through cffi in ABI mode.

The declarations come from ``sluicegate.cdef.h``, the preprocessor-free copy of the C header
that ships inside this package (a test keeps it identical to the repository's
``include/sluicegate.cdef.h``). ABI mode parses them at import and opens the library with
``dlopen``: installing the package needs no C compiler, and the library to load is chosen at
run time.

Which library: the path in the ``SLUICEGATE_LIB`` environment variable when it is set, else
``libsluicegate.so`` found by the dynamic loader (``LD_LIBRARY_PATH``, the ``ld.so.cache``,
the system directories).
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

import cffi

LIBRARY_ENV = "SLUICEGATE_LIB"
"""The environment variable naming the shared library's path."""

DEFAULT_LIBRARY = "libsluicegate.so"
"""The name the dynamic loader looks up when ``SLUICEGATE_LIB`` is not set."""

ffi = cffi.FFI()
ffi.cdef(resources.files(__package__).joinpath("sluicegate.cdef.h").read_text("utf-8"))


def _open_library() -> Any:
    path = os.environ.get(LIBRARY_ENV) or DEFAULT_LIBRARY
    try:
        return ffi.dlopen(path)
    except OSError as error:
        raise ImportError(
            f"sluicegate could not load the C library {path!r}: set {LIBRARY_ENV} to the path "
            f"of libsluicegate.so, or put the directory holding it on the loader path "
            f"(LD_LIBRARY_PATH). Build it with `cargo build --release`. ({error})"
        ) from error


lib = _open_library()
