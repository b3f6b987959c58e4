//! The script's answer, read into the numbers the local limiter reports.
//!
//! The script returns what only the server knows (whether the request fitted, when it would,
//! the time it used, and per window the usage and the time of the oldest entry); the rest of a
//! [`Decision`] is worked out here, so the single-threaded server does as little as it can.

use redis::Value;

use crate::clock::Tick;
use crate::{Decision, Remaining};

use super::StoreError;

/// One window, in the caller's order: its limit and its length in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) limit: u32,
    pub(crate) span: Tick,
}

/// Reads `{fits, retry_after, now, used_1, oldest_1, ...}` for `rules`.
pub(crate) fn decode(reply: Value, rules: &[Rule]) -> Result<(Decision, Remaining), StoreError> {
    let Value::Array(items) = reply else {
        return Err(StoreError::Reply(format!("not an array: {reply:?}")));
    };
    if items.len() != 3 + 2 * rules.len() {
        return Err(StoreError::Reply(format!(
            "{} numbers for {} windows",
            items.len(),
            rules.len()
        )));
    }
    let numbers = items
        .iter()
        .map(|item| match *item {
            Value::Int(n) => Ok(n),
            ref other => Err(StoreError::Reply(format!("not an integer: {other:?}"))),
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let tick = |n: i64| Tick::try_from(n).map_err(|_| StoreError::Reply(format!("negative: {n}")));
    let (fits, retry_after, now) = (numbers[0] == 1, tick(numbers[1])?, tick(numbers[2])?);

    let mut remaining = Remaining::new(rules.len());
    // The binding window: least remaining, ties to the longer window (lengths are distinct).
    let mut binding: Option<(usize, u32, Tick)> = None;
    for (i, (rule, pair)) in rules.iter().zip(numbers[3..].chunks_exact(2)).enumerate() {
        let used = u64::try_from(pair[0])
            .map_err(|_| StoreError::Reply(format!("negative usage: {}", pair[0])))?;
        let left = u64::from(rule.limit).saturating_sub(used) as u32;
        remaining.counts[i] = left;
        let oldest = pair[1];
        let reset_after = if oldest < 0 {
            0
        } else {
            (tick(oldest)? + rule.span).saturating_sub(now)
        };
        let better = binding.is_none_or(|(b, b_left, _)| {
            (left, std::cmp::Reverse(rule.span)) < (b_left, std::cmp::Reverse(rules[b].span))
        });
        if better {
            binding = Some((i, left, reset_after));
        }
    }
    let (window, left, reset_after) =
        binding.ok_or_else(|| StoreError::Reply("no windows".into()))?;
    let decision = Decision {
        allowed: fits,
        // At most MAX_WINDOWS windows, checked when the limiter was built.
        window: window as u8,
        limit: rules[window].limit,
        remaining: left,
        reset_after,
        retry_after,
    };
    Ok((decision, remaining))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: [Rule; 2] = [
        Rule {
            limit: 10,
            span: 1_000_000,
        },
        Rule {
            limit: 100,
            span: 60_000_000,
        },
    ];

    fn ints(numbers: &[i64]) -> Value {
        Value::Array(numbers.iter().map(|&n| Value::Int(n)).collect())
    }

    #[test]
    fn the_window_with_least_left_binds() {
        // 4 used of 10 in the second, 95 of 100 in the minute: the minute binds.
        let now = 50_000_000;
        let (d, left) = decode(
            ints(&[1, 0, now, 4, now - 200_000, 95, now - 30_000_000]),
            &RULES,
        )
        .unwrap();
        assert!(d.allowed());
        assert_eq!((d.window(), d.limit(), d.remaining()), (1, 100, 5));
        assert_eq!(d.reset_after_ticks(), 30_000_000);
        assert_eq!(left.as_slice(), &[6, 5]);
    }

    #[test]
    fn a_tie_goes_to_the_longer_window_and_empty_windows_reset_now() {
        let (d, _) = decode(ints(&[1, 0, 7, 0, -1, 90, 7]), &RULES).unwrap();
        assert_eq!((d.window(), d.remaining()), (1, 10));
        let (d, _) = decode(ints(&[0, 250, 7, 10, 3, 0, -1]), &RULES).unwrap();
        assert!(!d.allowed());
        assert_eq!(
            (d.window(), d.remaining(), d.retry_after_ticks()),
            (0, 0, 250)
        );
    }

    #[test]
    fn usage_past_a_limit_leaves_nothing() {
        let (d, left) = decode(ints(&[0, 9, 7, 12, 3, 12, 3]), &RULES).unwrap();
        assert_eq!((d.window(), d.remaining()), (0, 0));
        assert_eq!(left.as_slice(), &[0, 88]);
    }

    #[test]
    fn anything_else_is_a_reply_error() {
        for bad in [
            Value::Nil,
            ints(&[1, 0, 7]),
            ints(&[1, -5, 7, 0, -1, 0, -1]),
            Value::Array(vec![Value::Okay; 7]),
        ] {
            assert!(matches!(decode(bad, &RULES), Err(StoreError::Reply(_))));
        }
    }
}
