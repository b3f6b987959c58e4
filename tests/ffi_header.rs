//! The committed C header is the ABI's contract: it must be exactly what cbindgen generates
//! from `src/ffi/` today. So must the LuaJIT declarations: the same declarations without a
//! single preprocessor line, since LuaJIT's `ffi.cdef` accepts none. cbindgen guards its
//! fixed-width enums with `#if`s on the C standard and C++; the declarations keep the branch a
//! C99 compiler takes, so `typedef uint32_t sg_result;` and not the C23 or C++ spelling.
//!
//! After changing `src/ffi/`, regenerate both and commit them:
//!
//! ```text
//! SLUICEGATE_BLESS=1 cargo test --test ffi_header
//! ```

use std::path::PathBuf;

const HEADER: &str = "include/sluicegate.h";
const CDEF: &str = "include/sluicegate.cdef.h";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generates the bindings with `config` from the FFI module's sources.
fn generate(config: cbindgen::Config) -> String {
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(root().join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen parses src/ffi/")
        .write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

fn header_config() -> cbindgen::Config {
    cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml parses")
}

/// The header's configuration without include guard, includes or C++ blocks, and without the
/// prose, which LuaJIT has no use for.
fn cdef_config() -> cbindgen::Config {
    let mut config = header_config();
    config.header = Some(
        "/* sluicegate.cdef.h: the declarations of sluicegate.h for LuaJIT's ffi.cdef, without\n \
         * preprocessor lines or prose. Read sluicegate.h for what each one means. */"
            .to_owned(),
    );
    config.include_guard = None;
    config.pragma_once = false;
    config.sys_includes = Vec::new();
    config.no_includes = true;
    config.cpp_compat = false;
    config.documentation = false;
    config
}

/// The text a C99 compiler (not C++) sees of `source`, with every preprocessor line gone.
/// Knows exactly the conditions cbindgen writes and fails on any other, so a new kind of
/// conditional cannot slip into the declarations unevaluated.
fn as_c99(source: &str) -> String {
    // One entry per open conditional: whether its current branch is kept.
    let mut kept: Vec<bool> = Vec::new();
    let mut out = String::new();
    for line in source.lines() {
        let directive = line.trim_start();
        if let Some(directive) = directive.strip_prefix('#') {
            let words: Vec<&str> = directive
                .split("//")
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            match words.as_slice() {
                ["if", condition @ ..] => kept.push(match condition.join(" ").as_str() {
                    "__STDC_VERSION__ >= 202311L" => false,
                    "defined(__cplusplus) || __STDC_VERSION__ >= 202311L" => false,
                    other => panic!("unknown condition `{other}` in the generated text"),
                }),
                ["ifdef", "__cplusplus"] => kept.push(false),
                ["ifndef", "__cplusplus"] => kept.push(true),
                ["else"] => {
                    let top = kept.last_mut().expect("#else inside a conditional");
                    *top = !*top;
                }
                ["endif", ..] => {
                    kept.pop().expect("#endif closes a conditional");
                }
                _ => panic!("unexpected preprocessor line `{line}` in the generated text"),
            }
            continue;
        }
        if kept.iter().all(|&k| k) {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(
        kept.is_empty(),
        "unclosed conditional in the generated text"
    );
    out
}

/// Fails (or, with `SLUICEGATE_BLESS=1`, rewrites the file) when `path` is not `expected`.
fn check(path: &str, expected: &str) {
    let file = root().join(path);
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    if committed == expected {
        return;
    }
    if std::env::var_os("SLUICEGATE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&file, expected).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        return;
    }
    let first = committed
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| committed.lines().count().min(expected.lines().count()));
    panic!(
        "{path} is not what cbindgen generates from src/ffi/ (first difference at line {}).\n\
         Regenerate it and commit the result:\n\n    SLUICEGATE_BLESS=1 cargo test --test ffi_header\n",
        first + 1
    );
}

#[test]
fn the_header_is_what_the_code_generates() {
    check(HEADER, &generate(header_config()));
}

#[test]
fn the_luajit_declarations_are_what_the_code_generates() {
    let cdef = as_c99(&generate(cdef_config()));
    let preprocessor: Vec<&str> = cdef
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .collect();
    assert!(
        preprocessor.is_empty(),
        "LuaJIT's ffi.cdef rejects preprocessor lines, and the generated text has: {preprocessor:?}"
    );
    check(CDEF, &cdef);
}

#[test]
fn every_exported_function_is_declared() {
    let header = generate(header_config());
    let sources = std::fs::read_dir(root().join("src/ffi"))
        .expect("src/ffi exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| std::fs::read_to_string(&p).expect("a readable source"))
        .collect::<Vec<_>>()
        .join("\n");
    let exported: Vec<&str> = sources
        .split("pub unsafe extern \"C\" fn ")
        .skip(1)
        .chain(sources.split("pub extern \"C\" fn ").skip(1))
        .map(|rest| rest.split('(').next().expect("a name before the arguments"))
        .collect();
    assert!(exported.len() > 30, "found only {exported:?}");
    for name in exported {
        assert!(
            header.contains(&format!("{name}(")),
            "{name} is exported but not declared"
        );
        assert!(name.starts_with("sg_"), "{name} lacks the sg_ prefix");
    }
}
