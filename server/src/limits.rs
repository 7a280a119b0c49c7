//! Rate limits on the shopper's writes (redemptions, birthday, referral capture): a token bucket per shopper
//! and one per client address, so a script that loops on the API (or a shopper's stuck browser) is slowed
//! down with `429` and `Retry-After` before it can load the database. Idempotent retries of one write count
//! too: the widget's outbox backs off on `Retry-After`, so a real shopper never meets the limit.
//!
//! Writes without a valid identity (all refused with `401`) are counted in a bucket of their own per address,
//! so a flood of them cannot spend the bucket the signed-in shoppers behind that address share. The client's
//! address is the peer's, or behind trusted proxies the rightmost forwarded hop that is not one of them;
//! IPv6 clients are counted per /64, the block one subscriber usually gets, so they cannot step around the
//! limit by changing the low bits.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
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
    /// Per client address, for writes without a valid identity (default 30: a browser sends one only when its
    /// digest has expired, and it is refused anyway).
    pub anonymous_per_address: u32,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits { per_shopper: 20, per_address: 120, anonymous_per_address: 30 }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Tokens, in thousandths (so a refill of a fraction of a token per second is exact in integers).
    millis: i64,
    /// When `millis` was last brought up to date, Unix seconds.
    at: i64,
    /// Its rate (and so its capacity, in tokens).
    per_minute: u32,
}

/// The buckets, shared by every request.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Thousandths of a token that `per_minute` brings back in `elapsed` seconds.
fn refill(per_minute: u32, elapsed: i64) -> i64 {
    elapsed.max(0).saturating_mul(i64::from(per_minute) * 1000) / 60
}

/// Makes room when the buckets reach [`MAX_BUCKETS`]: first the full ones (callers who have been quiet, so
/// forgetting them changes nothing), then, when that is not enough (a flood from that many callers at once),
/// the least recently used down to three quarters of the bound. Without the second step the map grew without
/// bound and every write scanned it whole under the lock; with it a sweep happens at most once per quarter of
/// the bound's new callers. A forgotten caller starts again with a full bucket: the price of bounded memory.
fn forget_some(buckets: &mut HashMap<String, Bucket>, now: i64) {
    buckets.retain(|_, b| b.millis + refill(b.per_minute, now - b.at) < i64::from(b.per_minute) * 1000);
    let keep = MAX_BUCKETS / 4 * 3;
    if buckets.len() > keep {
        let mut times: Vec<i64> = buckets.values().map(|b| b.at).collect();
        let cut = times.len() - keep;
        let (_, oldest_kept, _) = times.select_nth_unstable(cut);
        let oldest_kept = *oldest_kept;
        buckets.retain(|_, b| b.at >= oldest_kept);
        // Buckets touched in the same second as the cut may all stay: drop the surplus among them too.
        if buckets.len() > keep {
            let surplus: Vec<String> =
                buckets.iter().filter(|(_, b)| b.at == oldest_kept).map(|(k, _)| k.clone()).collect();
            for key in surplus.into_iter().take(buckets.len() - keep) {
                buckets.remove(&key);
            }
        }
    }
}

