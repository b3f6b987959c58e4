//! The Redis store against the local limiter, on a real `redis-server` started for this test.
//!
//! The local [`Limiter`] is itself checked against a brute-force model (`limiter_model.rs`), so
//! it serves as the reference here: proptest drives the same random sequences through both, with
//! the same times, and compares every decision, every number and every error.

#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use redis::aio::MultiplexedConnection;
use redis_server::RedisServer;
use sluicegate::clock::{ManualClock, Tick};
use sluicegate::redis::{MAX_TIME, RedisLimiter, StoreError};
use sluicegate::{CheckError, Decision, Limiter, Remaining, Store, Window};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Runs `test` against a fresh `redis-server` (skipped, loudly, where none is installed).
fn on_redis(test: impl AsyncFnOnce(&RedisServer)) {
    let Some(server) = RedisServer::start() else {
        return;
    };
    runtime().block_on(test(&server));
}

/// A prefix no other limiter of this test run uses.
fn fresh_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("t{}:", NEXT.fetch_add(1, Ordering::Relaxed))
}

// ---------------------------------------------------------------------------------------------
// Equivalence on random sequences

/// Window lengths in microseconds, as in the local limiter's model test: tiny ones to hit the
/// edges, real ones, and a year.
const DURATIONS: &[Tick] = &[
    1,
    2,
    3,
    5,
    8,
    13,
    100,
    1_000,
    1_000_000,
    60_000_000,
    365 * 86_400 * 1_000_000,
];

/// Clients: short, long, and ones with the bytes a key name must survive (braces, NUL, non-UTF-8).
const KEYS: &[&[u8]] = &[
    b"k0",
    b"k1",
    b"a-long-key-that-lives-on-the-heap-in-the-local-limiter",
    b"curly}{brace",
    b"\x00\xff\xfe",
];

#[derive(Debug, Clone)]
enum Op {
    Check {
        key: usize,
        cost: u64,
    },
    Peek {
        key: usize,
        cost: u64,
    },
    Reset {
        key: usize,
    },
    Advance(Tick),
    /// Moves time to `offset` around the moment the oldest request of a key leaves a window.
    ToEdge {
        window: usize,
        offset: i8,
    },
}

