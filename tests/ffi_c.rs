//! The C ABI from C: the programs in `tests/c/`, compiled with every warning as an error and
//! run under AddressSanitizer (leak check on) and UndefinedBehaviorSanitizer, linked against the
//! `libsluicegate.so` and `libsluicegate.a` cargo built for this test run. They sit next to this
//! test's executable, in `target/<profile>/deps/`.
//!
//! The C compiler is `$CC`, or `cc`. The hot-key comparison with the Rust call is ignored by
//! default (it measures, so it wants a release build and a quiet machine):
//!
//! ```text
//! cargo test --release --test ffi_c -- --ignored --nocapture
//! ```

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use sluicegate::{Limiter, Window};

/// Warnings are errors, and both sanitizers stop the program at their first finding.
const STRICT: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Werror",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-g",
    "-pthread",
];

/// What the static library needs from the system (`rustc --print native-static-libs`).
const STATIC_SYSTEM_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the libraries cargo built alongside this test.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its executable");
    let dir = exe
        .parent()
        .expect("the executable is in a directory")
        .to_path_buf();
    for lib in ["libsluicegate.so", "libsluicegate.a"] {
        assert!(
            dir.join(lib).exists(),
            "{lib} is not in {}: the crate's [lib] crate-type must include cdylib and staticlib",
            dir.display()
        );
    }
    dir
}

/// A scratch directory for compiled programs, inside the target directory.
fn build_dir(name: &str) -> PathBuf {
    let dir = lib_dir().join("..").join("c-tests").join(name);
    std::fs::create_dir_all(&dir).expect("the target directory is writable");
    dir
}

fn compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_owned())
}

/// Runs `command`, failing the test with its output unless it succeeded.
fn succeed(command: &mut Command) -> Output {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("could not run {shown}: {e}"));
    assert!(
        output.status.success(),
        "{shown} failed with {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// How a program links the library.
enum Link {
    Shared,
    Static,
}

/// Compiles `tests/c/<source>` with `flags` into `dir`, linked to the library.
fn compile(source: &str, dir: &Path, flags: &[&str], link: Link) -> PathBuf {
    let exe = dir.join(source.trim_end_matches(".c"));
    let lib = lib_dir();
    let mut cc = Command::new(compiler());
    cc.args(flags)
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join("tests/c").join(source))
        .arg("-o")
        .arg(&exe);
    match link {
        Link::Shared => {
            cc.arg("-L").arg(&lib).arg("-lsluicegate");
            cc.arg(format!("-Wl,-rpath,{}", lib.display()));
        }
        Link::Static => {
            cc.arg(lib.join("libsluicegate.a")).args(STATIC_SYSTEM_LIBS);
        }
    }
    succeed(&mut cc);
    exe
}

/// Runs a program built with the sanitizers; any finding, leak included, fails it.
fn run_sanitized(exe: &Path) -> String {
    let output = succeed(
        Command::new(exe)
            .env(
                "ASAN_OPTIONS",
                "detect_leaks=1:halt_on_error=1:abort_on_error=0",
            )
            .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1"),
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{stdout}");
    stdout
}

/// Whether a tool the test needs is here; in CI its absence is a failure.
fn tool_available(tool: &str, package: &str) -> bool {
    if Command::new(tool).arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "`{tool}` is missing; CI must install the Debian package {package}"
    );
    eprintln!(
        "SKIPPED: `{tool}` is not installed (Debian package {package}); this test did not run"
    );
    false
}

