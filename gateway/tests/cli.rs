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
        // A free port for the gateway.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = TempConfig::new(&format!(
            "_format_version: \"3.0\"\nservices:\n  - name: slow\n    url: http://127.0.0.1:{}\n    routes: [{{name: slow, paths: [/slow]}}]\n",
            slow.port()
        ));
        let mut child = Command::new(BIN)
            .args(["run", config.0.to_str().unwrap(), "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--workers", "2"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}/slow");
        // Wait until it answers.
        let mut up = false;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "the gateway did not start");
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