fn op(max_cost: u64) -> impl Strategy<Value = Op> {
    let keys = KEYS.len();
    prop_oneof![
        10 => (0..keys, 0..=max_cost + 1).prop_map(|(key, cost)| Op::Check { key, cost }),
        2 => (0..keys, 0..=max_cost + 1).prop_map(|(key, cost)| Op::Peek { key, cost }),
        1 => (0..keys).prop_map(|key| Op::Reset { key }),
        4 => prop_oneof![
            2 => Just(0u64),
            3 => Just(1u64),
            4 => 0..20u64,
            1 => 0..2_000u64,
            1 => 0..2_000_000u64,
            1 => Just(40 * 60 * 1_000_000u64),
            1 => Just(400 * 86_400 * 1_000_000u64),
        ]
        .prop_map(Op::Advance),
        3 => (0..3usize, -1..=1i8).prop_map(|(window, offset)| Op::ToEdge { window, offset }),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    windows: Vec<(u64, Tick)>,
    start: Tick,
    /// Entries per chunk: small ones so that logs of a few entries move to the hash.
    chunk: usize,
    ops: Vec<Op>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let windows = proptest::sample::subsequence(DURATIONS.to_vec(), 1..=3)
        .prop_flat_map(|ds| {
            let n = ds.len();
            (
                Just(ds),
                proptest::collection::vec(prop_oneof![4 => 1..=6u64, 1 => 7..=40u64], n),
            )
        })
        .prop_map(|(ds, limits)| limits.into_iter().zip(ds).collect::<Vec<_>>())
        .prop_shuffle();
    // Around now in Unix microseconds, and far from it.
    let start = prop_oneof![Just(1_765_000_000_000_000u64), Just(1u64 << 40)];
    let chunk = prop_oneof![Just(1usize), Just(2), Just(3), Just(5), Just(64)];
    (windows, start, chunk).prop_flat_map(|(windows, start, chunk)| {
        let max_cost = windows.iter().map(|&(l, _)| l).min().unwrap();
        proptest::collection::vec(op(max_cost), 1..120).prop_map(move |ops| Scenario {
            windows: windows.clone(),
            start,
            chunk,
            ops,
        })
    })
}

/// A decision and what every window has left, from either store.
type Answer = Result<(Decision, Remaining), CheckError>;

/// The request's own errors pass through, to be compared; a failing store fails the test.
fn store_failure_panics(e: StoreError) -> CheckError {
    match e {
        StoreError::Check(e) => e,
        other => panic!("the store failed: {other}"),
    }
}

fn redis_answer(result: Result<(Decision, Remaining), StoreError>) -> Answer {
    result.map_err(store_failure_panics)
}

fn run(rt: &Runtime, url: &str, s: &Scenario) -> Result<(), TestCaseError> {
    let windows: Vec<Window> = s
        .windows
        .iter()
        .map(|&(l, d)| Window::new(l, Duration::from_micros(d)))
        .collect();
    let clock = ManualClock::new(s.start);
    let local = Limiter::builder()
        .windows(windows.iter().copied())
        .shards(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let remote = RedisLimiter::builder()
        .windows(windows.iter().copied())
        .prefix(fresh_prefix())
        .chunk_entries(s.chunk)
        // Times here run on their own, not on the server's clock.
        .key_ttl(
            Duration::from_secs(3_600).max(windows.iter().map(|w| w.duration()).max().unwrap()),
        )
        .build(rt.block_on(connect(url)))
        .unwrap();

    let mut now = s.start;
    // When each key's oldest request arrived, to aim time at window edges.
    let mut first_seen: Vec<Option<Tick>> = vec![None; KEYS.len()];
    for (step, op) in s.ops.iter().enumerate() {
        match *op {
            Op::Check { key, cost } => {
                let want: Answer = local.check_each_at(KEYS[key], cost, now);
                let got = redis_answer(rt.block_on(remote.check_each_at(KEYS[key], cost, now)));
                prop_assert_eq!(&got, &want, "step {}: {:?} at {}", step, op, now);
                if want.is_ok_and(|(d, _)| d.allowed()) {
                    first_seen[key].get_or_insert(now);
                }
            }
            Op::Peek { key, cost } => {
                let want = local.peek_at(KEYS[key], cost, now);
                let got = rt
                    .block_on(remote.peek_at(KEYS[key], cost, now))
                    .map_err(store_failure_panics);
                prop_assert_eq!(got, want, "step {}: {:?} at {}", step, op, now);
            }
            Op::Reset { key } => {
                local.reset(KEYS[key]);
                rt.block_on(remote.reset(KEYS[key])).unwrap();
                first_seen[key] = None;
            }
            Op::Advance(by) => now = now.saturating_add(by),
            Op::ToEdge { window, offset } => {
                let Some(t) = first_seen.iter().flatten().min().copied() else {
                    continue;
                };
                let d = s.windows[window % s.windows.len()].1;
                let edge = (t + d).saturating_add_signed(i64::from(offset));
                now = now.max(edge);
            }
        }
        if now > MAX_TIME / 2 {
            // Keep clear of the store's time range; the local limiter has no such bound.
            break;
        }
    }
    Ok(())
}

#[test]
fn the_redis_store_decides_as_the_local_limiter_does() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let rt = runtime();
    let url = server.url();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&scenario(), |s| run(&rt, &url, &s))
        .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------------------------
// Named cases

fn per_second(limit: u64) -> Window {
    Window::per_second(limit)
}

#[test]
fn many_hosts_checking_one_key_at_once_admit_exactly_the_limit() {
    on_redis(async |server| {
        let prefix = fresh_prefix();
        // Four hosts, each with its own connection, 400 checks in flight, a limit of 150.
        let mut hosts = Vec::new();
        for _ in 0..4 {
            hosts.push(
                RedisLimiter::builder()
                    .window(Window::per_minute(150))
                    .prefix(prefix.clone())
                    .build(connect(&server.url()).await)
                    .unwrap(),
            );
        }
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..400 {
            let host = hosts[i % hosts.len()].clone();
            tasks.spawn(async move { host.check("shared").await.unwrap().allowed() });
        }
        let admitted = tasks.join_all().await.into_iter().filter(|&a| a).count();
        assert_eq!(admitted, 150);
        let d = hosts[0].peek("shared", 1).await.unwrap();
        assert_eq!((d.allowed(), d.remaining()), (false, 0));
    });
}

#[test]
fn a_rejected_request_records_nothing() {
    on_redis(async |server| {
        let limiter = RedisLimiter::builder()
            .window(per_second(2))
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        let t = 1_765_000_000_000_000;
        assert!(limiter.check_each_at("k", 1, t).await.unwrap().0.allowed());
        assert!(
            limiter
                .check_each_at("k", 1, t + 400_000)
                .await
                .unwrap()
                .0
                .allowed()
        );
        for step in 0..50 {
            let (d, _) = limiter
                .check_each_at("k", 1, t + 500_000 + step)
                .await
                .unwrap();
            assert!(!d.allowed());
        }
        // The first request leaves at t + 1 s, and the retries counted for nothing.
        let (d, _) = limiter.check_each_at("k", 1, t + 1_000_000).await.unwrap();
        assert!(d.allowed());
        assert_eq!(d.remaining(), 0);
        assert_eq!(d.reset_after(), Duration::from_millis(400));
    });
}

#[test]
fn a_key_ttl_longer_than_redis_can_count_keeps_keys_for_good() {
    on_redis(async |server| {
        let limiter = RedisLimiter::builder()
            .window(per_second(1))
            .key_ttl(Duration::MAX)
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        assert!(limiter.check("k").await.unwrap().allowed());
        assert!(!limiter.check("k").await.unwrap().allowed());
        let name = String::from_utf8(limiter.redis_key("k")).unwrap();
        let ttl: u64 = server.command(&["PTTL", &name])[1..]
            .trim()
            .parse()
            .unwrap();
        assert!(ttl > 1 << 52, "PTTL {ttl}");
    });
}

#[test]
fn the_servers_clock_decides_and_a_key_lives_as_long_as_its_longest_window() {
    on_redis(async |server| {
        let limiter = RedisLimiter::builder()
            .window(per_second(1))
            .window(Window::per_minute(10))
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        assert!(limiter.check("k").await.unwrap().allowed());
        let no = limiter.check("k").await.unwrap();
        assert!(!no.allowed());
        assert!(no.retry_after() <= Duration::from_secs(1));
        assert!(no.retry_after() > Duration::from_millis(500), "{no:?}");
        let name = String::from_utf8(limiter.redis_key("k")).unwrap();
        let ttl: u64 = server.command(&["PTTL", &name])[1..]
            .trim()
            .parse()
            .unwrap();
        assert!((59_000..=60_001).contains(&ttl), "PTTL {ttl}");
        // A rejection writes nothing, so it does not extend the key's life either.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        assert!(limiter.check("k").await.unwrap().allowed());
    });
}

#[test]
fn a_server_that_lost_the_script_gets_it_again() {
    on_redis(async |server| {
        let limiter = RedisLimiter::builder()
            .window(per_second(5))
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        assert_eq!(limiter.check("k").await.unwrap().remaining(), 4);
        assert!(server.command(&["SCRIPT", "FLUSH"]).starts_with("+OK"));
        assert_eq!(limiter.check("k").await.unwrap().remaining(), 3);
        let digest = redis::Script::new(sluicegate::redis::SCRIPT)
            .get_hash()
            .to_owned();
        assert!(
            server
                .command(&["SCRIPT", "EXISTS", &digest])
                .ends_with(":1\r\n")
        );
    });
}

#[test]
fn passwords_and_acl_users_are_honoured() {
    let Some(server) = RedisServer::start_with(&[
        "--requirepass",
        "s3cret",
        "--user",
        "gateway",
        "on",
        ">gw-pass",
        "~sluicegate:*",
        "+@all",
    ]) else {
        return;
    };
    let rt = runtime();
    let port = server.port();
    rt.block_on(async {
        let window = Window::per_minute(10);
        for url in [
            format!("redis://:s3cret@127.0.0.1:{port}/"),
            format!("redis://gateway:gw-pass@127.0.0.1:{port}/"),
        ] {
            let limiter = RedisLimiter::builder()
                .window(window)
                .build(connect(&url).await)
                .unwrap();
            assert!(limiter.check(&url).await.unwrap().allowed(), "{url}");
        }
        // Without a password the connection is refused at the first command or at connect.
        let unauthenticated = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_multiplexed_async_connection()
            .await;
        if let Ok(connection) = unauthenticated {
            let limiter = RedisLimiter::builder()
                .window(window)
                .build(connection)
                .unwrap();
            let err = limiter.check("k").await.unwrap_err();
            assert!(err.is_store_failure(), "{err}");
        }
        // The ACL user may only touch its own prefix.
        let limiter = RedisLimiter::builder()
            .window(window)
            .prefix("elsewhere:")
            .build(connect(&format!("redis://gateway:gw-pass@127.0.0.1:{port}/")).await)
            .unwrap();
        let err = limiter.check("k").await.unwrap_err();
        assert!(err.is_store_failure(), "{err}");
    });
}

#[test]
fn every_key_of_a_client_lives_in_one_cluster_slot() {
    let Some(server) = RedisServer::start_with(&[
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ]) else {
        return;
    };
    let slot = |name: &[u8]| {
        let name = String::from_utf8_lossy(name).into_owned();
        server.command(&["CLUSTER", "KEYSLOT", &name])
    };
    let limiters = [
        RedisLimiter::builder()
            .window(Window::per_second(5))
            .build(())
            .unwrap(),
        RedisLimiter::builder()
            .window(Window::per_minute(100))
            .window(Window::per_hour(1_000))
            .prefix("route-7:")
            .build(())
            .unwrap(),
    ];
    for client in ["alice", "203.0.113.7", "consumer:9f1c"] {
        let tagged = slot(format!("{{{client}}}").as_bytes());
        for limiter in &limiters {
            let state = limiter.redis_key(client);
            assert_eq!(slot(&state), tagged, "{client}");
            assert_eq!(
                slot(&[state, b":log".to_vec()].concat()),
                tagged,
                "{client}"
            );
        }
    }
    assert_ne!(slot(b"{alice}"), slot(b"{bob}"));
}

#[test]
fn a_client_keeps_only_what_its_windows_still_count() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let rt = runtime();
    let number = |reply: String| -> usize { reply[1..].trim().parse().unwrap() };
    rt.block_on(async {
        let limiter = RedisLimiter::builder()
            .window(Window::new(100, Duration::from_millis(10)))
            .window(Window::new(5_000, Duration::from_secs(1)))
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        let state = String::from_utf8(limiter.redis_key("k")).unwrap();
        let log = format!("{state}:log");
        let mut t = 1_765_000_000_000_000;
        for _ in 0..6_000 {
            assert!(limiter.check_each_at("k", 1, t).await.unwrap().0.allowed());
            t += 500; // one request per 0.5 ms: 2,000 inside the one-second window
        }
        // 2,000 live entries of 16 bytes: up to 64 in the state, the rest in chunks of 64 in the
        // hash, and at most one chunk that has left but shares its first entries' chunk.
        let chunks = number(server.command(&["HLEN", &log]));
        assert!((30..=32).contains(&chunks), "HLEN {chunks}");
        let head = 8 * (4 + 3 * 2);
        assert!(number(server.command(&["STRLEN", &state])) <= head + 64 * 16);
        // After a pause every entry has left every window: the hash goes, and the state holds
        // the one new entry.
        t += 2_000_000;
        assert!(limiter.check_each_at("k", 1, t).await.unwrap().0.allowed());
        assert_eq!(number(server.command(&["EXISTS", &log])), 0);
        assert_eq!(number(server.command(&["STRLEN", &state])), head + 16);

        // One entry per chunk, 3,000 of them: when 90% leave at once they go in a few commands.
        let limiter = RedisLimiter::builder()
            .window(Window::new(5_000, Duration::from_secs(1)))
            .prefix(fresh_prefix())
            .chunk_entries(1)
            .build(connect(&server.url()).await)
            .unwrap();
        let log = format!("{}:log", String::from_utf8(limiter.redis_key("k")).unwrap());
        for _ in 0..3_000 {
            assert!(limiter.check_each_at("k", 1, t).await.unwrap().0.allowed());
            t += 300;
        }
        assert_eq!(number(server.command(&["HLEN", &log])), 3_000);
        // 0.9 s later the first 2,667 have left.
        t += 900_000;
        let (d, _) = limiter.check_each_at("k", 1, t).await.unwrap();
        assert_eq!(d.remaining(), 5_000 - 334);
        assert_eq!(number(server.command(&["HLEN", &log])), 334);
    });
}

