//! The Node binding (`bindings/node`): its `node --test` suite against the `libsluicegate.so`
//! cargo built for this run, its lints (Prettier's formatting, TypeScript's check of its JSDoc
//! types), and a short run of its hot-key benchmark.
//!
//! It needs Node 18.18 or later with npm, and what node-gyp needs to build the addon: `python3`,
//! `make`, `g++`, and the headers of the running Node (NodeSource's `nodejs` has them; with
//! Debian's, install `libnode-dev`):
//!
//! ```text
//! apt-get install nodejs npm libnode-dev python3 make g++
//! ```
//!
//! A run that finds `node_modules` missing (or older than `package-lock.json`) installs the npm
//! packages from the lock file with `npm ci`, which also builds the addon; every run then
//! rebuilds what changed, with compiler warnings as errors.
//! In CI a missing tool fails the test; elsewhere the test is skipped with a message saying what
//! to install.

#[path = "support/runtime.rs"]
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Exits 0 on Node 18.18 or later (the first with `Symbol.dispose`).
const NODE_PROBE: &str = "const [major, minor] = process.versions.node.split('.').map(Number); \
                          process.exit(major > 18 || (major === 18 && minor >= 18) ? 0 : 1)";

fn binding_dir() -> PathBuf {
    support::root().join("bindings/node")
}

/// Whether Node 18.18+, npm and the addon's build tools are here.
fn node_ready() -> bool {
    support::require("node", &["-e", NODE_PROBE], "nodejs")
        && support::require("npm", &["--version"], "npm")
        && support::require("python3", &["--version"], "python3")
        && support::require("make", &["--version"], "make")
        && support::require("g++", &["--version"], "g++")
}

/// The addon's C flags in this test, on top of binding.gyp's warnings.
const WARNINGS_AS_ERRORS: &str = "-Werror";

/// Set once the packages are installed and the addon is built, for the tests that follow.
static PREPARED: Mutex<bool> = Mutex::new(false);

/// Whether `node_modules` is missing, or older than `package-lock.json` (npm records what it
/// installed in `node_modules/.package-lock.json`).
fn packages_outdated(dir: &Path) -> bool {
    let modified = |file: &str| fs::metadata(dir.join(file)).and_then(|m| m.modified()).ok();
    match (
        modified("node_modules/.package-lock.json"),
        modified("package-lock.json"),
    ) {
        (Some(installed), Some(locked)) => installed < locked,
        _ => true,
    }
}

/// Installs the npm packages if they are missing or outdated, and builds the addon.
fn prepare() {
    let mut prepared = PREPARED.lock().expect("an earlier preparation failed");
    if *prepared {
        return;
    }
    let dir = binding_dir();
    // npm ci builds the addon too (the package's install script): both builds treat warnings
    // as errors, so the second finds nothing to redo.
    if packages_outdated(&dir) {
        support::run_in(
            &dir,
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .env("CFLAGS", WARNINGS_AS_ERRORS),
        );
    }
    support::run_in(
        &dir,
        Command::new("npm")
            .args(["run", "build"])
            .env("CFLAGS", WARNINGS_AS_ERRORS),
    );
    *prepared = true;
}

#[test]
fn the_node_binding_passes_its_tests() {
    if !node_ready() {
        return;
    }
    prepare();
    support::run_in(&binding_dir(), Command::new("npm").arg("test"));
}

#[test]
fn the_node_binding_passes_its_lints() {
    if !node_ready() {
        return;
    }
    prepare();
    // Prettier's formatting, and TypeScript's check of the JSDoc types in lib/.
    support::run_in(&binding_dir(), Command::new("npm").args(["run", "lint"]));
}

#[test]
fn the_node_hot_key_benchmark_runs() {
    if !node_ready() {
        return;
    }
    prepare();
    // It exits non-zero unless exactly the first 100 checks were admitted.
    support::run_in(
        &binding_dir(),
        Command::new("node").args(["bench/hot_key.js", "20000", "2"]),
    );
}
