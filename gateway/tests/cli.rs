//! The binary itself: `check` verdicts and exit codes, `token`, and `run` shutting down
//! gracefully on SIGTERM and SIGINT with a request in flight.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use sluicegate_gateway::body::Body;

const BIN: &str = env!("CARGO_BIN_EXE_sluicegate-gateway");

/// A configuration file that removes itself.
struct TempConfig(PathBuf);

impl TempConfig {
    fn new(text: &str) -> Self {
        let name = format!(
            "sluicegate-cli-test-{}-{}.yaml",
            std::process::id(),
            uuid::Uuid::new_v4()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, text).unwrap();
        Self(path)
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn check_names_the_yaml_path_and_line_and_exits_1() {
    let bad = TempConfig::new(
        "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://127.0.0.1:1\n    plugins:\n      - name: rate-limiting\n        config: {minute: 10, hour: 5}\n",
    );
    let out = Command::new(BIN).arg("check").arg(&bad.0).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(":7:"), "{err}");
    assert!(err.contains("services[0].plugins[0].config.hour"), "{err}");

    let good = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/gateway.yaml");
    let out = Command::new(BIN).args(["check", good]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8(out.stdout).unwrap().contains("OK"));
}

#[test]
fn token_prints_a_jwt() {
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/keys/dev-rsa-private.pem"
    );
    let out = Command::new(BIN)
        .args(["token", "--sub", "alice", "--scopes", "a b", "--key", key])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3);
    let out = Command::new(BIN)
        .args(["token", "--key", "/nonexistent.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[cfg(unix)]
#[tokio::test]
async fn run_finishes_in_flight_requests_on_sigterm_and_sigint() {
    for signal in ["TERM", "INT"] {
        let slow = support::upstream(|_req| async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            http::Response::new(Body::from("finished"))
        })
        .await;
        let config = TempConfig::new(&format!(
            "_format_version: \"3.0\"\nservices:\n  - name: slow\n    url: http://127.0.0.1:{}\n    routes: [{{name: slow, paths: [/slow]}}]\n",
            slow.port()
        ));
        // Port 0: the gateway picks a free port and says which once it is listening, so no
        // other process can take the port between choosing it and binding it.
        let mut child = Command::new(BIN)
            .args(["run", config.0.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(["--workers", "2"])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let log = child.stdout.take().unwrap();
        let addr = tokio::time::timeout(
            support::DEADLINE,
            tokio::task::spawn_blocking(move || listening_addr(log)),
        )
        .await;
        let Ok(Ok(Some(addr))) = addr else {
            let _ = child.kill();
            panic!("the gateway did not log `gateway listening` with its address: {addr:?}");
        };
        let url = format!("http://{addr}/slow");
        let in_flight = tokio::spawn(async move { support::get(&url, &[]).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let answer = in_flight.await.unwrap();
        assert_eq!(answer.status, 200, "SIG{signal}");
        assert_eq!(&answer.body[..], b"finished");
        let status = tokio::task::spawn_blocking(move || {
            for _ in 0..100 {
                if let Some(status) = child.try_wait().unwrap() {
                    return Some(status);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            None
        })
        .await
        .unwrap();
        let status = status.unwrap_or_else(|| panic!("still running 5 s after SIG{signal}"));
        assert!(status.success(), "SIG{signal}: {status:?}");
    }
}

/// Reads the gateway's log until its `gateway listening` line and returns the `listen=` address;
/// keeps draining the log afterwards so the gateway never blocks on a full pipe.
#[cfg(unix)]
fn listening_addr(log: std::process::ChildStdout) -> Option<std::net::SocketAddr> {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(log).lines();
    let addr = lines.by_ref().map_while(Result::ok).find_map(|line| {
        if !line.contains("gateway listening") {
            return None;
        }
        line.split_whitespace()
            .find_map(|field| field.strip_prefix("listen="))
            .and_then(|addr| addr.parse().ok())
    });
    std::thread::spawn(move || lines.for_each(drop));
    addr
}
