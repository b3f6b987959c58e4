//! The LuaJIT binding (`bindings/lua`): its copy of the LuaJIT declarations, its own test suite
//! run by `luajit` against the library cargo built for this run, and its nginx example served
//! by a real nginx with lua-nginx-module, on free loopback ports, and asked by curl.
//!
//! Debian packages: `luajit2` (not `luajit`, which cannot be installed beside
//! `libnginx-mod-http-lua`), `nginx`, `libnginx-mod-http-lua`, `curl` and `lua-check`. In CI a
//! missing one fails the test; elsewhere the test says what to install and skips.
//!
//! After `include/sluicegate.cdef.h` changes, refresh the binding's copy and commit it:
//!
//! ```text
//! SLUICEGATE_BLESS=1 cargo test --test bindings_lua
//! ```

#[path = "support/runtime.rs"]
mod support;

use std::fs;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const CDEF: &str = "include/sluicegate.cdef.h";
const EMBEDDED_CDEF: &str = "bindings/lua/sluicegate/cdef.lua";
const NGINX_CONF: &str = "bindings/lua/examples/nginx.conf";
/// The modules the example loads, where Debian's packages put them.
const NGINX_MODULES: &[&str] = &[
    "/usr/lib/nginx/modules/ndk_http_module.so",
    "/usr/lib/nginx/modules/ngx_http_lua_module.so",
];
/// The limit the example sets: requests per client in any 60 seconds.
const LIMIT: usize = 10;

fn binding_dir() -> PathBuf {
    support::root().join("bindings/lua")
}

/// The Lua file that returns `cdef` as a long string: its comment lines, then the text as is.
fn lua_module_for(cdef: &str, comment: &str) -> String {
    format!("{comment}return [==[\n{cdef}]==]\n")
}

#[test]
fn the_embedded_declarations_are_the_generated_ones() {
    let cdef = fs::read_to_string(support::root().join(CDEF)).expect("the LuaJIT declarations");
    assert!(
        !cdef.contains("]==]"),
        "{CDEF} would end the Lua long string early"
    );
    let path = support::root().join(EMBEDDED_CDEF);
    let module = fs::read_to_string(&path).expect("the binding's copy");
    let comment_end = module
        .find("return [==[\n")
        .expect("the copy is `return [==[ ... ]==]`");
    let expected = lua_module_for(&cdef, &module[..comment_end]);
    if std::env::var_os("SLUICEGATE_BLESS").is_some() {
        fs::write(&path, &expected).expect("the binding's copy is writable");
        return;
    }
    assert!(
        module == expected,
        "{EMBEDDED_CDEF} is not a copy of {CDEF}; refresh it and commit the result:\n\n    \
         SLUICEGATE_BLESS=1 cargo test --test bindings_lua\n"
    );
}

#[test]
fn the_binding_suite_passes_under_luajit() {
    if !support::require("luajit", &["-v"], "luajit2") {
        return;
    }
    support::run_in(&binding_dir(), Command::new("luajit").arg("tests/run.lua"));
}

#[test]
fn the_lua_code_passes_luacheck() {
    if !support::require("luacheck", &["--version"], "lua-check") {
        return;
    }
    // Settings in bindings/lua/.luacheckrc; any warning fails.
    support::run_in(
        &binding_dir(),
        Command::new("luacheck").args(["--no-color", "."]),
    );
}

#[test]
fn the_benchmark_runs() {
    if !support::require("luajit", &["-v"], "luajit2") {
        return;
    }
    // A smoke run: a few checks, so the benchmark keeps working; the figure means nothing.
    support::run_in(
        &binding_dir(),
        Command::new("luajit").args(["bench/hot_key.lua", "1000", "1"]),
    );
}

/// Whether every nginx module the example loads is installed; outside CI, says what to
/// install when not.
fn nginx_modules_installed() -> bool {
    let missing: Vec<&&str> = NGINX_MODULES
        .iter()
        .filter(|m| !Path::new(m).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{missing:?} not installed: install them (`apt-get install libnginx-mod-http-lua`) to \
         test the nginx example"
    );
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("\n*** SKIPPED: {message} ***\n");
    false
}

/// Two loopback ports nothing listens on now.
fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("a bound address").port();
    (port(&a), port(&b))
}

/// An nginx serving the example from its own prefix, stopped when dropped.
struct Nginx {
    prefix: PathBuf,
    conf: PathBuf,
    child: Child,
    port: u16,
}

impl Nginx {
    /// Lays out a prefix named `name` (logs/, tmp/, and lua/ linking to the binding), writes
    /// the example with free ports in place of its own (8080 for the gateway, 8081 for the
    /// stand-in upstream), and starts nginx in the foreground.
    fn start(name: &str) -> Nginx {
        let prefix = support::lib_dir().join("..").join(name);
        match fs::remove_dir_all(&prefix) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => panic!("cannot clear {}: {e}", prefix.display()),
        }
        for dir in ["logs", "tmp"] {
            fs::create_dir_all(prefix.join(dir)).expect("the target directory is writable");
        }
        std::os::unix::fs::symlink(binding_dir(), prefix.join("lua")).expect("a symlink");