#[test]
fn bad_requests_are_refused_before_any_round_trip() {
    // No server at all: nothing may be sent for a request no store can decide.
    let rt = runtime();
    let limiter = RedisLimiter::builder()
        .window(per_second(3))
        .max_key_len(8)
        .build(NoServer)
        .unwrap();
    rt.block_on(async {
        for (result, want) in [
            (limiter.check_n("k", 0).await, CheckError::ZeroCost),
            (
                limiter.check_n("k", 4).await,
                CheckError::CostExceedsLimit { cost: 4, limit: 3 },
            ),
            (
                limiter.check("a-key-too-long").await,
                CheckError::KeyTooLong { len: 14, max: 8 },
            ),
        ] {
            match result {
                Err(StoreError::Check(e)) => assert_eq!(e, want),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            limiter.check_each_at("k", 1, MAX_TIME + 1).await,
            Err(StoreError::TimeOutOfRange { .. })
        ));
        let err = limiter.check("k").await.unwrap_err();
        assert!(err.is_store_failure());
    });
    assert!(matches!(
        RedisLimiter::builder()
            .window(Window::per_minute(1))
            .key_ttl(Duration::from_secs(59))
            .build(()),
        Err(sluicegate::ConfigError::KeyTtlTooShort { .. })
    ));
}

