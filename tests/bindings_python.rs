//! The Python binding (`bindings/python`): its pytest suite, the doctests of its docstrings
//! included, against the `libsluicegate.so` cargo built for this run, and a short run of its
//! hot-key benchmark.
//!
//! It needs `python3` (3.10 or later) with `cffi` and `pytest`:
//!
//! ```text
//! python3 -m pip install -r bindings/python/requirements-test.txt
//! ```
//!
//! In CI a missing interpreter or module fails the test; elsewhere the test is skipped with a
//! message saying what to install.

#[path = "support/runtime.rs"]
mod support;

use std::path::PathBuf;
use std::process::Command;

const MODULES_PROBE: &str =
    "import sys, cffi, pytest; sys.exit(0 if sys.version_info >= (3, 10) else 1)";

fn binding_dir() -> PathBuf {
    support::root().join("bindings/python")
}

/// Whether `python3` is here with the modules the binding and its tests need.
fn python_ready() -> bool {
    if !support::require("python3", &["--version"], "python3") {
        return false;
    }
    let ready = Command::new("python3")
        .args(["-c", MODULES_PROBE])
        .output()
        .is_ok_and(|o| o.status.success());
    if ready {
        return true;
    }
    let message = "`python3` lacks Python 3.10, `cffi` or `pytest`: run `python3 -m pip install \
                   -r bindings/python/requirements-test.txt` to test the Python binding";
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("\n*** SKIPPED: {message} ***\n");
    false
}

/// `python3` with the binding's sources importable and no bytecode left in the tree.
fn python() -> Command {
    let mut command = Command::new("python3");
    command
        .env("PYTHONPATH", binding_dir().join("src"))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

#[test]
fn the_python_binding_passes_its_tests() {
    if !python_ready() {
        return;
    }
    support::run_in(&binding_dir(), python().args(["-m", "pytest", "-q"]));
}

#[test]
fn the_python_hot_key_benchmark_runs() {
    if !python_ready() {
        return;
    }
    // It exits non-zero unless exactly the first 100 checks were admitted.
    support::run_in(
        &binding_dir(),
        python().args(["benchmarks/hot_key.py", "20000", "2"]),
    );
}