impl RateLimiter {
    /// Takes one token from each of `wanted` (a bucket's key, its rate per minute, and the refusal's scope)
    /// if every one has a token; otherwise takes none and names the first that is empty, with the seconds
    /// until it has a token again. All or none, so a refusal by one bucket costs the others nothing.
    fn take_all(&self, wanted: &[(String, u32, &str)], now: i64) -> Result<(), ApiError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            forget_some(&mut buckets, now);
        }
        for (key, per_minute, scope) in wanted {
            let capacity = i64::from(*per_minute) * 1000;
            let bucket = buckets.entry(key.clone()).or_insert(Bucket {
                millis: capacity,
                at: now,
                per_minute: *per_minute,
            });
            bucket.per_minute = *per_minute;
            bucket.millis = (bucket.millis + refill(*per_minute, now - bucket.at)).min(capacity);
            bucket.at = now;
            if bucket.millis < 1000 {
                let (missing, per_second) = (1000 - bucket.millis, i64::from(*per_minute).max(1) * 1000);
                let wait = ((missing * 60 + per_second - 1) / per_second).max(1);
                return Err(ApiError::rate_limited(scope, wait));
            }
        }
        for (key, _, _) in wanted {
            if let Some(bucket) = buckets.get_mut(key) {
                bucket.millis -= 1000;
            }
        }
        Ok(())
    }

    /// Counts one write by `shopper` (when the request names a valid one) from `address` at `now`; `429` when
    /// a bucket it counts in is empty. A signed-in shopper's write counts in their own bucket and their
    /// address's; any other write only in the address's bucket for writes without an identity (an address
    /// that is not known shares one such bucket: never unlimited).
    pub fn write(
        &self,
        limits: WriteLimits,
        shopper: Option<&str>,
        address: Option<&str>,
        now: i64,
    ) -> Result<(), ApiError> {
        let address = address.unwrap_or("unknown");
        match shopper {
            // The shopper's bucket first: a shopper over their own limit is refused without spending a token
            // the others behind that address share.
            Some(shopper) => self.take_all(
                &[
                    (format!("s:{shopper}"), limits.per_shopper, "shopper"),
                    (format!("a:{address}"), limits.per_address, "address"),
                ],
                now,
            ),
            None => self.take_all(&[(format!("n:{address}"), limits.anonymous_per_address, "address")], now),
        }
    }
}

/// A proxy's address or network (`10.0.0.7`, `10.0.0.0/8`, `2001:db8::/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// Reads `ip` or `ip/prefix`.
    pub fn parse(text: &str) -> Result<AddressRange, String> {
        let (ip, prefix) = match text.split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = ip
            .parse()
            .map_err(|_| format!("{text:?}: must be an IP address or a network like 10.0.0.0/8"))?;
        let network = canonical(network);
        let most = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => most,
            Some(p) => p.parse::<u8>().map_err(|_| format!("{text:?}: the prefix must be a whole number"))?,
        };
        if prefix > most {
            return Err(format!("{text:?}: the prefix must be at most {most}"));
        }
        Ok(AddressRange { network, prefix })
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address is its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 client) is
/// that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The key an address is counted under: an IPv4 address whole, an IPv6 address by its /64.
pub(crate) fn bucket_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{network}/64")
        }
    }
}

/// One forwarded hop: an address, with or without a port (`198.51.100.1:4711`, `[2001:db8::1]:443`).
fn hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>().ok().or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The client's address, as the key its buckets are counted under. From a peer that is not a trusted proxy,
/// the peer; from a trusted proxy, the rightmost hop in `forwarded` (the header's lines joined with commas)
/// that is not a trusted proxy: every hop to its right was appended by a proxy we trust, and everything to its
/// left was written by the client, who can write anything. A hop that is no address where a trusted proxy
/// should have written one ends the walk at the proxy it came through, so a client cannot name its own key.
pub fn client_address(peer: IpAddr, forwarded: Option<&str>, trusted: &[AddressRange]) -> String {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    let mut client = peer;
    if is_trusted(peer) {
        for entry in forwarded.unwrap_or("").rsplit(',').filter(|e| !e.trim().is_empty()) {
            let Some(ip) = hop(entry) else { break };
            client = ip;
            if !is_trusted(ip) {
                break;
            }
        }
    }
    bucket_key(client)
}

/// The client's address for the write limits: from the peer (axum's `ConnectInfo`) and, behind trusted
/// proxies, the header `config.client_address_header` names.
fn request_address(state: &AppState, request: &Request) -> Option<String> {
    let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
    // Read lossily, not with `to_str`: a client could put a byte that is not visible ASCII in the part it
    // writes, and the whole line, the proxies' hops with it, would be lost.
    let forwarded = state.config.client_address_header.as_ref().map(|name| {
        let lines: Vec<String> = request
            .headers()
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        lines.join(",")
    });
    Some(client_address(peer.ip(), forwarded.as_deref(), &state.config.trusted_proxies))
}