        let (port, upstream_port) = free_ports();
        let mut example =
            fs::read_to_string(support::root().join(NGINX_CONF)).expect("the example");
        for (from, to) in [(8080, port), (8081, upstream_port)] {
            let address = format!("127.0.0.1:{from};");
            assert!(example.contains(&address), "the example uses {address}");
            example = example.replace(&address, &format!("127.0.0.1:{to};"));
        }
        let conf = prefix.join("nginx.conf");
        fs::write(&conf, example).expect("the prefix is writable");

        let child = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .env("SLUICEGATE_LIB", support::shared_library())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx {
            prefix,
            conf,
            child,
            port,
        };
        nginx.wait_until_listening(port);
        nginx.wait_until_listening(upstream_port);
        nginx
    }

    /// The gateway's URL for `path`.
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The error log, which must hold no error: the examples fail open and log why.
    fn assert_no_errors_logged(&self) {
        let log = self.error_log();
        assert!(
            !log.contains("[error]") && !log.contains("[alert]") && !log.contains("[crit]"),
            "nginx logged errors:\n{log}"
        );
    }

    fn error_log(&self) -> String {
        fs::read_to_string(self.prefix.join("logs/error.log")).unwrap_or_default()
    }

    fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Some(status) = self.child.try_wait().expect("nginx's status") {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    std::io::Read::read_to_string(&mut pipe, &mut stderr).ok();
                }
                panic!(
                    "nginx exited with {status}\n--- stderr\n{stderr}\n--- error.log\n{}",
                    self.error_log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on port {port} within 10 s\n--- error.log\n{}",
                self.error_log()
            );
            sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // A graceful stop through the pid file; killing the master alone would orphan workers.
        let _ = Command::new("nginx")
            .arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(&self.conf)
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One response as curl saw it: the status and the headers, names lowercased.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// GETs `url` with curl, from the loopback address `from`.
fn get(url: &str, from: &str) -> Response {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "5", "--include"])
        .args(["--interface", from])
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl {url} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("an HTTP/1.1 response in UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Whether nginx, its Lua module and curl are here; in CI they must be.
fn nginx_available() -> bool {
    let nginx = support::require("nginx", &["-v"], "nginx libnginx-mod-http-lua");
    let curl = support::require("curl", &["--version"], "curl");
    nginx && curl && nginx_modules_installed()
}

#[test]
fn the_nginx_example_answers_429_after_exactly_the_limit() {
    if !nginx_available() {
        return;
    }
    let nginx = Nginx::start("lua-nginx-limit");
    let url = nginx.url("/");

    for sent in 1..=LIMIT {
        let r = get(&url, "127.0.0.1");
        assert_eq!(r.status, 200, "request {sent} of the limit {LIMIT}");
        assert_eq!(r.body, "hello\n", "the upstream's answer");
        assert_eq!(r.header("ratelimit-limit"), Some("10"));
        let remaining = (LIMIT - sent).to_string();
        assert_eq!(r.header("ratelimit-remaining"), Some(remaining.as_str()));
        assert_eq!(r.header("retry-after"), None, "request {sent} was admitted");
    }
    for extra in 1..=3 {
        let r = get(&url, "127.0.0.1");
        assert_eq!(r.status, 429, "request {extra} past the limit");
        assert_eq!(r.body, "rate limit exceeded\n");
        assert_eq!(r.header("ratelimit-remaining"), Some("0"));
        let retry: u64 = r
            .header("retry-after")
            .expect("a 429 says when to retry")
            .parse()
            .expect("Retry-After in whole seconds");
        // The window is 60 s and the first request was moments ago.
        assert!((55..=60).contains(&retry), "Retry-After: {retry}");
    }
    // Another client address has its own limit.
    let other = get(&url, "127.0.0.2");
    assert_eq!(other.status, 200, "another client");
    assert_eq!(other.header("ratelimit-remaining"), Some("9"));
    nginx.assert_no_errors_logged();
}

#[test]
fn the_nginx_example_opens_the_circuit_after_three_upstream_failures() {
    if !nginx_available() {
        return;
    }
    let nginx = Nginx::start("lua-nginx-breaker");
    for failure in 1..=3 {
        let r = get(&nginx.url("/fail"), "127.0.0.1");
        assert_eq!(r.status, 503, "upstream failure {failure}");
        assert_eq!(r.body, "upstream failure\n", "the upstream answered");
        assert_eq!(
            r.header("retry-after"),
            None,
            "the gateway passed the upstream's answer"
        );
    }
    // Open: the gateway answers at once, for every path to that upstream.
    for path in ["/fail", "/"] {
        let r = get(&nginx.url(path), "127.0.0.1");
        assert_eq!(r.status, 503, "{path} with the circuit open");
        assert_eq!(r.body, "upstream unavailable (circuit open)\n");
        let retry: u64 = r
            .header("retry-after")
            .expect("an open circuit says when to retry")
            .parse()
            .expect("Retry-After in whole seconds");
        assert!((25..=30).contains(&retry), "Retry-After: {retry}");
    }
    let log = nginx.error_log();
    assert!(
        log.contains("circuit of backend: closed -> open (consecutive_failures)"),
        "the listener logged the transition:\n{log}"
    );
    nginx.assert_no_errors_logged();
}