/// A connection whose every command fails, as a dead server's would.
#[derive(Clone)]
struct NoServer;

impl redis::aio::ConnectionLike for NoServer {
    fn req_packed_command<'a>(
        &'a mut self,
        _: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async { Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into()) })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        _: &'a redis::Pipeline,
        _: usize,
        _: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async { Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into()) })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[test]
fn both_stores_serve_code_written_against_store() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    async fn spend_all(store: &impl Store) -> Vec<bool> {
        let mut admitted = Vec::new();
        for _ in 0..4 {
            admitted.push(store.check_each(b"k", 1).await.unwrap().0.allowed());
        }
        admitted
    }
    let rt = runtime();
    rt.block_on(async {
        let local = Limiter::builder().window(per_second(3)).build().unwrap();
        let remote = RedisLimiter::builder()
            .window(per_second(3))
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        assert_eq!(spend_all(&local).await, [true, true, true, false]);
        assert_eq!(spend_all(&remote).await, [true, true, true, false]);
    });
}

#[test]
fn recording_past_the_limit_leaves_nothing_until_it_drains() {
    on_redis(async |server| {
        let limiter = RedisLimiter::builder()
            .window(Window::per_minute(5))
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        let (d, left) = limiter.record("k", 4).await.unwrap();
        assert!(d.allowed());
        assert_eq!(left.as_slice(), &[1]);
        let (d, left) = limiter.record("k", 3).await.unwrap();
        assert!(!d.allowed(), "it did not fit, and was recorded anyway");
        assert_eq!(left.as_slice(), &[0]);
        let no = limiter.check("k").await.unwrap();
        assert!(!no.allowed());
        // Both records must leave before one more unit fits: 4 + 3 - 5 + 1 = 3 units to free.
        assert!(no.retry_after() > Duration::from_secs(59));
    });
}

