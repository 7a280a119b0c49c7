//! How connections are served: HTTP/1 through hyper with a timer, so that no client can hold a connection
//! by dawdling (over its headers, idle between requests, or not reading an answer); at most so many open at
//! once, in all and per client address, so that no client can hold them all (each one a file descriptor); and a
//! graceful shutdown that lets the requests in flight finish, for a bounded time.

use axum::Router;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a connection may make no progress.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// To send a request's headers, and idle between requests.
    pub header: Duration,
    /// To take any more of an answer that is being written to it.
    pub write_stall: Duration,
}

/// How many connections may be open at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// In all. Past it a new connection is closed at once, so the process keeps file descriptors for its
    /// database and files, and accepting never fails for want of them.
    pub total: usize,
    /// Per client address (an IPv4 address, an IPv6 /64), except the trusted proxies': one client that opens
    /// connection after connection, each one busy enough not to time out, cannot take them all.
    pub per_address: usize,
}

/// How long a graceful shutdown waits for the requests in flight before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The connections open now, per client address: a connection counts from its accept to its end.
#[derive(Default)]
struct Open {
    total: usize,
    per_address: std::collections::HashMap<String, usize>,
}

/// A connection's place in [`Open`], given back when it is dropped (the connection's task ends).
struct Counted {
    open: std::sync::Arc<std::sync::Mutex<Open>>,
    address: Option<String>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total -= 1;
        if let Some(address) = &self.address {
            if let Some(n) = open.per_address.get_mut(address) {
                *n -= 1;
                if *n == 0 {
                    open.per_address.remove(address);
                }
            }
        }
    }
}

/// Counts a new connection from `peer`, or refuses it (`None`) when the limits are reached. Trusted proxies
/// bring many shoppers' connections, so they count only toward the total.
fn admit(
    open: &std::sync::Arc<std::sync::Mutex<Open>>,
    limits: ConnectionLimits,
    trusted: &[crate::limits::AddressRange],
    peer: std::net::IpAddr,
) -> Option<Counted> {
    let mut guard = open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if guard.total >= limits.total {
        return None;
    }
    let address =
        (!trusted.iter().any(|range| range.contains(peer))).then(|| crate::limits::bucket_key(peer));
    if let Some(address) = &address {
        let n = guard.per_address.entry(address.clone()).or_default();
        if *n >= limits.per_address {
            return None;
        }
        *n += 1;
    }
    guard.total += 1;
    drop(guard);
    Some(Counted { open: std::sync::Arc::clone(open), address })
}

/// Serves HTTP/1 connections until `shutdown` resolves, then lets the requests in flight finish.
///
/// Not `axum::serve`: it gives hyper no timer, so hyper's header-read timeout never runs, and a client that
/// sends half its headers (or opens a connection and sends nothing) holds it forever; the request timeout
/// (`TimeoutLayer`) starts only once the headers are in. With a timer, `timeouts.header` bounds the wait for
/// every request's headers, which on HTTP/1 also bounds a keep-alive connection's idle time between requests.
/// Nothing in hyper bounds a write, so each connection's writes are watched here (`StallGuard`).
pub async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    timeouts: Timeouts,
    limits: ConnectionLimits,
    trusted: Vec<crate::limits::AddressRange>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let open = std::sync::Arc::new(std::sync::Mutex::new(Open::default()));
    use tower::ServiceExt;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(timeouts.header).keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it was accepted: the listener
                // still works, so wait a moment (not spin) and go on.
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Over a limit the connection is closed at once (dropped): cheaper than an answer, and a client that
        // opened that many has nothing to read from one.
        let Some(counted) = admit(&open, limits, &trusted, peer.ip()) else {
            tracing::debug!("connection limit reached: a new connection was closed");
            continue;
        };
        // The peer's address reaches the write limits (`limits::writes`) as axum's `ConnectInfo`.
        let service =
            app.clone().map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                request
            });
        let stream = StallGuard::new(stream, timeouts.write_stall);
        let connection = http.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _counted = counted;
            // A client that goes away or breaks the protocol ends only its own connection.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    // Stop accepting, close idle connections, and wait for the requests in flight (each bounded by the
    // request timeout and the write-stall timeout, but a slow reader that keeps reading is not), at most
    // `SHUTDOWN_GRACE`: then whatever is left is dropped, as a supervisor's kill would.
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("shutdown: connections still open after {} s were dropped", SHUTDOWN_GRACE.as_secs());
    }
    Ok(())
}

/// A connection whose writes fail with `TimedOut` once they have made no progress for `limit`: a client that
/// stops reading an answer (its receive window full) would otherwise hold the connection, and the request's
/// memory, until TCP itself gives up, which can take many minutes. Nor may a client that holds the server's
/// writes back take less than [`MIN_BYTES_PER_SECOND`] over `limit`: reading a little now and then reset the
/// wait every time, and held a connection and its answer for hours. A reader that never holds the writes back
/// (small answers, a fast link) is never measured.
struct StallGuard<S> {
    inner: S,
    limit: Duration,
    /// Running while a write waits for the client: when it fires, the connection is given up.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The writes since the current measure began.
    rate: Option<Rate>,
}

