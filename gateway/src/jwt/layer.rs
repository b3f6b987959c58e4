//! The tower layer: authenticate, then pass the request on with its [`Identity`], or answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};
use http::{Method, Request, Response};
use pin_project_lite::pin_project;
use sluicegate::clock::{Clock, TICKS_PER_SECOND, Tick};
use tower::{Layer, Service};

use super::cache::{DEFAULT_CACHE_BYTES, TokenCache};
use super::credentials::{Credential, CredentialError, Credentials};
use super::rejection::{Challenges, Rejection};
use super::sources::TokenSources;
use super::{Identity, Verifier, VerifyOptions};
use crate::body::Body;
use crate::config::{Consumer, JwtPlugin, RegisteredClaim};

/// Why a [`JwtAuthLayer`] could not be built from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetupError {
    /// A consumer's credential is unusable.
    Credential {
        /// The consumer's username.
        consumer: String,
        /// The credential's key.
        key: String,
        /// What is wrong with it.
        error: CredentialError,
    },
    /// The realm cannot be written into a `WWW-Authenticate` header.
    Realm(String),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Credential {
                consumer,
                key,
                error,
            } => write!(f, "consumer `{consumer}`, JWT credential `{key}`: {error}"),
            Self::Realm(realm) => write!(f, "realm `{realm}` cannot go into a header"),
        }
    }
}

impl std::error::Error for SetupError {}

/// The wall clock tokens' `exp` and `nbf` are compared with: microseconds since the Unix epoch.
///
/// ```
/// use sluicegate::clock::Clock;
/// use sluicegate_gateway::jwt::UnixClock;
/// assert!(UnixClock.now() > 1_700_000_000 * 1_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct UnixClock;

impl Clock for UnixClock {
    fn now(&self) -> Tick {
        // A system clock set before 1970 reads as the epoch: every dated token looks valid
        // for longer, which is better than refusing them all.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_micros() as Tick)
    }
}

/// Everything a request is checked against; shared by all clones of a layer's services.
struct Policy {
    verifier: Verifier,
    sources: TokenSources,
    required_scopes: Vec<String>,
    run_on_preflight: bool,
    challenges: Challenges,
}

/// A tower layer requiring a valid JWT, configured like Kong's jwt plugin.
///
/// Requests without a valid token are answered here, with 401 (or 403 for a missing scope)
/// and a JSON body; the others reach the inner service with an [`Identity`] in their
/// extensions. The policy, the verified-token cache and the clock are shared by every service
/// the layer makes, so one cache serves all connections.
///
/// ```
/// use sluicegate_gateway::config::Config;
/// use sluicegate_gateway::config::Plugin;
/// use sluicegate_gateway::jwt::{JwtAuthLayer, Rejection};
///
/// let pem = include_str!("../../../examples/keys/dev-rsa-public.pem");
/// let yaml = format!(r#"
/// _format_version: "3.0"
/// consumers:
///   - username: alice
///     jwt_secrets:
///       - key: alice-key
///         algorithm: RS256
///         rsa_public_key: |
/// {}
/// plugins:
///   - name: jwt
///     config: {{ claims_to_verify: [exp] }}
/// "#, pem.lines().map(|l| format!("          {l}")).collect::<Vec<_>>().join("\n"));
/// let config = Config::from_yaml(&yaml, "inline")?;
/// let Plugin::Jwt(plugin) = &config.plugins[0] else { unreachable!() };
/// let layer = JwtAuthLayer::new(plugin, &config.consumers)?;
///
/// let request = http::Request::get("/orders").body(()).unwrap();
/// assert_eq!(layer.authenticate(&request), Err(Rejection::MissingToken));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JwtAuthLayer {
    policy: Arc<Policy>,
    cache: Option<Arc<TokenCache>>,
    clock: Arc<dyn Clock>,
}

