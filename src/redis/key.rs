//! The Redis key a client's log lives under.
//!
//! `prefix` + `{` + client key + `}:` + signature for the client's state, and the same plus
//! `:log` for the hash its older entries move to. The braces make the client key a Redis
//! Cluster hash tag, so both keys live in one slot and one script can touch them atomically. The signature (eight hex digits) names the windows' lengths in order: a
//! log's cursors are only meaningful for the windows they were kept for, so a limiter whose
//! windows change starts on fresh keys, and the old ones expire by themselves. Limits are not
//! part of it: raising or lowering a limit keeps every client's history.
//!
//! A client key holding `}` after its first byte still gets one slot: Redis hashes everything
//! between the first `{` and the first `}` after it, the same text for both keys of that client.
//! An empty client key, or one starting with `}`, makes an empty tag, which Redis Cluster ignores:
//! its two keys may then land in different slots (a single server does not care). Hosts that
//! run on a Cluster give every client key a non-empty prefix, as the gateway does (`c:`, `i:`).

use crate::limiter::window::Span;

/// Builds the Redis key of every client for one limiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyNames {
    /// `prefix{`
    head: Vec<u8>,
    /// `}:<signature>`
    tail: Vec<u8>,
}

impl KeyNames {
    /// Names for a limiter with `prefix` and these windows (in the caller's order).
    pub(crate) fn new(prefix: &[u8], windows: &[Span]) -> Self {
        let mut head = prefix.to_vec();
        head.push(b'{');
        let tail = format!("}}:{:08x}", signature(windows)).into_bytes();
        Self { head, tail }
    }

    /// The Redis key of `client`.
    pub(crate) fn of(&self, client: &[u8]) -> Vec<u8> {
        let mut name = Vec::with_capacity(self.head.len() + client.len() + self.tail.len());
        name.extend_from_slice(&self.head);
        name.extend_from_slice(client);
        name.extend_from_slice(&self.tail);
        name
    }
}

/// The hash holding the older chunks of the log whose state is `state`: `<state>:log`, in the
/// same slot.
pub(crate) fn log_of(state: &[u8]) -> Vec<u8> {
    [state, b":log"].concat()
}

/// FNV-1a (32 bits) over the windows' lengths in microseconds, in order: stable across builds,
/// platforms and versions, as a name stored on a server must be.
fn signature(windows: &[Span]) -> u32 {
    windows
        .iter()
        .flat_map(|w| w.ticks.to_le_bytes())
        .fold(0x811c_9dc5_u32, |h, byte| {
            (h ^ u32::from(byte)).wrapping_mul(0x0100_0193)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(ticks: u64, limit: u32) -> Span {
        Span {
            limit,
            ticks,
            index: 0,
        }
    }

    #[test]
    fn a_key_is_prefix_tag_and_signature() {
        let names = KeyNames::new(b"rl:", &[span(1_000_000, 5)]);
        let name = names.of(b"alice");
        assert!(name.starts_with(b"rl:{alice}:"));
        assert_eq!(name.len(), b"rl:{alice}:".len() + 8);
    }

    #[test]
    fn the_signature_follows_lengths_not_limits() {
        let a = KeyNames::new(b"", &[span(1_000_000, 5), span(60_000_000, 50)]);
        let b = KeyNames::new(b"", &[span(1_000_000, 9), span(60_000_000, 90)]);
        let swapped = KeyNames::new(b"", &[span(60_000_000, 50), span(1_000_000, 5)]);
        let other = KeyNames::new(b"", &[span(2_000_000, 5), span(60_000_000, 50)]);
        assert_eq!(a, b);
        assert_ne!(a, swapped);
        assert_ne!(a, other);
    }

    #[test]
    fn the_signature_is_fixed_text() {
        // Stored on servers: it must never change between versions.
        let names = KeyNames::new(b"", &[span(60_000_000, 1)]);
        assert_eq!(names.of(b"k"), b"{k}:843f0fc6");
    }
}
