"""What one ``sg_limiter_check`` costs from Python through each way of calling C: ctypes,
cffi in ABI mode (what this package uses) and cffi in API mode (compiled; skipped when no C
compiler is found). Each makes the bare call, on the hot-key scenario of ``hot_key.py``, with
one output struct reused, so the figures are the calling machinery's own cost.

Usage: ``SLUICEGATE_LIB=/path/to/libsluicegate.so python3 benchmarks/ffi_choice.py [checks] [runs]``
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import import_module, resources
from pathlib import Path

import cffi

LIBRARY = os.environ.get("SLUICEGATE_LIB") or "libsluicegate.so"
KEY = b"client-000000000"
CDEF = resources.files("sluicegate").joinpath("sluicegate.cdef.h").read_text("utf-8")


def best_ns(loop: Callable[[int], None], checks: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter_ns()
        loop(checks)
        best = min(best, (time.perf_counter_ns() - start) / checks)
    return best


def cffi_loop(ffi: cffi.FFI, lib: object) -> Callable[[int], None]:
    """The check loop through a cffi ``lib``, either mode."""
    window = ffi.new("sg_window *", {"limit": 100, "duration_us": 60_000_000})
    config = ffi.new("sg_limiter_config *")
    config.struct_size = ffi.sizeof("sg_limiter_config")
    config.windows = window
    config.windows_len = 1
    handle = ffi.new("sg_limiter **")
    if lib.sg_limiter_new(config, handle):
        raise RuntimeError("sg_limiter_new failed")
    limiter = ffi.gc(handle[0], lib.sg_limiter_free)
    out = ffi.new("sg_decision *")
    check = lib.sg_limiter_check

    def loop(checks: int) -> None:
        for _ in range(checks):
            check(limiter, KEY, 16, 1, out)

    return loop


def ctypes_loop() -> Callable[[int], None]:
    """The check loop through ctypes, with the argument types declared."""

    class Window(ctypes.Structure):
        _fields_ = [("limit", ctypes.c_uint64), ("duration_us", ctypes.c_uint64)]

    class Config(ctypes.Structure):
        _fields_ = [
            ("struct_size", ctypes.c_uint32),
            ("time_base", ctypes.c_uint32),
            ("windows", ctypes.POINTER(Window)),
            ("windows_len", ctypes.c_size_t),
            ("max_keys", ctypes.c_uint64),
            ("shards", ctypes.c_uint32),
            ("max_key_len", ctypes.c_uint32),
            ("on_full", ctypes.c_uint32),
        ]

    class Decision(ctypes.Structure):
        _fields_ = [
            ("allowed", ctypes.c_bool),
            ("window", ctypes.c_uint32),
            ("limit", ctypes.c_uint64),
            ("remaining", ctypes.c_uint64),
            ("reset_after_us", ctypes.c_uint64),
            ("retry_after_us", ctypes.c_uint64),
        ]

    lib = ctypes.CDLL(LIBRARY)
    lib.sg_limiter_new.argtypes = [ctypes.POINTER(Config), ctypes.POINTER(ctypes.c_void_p)]
    lib.sg_limiter_new.restype = ctypes.c_uint32
    lib.sg_limiter_free.argtypes = [ctypes.c_void_p]
    check = lib.sg_limiter_check
    check.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint64,
        ctypes.POINTER(Decision),
    ]
    check.restype = ctypes.c_uint32
    window = Window(100, 60_000_000)
    config = Config(ctypes.sizeof(Config), 0, ctypes.pointer(window), 1)
    limiter = ctypes.c_void_p()
    if lib.sg_limiter_new(ctypes.byref(config), ctypes.byref(limiter)):
        raise RuntimeError("sg_limiter_new failed")
    out = ctypes.byref(Decision())

    def loop(checks: int) -> None:
        for _ in range(checks):
            check(limiter, KEY, 16, 1, out)

    return loop


def api_mode_lib(build_dir: Path) -> tuple[cffi.FFI, object] | None:
    """The library through a cffi API-mode module compiled in ``build_dir``, or ``None`` when
    it cannot be compiled here."""
    library = Path(LIBRARY).resolve()
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    # The cdef text is plain C: with the standard headers it declares what the module calls.
    ffi.set_source(
        "_sluicegate_api_mode",
        "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n" + CDEF,
        library_dirs=[str(library.parent)],
        libraries=["sluicegate"],
        extra_link_args=[f"-Wl,-rpath,{library.parent}"],
    )
    try:
        ffi.compile(tmpdir=str(build_dir))
    except Exception as error:
        print(f"cffi API mode: not built ({type(error).__name__}: {error})")
        return None
    sys.path.insert(0, str(build_dir))
    module = import_module("_sluicegate_api_mode")
    return module.ffi, module.lib


def main(argv: list[str]) -> None:
    checks = int(argv[1]) if len(argv) > 1 else 5_000
    runs = int(argv[2]) if len(argv) > 2 else 400
    abi = cffi.FFI()
    abi.cdef(CDEF)
    loops = {"ctypes": ctypes_loop(), "cffi ABI mode": cffi_loop(abi, abi.dlopen(LIBRARY))}
    with tempfile.TemporaryDirectory() as build_dir:
        api = api_mode_lib(Path(build_dir))
        if api is not None:
            loops["cffi API mode"] = cffi_loop(*api)
        for name, loop in loops.items():
            print(f"{name}: {best_ns(loop, checks, runs):.1f} ns per bare sg_limiter_check call")


if __name__ == "__main__":
    main(sys.argv)
