//! The gateway's Redis connection against a real `redis-server`: a password, an ACL user, a
//! database, clear errors for wrong credentials, a missing password, a refused database or no
//! server at all, and recovery once the server is fixed.

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use redis_server::RedisServer;
use sluicegate::Window;
use sluicegate::redis::RedisLimiter;
use sluicegate_gateway::config::RedisConfig;
use sluicegate_gateway::limit::redis::{Guarded, GuardedStore, RedisConnection};

fn config(port: u16, username: Option<&str>, password: Option<&str>) -> RedisConfig {
    RedisConfig {
        host: "127.0.0.1".into(),
        port,
        timeout: Duration::from_millis(2_000),
        username: username.map(Into::into),
        password: password.map(Into::into),
        database: 0,
    }
}

async fn ping(config: &RedisConfig) -> Result<(), String> {
    let connection = RedisConnection::new(config).expect("a valid address");
    tokio::time::timeout(Duration::from_secs(10), connection.ping())
        .await
        .expect("an answer within the deadline")
        .map_err(|err| err.to_string())
}

/// Asserts that an error's text gives `hint`, names the server at `port` and database
/// `database`, and keeps `password` to itself.
fn assert_tells(text: &str, hint: &str, port: u16, database: u16, password: &str) {
    assert!(text.contains(hint), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}/{database}")),
        "{text}"
    );
    assert!(!text.contains(password), "the password leaked: {text}");
}

#[tokio::test]
async fn the_requirepass_password_logs_in_and_a_wrong_one_is_named() {
    let Some(server) = RedisServer::start_with(&["--requirepass", "gate-pass-1"]) else {
        return;
    };
    ping(&config(server.port(), None, Some("gate-pass-1")))
        .await
        .expect("the right password logs in");
    let wrong = ping(&config(server.port(), None, Some("not-it-42")))
        .await
        .unwrap_err();
    assert_tells(
        &wrong,
        "refused the credentials",
        server.port(),
        0,
        "not-it-42",
    );
    let none = ping(&config(server.port(), None, None)).await.unwrap_err();
    assert!(none.contains("wants a password"), "{none}");
}

#[tokio::test]
async fn an_acl_user_logs_in_with_its_name_and_password() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    acl_user(&server, &[]);
    ping(&config(server.port(), Some("limiter"), Some("acl-pass-7")))
        .await
        .expect("the ACL user logs in");
    let wrong = ping(&config(server.port(), Some("limiter"), Some("acl-pass-8")))
        .await
        .unwrap_err();
    assert_tells(
        &wrong,
        "check `redis.username` and `redis.password`",
        server.port(),
        0,
        "acl-pass-8",
    );
    // Fixing the user on the server needs no new connection object: the next command
    // connects afresh.
    let connection =
        RedisConnection::new(&config(server.port(), Some("limiter"), Some("acl-pass-8"))).unwrap();
    assert!(connection.ping().await.is_err());
    server.command(&["ACL", "SETUSER", "limiter", ">acl-pass-8"]);
    connection.ping().await.expect("the widened user logs in");
}

#[tokio::test]
async fn no_server_is_a_refused_connection_within_the_timeout() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = ping(&config(port, None, None)).await.unwrap_err();
    assert!(
        err.contains("nothing accepts connections there") || err.contains("connection failed"),
        "{err}"
    );
}

/// An ACL user `limiter` (password `acl-pass-7`, every command and key) plus `rules`.
fn acl_user(server: &RedisServer, rules: &[&str]) {
    let mut words = vec![
        "ACL",
        "SETUSER",
        "limiter",
        "on",
        ">acl-pass-7",
        "~*",
        "+@all",
    ];
    words.extend_from_slice(rules);
    assert_eq!(server.command(&words), "+OK\r\n");
}

fn limiter_in_database_1(port: u16) -> RedisConfig {
    RedisConfig {
        database: 1,
        ..config(port, Some("limiter"), Some("acl-pass-7"))
    }
}

/// Gives the user SELECT back and asserts that `connection`'s next command connects afresh and
/// selects its database.
async fn selects_once_allowed(server: &RedisServer, connection: &RedisConnection) {
    acl_user(server, &["+select"]);
    connection
        .ping()
        .await
        .expect("the next command connects afresh and selects the database");
}

#[tokio::test]
async fn a_refused_select_is_named_and_retried_once_the_user_may_select() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    acl_user(&server, &["-select"]);
    let connection = RedisConnection::new(&limiter_in_database_1(server.port())).unwrap();
    for _ in 0..2 {
        let refused = connection.ping().await.unwrap_err().to_string();
        assert_tells(
            &refused,
            "refused to select `redis.database`",
            server.port(),
            1,
            "acl-pass-7",
        );
    }
    // Fixing the user on the server needs no new connection object.
    selects_once_allowed(&server, &connection).await;
}

#[tokio::test]
async fn a_select_refused_on_reconnecting_is_retried_once_the_user_may_select() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    acl_user(&server, &[]);
    let connection = RedisConnection::new(&limiter_in_database_1(server.port())).unwrap();
    connection.ping().await.expect("the user may select");
    // The user loses SELECT and its connection: the reconnection is refused, on a connection
    // that has already served commands.
    acl_user(&server, &["-select"]);
    let killed = server.command(&["CLIENT", "KILL", "USER", "limiter"]);
    assert_eq!(killed, ":1\r\n");
    let mut refused = Vec::new();
    for _ in 0..5 {
        let error = connection.ping().await.unwrap_err().to_string();
        let select = error.contains("refused to select `redis.database`");
        refused.push(error);
        if select {
            break;
        }
    }
    assert!(
        refused.last().unwrap().contains("refused to select"),
        "{refused:#?}"
    );
    selects_once_allowed(&server, &connection).await;
}

#[tokio::test]
async fn a_missing_password_is_named_on_a_limiter_check() {
    let Some(server) = RedisServer::start_with(&["--requirepass", "gate-pass-1"]) else {
        return;
    };
    // As the gateway's `policy: redis` builds it: the engine's limiter on the gateway's
    // connection, behind the breaker. Its script call has more than 10 arguments, which
    // Redis 7 answers, for a client that has not logged in, with a protocol error instead of
    // NOAUTH.
    let connection = RedisConnection::new(&config(server.port(), None, None)).unwrap();
    let limiter = RedisLimiter::builder()
        .window(Window::per_minute(10))
        .build(connection)
        .unwrap();
    let store = GuardedStore::new(limiter, |_| {});
    let Guarded::Unavailable(unavailable) = store.check(b"client-1").await else {
        panic!("checked without a password");
    };
    assert_tells(
        &unavailable.to_string(),
        "the server wants a password; set `redis.password`",
        server.port(),
        0,
        "gate-pass-1",
    );
}