impl JwtAuthLayer {
    /// A layer enforcing `plugin` with the JWT credentials of `consumers`.
    ///
    /// Verified tokens are cached ([`DEFAULT_CACHE_BYTES`]); time is [`UnixClock`].
    pub fn new(plugin: &JwtPlugin, consumers: &[Consumer]) -> Result<Self, SetupError> {
        let mut credentials = Credentials::default();
        for consumer in consumers {
            for secret in &consumer.jwt_secrets {
                let setup_error = |error| SetupError::Credential {
                    consumer: consumer.username.clone(),
                    key: secret.key.clone(),
                    error,
                };
                let credential =
                    Credential::from_config(&consumer.username, secret, plugin.secret_is_base64)
                        .map_err(setup_error)?;
                credentials.insert(credential).map_err(setup_error)?;
            }
        }
        let options = VerifyOptions {
            key_claim_name: plugin.key_claim_name.clone(),
            verify_exp: plugin.claims_to_verify.contains(&RegisteredClaim::Exp),
            verify_nbf: plugin.claims_to_verify.contains(&RegisteredClaim::Nbf),
            leeway: plugin.leeway,
            maximum_expiration: plugin.maximum_expiration,
        };
        let challenges = Challenges::new(plugin.realm.as_deref())
            .ok_or_else(|| SetupError::Realm(plugin.realm.clone().unwrap_or_default()))?;
        let policy = Policy {
            verifier: Verifier::new(credentials, options),
            sources: TokenSources {
                header_names: plugin.header_names.clone(),
                uri_param_names: plugin.uri_param_names.clone(),
                cookie_names: plugin.cookie_names.clone(),
            },
            required_scopes: plugin.scopes.clone(),
            run_on_preflight: plugin.run_on_preflight,
            challenges,
        };
        Ok(Self {
            policy: Arc::new(policy),
            cache: Some(Arc::new(TokenCache::new(DEFAULT_CACHE_BYTES))),
            clock: Arc::new(UnixClock),
        })
    }

    /// Replaces the verified-token cache with one of `max_bytes` (0: no cache; every request
    /// verifies its token's signature).
    pub fn with_cache_bytes(mut self, max_bytes: usize) -> Self {
        self.cache = (max_bytes > 0).then(|| Arc::new(TokenCache::new(max_bytes)));
        self
    }

    /// Reads time from `clock`, whose ticks must be microseconds since the Unix epoch (a
    /// [`ManualClock`](sluicegate::clock::ManualClock) set so, in tests).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The verified-token cache, if there is one.
    pub fn cache(&self) -> Option<&TokenCache> {
        self.cache.as_deref()
    }

    /// Authenticates `request` without calling anything: its identity, `None` for a CORS
    /// preflight let through by `run_on_preflight: false`, or why it is refused.
    pub fn authenticate<B>(&self, request: &Request<B>) -> Result<Option<Identity>, Rejection> {
        let policy = &*self.policy;
        if !policy.run_on_preflight && is_preflight(request) {
            return Ok(None);
        }
        let token = policy.sources.find(request.headers(), request.uri())?;
        let now = self.clock.now() / TICKS_PER_SECOND;
        let identity = match self.cache.as_deref() {
            Some(cache) => match cache.get(&token, now) {
                Some(identity) => identity,
                None => {
                    let verified = policy.verifier.verify_until(&token, now)?;
                    cache.insert(&token, verified.identity.clone(), verified.valid_until, now);
                    verified.identity
                }
            },
            None => policy.verifier.verify(&token, now)?,
        };
        if let Some(scope) = identity.missing_scope(&policy.required_scopes) {
            return Err(Rejection::MissingScope(scope.to_owned()));
        }
        Ok(Some(identity))
    }

    /// The response for `rejection`, with this layer's realm in `WWW-Authenticate`.
    pub fn reject(&self, rejection: &Rejection) -> Response<Body> {
        rejection.response(&self.policy.challenges)
    }
}

impl std::fmt::Debug for JwtAuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthLayer")
            .field("verifier", &self.policy.verifier)
            .field("required_scopes", &self.policy.required_scopes)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// Whether `request` is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`.
fn is_preflight<B>(request: &Request<B>) -> bool {
    request.method() == Method::OPTIONS
        && request.headers().contains_key(ORIGIN)
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

impl<S> Layer<S> for JwtAuthLayer {
    type Service = JwtAuth<S>;

    fn layer(&self, inner: S) -> JwtAuth<S> {
        JwtAuth {
            inner,
            auth: self.clone(),
        }
    }
}

/// The service [`JwtAuthLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct JwtAuth<S> {
    inner: S,
    auth: JwtAuthLayer,
}

impl<S, B> Service<Request<B>> for JwtAuth<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        match self.auth.authenticate(&request) {
            Ok(identity) => {
                if let Some(identity) = identity {
                    request.extensions_mut().insert(identity);
                }
                ResponseFuture::inner(self.inner.call(request))
            }
            Err(rejection) => {
                tracing::debug!(code = rejection.code(), reason = %rejection, "jwt refused");
                ResponseFuture::rejected(self.auth.reject(&rejection))
            }
        }
    }
}

pin_project! {
    /// The future of a [`JwtAuth`] call: the inner service's, or an immediate refusal.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<Body>> },
    }
}

impl<F> ResponseFuture<F> {
    fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    fn rejected(response: Response<Body>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Rejected { response } => Poll::Ready(Ok(response
                .take()
                .expect("a rejected response future is not polled after completion"))),
        }
    }
}
