//! Deciding whose fault a response was.

use http::Response;
use sluicegate::Outcome;

use crate::body::Body;
use crate::proxy::UpstreamFailure;

/// Judges a response for the circuit breaker.
///
/// Only the head is judged here. A response judged [`Outcome::Success`] is settled when its body
/// ends: a body that breaks off with an error (the upstream reset mid-body, or went quiet past
/// the read timeout) turns it into a failure, and a client that hangs up first makes it
/// ignored.
///
/// ```
/// use http::Response;
/// use sluicegate::Outcome;
/// use sluicegate_gateway::body::Body;
/// use sluicegate_gateway::breaker::Classifier;
/// /// Also counts 429s from the upstream as failures: it is shedding load.
/// struct Overload;
/// impl Classifier for Overload {
///     fn classify(&self, response: &Response<Body>) -> Outcome {
///         match response.status().as_u16() {
///             429 | 500..=599 => Outcome::Failure,
///             400..=499 => Outcome::Ignored,
///             _ => Outcome::Success,
///         }
///     }
/// }
/// let busy = Response::builder().status(429).body(Body::empty()).unwrap();
/// assert_eq!(Overload.classify(&busy), Outcome::Failure);
/// ```
pub trait Classifier: Send + Sync + 'static {
    /// The outcome a response's head stands for.
    fn classify(&self, response: &Response<Body>) -> Outcome;
}

/// The default judgement: the upstream's fault (a 5xx, a connect failure, a timeout) is a
/// failure; a client's mistake (a 4xx, such as a 404 for a missing resource) is ignored, so
/// one client's bad requests cannot open the circuit for everyone; the rest succeed.
///
/// ```
/// use http::Response;
/// use sluicegate::Outcome;
/// use sluicegate_gateway::body::Body;
/// use sluicegate_gateway::breaker::{Classifier, ServerErrors};
/// let status = |code: u16| Response::builder().status(code).body(Body::empty()).unwrap();
/// assert_eq!(ServerErrors.classify(&status(503)), Outcome::Failure);
/// assert_eq!(ServerErrors.classify(&status(404)), Outcome::Ignored);
/// assert_eq!(ServerErrors.classify(&status(302)), Outcome::Success);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerErrors;

impl Classifier for ServerErrors {
    fn classify(&self, response: &Response<Body>) -> Outcome {
        if response.extensions().get::<UpstreamFailure>().is_some()
            || response.status().is_server_error()
        {
            Outcome::Failure
        } else if response.status().is_client_error() {
            Outcome::Ignored
        } else {
            Outcome::Success
        }
    }
}
