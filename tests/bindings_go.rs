//! The Go binding (`bindings/go`): `gofmt` and `go vet` find nothing; its own `go test` suite
//! passes under the race detector against the library cargo built for this run; its hot-key
//! benchmark runs, briefly; and its README shows the example the suite runs.
//!
//! Debian package: `golang-go` (Go 1.19; cgo needs the C compiler that `build-essential`
//! brings). The binding uses the standard library only: nothing is downloaded (`GOPROXY=off`).
//! In CI a missing `go` fails the test; elsewhere the test says what to install and skips.
//!
//! cgo links the suite against the library's directory (`CGO_LDFLAGS=-L<dir>`) and the loader
//! finds it there (`LD_LIBRARY_PATH`); the suite checks that the library it loaded is the one
//! `SLUICEGATE_LIB` names. Go's build cache is its usual one, or `target/<profile>/go-build`
//! when the environment gives no home for it.

#[path = "support/runtime.rs"]
mod support;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

fn binding_dir() -> PathBuf {
    support::root().join("bindings/go")
}

/// Whether `go` is installed (in CI, its absence fails the test).
fn go_installed() -> bool {
    support::require("go", &["version"], "golang-go")
}

/// `go` with `args`, set to build against and load the library built for this run.
fn go(args: &[&str]) -> Command {
    let lib = support::lib_dir();
    let mut loader_path = OsString::from(&lib);
    if let Some(inherited) = std::env::var_os("LD_LIBRARY_PATH").filter(|p| !p.is_empty()) {
        loader_path.push(":");
        loader_path.push(inherited);
    }
    let mut command = Command::new("go");
    command
        .args(args)
        .env("CGO_ENABLED", "1")
        .env("CGO_LDFLAGS", format!("-L{}", lib.display()))
        .env("LD_LIBRARY_PATH", loader_path)
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=readonly");
    let has_cache_home = ["GOCACHE", "XDG_CACHE_HOME", "HOME"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    if !has_cache_home {
        command.env("GOCACHE", lib.join("..").join("go-build"));
    }
    command
}

/// Runs `command` in the binding's directory and returns its standard output, failing the
/// test with everything it printed unless it succeeded.
fn stdout_of(mut command: Command) -> String {
    let shown = format!("{command:?}");
    let output = command
        .current_dir(binding_dir())
        .env("SLUICEGATE_LIB", support::shared_library())
        .output()
        .unwrap_or_else(|e| panic!("could not start {shown}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{shown} failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{shown}\n{stdout}");
    stdout
}

#[test]
fn the_go_binding_is_formatted_and_vetted() {
    if !go_installed() {
        return;
    }
    let unformatted = stdout_of({
        let mut gofmt = Command::new("gofmt");
        gofmt.args(["-l", "."]);
        gofmt
    });
    assert!(
        unformatted.trim().is_empty(),
        "gofmt would change these files:\n{unformatted}"
    );
    stdout_of(go(&["vet", "./..."]));
}

#[test]
fn the_go_binding_suite_passes_under_the_race_detector() {
    if !go_installed() {
        return;
    }
    support::run_in(
        &binding_dir(),
        &mut go(&["test", "-count=1", "-race", "-v", "./..."]),
    );
}

#[test]
fn the_go_hot_key_benchmark_runs() {
    if !go_installed() {
        return;
    }
    let out = stdout_of(go(&[
        "test",
        "-count=1",
        "-run=^$",
        "-bench=^BenchmarkHotKey$",
        "-benchtime=20000x",
        "-benchmem",
    ]));
    assert!(
        out.contains("BenchmarkHotKey")
            && out.contains(" ns/check")
            && out.contains(" 0 allocs/op"),
        "{out}"
    );
}

/// The README's example is the one the suite runs, so the program it shows is tested.
#[test]
fn the_go_readme_shows_the_tested_example() {
    let examples =
        std::fs::read_to_string(binding_dir().join("example_test.go")).expect("the examples");
    let start = examples
        .find("func ExampleLimiter() {")
        .expect("example_test.go has ExampleLimiter");
    let end = start
        + examples[start..]
            .find("\n}\n")
            .expect("ExampleLimiter ends")
        + 3;
    let readme = std::fs::read_to_string(binding_dir().join("README.md")).expect("the README");
    assert!(
        readme.contains(&examples[start..end]),
        "bindings/go/README.md must show ExampleLimiter from example_test.go exactly"
    );
}
