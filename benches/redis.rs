//! Checks per second against one real `redis-server`, with 1 and with 16 checks in flight.
//!
//! - `sluicegate`: [`RedisLimiter`], one `EVALSHA` per check, exact and atomic.
//! - `recipe`: the sorted-set recipe common in Express gateways, a pipeline of
//!   `ZREMRANGEBYSCORE`, `ZADD`, `ZCARD`, `EXPIRE` per check: not atomic across hosts, and it
//!   records rejected requests too.
//!
//! Both use one multiplexed connection (the pipelining client a gateway would use), 1,000
//! clients in turn, and a limit of 100 per second per client that the run stays under, so every
//! check of both admits and writes. A sample's time is divided by its checks: with 16 in flight,
//! the figure is the time per check of a saturated connection, the inverse of its throughput.
//!
//! The server is started on a free loopback port for the run (`redis-server` must be installed;
//! without it the benchmark says so and measures nothing).

#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use redis::aio::MultiplexedConnection;
use sluicegate::Window;
use sluicegate::redis::RedisLimiter;
use tokio::runtime::Runtime;

const CLIENTS: u64 = 1_000;
const LIMIT: u64 = 100;
const WINDOW: Duration = Duration::from_secs(1);

/// One way of deciding a check against Redis.
trait Contender: Clone + Send + Sync + 'static {
    fn check(&self, client: u64) -> impl Future<Output = bool> + Send;
}

#[derive(Clone)]
struct Sluicegate(RedisLimiter<MultiplexedConnection>);

impl Contender for Sluicegate {
    async fn check(&self, client: u64) -> bool {
        let key = format!("client-{client}");
        self.0.check(key).await.expect("a decision").allowed()
    }
}

#[derive(Clone)]
struct Recipe {
    connection: MultiplexedConnection,
    unique: Arc<AtomicU64>,
}

impl Contender for Recipe {
    async fn check(&self, client: u64) -> bool {
        let key = format!("recipe:client-{client}");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        let member = format!("{now}-{}", self.unique.fetch_add(1, Ordering::Relaxed));
        let window_ms = WINDOW.as_millis() as u64;
        let (_, _, count, _): (u64, u64, u64, u64) = redis::pipe()
            .zrembyscore(&key, 0, now - window_ms)
            .zadd(&key, member, now)
            .zcard(&key)
            .expire(&key, window_ms.div_ceil(1_000) as i64)
            .query_async(&mut self.connection.clone())
            .await
            .expect("a pipeline answer");
        count <= LIMIT
    }
}

/// Time for `iters` checks spread over `in_flight` concurrent tasks.
fn run<T: Contender>(rt: &Runtime, contender: &T, iters: u64, in_flight: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..in_flight {
            let contender = contender.clone();
            let share = iters / in_flight + u64::from(task < iters % in_flight);
            tasks.spawn(async move {
                for i in 0..share {
                    std::hint::black_box(contender.check((task * 7_919 + i) % CLIENTS).await);
                }
            });
        }
        tasks.join_all().await;
        start.elapsed()
    })
}

fn redis(c: &mut Criterion) {
    let Some(server) = redis_server::RedisServer::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let connection = rt.block_on(async {
        redis::Client::open(server.url())
            .expect("a client")
            .get_multiplexed_async_connection()
            .await
            .expect("a connection")
    });
    let sluicegate = Sluicegate(
        RedisLimiter::builder()
            .window(Window::new(LIMIT, WINDOW))
            .build(connection.clone())
            .expect("a limiter"),
    );
    let recipe = Recipe {
        connection,
        unique: Arc::new(AtomicU64::new(0)),
    };
    for in_flight in [1, 16] {
        let mut group = c.benchmark_group(format!("redis_{in_flight}"));
        group.bench_function("sluicegate", |b| {
            b.iter_custom(|iters| run(&rt, &sluicegate, iters, in_flight))
        });
        group.bench_function("recipe", |b| {
            b.iter_custom(|iters| run(&rt, &recipe, iters, in_flight))
        });
        group.finish();
    }
}

criterion_group!(benches, redis);
criterion_main!(benches);