#[test]
fn older_entries_outlive_their_chunk_until_every_cursor_has_passed_them() {
    // Cursors move only when a check runs. Here two entries move to the hash at once, the
    // client is quiet until they have left the window, and its next check must still read them
    // to move past them: the hash has to outlive its last write by more than one window.
    on_redis(async |server| {
        let limiter = RedisLimiter::builder()
            .window(Window::per_second(3))
            .prefix(fresh_prefix())
            .chunk_entries(2)
            .build(connect(&server.url()).await)
            .unwrap();
        limiter.check("k").await.unwrap();
        limiter.check("k").await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(limiter.check("k").await.unwrap().remaining(), 0);
        tokio::time::sleep(Duration::from_millis(600)).await;
        // The first two have left; the third is still inside. A client started afresh would
        // say 2.
        let d = limiter.check("k").await.unwrap();
        assert!(d.allowed());
        assert_eq!(d.remaining(), 1);
    });
}

#[test]
fn a_client_whose_older_entries_were_evicted_starts_afresh() {
    // Under `maxmemory`, Redis may evict a client's hash and keep its state. The log is then
    // damaged: the client starts again from nothing instead of failing every check.
    on_redis(async |server| {
        let limiter = RedisLimiter::builder()
            .window(Window::per_minute(5))
            .prefix(fresh_prefix())
            .chunk_entries(2)
            .build(connect(&server.url()).await)
            .unwrap();
        for _ in 0..5 {
            assert!(limiter.check("k").await.unwrap().allowed());
        }
        assert!(!limiter.check("k").await.unwrap().allowed());
        let log = format!("{}:log", String::from_utf8(limiter.redis_key("k")).unwrap());
        assert!(server.command(&["DEL", &log]).starts_with(":1"));
        let d = limiter.check("k").await.unwrap();
        assert!(d.allowed());
        assert_eq!(d.remaining(), 4);
    });
}

