//! Rate limits on the shopper's writes (redemptions, birthday, referral capture): a token bucket per shopper
//! and one per client address, so a script that loops on the API (or a shopper's stuck browser) is slowed
//! down with `429` and `Retry-After` before it can load the database. Idempotent retries of one write count
//! too: the widget's outbox backs off on `Retry-After`, so a real shopper never meets the limit.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Buckets kept at most; past it, full buckets (callers who have been quiet) are forgotten.
const MAX_BUCKETS: usize = 100_000;

/// Writes allowed per minute, as a burst and then a steady rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteLimits {
    /// Per shopper (default 20).
    pub per_shopper: u32,
    /// Per client address (default 120: a shop's office or a mobile carrier's NAT has many shoppers).
    pub per_address: u32,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits { per_shopper: 20, per_address: 120 }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Tokens, in thousandths (so a refill of a fraction of a token per second is exact in integers).
    millis: i64,
    /// When `millis` was last brought up to date, Unix seconds.
    at: i64,
}

/// The buckets, shared by every request.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes one token from `key`'s bucket of `per_minute`, or says how many seconds until one is back.
    fn take(&self, key: String, per_minute: u32, now: i64) -> Result<(), i64> {
        let capacity = i64::from(per_minute) * 1000;
        // Tokens come back at per_minute per 60 s: per_minute * 1000 / 60 thousandths a second.
        let refill = |elapsed: i64| elapsed.max(0).saturating_mul(i64::from(per_minute) * 1000) / 60;
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| b.millis + refill(now - b.at) < capacity);
        }
        let bucket = buckets.entry(key).or_insert(Bucket { millis: capacity, at: now });
        bucket.millis = (bucket.millis + refill(now - bucket.at)).min(capacity);
        bucket.at = now;
        if bucket.millis >= 1000 {
            bucket.millis -= 1000;
            Ok(())
        } else {
            let (missing, per_second) = (1000 - bucket.millis, i64::from(per_minute).max(1) * 1000);
            Err(((missing * 60 + per_second - 1) / per_second).max(1))
        }
    }

    /// Counts one write by `shopper` (when the request names a valid one) from `address` at `now`; `429` when
    /// either is over its limit.
    pub fn write(
        &self,
        limits: WriteLimits,
        shopper: Option<&str>,
        address: Option<&str>,
        now: i64,
    ) -> Result<(), ApiError> {
        if let Some(address) = address {
            self.take(format!("a:{address}"), limits.per_address, now)
                .map_err(|wait| ApiError::rate_limited("address", wait))?;
        }
        match shopper {
            Some(shopper) => self
                .take(format!("s:{shopper}"), limits.per_shopper, now)
                .map_err(|wait| ApiError::rate_limited("shopper", wait)),
            None => Ok(()),
        }
    }
}

/// The client's address: the peer's, or where the server runs behind a proxy, the last address the proxy
/// appended to the header `config.client_address_header` names (the only one a client cannot forge), and the
/// peer's when a request came without it.
fn client_address(state: &AppState, request: &Request) -> Option<String> {
    if let Some(name) = &state.config.client_address_header {
        let last = request
            .headers()
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|a| !a.is_empty());
        // A request that reached the server past the proxy has no such header: its peer is the client.
        if let Some(last) = last {
            return Some(last.to_owned());
        }
    }
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip().to_string())
}

/// Middleware on the shopper's writes: one token per request from the shopper's bucket (when the request names
/// a valid shopper; an invalid one is refused by the handler) and from the address's.
pub async fn writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = client_address(&state, &request);
    let shopper = crate::routes::shopper(&state, request.headers()).ok();
    let limits = state.config.write_limits;
    let now = state.now();
    let counted = state.limiter.write(limits, shopper.as_deref(), address.as_deref(), now);
    match counted {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            // Neither the shopper's id nor the address: the log is kept longer than a shopper's erasure reaches.
            tracing::info!(code = refused.code, "a write was rate-limited");
            refused.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let limiter = RateLimiter::default();
        let limits = WriteLimits { per_shopper: 3, per_address: 100 };
        let now = 1_000;
        for _ in 0..3 {
            assert!(limiter.write(limits, Some("c1"), Some("10.0.0.1"), now).is_ok());
        }
        let refused = limiter.write(limits, Some("c1"), Some("10.0.0.1"), now).unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code, refused.retry_after),
            (429, "rate_limited", Some(20))
        );
        assert!(
            limiter.write(limits, Some("c2"), Some("10.0.0.1"), now).is_ok(),
            "another shopper is not slowed"
        );
        // Three a minute: one token is back after 20 s.
        assert!(limiter.write(limits, Some("c1"), None, now + 19).is_err());
        assert!(limiter.write(limits, Some("c1"), None, now + 20).is_ok());
        assert!(limiter.write(limits, Some("c1"), None, now + 20).is_err());
        // Many shoppers behind one address share its limit.
        let limits = WriteLimits { per_shopper: 100, per_address: 2 };
        assert!(limiter.write(limits, Some("d1"), Some("10.0.0.2"), now).is_ok());
        assert!(limiter.write(limits, Some("d2"), Some("10.0.0.2"), now).is_ok());
        let refused = limiter.write(limits, Some("d3"), Some("10.0.0.2"), now).unwrap_err();
        assert_eq!(refused.retry_after, Some(30));
        assert!(refused.message.contains("address"));
    }
}
