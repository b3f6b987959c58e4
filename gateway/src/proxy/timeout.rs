//! Kong's three upstream timeouts, applied to one exchange.
//!
//! - `connect_timeout` bounds the TCP connect (set on the connector).
//! - `write_timeout` bounds each wait for the upstream to take more of the request: it runs from
//!   the moment the request (or a chunk of its body) was handed over until the next chunk is
//!   asked for. Time spent waiting for a slow *client* to send its body does not count.
//! - `read_timeout` bounds the wait for the response head once the whole request is sent, and
//!   every wait between two chunks of the response body.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::body::BoxError;

/// The three timeouts of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Bound on establishing the TCP connection.
    pub connect: Duration,
    /// Bound on each wait for the upstream to take more of the request.
    pub write: Duration,
    /// Bound on each wait for the upstream's response head or next body chunk.
    pub read: Duration,
}

impl Default for Timeouts {
    /// Kong's defaults: 60 seconds each.
    fn default() -> Self {
        let minute = Duration::from_secs(60);
        Self {
            connect: minute,
            write: minute,
            read: minute,
        }
    }
}

/// Where sending a request body stands, shared between the body and the watchdog.
#[derive(Debug)]
pub(crate) struct Progress {
    origin: Instant,
    /// Phase in the low two bits, microseconds since `origin` above them.
    word: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The upstream has been handed data and has not asked for more.
    Upstream = 0,
    /// The body is waiting for the client to send more.
    Client = 1,
    /// The whole request has been sent.
    Sent = 2,
}

impl Progress {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            word: AtomicU64::new(Phase::Upstream as u64),
        })
    }

    fn set(&self, phase: Phase) {
        let micros = self.origin.elapsed().as_micros() as u64;
        self.word
            .store(micros << 2 | phase as u64, Ordering::Relaxed);
    }

    fn get(&self) -> (Phase, Instant) {
        let word = self.word.load(Ordering::Relaxed);
        let phase = match word & 3 {
            0 => Phase::Upstream,
            1 => Phase::Client,
            _ => Phase::Sent,
        };
        (phase, self.origin + Duration::from_micros(word >> 2))
    }
}

pin_project_lite::pin_project! {
    /// A request body that reports its progress to the watchdog.
    pub(crate) struct Tracked<B> {
        #[pin]
        inner: B,
        progress: Arc<Progress>,
    }
}

impl<B> Tracked<B> {
    pub(crate) fn new(inner: B, progress: Arc<Progress>) -> Self {
        Self { inner, progress }
    }
}

impl<B> HttpBody for Tracked<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Pending => {
                this.progress.set(Phase::Client);
                Poll::Pending
            }
            Poll::Ready(None) => {
                this.progress.set(Phase::Sent);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => {
                // A client may stop polling once the body says it has ended.
                let phase = if this.inner.is_end_stream() {
                    Phase::Sent
                } else {
                    Phase::Upstream
                };
                this.progress.set(phase);
                Poll::Ready(Some(frame.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The response head did not come in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

/// Runs `exchange` under the write and read timeouts. Without `progress` (no request body) the
/// request counts as sent at once.
pub(crate) async fn deadline<F: Future>(
    exchange: F,
    progress: Option<&Progress>,
    timeouts: Timeouts,
) -> Result<F::Output, Elapsed> {
    let Some(progress) = progress else {
        return tokio::time::timeout(timeouts.read, exchange)
            .await
            .map_err(|_| Elapsed);
    };
    tokio::pin!(exchange);
    loop {
        let seen = progress.get();
        let due = match seen {
            (Phase::Upstream, since) => since + timeouts.write,
            // A slow client is not the upstream's fault: look again later.
            (Phase::Client, _) => Instant::now() + timeouts.write,
            (Phase::Sent, since) => since + timeouts.read,
        };
        tokio::select! {
            out = &mut exchange => return Ok(out),
            () = tokio::time::sleep_until(due) => {
                if seen.0 != Phase::Client && progress.get() == seen {
                    return Err(Elapsed);
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that fails when the upstream leaves a gap longer than the read timeout.
    pub(crate) struct ReadTimeout<B> {
        #[pin]
        inner: B,
        #[pin]
        timer: Sleep,
        limit: Duration,
    }
}

impl<B> ReadTimeout<B> {
    pub(crate) fn new(inner: B, limit: Duration) -> Self {
        Self {
            inner,
            timer: tokio::time::sleep(limit),
            limit,
        }
    }
}

/// The upstream stopped sending its response body for longer than the read timeout.
#[derive(Debug)]
pub struct ReadTimedOut(pub Duration);

impl std::fmt::Display for ReadTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upstream sent nothing for {:?} mid-body", self.0)
    }
}

impl std::error::Error for ReadTimedOut {}

impl<B> HttpBody for ReadTimeout<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            this.timer.as_mut().reset(Instant::now() + *this.limit);
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        ready!(this.timer.poll(cx));
        Poll::Ready(Some(Err(Box::new(ReadTimedOut(*this.limit)))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
