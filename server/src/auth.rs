//! Who is calling. Shoppers present an identity their shop's server signed (checked in constant time against
//! the current and the previous secret, within an age window); webhooks carry an HMAC of their body; the
//! admin API takes a bearer key. None of these secrets ever reaches a browser.
//!
//! The shopper header, documented in the contract:
//! `Authorization: LoyaltyShopper <base64url(customer id)>.<timestamp>.<hex digest>` where
//! `digest = hex(HMAC-SHA256(shop_secret, shop_id + "\n" + customer_id + "\n" + timestamp))`.
//! The customer id is base64url-encoded so that any id (Unicode, dots, colons) fits a header unambiguously.

use crate::error::ApiError;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The scheme name in the `Authorization` header for shoppers.
pub const SHOPPER_SCHEME: &str = "LoyaltyShopper";

/// The header carrying a webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "loyalty-signature";

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The digest a shop's server computes for a shopper (hex).
pub fn shopper_digest(secret: &[u8], shop_id: &str, customer_id: &str, timestamp: i64) -> String {
    let mut m = mac(secret);
    m.update(format!("{shop_id}\n{customer_id}\n{timestamp}").as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// The full `Authorization` header value for a shopper (what the widget sends).
pub fn shopper_header(secret: &[u8], shop_id: &str, customer_id: &str, timestamp: i64) -> String {
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(customer_id);
    format!("{SHOPPER_SCHEME} {id}.{timestamp}.{}", shopper_digest(secret, shop_id, customer_id, timestamp))
}

/// The rules a shopper identity is checked against.
pub struct IdentityRules<'a> {
    /// The shop's id.
    pub shop_id: &'a str,
    /// Current secret first, then the previous one.
    pub secrets: &'a [Vec<u8>],
    /// Oldest accepted age, seconds.
    pub max_age: i64,
    /// Tolerated clock difference, seconds.
    pub skew: i64,
}

/// Checks a shopper `Authorization` header at `now`; returns the customer id.
pub fn verify_shopper(header: &str, rules: &IdentityRules<'_>, now: i64) -> Result<String, ApiError> {
    let credentials =
        header.strip_prefix(SHOPPER_SCHEME).and_then(|rest| rest.strip_prefix(' ')).ok_or_else(|| {
            ApiError::unauthorized(format!("authorization must use the {SHOPPER_SCHEME} scheme"))
        })?;
    let mut parts = credentials.split('.');
    let (Some(id), Some(ts), Some(digest), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ApiError::unauthorized("identity must be <base64url id>.<timestamp>.<digest>"));
    };
    let customer_id = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| is_customer_id(id))
        .ok_or_else(|| ApiError::unauthorized("identity: the customer id is not valid base64url text"))?;
    let timestamp: i64 =
        ts.parse().map_err(|_| ApiError::unauthorized("identity: the timestamp must be Unix seconds"))?;
    let given = hex::decode(digest)
        .ok()
        .filter(|d| d.len() == 32)
        .ok_or_else(|| ApiError::unauthorized("identity: the digest must be 64 hex digits"))?;
    let message = format!("{}\n{customer_id}\n{timestamp}", rules.shop_id);
    // Check every secret (no early exit) so timing does not tell which one matched.
    let mut valid = subtle::Choice::from(0);
    for secret in rules.secrets {
        let mut m = mac(secret);
        m.update(message.as_bytes());
        valid |= m.finalize().into_bytes().as_slice().ct_eq(&given);
    }
    if !bool::from(valid) {
        return Err(ApiError::unauthorized("identity: the digest does not match"));
    }
    if timestamp > now.saturating_add(rules.skew) {
        return Err(ApiError::unauthorized("identity: the timestamp is in the future"));
    }
    if now.saturating_sub(timestamp) > rules.max_age.saturating_add(rules.skew) {
        return Err(ApiError::unauthorized("identity: expired; the shop's page must sign a fresh one"));
    }
    Ok(customer_id)
}

/// The signature header value for a webhook body (what the shop's server sends).
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    format!("t={timestamp},v1={}", hex::encode(m.finalize().into_bytes()))
}

/// Checks a webhook's signature header against its body at `now`, under any of `secrets` (the current one and
/// the previous one during a rotation).
pub fn verify_webhook(
    header: Option<&str>,
    secrets: &[Vec<u8>],
    body: &[u8],
    now: i64,
    skew: i64,
) -> Result<(), ApiError> {
    let header =
        header.ok_or_else(|| ApiError::unauthorized(format!("the {SIGNATURE_HEADER} header is missing")))?;
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => signature = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(ApiError::unauthorized(format!("{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex>")));
    };
    // Check every secret (no early exit) so timing does not tell which one matched.
    let mut valid = subtle::Choice::from(0);
    for secret in secrets {
        let mut m = mac(secret);
        m.update(timestamp.to_string().as_bytes());
        m.update(b".");
        m.update(body);
        valid |= m.finalize().into_bytes().as_slice().ct_eq(&signature);
    }
    if !bool::from(valid) {
        return Err(ApiError::unauthorized("the webhook signature does not match"));
    }
    // Saturating: a signed timestamp at the ends of i64 would overflow the difference.
    if now.saturating_sub(timestamp).saturating_abs() > skew {
        return Err(ApiError::unauthorized("the webhook signature is too old or from the future"));
    }
    Ok(())
}

/// Whether a customer id is one the server accepts anywhere (identities, webhooks): 1 to 128 bytes, no newline
/// (the newline separates the parts of what a digest signs, and of the admin's idempotency scope).
pub fn is_customer_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && !id.contains('\n')
}