/// The slowest a client may take an answer while it holds the server's writes back: about the rate of a poor
/// 2G link, far below any shopper's (the widget's largest file, 230 KB, would take two minutes at it).
const MIN_BYTES_PER_SECOND: u64 = 2048;

/// A gap between writes longer than this, after a write that went through, is the server having nothing to
/// write (between answers), not the client holding it back: the measure starts again.
const IDLE_GAP: Duration = Duration::from_secs(1);

/// One measure of how fast a client takes what is written.
#[derive(Clone, Copy)]
struct Rate {
    start: std::time::Instant,
    written: u64,
    last: std::time::Instant,
    last_ready: bool,
    /// Whether a write had to wait for the client in this measure.
    held_back: bool,
}

impl Rate {
    fn new(now: std::time::Instant) -> Rate {
        Rate { start: now, written: 0, last: now, last_ready: true, held_back: false }
    }
}

impl<S> StallGuard<S> {
    fn new(inner: S, limit: Duration) -> StallGuard<S> {
        StallGuard { inner, limit, stalled: None, rate: None }
    }

    /// Counts a write's outcome; true when the client has held the writes back for `limit` taking less than
    /// the minimum rate.
    fn too_slow(&mut self, outcome: &Poll<io::Result<usize>>) -> bool {
        let now = std::time::Instant::now();
        let rate = self.rate.get_or_insert_with(|| Rate::new(now));
        if rate.last_ready && now.duration_since(rate.last) > IDLE_GAP {
            *rate = Rate::new(now);
        }
        match outcome {
            Poll::Ready(Ok(n)) => rate.written += u64::try_from(*n).unwrap_or(u64::MAX),
            Poll::Pending => rate.held_back = true,
            Poll::Ready(Err(_)) => {}
        }
        rate.last = now;
        rate.last_ready = outcome.is_ready();
        let elapsed = now.duration_since(rate.start);
        if elapsed < self.limit {
            return false;
        }
        let needed = MIN_BYTES_PER_SECOND.saturating_mul(elapsed.as_secs());
        let slow = rate.held_back && rate.written < needed;
        *rate = Rate::new(now);
        slow
    }

    /// The error for a client that takes an answer too slowly.
    fn slow_error<T>() -> Poll<io::Result<T>> {
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client reads too slowly")))
    }

    /// Passes on a write's outcome; while it is pending, runs the stall timer and fails once it fires.
    fn watch<T>(&mut self, cx: &mut Context<'_>, outcome: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if outcome.is_ready() {
            self.stalled = None;
            return outcome;
        }
        let limit = self.limit;
        let timer = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.stalled = None;
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_write(cx, buf);
        if this.too_slow(&outcome) {
            return Self::slow_error();
        }
        this.watch(cx, outcome)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if this.too_slow(&outcome) {
            return Self::slow_error();
        }
        this.watch(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, outcome)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Writes a large answer through a guard with a 1 s limit into an in-memory pipe of 1 KB, read `per_tick`
    /// bytes every 100 ms; how it ends, and after how long (at most 6 s).
    async fn serve_to_a_reader(per_tick: usize) -> (io::Result<()>, Duration) {
        let (server, mut client) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(server, Duration::from_secs(1));
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; per_tick];
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if matches!(client.read(&mut buf).await, Ok(0) | Err(_)) {
                    break;
                }
            }
        });
        let start = std::time::Instant::now();
        let answer = vec![b'x'; 8 << 20];
        let outcome = tokio::time::timeout(Duration::from_secs(6), guarded.write_all(&answer)).await;
        reader.abort();
        (outcome.unwrap_or(Ok(())), start.elapsed())
    }

    #[tokio::test]
    async fn a_reader_that_takes_an_answer_a_little_at_a_time_is_cut_off() {
        // 100 bytes every 100 ms (1 KB/s): each read is progress, so the stall timer never fired, and the
        // connection (and its answer) was held for the 8 MB's two hours (here: past the test's 6 s).
        let (outcome, lasted) = serve_to_a_reader(100).await;
        let error = outcome.expect_err("cut off");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(lasted < Duration::from_secs(5), "{lasted:?}");
        // 1 KB every 100 ms (10 KB/s), a slow phone: served on, never cut off within the bound.
        let (outcome, lasted) = serve_to_a_reader(1024).await;
        assert!(outcome.is_ok(), "{outcome:?}");
        assert!(lasted >= Duration::from_secs(6), "still being served when the test stopped: {lasted:?}");
    }
}