#[test]
fn the_c_programs_call_every_declared_function() {
    let header = std::fs::read_to_string(root().join("include/sluicegate.h")).expect("the header");
    // Declarations start in the first column: `<type> <name>(`.
    let declared: Vec<&str> = header
        .lines()
        .filter(|l| !l.starts_with([' ', '/', '#', '}', '*']) && !l.starts_with("typedef"))
        .filter_map(|l| l.split_once('('))
        .filter_map(|(before, _)| before.split_whitespace().last())
        .map(|name| name.trim_start_matches('*'))
        .filter(|name| name.starts_with("sg_"))
        .collect();
    assert!(declared.len() > 30, "found only {declared:?}");
    let programs = ["api.c", "threads.c"]
        .map(|f| std::fs::read_to_string(root().join("tests/c").join(f)).expect("a C test"))
        .join("\n");
    let uncalled: Vec<&&str> = declared
        .iter()
        .filter(|name| !programs.contains(&format!("{name}(")))
        .collect();
    assert!(uncalled.is_empty(), "no C test calls {uncalled:?}");
}

#[test]
fn api_calls_every_function_and_reaches_every_result_code() {
    let exe = compile("api.c", &build_dir("shared"), STRICT, Link::Shared);
    let out = run_sanitized(&exe);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn every_handle_is_shared_between_threads() {
    let exe = compile("threads.c", &build_dir("shared"), STRICT, Link::Shared);
    let out = run_sanitized(&exe);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn the_static_library_links_on_its_own() {
    let exe = compile("api.c", &build_dir("static"), STRICT, Link::Static);
    let out = run_sanitized(&exe);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

/// Installs the library, header and pkg-config file into `prefix` as README.md says.
fn install(prefix: &Path) {
    let version = env!("CARGO_PKG_VERSION");
    for dir in ["include", "lib/pkgconfig"] {
        std::fs::create_dir_all(prefix.join(dir)).expect("a writable prefix");
    }
    let copy = |from: PathBuf, to: &str| {
        std::fs::copy(&from, prefix.join(to))
            .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    };
    copy(root().join("include/sluicegate.h"), "include/sluicegate.h");
    copy(lib_dir().join("libsluicegate.so"), "lib/libsluicegate.so");
    copy(lib_dir().join("libsluicegate.a"), "lib/libsluicegate.a");
    let template = std::fs::read_to_string(root().join("sluicegate.pc.in")).expect("the template");
    let pc = template
        .replace("@PREFIX@", &prefix.display().to_string())
        .replace("@VERSION@", version);
    assert!(
        !pc.contains('@'),
        "a placeholder is left in sluicegate.pc.in"
    );
    std::fs::write(prefix.join("lib/pkgconfig/sluicegate.pc"), pc).expect("a writable prefix");
}

fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    let out = succeed(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .args(args)
            .arg("sluicegate"),
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_example_builds_with_pkg_config_and_decides() {
    let example = std::fs::read_to_string(root().join("tests/c/example.c")).expect("the example");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("the README");
    assert!(
        readme.contains(&example),
        "README.md must show tests/c/example.c exactly, so the program it shows is the one tested"
    );
    if !tool_available("pkg-config", "pkg-config") {
        return;
    }
    let prefix = build_dir("prefix");
    install(&prefix);
    let version = pkg_config(&prefix, &["--modversion"]);
    assert_eq!(version, [env!("CARGO_PKG_VERSION")]);

    let dir = build_dir("example");
    for (name, flags) in [
        (
            "example-shared",
            pkg_config(&prefix, &["--cflags", "--libs"]),
        ),
        ("example-static", {
            let mut f = pkg_config(&prefix, &["--cflags"]);
            f.push(prefix.join("lib/libsluicegate.a").display().to_string());
            f.extend(pkg_config(&prefix, &["--libs-only-other", "--static"]));
            f.extend(
                pkg_config(&prefix, &["--libs-only-l", "--static"])
                    .into_iter()
                    .filter(|l| l != "-lsluicegate"),
            );
            f
        }),
    ] {
        let exe = dir.join(name);
        succeed(
            Command::new(compiler())
                .args(STRICT)
                .arg(root().join("tests/c/example.c"))
                .arg("-o")
                .arg(&exe)
                .args(&flags)
                .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display())),
        );
        let out = run_sanitized(&exe);
        assert_eq!(
            out,
            "request 1: allowed, 1 left\nrequest 2: allowed, 0 left\n\
             request 3: rejected, retry in 59.998 s\n",
            "{name}"
        );
    }
}

#[test]
fn the_hot_key_benchmark_runs() {
    let exe = compile(
        "bench_hot_key.c",
        &build_dir("bench"),
        &[
            "-std=c11",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
        ],
        Link::Shared,
    );
    let out = succeed(Command::new(&exe).args(["20000", "2"]));
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.starts_with("hot_key C: ") && out.contains("100 admitted"),
        "{out}"
    );
}

/// The Rust call in the same loop as `bench_hot_key.c`: best of `runs` runs of `checks`.
fn rust_hot_key_ns(checks: u64, runs: u32) -> f64 {
    let limiter = Limiter::builder()
        .window(Window::new(100, std::time::Duration::from_secs(60)))
        .build()
        .expect("a valid limiter");
    let key = "client-000000000".to_owned();
    let mut allowed = 0u64;
    let mut best = f64::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        for _ in 0..checks {
            let d = limiter.check(black_box(&key)).expect("a decision");
            allowed += u64::from(black_box(d).allowed());
        }
        best = best.min(start.elapsed().as_nanos() as f64 / checks as f64);
    }
    assert_eq!(allowed, 100);
    best
}

