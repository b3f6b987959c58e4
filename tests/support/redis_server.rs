//! A real `redis-server` for one test or benchmark: started on a free loopback port with
//! persistence off, and killed when dropped.
//!
//! Shared by the engine's tests and benchmarks and by the gateway's tests (included by path).
//! In CI (`CI` set in the environment) a missing `redis-server` fails the caller; elsewhere
//! [`RedisServer::start`] returns `None` after saying loudly which package to install.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first `PING`.
const STARTUP: Duration = Duration::from_secs(10);

/// A running `redis-server` on 127.0.0.1, owned by the test that started it.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server with default settings; `None` (outside CI) when none is installed.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// Starts a server with extra `redis-server` arguments (`["--requirepass", "s3cret"]`).
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        if !installed() {
            return None;
        }
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("sluicegate-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory for redis-server");
        let mut server = Self {
            child: None,
            port,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.restart();
        Some(server)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server at once (an outage: no shutdown, no goodbye to clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same arguments (killing it first if it
    /// runs), and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let port = self.port.to_string();
        let dir = self.dir.display().to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--dir", &dir])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        self.wait_until_up();
    }

    /// Sends one command (plain words, no spaces inside them) and returns the raw reply text.
    ///
    /// Enough for `PING`, `DBSIZE`, `CONFIG SET`, `ACL SETUSER` and friends, without a client
    /// library in the harness.
    pub fn command(&self, words: &[&str]) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))
            .unwrap_or_else(|e| panic!("redis-server on port {} refused: {e}", self.port));
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a read timeout");
        let mut request = format!("*{}\r\n", words.len());
        for word in words {
            request.push_str(&format!("${}\r\n{word}\r\n", word.len()));
        }
        stream
            .write_all(request.as_bytes())
            .expect("send a command");
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        // Every reply the tests ask for fits one read once its first line has arrived.
        loop {
            let n = stream.read(&mut buf).expect("read a reply");
            reply.extend_from_slice(&buf[..n]);
            if n == 0 || reply.ends_with(b"\r\n") {
                break;
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    }

    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("poll redis-server"))
            {
                panic!(
                    "redis-server on port {} exited at start: {status}",
                    self.port
                );
            }
            if let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) {
                let mut reply = [0u8; 64];
                let answered = stream.write_all(b"PING\r\n").is_ok()
                    && stream.read(&mut reply).is_ok_and(|n| n > 0);
                // `+PONG`, or `-NOAUTH` from a server that wants a password: up either way.
                if answered && matches!(reply[0], b'+' | b'-') {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer within {STARTUP:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `redis-server` runs; panics in CI, where every Redis test must run.
fn installed() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let message = "`redis-server` is not installed: install it (`apt-get install redis-server`) to run the Redis tests";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("\n*** SKIPPED: {message} ***\n");
    }
    found
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
