//! One connection's phase, for the header and idle timeouts (X7).
//!
//! hyper's own `header_read_timeout` also runs while a keep-alive connection
//! waits for its next request, so it cannot be short for headers and long
//! for idling at once. Each connection keeps its own phase instead:
//!
//! - `Head(since)`: waiting for a request's header to be complete, since the
//!   connection was accepted or since the first byte after idling. Cut after
//!   the header timeout (a slow header sender, slowloris).
//! - `Busy`: requests in flight, their response bodies included (a live
//!   stream of server-sent events is busy for as long as it lasts). No limit
//!   here: handlers have their own time limit.
//! - `Idle(since)`: nothing in flight since the last response ended. Cut
//!   after the idle timeout.
//!
//! The socket wrapper ([`TrackedIo`]) moves `Idle` to `Head` when bytes
//! arrive; the service moves to `Busy` when a request's header is complete
//! and back to `Idle` when the last response body ends or is dropped
//! ([`TrackedBody`]).

use axum::body::{Body, Bytes};
use http_body::Frame;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head(Instant),
    Busy,
    Idle(Instant),
}

/// Why a connection was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    Header,
    Idle,
}

struct Inner {
    phase: Phase,
    in_flight: usize,
}

/// The phase of one connection, shared by its socket, its service and the
/// task that serves it.
pub(crate) struct Track {
    inner: Mutex<Inner>,
    /// Wakes the serving task when the phase changes (its deadline moves).
    pub(crate) changed: Notify,
}

impl Track {
    pub(crate) fn new() -> Arc<Track> {
        Arc::new(Track {
            inner: Mutex::new(Inner {
                phase: Phase::Head(Instant::now()),
                in_flight: 0,
            }),
            changed: Notify::new(),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut g)
    }

    /// Bytes arrived: an idle connection starts reading a header.
    fn bytes_read(&self) {
        let moved = self.with(|i| {
            if matches!(i.phase, Phase::Idle(_)) {
                i.phase = Phase::Head(Instant::now());
                true
            } else {
                false
            }
        });
        if moved {
            self.changed.notify_one();
        }
    }

    /// A request's header is complete: the connection is busy until its
    /// response ends (the guard's drop).
    pub(crate) fn request_started(self: &Arc<Self>) -> InFlight {
        self.with(|i| {
            i.in_flight += 1;
            i.phase = Phase::Busy;
        });
        self.changed.notify_one();
        InFlight(Arc::clone(self))
    }

    fn request_ended(&self) {
        self.with(|i| {
            i.in_flight = i.in_flight.saturating_sub(1);
            if i.in_flight == 0 {
                i.phase = Phase::Idle(Instant::now());
            }
        });
        self.changed.notify_one();
    }

    /// When the connection is to be cut, and why (`None`: busy, no limit).
    pub(crate) fn deadline(&self, header: Duration, idle: Duration) -> Option<(Instant, Cut)> {
        self.with(|i| match i.phase {
            Phase::Head(since) => Some((since + header, Cut::Header)),
            Phase::Idle(since) => Some((since + idle, Cut::Idle)),
            Phase::Busy => None,
        })
    }
}

/// A request in flight on a connection; its drop (the response body ended
/// or was dropped) may make the connection idle.
pub(crate) struct InFlight(Arc<Track>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// The accepted socket, telling its [`Track`] when bytes arrive.
pub(crate) struct TrackedIo {
    pub(crate) inner: TcpStream,
    pub(crate) track: Arc<Track>,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.track.bytes_read();
        }
        r
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A response body that keeps its request in flight until it ends.
pub(crate) struct TrackedBody {
    pub(crate) inner: Body,
    pub(crate) _in_flight: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const H: Duration = Duration::from_secs(5);
    const I: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn a_connection_reads_a_header_then_is_busy_then_idle_then_reads_again() {
        let t = Track::new();
        let (d, why) = t.deadline(H, I).unwrap();
        assert_eq!(why, Cut::Header);
        assert_eq!(d, Instant::now() + H);
        let a = t.request_started();
        let b = t.request_started();
        assert_eq!(t.deadline(H, I), None, "busy: no limit");
        drop(a);
        assert_eq!(t.deadline(H, I), None, "one request still in flight");
        tokio::time::advance(Duration::from_secs(3)).await;
        drop(b);
        let (d, why) = t.deadline(H, I).unwrap();
        assert_eq!((d, why), (Instant::now() + I, Cut::Idle));
        tokio::time::advance(Duration::from_secs(10)).await;
        t.bytes_read();
        assert_eq!(t.deadline(H, I).unwrap(), (Instant::now() + H, Cut::Header));
        // More bytes of the same header do not move its deadline.
        tokio::time::advance(Duration::from_secs(1)).await;
        t.bytes_read();
        assert_eq!(
            t.deadline(H, I).unwrap().0,
            Instant::now() + H - Duration::from_secs(1)
        );
    }
}