/// Middleware on the shopper's writes: one token per request from the shopper's bucket and the address's
/// when the request names a valid shopper, and from the address's bucket for the others when it does not (the
/// handler refuses those with `401`).
pub async fn writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = request_address(&state, &request);
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

    const LIMITS: WriteLimits = WriteLimits { per_shopper: 3, per_address: 100, anonymous_per_address: 100 };

    #[test]
    fn a_burst_then_the_steady_rate() {
        let limiter = RateLimiter::default();
        let limits = LIMITS;
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
        assert!(limiter.write(limits, Some("c1"), Some("10.0.0.9"), now + 19).is_err());
        assert!(limiter.write(limits, Some("c1"), Some("10.0.0.9"), now + 20).is_ok());
        assert!(limiter.write(limits, Some("c1"), Some("10.0.0.9"), now + 20).is_err());
        // Many shoppers behind one address share its limit.
        let limits = WriteLimits { per_shopper: 100, per_address: 2, ..LIMITS };
        assert!(limiter.write(limits, Some("d1"), Some("10.0.0.2"), now).is_ok());
        assert!(limiter.write(limits, Some("d2"), Some("10.0.0.2"), now).is_ok());
        let refused = limiter.write(limits, Some("d3"), Some("10.0.0.2"), now).unwrap_err();
        assert_eq!(refused.retry_after, Some(30));
        assert!(refused.message.contains("address"));
    }

    #[test]
    fn a_flood_of_callers_keeps_the_buckets_bounded() {
        // 100,001 callers each with a bucket that is not full: none could be forgotten as quiet, so the map
        // grew past its bound (and each write scanned it whole). It now stays within the bound, and the most
        // recent callers keep their counts.
        let limiter = RateLimiter::default();
        let limits = WriteLimits { per_shopper: 20, per_address: 120, anonymous_per_address: 30 };
        // All within one second, so no bucket refills to full.
        let now = 1_000;
        for i in 0..=MAX_BUCKETS {
            limiter
                .take_all(&[(format!("caller-{i}"), limits.per_shopper, "shopper")], now)
                .expect("a token");
        }
        let buckets = limiter.buckets.lock().expect("not poisoned");
        assert!(buckets.len() <= MAX_BUCKETS, "{} buckets", buckets.len());
        assert!(buckets.contains_key(&format!("caller-{MAX_BUCKETS}")), "the newest caller keeps its bucket");
    }

    #[test]
    fn writes_without_a_valid_identity_have_a_bucket_of_their_own_per_address() {
        let limiter = RateLimiter::default();
        let limits = WriteLimits { per_shopper: 100, per_address: 3, anonymous_per_address: 2 };
        let now = 1_000;
        for _ in 0..2 {
            assert!(limiter.write(limits, None, Some("10.0.0.1"), now).is_ok());
        }
        let refused = limiter.write(limits, None, Some("10.0.0.1"), now).unwrap_err();
        assert_eq!(refused.retry_after, Some(30));
        assert!(refused.message.contains("address"), "{}", refused.message);
        // Never unlimited, not even when the address is unknown.
        for _ in 0..2 {
            assert!(limiter.write(limits, None, None, now).is_ok());
        }
        assert!(limiter.write(limits, None, None, now).is_err());
        // Signed-in shoppers at that address still have all three of theirs.
        for shopper in ["c1", "c2", "c3"] {
            assert!(limiter.write(limits, Some(shopper), Some("10.0.0.1"), now).is_ok(), "{shopper}");
        }
        assert!(limiter.write(limits, Some("c4"), Some("10.0.0.1"), now).is_err());
        // And another address's anonymous bucket is full.
        assert!(limiter.write(limits, None, Some("10.0.0.2"), now).is_ok());
    }

    #[test]
    fn a_refused_shopper_spends_no_address_token() {
        let limiter = RateLimiter::default();
        let limits = WriteLimits { per_shopper: 1, per_address: 3, ..LIMITS };
        let now = 1_000;
        assert!(limiter.write(limits, Some("c1"), Some("10.0.0.1"), now).is_ok());
        for _ in 0..10 {
            let refused = limiter.write(limits, Some("c1"), Some("10.0.0.1"), now).unwrap_err();
            assert!(refused.message.contains("shopper"), "{}", refused.message);
        }
        // Two of the address's three tokens are left for the others.
        assert!(limiter.write(limits, Some("c2"), Some("10.0.0.1"), now).is_ok());
        assert!(limiter.write(limits, Some("c3"), Some("10.0.0.1"), now).is_ok());
        assert!(limiter.write(limits, Some("c4"), Some("10.0.0.1"), now).is_err());
        // Nor does a refused address spend the shopper's token.
        assert!(limiter.write(limits, Some("c5"), Some("10.0.0.1"), now).is_err());
        assert!(limiter.write(limits, Some("c5"), Some("10.0.0.2"), now).is_ok());
    }

    fn ranges(list: &[&str]) -> Vec<AddressRange> {
        list.iter().map(|r| AddressRange::parse(r).unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn address_ranges_are_ips_or_cidrs() {
        let proxies = ranges(&["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"]);
        for (address, inside) in [
            ("10.200.3.4", true),
            ("11.0.0.1", false),
            ("192.168.1.7", true),
            ("192.168.1.8", false),
            ("2001:db8:ffff::1", true),
            ("2001:db9::1", false),
            ("::1", true),
            ("::ffff:10.1.2.3", true),
        ] {
            assert_eq!(proxies.iter().any(|r| r.contains(ip(address))), inside, "{address}");
        }
        for (bad, expected) in [
            ("10.0.0.0/33", "\"10.0.0.0/33\": the prefix must be at most 32"),
            ("2001:db8::/129", "\"2001:db8::/129\": the prefix must be at most 128"),
            ("10.0.0.0/x", "\"10.0.0.0/x\": the prefix must be a whole number"),
            ("proxy.example", "\"proxy.example\": must be an IP address or a network like 10.0.0.0/8"),
            ("", "\"\": must be an IP address or a network like 10.0.0.0/8"),
        ] {
            assert_eq!(AddressRange::parse(bad).unwrap_err(), expected);
        }
    }

    #[test]
    fn the_forwarded_header_is_believed_only_from_a_trusted_proxy() {
        let proxies = ranges(&["10.0.0.0/8"]);
        // Straight from the client: what it says about itself is ignored.
        assert_eq!(client_address(ip("203.0.113.9"), Some("198.51.100.1"), &proxies), "203.0.113.9");
        // Through the proxy: the address it appended.
        assert_eq!(client_address(ip("10.0.0.2"), Some("198.51.100.1"), &proxies), "198.51.100.1");
        // A request through a trusted proxy without the header is the proxy's own.
        assert_eq!(client_address(ip("10.0.0.2"), None, &proxies), "10.0.0.2");
        // No trusted proxies: never believed.
        assert_eq!(client_address(ip("10.0.0.2"), Some("198.51.100.1"), &[]), "10.0.0.2");
    }

    #[test]
    fn the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() {
        let proxies = ranges(&["10.0.0.0/8", "172.16.0.5"]);
        let peer = ip("10.0.0.2");
        for (forwarded, expected) in [
            // The client wrote the first entry itself; the proxies appended the rest.
            ("1.2.3.4, 198.51.100.1, 172.16.0.5, 10.9.9.9", "198.51.100.1"),
            ("1.2.3.4,198.51.100.1", "198.51.100.1"),
            // Header lines are joined with commas before they are read.
            ("1.2.3.4, 198.51.100.1,172.16.0.5", "198.51.100.1"),
            // Ports, and spaces, are dropped.
            ("198.51.100.1:4711 , 10.0.0.3", "198.51.100.1"),
            ("[2001:db8::1]:443", "2001:db8::/64"),
            // Every hop a trusted proxy: the first of them.
            ("10.1.1.1, 172.16.0.5", "10.1.1.1"),
            // Something that is no address where a proxy should have written one: the proxy it came through.
            ("1.2.3.4, not-an-ip, 172.16.0.5", "172.16.0.5"),
            ("garbage", "10.0.0.2"),
            ("", "10.0.0.2"),
        ] {
            assert_eq!(client_address(peer, Some(forwarded), &proxies), expected, "{forwarded}");
        }
    }

    #[test]
    fn mapped_ipv4_counts_as_ipv4_and_ipv6_is_grouped_by_its_64() {
        let proxies = ranges(&["10.0.0.0/8"]);
        for (peer, expected) in [
            ("::ffff:203.0.113.9", "203.0.113.9"),
            ("203.0.113.9", "203.0.113.9"),
            ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
            ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ] {
            assert_eq!(client_address(ip(peer), None, &proxies), expected, "{peer}");
        }
        // A mapped peer is matched against IPv4 proxies, and a forwarded mapped address is IPv4 too.
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), Some("::ffff:198.51.100.1"), &proxies),
            "198.51.100.1"
        );
    }
}