// ---------------------------------------------------------------------------------------------
// The script called directly

/// Runs the script with `EVAL`, as any program that has its text or digest can.
async fn eval(
    connection: &mut MultiplexedConnection,
    keys: &[&str],
    argv: &[&str],
) -> redis::RedisResult<Vec<i64>> {
    redis::cmd("EVAL")
        .arg(sluicegate::redis::SCRIPT)
        .arg(keys.len())
        .arg(keys)
        .arg(argv)
        .query_async(connection)
        .await
}

/// The two keys the script takes for `client`, named as the limiter names them (one window's
/// signature is as good as another's here).
fn client_keys(prefix: &str, client: &str) -> [String; 2] {
    let state = format!("{prefix}{{{client}}}:00000000");
    let log = format!("{state}:log");
    [state, log]
}

/// Everything a script call could have written under `prefix`: every key, its bytes and its
/// hash fields.
async fn contents(connection: &mut MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(connection)
        .await
        .unwrap();
    names.sort();
    let mut seen = Vec::new();
    for name in names {
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(&name)
            .query_async(connection)
            .await
            .unwrap();
        seen.push(format!("{name} {dump:?}"));
    }
    seen
}

#[test]
fn the_script_refuses_bad_arguments_and_writes_nothing() {
    on_redis(async |server| {
        let mut connection = connect(&server.url()).await;
        let prefix = fresh_prefix();
        let [state, log] = client_keys(&prefix, "k");
        let keys = [state.as_str(), log.as_str()];
        // mode, cost, now, ttl (ms), entries per chunk, then limit and length (us) per window.
        let good = ["1", "1", "1765000000000000", "100000", "1", "3", "1000000"];
        // Two admitted requests: with one entry per chunk the client has a state and a hash,
        // which a bad call could corrupt.
        for _ in 0..2 {
            assert_eq!(eval(&mut connection, &keys, &good).await.unwrap()[0], 1);
        }
        let before = contents(&mut connection, &prefix).await;
        assert_eq!(before.len(), 2, "{before:?}");

        let with = |at: usize, value: &'static str| {
            let mut argv = good.to_vec();
            argv[at] = value;
            argv
        };
        let more_windows = |windows: usize| {
            let mut argv = good[..5].to_vec();
            for _ in 0..windows {
                argv.extend(["3", "1000000"]);
            }
            argv
        };
        let shape = "expected 2 keys, and mode, cost, now, ttl, chunk size";
        let mut cases = vec![
            (with(0, "7"), "the mode must be"),
            (with(0, "-1"), "the mode must be"),
            (with(0, "1.5"), "the mode must be"),
            (with(0, ""), "the mode must be"),
            (with(2, "1.5"), "now must be"),
            (with(2, "-1"), "now must be"),
            (with(2, "4503599627370497"), "now must be"),
            (with(3, "0"), "the time to live must be"),
            (with(3, "-100"), "the time to live must be"),
            (with(4, "0"), "the chunk size must be"),
            (with(4, "2.5"), "the chunk size must be"),
            (with(5, "0"), "every limit must be"),
            (with(5, "-3"), "every limit must be"),
            (with(6, "0"), "every window's length must be"),
            (with(6, "4503599627370497"), "every window's length must be"),
            (with(6, "x"), "every window's length must be"),
            // A cost above a limit could never fit; the script would look past the log's end
            // for the entries that must leave first.
            (with(1, "4"), "every limit must be"),
            (good[..6].to_vec(), shape),
            ([&good[..], &["3"]].concat(), shape),
            (more_windows(0), shape),
            (more_windows(9), shape),
        ];
        for cost in [
            "0",
            "-5",
            "1.5",
            "abc",
            "",
            "nan",
            "inf",
            "9007199254740992",
        ] {
            cases.push((with(1, cost), "the cost must be"));
        }
        for (argv, refusal) in &cases {
            let err = eval(&mut connection, &keys, argv).await.unwrap_err();
            assert!(
                err.to_string().contains(&format!("sluicegate: {refusal}")),
                "{argv:?}: {err}"
            );
        }
        for keys in [&keys[..1], &[keys[0], keys[1], keys[1]]] {
            let err = eval(&mut connection, keys, &good).await.unwrap_err();
            assert!(err.to_string().contains(shape), "{keys:?}: {err}");
        }
        assert_eq!(contents(&mut connection, &prefix).await, before);
        // The same calls by digest, now that the server knows the script.
        let digest = redis::Script::new(sluicegate::redis::SCRIPT)
            .get_hash()
            .to_owned();
        let err = redis::cmd("EVALSHA")
            .arg(&digest)
            .arg(2)
            .arg(&keys)
            .arg(with(1, "-5"))
            .query_async::<Vec<i64>>(&mut connection)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("the cost must be"), "{err}");
        assert_eq!(contents(&mut connection, &prefix).await, before);
        // And the good call still counts both earlier requests.
        let reply = eval(&mut connection, &keys, &good).await.unwrap();
        assert_eq!(reply[..4], [1, 0, 1_765_000_000_000_000, 3]);
    });
}

