//! What the language-binding tests share: where cargo put the library for this test run, and
//! whether a language's runtime is installed.
//!
//! A binding test runs the binding's own test suite (pytest, `go test`, `node --test`, LuaJIT)
//! against the `libsluicegate.so` built for this very run. In CI (`CI` set in the environment) a
//! missing runtime fails the test; elsewhere the test is skipped with a message naming the
//! package to install.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the `libsluicegate.so` cargo built alongside this test
/// (`target/<profile>/deps/`).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its executable");
    let dir = exe.parent().expect("the executable is in a directory").to_path_buf();
    assert!(
        dir.join("libsluicegate.so").exists(),
        "libsluicegate.so is not in {}: the crate's [lib] crate-type must include cdylib",
        dir.display()
    );
    dir
}

/// The full path of the shared library built for this run.
pub fn shared_library() -> PathBuf {
    lib_dir().join("libsluicegate.so")
}

/// Whether `program` runs (`program --version` or the given probe arguments succeed).
///
/// Returns false outside CI after printing which Debian package brings it; panics in CI, where
/// every binding must be tested.
pub fn require(program: &str, probe: &[&str], package: &str) -> bool {
    let found = Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let message = format!(
        "`{program}` is not installed: install it (`apt-get install {package}`) to test this binding"
    );
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("\n*** SKIPPED: {message} ***\n");
    false
}

/// Runs `command` in `dir`, failing the test with its output unless it succeeded.
pub fn run_in(dir: &Path, command: &mut Command) {
    let shown = format!("{command:?}");
    let output = command
        .current_dir(dir)
        .env("SLUICEGATE_LIB", shared_library())
        .output()
        .unwrap_or_else(|e| panic!("could not start {shown}: {e}"));
    let text = format!(
        "{shown} in {}\n--- stdout\n{}\n--- stderr\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "failed: {text}");
    println!("{text}");
}
