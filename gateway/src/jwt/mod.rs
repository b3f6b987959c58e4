//! JWT authentication with the semantics of Kong's jwt plugin, and the defences it lacks.
//!
//! A request's token is looked for in the configured headers (`Bearer <token>`, scheme in any
//! case), query parameters and cookies; none is a 401 with `WWW-Authenticate: Bearer`, several
//! different ones a 401 "Multiple tokens provided". The token is then checked in Kong's order
//! (see [`Verifier`]): decode, key claim, credential, pinned algorithm, signature, `exp`/`nbf`
//! with leeway, `maximum_expiration`. A verified token's [`Identity`] goes into the request's
//! extensions for the layers after this one.
//!
//! Beyond Kong: unsigned (`none`) tokens in any spelling, `crit` headers, duplicate JSON
//! members, padded or non-canonical base64 and tokens over [`MAX_TOKEN_BYTES`] are refused;
//! `jwk`/`jku`/`x5u`/`x5c` headers are never read; a claim to verify that is missing or not a
//! number is an error; required scopes answer 403 `{"error":"Missing required scope: X"}`.
//! Verified tokens are cached until they expire (see [`TokenCache`]), so a client reusing its
//! token pays for one signature check, not one per request.
//!
//! # Decisions where Kong is silent or loose
//!
//! - **Where tokens are read.** `Authorization` and `Proxy-Authorization` carry only
//!   `Bearer <token>`; another configured header may carry the bare token too. Every value of a
//!   repeated header, query parameter or cookie is read (Kong reads the first), so a second
//!   `Authorization` header with another token is "Multiple tokens provided", not ignored.
//! - **CORS preflight** (`run_on_preflight: false`) means `OPTIONS` with both `Origin` and
//!   `Access-Control-Request-Method`; any other `OPTIONS` needs a token.
//! - **Claims the gateway reads.** `sub` must be a string when present; scopes come from
//!   `scopes`, else OAuth's `scope`, as an array of strings or one space-separated string; any
//!   other shape refuses the token (`CLAIM_INVALID`) rather than granting nothing silently.
//! - **Time** is whole seconds since the Unix epoch; `exp`/`nbf` may be fractional. `exp` is
//!   expired when `exp + leeway <= now`, `nbf` not yet valid when `nbf - leeway > now`.
//! - **Keys** are checked at start: RSA keys of at least [`MIN_RSA_BITS`] bits, EC points on
//!   the algorithm's curve, no private key where the public one belongs. With
//!   `secret_is_base64`, secrets may use either base64 alphabet, padded or not, as in Kong.
//! - **Bodies.** 401: `{"error": <Kong's message>, "code": <CODE>}`; 403: exactly
//!   `{"error":"Missing required scope: X"}`. See [`Rejection`] for every code.

mod cache;
mod claims;
mod credentials;
mod identity;
mod json;
mod layer;
mod mint;
mod rejection;
mod sources;
mod token;
mod verifier;

pub use cache::{DEFAULT_CACHE_BYTES, MAX_ENTRY_LIFETIME, TokenCache};
pub use claims::VerifyOptions;
pub use credentials::{Credential, CredentialError, Credentials, MIN_RSA_BITS};
pub use identity::Identity;
pub use layer::{JwtAuth, JwtAuthLayer, ResponseFuture, SetupError, UnixClock};
pub use mint::{DevToken, MintError, mint_dev_token};
pub use rejection::Rejection;
pub use verifier::Verifier;

/// The longest token, or header carrying one, the gateway reads: 8 KiB.
///
/// Real tokens are well under 2 KiB; anything longer is refused with 401 before any decoding,
/// so an attacker cannot make the gateway base64-decode and parse megabytes per request.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