#[test]
fn the_script_takes_the_edges_of_every_range() {
    on_redis(async |server| {
        let mut connection = connect(&server.url()).await;
        let prefix = fresh_prefix();
        let [state, log] = client_keys(&prefix, "k");
        let most = "9007199254740991"; // 2^53 - 1
        let latest = "4503599627370496"; // 2^52
        // Record the largest cost twice, one entry per chunk, at the latest time, in the longest
        // window, with the longest time to live.
        let argv = ["2", most, latest, most, "1", most, latest];
        let reply = eval(&mut connection, &[&state, &log], &argv).await.unwrap();
        assert_eq!(reply, [1, 0, 1 << 52, (1 << 53) - 1, 1 << 52]);
        let reply = eval(&mut connection, &[&state, &log], &argv).await.unwrap();
        assert_eq!(reply, [0, 1 << 52, 1 << 52, (1 << 54) - 2, 1 << 52]);
        let pttl =
            |name: &str| -> i64 { server.command(&["PTTL", name])[1..].trim().parse().unwrap() };
        assert!(pttl(&state) > 1 << 52, "{}", pttl(&state));
        assert!(pttl(&log) > 1 << 53, "{}", pttl(&log));
        // And the smallest, on a fresh client: a peek of cost 1 at time 0, one window of one
        // microsecond and one request, a time to live of one millisecond.
        let [state, log] = client_keys(&prefix, "j");
        let argv = ["0", "1", "0", "1", "1", "1", "1"];
        let reply = eval(&mut connection, &[&state, &log], &argv).await.unwrap();
        assert_eq!(reply, [1, 0, 0, 1, 0]);
    });
}

#[test]
fn a_limiter_with_the_most_windows_runs_on_redis() {
    on_redis(async |server| {
        let windows: Vec<Window> = (1..=sluicegate::limiter::MAX_WINDOWS as u64)
            .map(|i| Window::new(i, Duration::from_secs(i)))
            .collect();
        let limiter = RedisLimiter::builder()
            .windows(windows)
            .prefix(fresh_prefix())
            .build(connect(&server.url()).await)
            .unwrap();
        let t = 1_765_000_000_000_000;
        let (d, left) = limiter.check_each_at("k", 1, t).await.unwrap();
        assert!(d.allowed());
        assert_eq!(left.as_slice(), &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert!(!limiter.check_each_at("k", 1, t).await.unwrap().0.allowed());
    });
}
