//! The response body every layer of the gateway speaks.
//!
//! Proxied responses stream the upstream's body through untouched; the answers the gateway
//! makes itself (401, 429, 503, ...) are small buffered bodies. [`Body`] holds either, boxed
//! behind one type, so a stack of layers has one response type from end to end.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};

/// The error type bodies carry.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body: a streamed upstream body or a buffered one the gateway made.
///
/// ```
/// use bytes::Bytes;
/// use http_body::Body as _;
/// use sluicegate_gateway::body::Body;
/// let body = Body::from(Bytes::from_static(b"{\"message\":\"API rate limit exceeded\"}"));
/// assert_eq!(body.size_hint().exact(), Some(37));
/// assert!(Body::empty().is_end_stream());
/// ```
pub struct Body(UnsyncBoxBody<Bytes, BoxError>);

impl Body {
    /// Wraps any body whose chunks are [`Bytes`].
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(body.map_err(Into::into).boxed_unsync())
    }

    /// A body with nothing in it.
    pub fn empty() -> Self {
        Self::new(Empty::<Bytes>::new())
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self::new(Full::new(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::from(Bytes::from_static(text.as_bytes()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}
