//! Drives a limiter with a generated, realistic multi-client trace and explains its decisions.
//!
//! Six clients share one limiter of 10 requests per second and 100 per minute, over 90 simulated
//! seconds:
//!
//! - `steady`   — a dashboard polling every 700 ms: never limited.
//! - `bursty`   — a mobile app syncing 25 requests at once every 15 s: the per-second window
//!   trims each burst, and the app is told exactly when to come back.
//! - `retrier`  — a misbehaving client retrying every 10 ms whatever it is told: it gets back in
//!   as soon as its oldest request leaves the window, never sooner, never later.
//! - `obedient` — the same demand, but it sleeps for `retry_after` after a rejection: same
//!   throughput, a fraction of the attempts.
//! - `batch`    — a job sending weighted requests (cost 1–8, say rows written).
//! - `scanner`  — a crawler at 40 requests per second: held to the per-minute window.
//!
//! Time is simulated with a manual clock, so the run is repeatable and takes no time. Run:
//!
//! ```text
//! cargo run --release --example trace
//! ```

use sluicegate::clock::{ManualClock, TICKS_PER_SECOND, Tick};
use sluicegate::{Decision, Limiter, Window};
use std::collections::BTreeMap;

const MS: Tick = 1_000;
const END: Tick = 90 * TICKS_PER_SECOND;

/// A small deterministic generator (xorshift), so the trace is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One request in the trace.
struct Request {
    at: Tick,
    client: &'static str,
    cost: u64,
}

/// Every client's requests, except the obedient one, which reacts to its answers.
fn trace(rng: &mut Rng) -> Vec<Request> {
    let mut out = Vec::new();
    let mut push = |at, client, cost| out.push(Request { at, client, cost });
    for i in 0..END / (700 * MS) {
        push(i * 700 * MS + rng.below(20 * MS), "steady", 1);
    }
    for burst in 0..END / (15 * TICKS_PER_SECOND) {
        for i in 0..25 {
            push(
                burst * 15 * TICKS_PER_SECOND + 2 * TICKS_PER_SECOND + i * 4 * MS,
                "bursty",
                1,
            );
        }
    }
    for i in 0..END / (10 * MS) {
        push(i * 10 * MS, "retrier", 1);
    }
    let mut t = 0;
    while t < END {
        push(t, "batch", 1 + rng.below(8));
        t += 200 * MS + rng.below(600 * MS);
    }
    for i in 0..END / (25 * MS) {
        push(i * 25 * MS + rng.below(5 * MS), "scanner", 1);
    }
    out.sort_by_key(|r| r.at);
    out
}

#[derive(Default)]
struct Tally {
    attempts: u64,
    allowed: u64,
    /// Admitted requests as (tick, cost).
    admitted: Vec<(Tick, u64)>,
    last: Option<bool>,
}

impl Tally {
    fn record(&mut self, at: Tick, cost: u64, d: &Decision) {
        self.attempts += 1;
        if d.allowed() {
            self.allowed += 1;
            self.admitted.push((at, cost));
        }
    }

    fn units(&self) -> u64 {
        self.admitted.iter().map(|&(_, c)| c).sum()
    }

    /// The most units admitted in any span of `width` ticks, counted independently of the
    /// limiter from what it admitted.
    fn busiest(&self, width: Tick) -> u64 {
        let mut most = 0;
        let mut sum = 0;
        let mut first = 0;
        for &(t, c) in &self.admitted {
            sum += c;
            while self.admitted[first].0 + width <= t {
                sum -= self.admitted[first].1;
                first += 1;
            }
            most = most.max(sum);
        }
        most
    }
}

fn explain(limiter: &Limiter<ManualClock>, d: &Decision) -> String {
    let w = limiter.windows()[d.window()];
    let window = format!("{}/{}s", w.limit(), w.duration().as_secs());
    if d.allowed() {
        format!(
            "admitted; {} left in the {window} window, which frees up in {:?}",
            d.remaining(),
            d.reset_after()
        )
    } else {
        format!(
            "rejected by the {window} window; the same request succeeds in {:?}",
            d.retry_after()
        )
    }
}

fn main() {
    let clock = ManualClock::new(0);
    let limiter = Limiter::builder()
        .window(Window::per_second(10))
        .window(Window::per_minute(100))
        .clock(clock.clone())
        .build()
        .expect("a valid configuration");
    let mut rng = Rng(0x5eed_cafe);
    let requests = trace(&mut rng);
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();

    println!("Limiter: 10 per second and 100 per minute, per client, exact sliding windows.\n");
    println!("Decision changes, per client (first 4 each):");
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    let mut note = |at: Tick, client: &'static str, text: String| {
        let n = shown.entry(client).or_default();
        if *n < 4 {
            *n += 1;
            println!(
                "  {:>9.3} s  {client:<9} {text}",
                at as f64 / TICKS_PER_SECOND as f64
            );
        }
    };

    let mut obedient_next: Tick = 0;
    let mut obedient_pending = 0u64;
    let mut i = 0;
    let mut now = 0;
    while now < END {
        // The obedient client wants 30 requests every 10 s, and waits when told to.
        if now % (10 * TICKS_PER_SECOND) == 0 {
            obedient_pending += 30;
        }
        if obedient_pending > 0 && now >= obedient_next {
            clock.set(now);
            let d = limiter.check("obedient").expect("a valid request");
            let t = tallies.entry("obedient").or_default();
            t.record(now, 1, &d);
            if d.allowed() {
                obedient_pending -= 1;
            } else {
                obedient_next = now + d.retry_after_ticks();
            }
            if t.last != Some(d.allowed()) {
                t.last = Some(d.allowed());
                note(now, "obedient", explain(&limiter, &d));
            }
        }
        while i < requests.len() && requests[i].at <= now {
            let r = &requests[i];
            i += 1;
            clock.set(r.at);
            let d = limiter
                .check_n(r.client, r.cost)
                .expect("costs stay within the limits");
            let t = tallies.entry(r.client).or_default();
            t.record(r.at, r.cost, &d);
            if t.last != Some(d.allowed()) {
                t.last = Some(d.allowed());
                note(r.at, r.client, explain(&limiter, &d));
            }
        }
        now += MS;
    }

    println!("\nAfter {} simulated seconds:", END / TICKS_PER_SECOND);
    println!(
        "  {:<9} {:>8} {:>8} {:>6} {:>6}  {:>10} {:>11}",
        "client", "attempts", "admitted", "units", "share", "most in 1s", "most in 60s"
    );
    let (mut worst_second, mut worst_minute) = (0, 0);
    for (client, t) in &tallies {
        let (second, minute) = (
            t.busiest(TICKS_PER_SECOND),
            t.busiest(60 * TICKS_PER_SECOND),
        );
        worst_second = worst_second.max(second);
        worst_minute = worst_minute.max(minute);
        println!(
            "  {client:<9} {:>8} {:>8} {:>6} {:>5.1}%  {second:>10} {minute:>11}",
            t.attempts,
            t.allowed,
            t.units(),
            100.0 * t.allowed as f64 / t.attempts as f64
        );
    }
    let stats = limiter.stats();
    println!(
        "\nLimiter: {} keys, {} admitted, {} rejected, {} bytes in use.",
        stats.keys, stats.allowed, stats.rejected, stats.bytes
    );
    println!(
        "Busiest second of any client: {worst_second} units; busiest minute: {worst_minute} (limits 10 \
         and 100), counted from the admissions, independently of the limiter."
    );
    assert!(
        worst_second <= 10 && worst_minute <= 100,
        "a window was exceeded"
    );
}
