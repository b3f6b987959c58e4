//! `Limiter::check_each` decides exactly as `check_n` does, and its per-window figures match a
//! brute-force count of the admitted requests in each window.

use std::time::Duration;

use sluicegate::clock::ManualClock;
use sluicegate::{Limiter, Window};

#[test]
fn check_each_agrees_with_check_and_counts_every_window() {
    let windows = [
        Window::new(7, Duration::from_millis(300)),
        Window::new(20, Duration::from_secs(2)),
        Window::new(3, Duration::from_millis(50)),
    ];
    let clock_a = ManualClock::new(0);
    let clock_b = ManualClock::new(0);
    let plain = Limiter::builder()
        .windows(windows)
        .clock(clock_a.clone())
        .build()
        .unwrap();
    let detailed = Limiter::builder()
        .windows(windows)
        .clock(clock_b.clone())
        .build()
        .unwrap();
    let mut admitted: Vec<(u64, u64)> = Vec::new(); // (tick, cost)
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..5_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let step = seed % 40_000;
        let cost = 1 + seed % 3;
        clock_a.advance_ticks(step);
        clock_b.advance_ticks(step);
        let now = sluicegate::clock::Clock::now(&clock_b);
        let expected = plain.check_n("k", cost).unwrap();
        let (decision, remaining) = detailed.check_each("k", cost).unwrap();
        assert_eq!(decision, expected);
        if decision.allowed() {
            admitted.push((now, cost));
        }
        assert_eq!(remaining.len(), windows.len());
        for (i, w) in windows.iter().enumerate() {
            let ticks = w.duration().as_micros() as u64;
            let used: u64 = admitted
                .iter()
                .filter(|(t, _)| t + ticks > now)
                .map(|(_, c)| c)
                .sum();
            assert_eq!(
                remaining.get(i),
                Some(w.limit() - used),
                "window {i} at {now}"
            );
        }
        assert_eq!(
            remaining.iter().min(),
            Some(decision.remaining()),
            "the binding window has the least left"
        );
    }
}