/// Checks an admin bearer key in constant time against each of `keys` (the current one and the previous one
/// during a rotation). The digests are compared, not the keys: comparing slices of different lengths returns at
/// once, which would tell a key's length.
pub fn verify_admin(header: Option<&str>, keys: &[String]) -> Result<(), ApiError> {
    use sha2::Digest;
    let given = sha2::Sha256::digest(header.and_then(|h| h.strip_prefix("Bearer ")).unwrap_or(""));
    let mut valid = subtle::Choice::from(0);
    for key in keys {
        valid |= given.ct_eq(&sha2::Sha256::digest(key));
    }
    if bool::from(valid) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("the admin API needs Authorization: Bearer <admin key>"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;
    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OLD: &[u8] = b"fedcba9876543210fedcba9876543210";

    fn check(header: &str, now: i64) -> Result<String, String> {
        let secrets = [SECRET.to_vec(), OLD.to_vec()];
        let rules = IdentityRules { shop_id: "tea", secrets: &secrets, max_age: 3600, skew: 300 };
        verify_shopper(header, &rules, now).map_err(|e| e.message)
    }

    #[test]
    fn shopper_identities() {
        let ok = shopper_header(SECRET, "tea", "cust.42:会员", NOW);
        assert_eq!(check(&ok, NOW), Ok("cust.42:会员".to_owned()));
        assert_eq!(
            check(&shopper_header(OLD, "tea", "c1", NOW), NOW),
            Ok("c1".to_owned()),
            "previous secret"
        );
        assert_eq!(check(&ok, NOW + 3600 + 300), Ok("cust.42:会员".to_owned()), "at the edge of the window");
        assert_eq!(
            check(&ok, NOW + 3901).unwrap_err(),
            "identity: expired; the shop's page must sign a fresh one"
        );
        assert_eq!(check(&ok, NOW - 301).unwrap_err(), "identity: the timestamp is in the future");
        let other_shop = shopper_header(SECRET, "coffee", "c1", NOW);
        assert_eq!(check(&other_shop, NOW).unwrap_err(), "identity: the digest does not match");
        let forged = shopper_header(b"not the secret not the secret!!!", "tea", "c1", NOW);
        assert_eq!(check(&forged, NOW).unwrap_err(), "identity: the digest does not match");
        // Another customer's digest on this customer's id.
        let theirs = shopper_header(SECRET, "tea", "c2", NOW);
        let (_, rest) = theirs.rsplit_once(' ').unwrap();
        let digest = rest.rsplit('.').next().unwrap();
        let swapped = format!(
            "{SHOPPER_SCHEME} {}.{NOW}.{digest}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("c1")
        );
        assert_eq!(check(&swapped, NOW).unwrap_err(), "identity: the digest does not match");
        assert!(check("Bearer x", NOW).unwrap_err().contains("scheme"));
        assert!(check("LoyaltyShopper a.b", NOW).unwrap_err().contains("<base64url id>"));
        assert!(check("LoyaltyShopper YQ.now.00", NOW).unwrap_err().contains("timestamp"));
        assert!(check("LoyaltyShopper YQ.1.00", NOW).unwrap_err().contains("64 hex digits"));
    }

    #[test]
    fn webhook_signatures() {
        let body = br#"{"id":"e1"}"#;
        let header = webhook_signature(SECRET, NOW, body);
        assert!(verify_webhook(Some(&header), &[SECRET.to_vec()], body, NOW + 10, 300).is_ok());
        assert!(
            verify_webhook(Some(&header), &[SECRET.to_vec()], b"{\"id\":\"e2\"}", NOW, 300).is_err(),
            "body changed"
        );
        assert!(verify_webhook(Some(&header), &[OLD.to_vec()], body, NOW, 300).is_err(), "other secret");
        assert!(verify_webhook(Some(&header), &[SECRET.to_vec()], body, NOW + 301, 300).is_err(), "too old");
        assert!(verify_webhook(None, &[SECRET.to_vec()], body, NOW, 300).is_err());
        assert!(verify_webhook(Some("t=1"), &[SECRET.to_vec()], body, NOW, 300).is_err());
        // Signed but at the ends of i64: refused as too old or from the future, never an overflow.
        for t in [i64::MIN, i64::MAX] {
            let header = webhook_signature(SECRET, t, body);
            assert!(verify_webhook(Some(&header), &[SECRET.to_vec()], body, NOW, 300).is_err(), "{t}");
            let secrets = [SECRET.to_vec()];
            let rules = IdentityRules { shop_id: "tea", secrets: &secrets, max_age: 3600, skew: 300 };
            assert!(verify_shopper(&shopper_header(SECRET, "tea", "c1", t), &rules, NOW).is_err(), "{t}");
        }
        // During a rotation either secret signs.
        let both = [SECRET.to_vec(), OLD.to_vec()];
        let old = webhook_signature(OLD, NOW, body);
        assert!(verify_webhook(Some(&old), &both, body, NOW, 300).is_ok(), "previous secret");
        assert!(verify_webhook(Some(&header), &both, body, NOW, 300).is_ok(), "current secret");
        let keys = ["k".to_owned()];
        assert!(verify_admin(Some("Bearer k"), &keys).is_ok());
        assert!(verify_admin(Some("Bearer kk"), &keys).is_err());
        assert!(verify_admin(None, &keys).is_err());
        let rotating = ["k".to_owned(), "old".to_owned()];
        assert!(verify_admin(Some("Bearer old"), &rotating).is_ok(), "previous key");
        assert!(verify_admin(Some("Bearer ol"), &rotating).is_err());
    }
}