#[test]
#[ignore = "measures; run with --release on a quiet machine"]
fn the_c_call_costs_at_most_a_fifth_more_than_the_rust_call() {
    if cfg!(debug_assertions) {
        panic!(
            "measure a release build: cargo test --release --test ffi_c -- --ignored --nocapture"
        );
    }
    // Many short runs (about a millisecond each, shorter than a scheduler's time slice), each
    // side keeping its best: on a shared machine some runs go undisturbed, and the best is the
    // cost of the call itself. Rounds alternate the sides, so load elsewhere hits both alike.
    const CHECKS: u64 = 50_000;
    const RUNS: u32 = 200;
    const ROUNDS: u32 = 5;
    let flags = [
        "-std=c11",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Wpedantic",
        "-Werror",
    ];
    let dir = build_dir("bench");
    // Both builds come out under one name: the static one moves aside before the shared one.
    let static_exe = dir.join("bench_hot_key_static");
    std::fs::rename(
        compile("bench_hot_key.c", &dir, &flags, Link::Static),
        &static_exe,
    )
    .expect("the build directory is writable");
    let shared_exe = compile("bench_hot_key.c", &dir, &flags, Link::Shared);
    let c_ns = |exe: &Path| {
        let out = succeed(Command::new(exe).args([CHECKS.to_string(), RUNS.to_string()]));
        let out = String::from_utf8_lossy(&out.stdout).into_owned();
        out.trim_start_matches("hot_key C: ")
            .split(' ')
            .next()
            .and_then(|ns| ns.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("unexpected benchmark output: {out}"))
    };
    let mut rust = f64::MAX;
    let mut shared = f64::MAX;
    let mut stat = f64::MAX;
    for _ in 0..ROUNDS {
        rust = rust.min(rust_hot_key_ns(CHECKS, RUNS));
        shared = shared.min(c_ns(&shared_exe));
        stat = stat.min(c_ns(&static_exe));
    }
    println!("hot_key C through libsluicegate.so: {shared:.2} ns per check");
    println!("hot_key C through libsluicegate.a: {stat:.2} ns per check");
    println!("hot_key Rust: {rust:.2} ns per check");
    println!(
        "ratio C/Rust: {:.3} through libsluicegate.so, {:.3} through libsluicegate.a",
        shared / rust,
        stat / rust
    );
    assert!(
        shared <= rust * 1.2,
        "the C call through the .so costs {shared:.2} ns, the Rust call {rust:.2} ns"
    );
    assert!(
        stat <= rust * 1.2,
        "the C call through the .a costs {stat:.2} ns, the Rust call {rust:.2} ns"
    );
}
