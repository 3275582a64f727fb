//! The accept loop (X7): each connection served by hyper (HTTP/1.1, and
//! HTTP/2 with prior knowledge) with a header timeout and an idle timeout of
//! our own (see `conn`), connections capped in total and per client
//! address, and a graceful drain on shutdown: stop accepting, end the live
//! streams, let the requests in flight finish (idle connections close at
//! once), and give up on the rest after the shutdown timeout.

mod admission;
mod conn;

pub use admission::{Full, Places, Ticket};

use crate::metrics::Metrics;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
pub(crate) use conn::Cut;
use conn::{Track, TrackedBody, TrackedIo};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// What the server holds open, and for how long (X7). Every field has a
/// production default; `leadteam serve` takes each from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A request's header must be complete this long after the connection
    /// opened, or after its first byte on a kept-alive connection.
    pub header_timeout: Duration,
    /// A kept-alive connection with nothing in flight is closed after this.
    /// Live streams are in flight for as long as they last.
    pub idle_timeout: Duration,
    /// Connections open at once (0: no cap); over it, new ones get 503.
    pub max_connections: usize,
    /// Connections open at once from one client address (0: no cap); over
    /// it, 429. Behind a reverse proxy every connection has its address:
    /// raise this or set 0 there.
    pub max_connections_per_address: usize,
    /// Live streams (server-sent events) at once (0: no cap).
    pub max_streams: usize,
    /// Live streams of one member at once (0: no cap).
    pub max_streams_per_member: usize,
    /// How long a shutdown waits for requests in flight before it gives up.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_connections_per_address: 256,
            max_streams: 1000,
            max_streams_per_member: 8,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Every connection finished within the shutdown timeout.
    pub clean: bool,
    /// Connections still open when the drain gave up.
    pub abandoned: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    stopping: CancellationToken,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<Drained> {
    let limits = Arc::new(limits);
    let places: Arc<Places<IpAddr>> =
        Places::new(limits.max_connections, limits.max_connections_per_address);
    metrics.set_connections(Arc::clone(&places));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // Our own header and idle timeouts (see `conn`).
        .header_read_timeout(None)
        // Headers larger than this are refused; bodies stream.
        .max_buf_size(64 * 1024);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                };
                match places.take(peer.ip()) {
                    Ok(ticket) => {
                        let _ = stream.set_nodelay(true);
                        let one = One {
                            router: router.clone(),
                            builder: Arc::clone(&builder),
                            limits: Arc::clone(&limits),
                            metrics: Arc::clone(&metrics),
                        };
                        tokio::spawn(one.serve(stream, peer, ticket, graceful.watcher()));
                    }
                    Err(full) => {
                        metrics.connection_refused(full);
                        refuse(&stream, full);
                    }
                }
            }
        }
    }
    drop(listener);
    let open = places.held();
    tracing::info!(
        connections = open,
        "no longer accepting connections; draining"
    );
    stopping.cancel();
    let clean = tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_ok();
    let abandoned = if clean { 0 } else { places.held() };
    if !clean {
        tracing::warn!(
            connections = abandoned,
            timeout_s = limits.shutdown_timeout.as_secs(),
            "shutdown timeout reached: closing the connections still open"
        );
    }
    Ok(Drained { clean, abandoned })
}

/// An accept error: a failed handshake is nothing; running out of file
/// descriptors waits a little instead of spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; trying again in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Answers a connection over a cap (as far as the socket takes it at once,
/// never waiting on a slow client) and closes it.
fn refuse(stream: &TcpStream, full: Full) {
    let (status, detail) = match full {
        Full::Total(n) => (
            "503 Service Unavailable",
            format!("the server holds its maximum of {n} connections; try again shortly"),
        ),
        Full::Each(n) => (
            "429 Too Many Requests",
            format!("this address holds its maximum of {n} connections; close some first"),
        ),
    };
    let code = &status[..3];
    let body = serde_json::json!({
        "type": "https://leadteam.dev/problems/too-many-connections",
        "title": "Too many connections",
        "status": code.parse::<u16>().unwrap_or(503),
        "detail": detail,
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// What serving one connection needs.
struct One {
    router: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
}

impl One {
    async fn serve(
        self,
        stream: TcpStream,
        peer: SocketAddr,
        ticket: Ticket<IpAddr>,
        watcher: Watcher,
    ) {
        let _ticket = ticket;
        let track = Track::new();
        let io = TokioIo::new(TrackedIo {
            inner: stream,
            track: Arc::clone(&track),
        });
        let router = self.router;
        let service = {
            let track = Arc::clone(&track);
            hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                let in_flight = track.request_started();
                req.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let resp = match router.oneshot(req.map(Body::new)).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    Ok::<_, Infallible>(resp.map(|inner| TrackedBody {
                        inner,
                        _in_flight: in_flight,
                    }))
                }
            })
        };
        let conn = watcher.watch(
            self.builder
                .serve_connection_with_upgrades(io, service)
                .into_owned(),
        );
        let mut conn = std::pin::pin!(conn);
        let (header, idle) = (self.limits.header_timeout, self.limits.idle_timeout);
        loop {
            let deadline = track.deadline(header, idle);
            let changed = track.changed.notified();
            let far = Instant::now() + Duration::from_secs(86_400);
            tokio::select! {
                done = conn.as_mut() => {
                    if let Err(e) = done {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                    return;
                }
                () = changed => {}
                () = tokio::time::sleep_until(deadline.map_or(far, |d| d.0)), if deadline.is_some() => {
                    if let Some((at, why)) = track.deadline(header, idle)
                        && at <= Instant::now()
                    {
                        self.metrics.connection_cut(why);
                        tracing::debug!(%peer, ?why, "connection cut");
                        // Dropping the connection closes the socket.
                        return;
                    }
                }
            }
        }
    }
}

impl Cut {
    pub fn label(self) -> &'static str {
        match self {
            Cut::Header => "header_timeout",
            Cut::Idle => "idle_timeout",
        }
    }
}
