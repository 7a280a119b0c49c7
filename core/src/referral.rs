//! Referrals: the code a shopper shares, the link that carries it, what each share channel opens, and when a
//! friend's order rewards the referrer and the friend.
//!
//! A code is 8 characters from an alphabet without look-alikes (no 0/O, no 1/I/L); the last is a check
//! character, so a mistyped or tampered code is refused before any request is made. The alphabet has 31
//! characters, a prime, and the check makes the weighted sum `Σ (i + 1) · value(cᵢ)` a multiple of 31: a
//! change of one character alters the sum by `(i + 1) · δ` and a swap of two neighbours by `±δ`, neither of
//! which 31 divides, so both are always detected.
//!
//! Links go only to the shop: the program's landing page (or another page of the same origin), never to
//! another origin and never to a `javascript:` or `data:` URL, so a referral link cannot become an open
//! redirect.

use crate::problems::{check_range, Checker};
use crate::program::{check_text, LocalizedText, Program};
use crate::time::{Timestamp, DAY};
use serde::Serialize;
use std::fmt;

/// The characters of a referral code, in the order of their values.
pub const CODE_ALPHABET: &str = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Characters in a referral code, the check character included.
pub const CODE_LENGTH: usize = 8;

const RADIX: u32 = 31;
/// The multiplicative inverse of the check character's weight (8) modulo 31: 8 · 4 = 32 ≡ 1.
const INVERSE_OF_LAST_WEIGHT: u32 = 4;

/// A referral code whose check character matches: parse one with [`ReferralCode::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferralCode(String);

impl ReferralCode {
    /// Reads a code as a shopper may type it: case does not matter, and spaces and hyphens are ignored.
    ///
    /// ```
    /// use loyalty_core::ReferralCode;
    /// let code = ReferralCode::from_random(123_456_789);
    /// assert_eq!(ReferralCode::parse(&code.as_str().to_lowercase()), Ok(code.clone()));
    /// let mut typo = code.as_str().to_owned();
    /// typo.replace_range(0..1, if typo.starts_with('2') { "3" } else { "2" });
    /// assert!(ReferralCode::parse(&typo).is_err());
    /// ```
    pub fn parse(text: &str) -> Result<ReferralCode, String> {
        let mut values = Vec::with_capacity(CODE_LENGTH);
        for ch in text.chars().filter(|ch| !matches!(ch, ' ' | '-')) {
            let upper = ch.to_ascii_uppercase();
            match value_of(upper) {
                Some(value) => values.push(value),
                None if matches!(upper, '0' | 'O' | '1' | 'I' | 'L') => {
                    return Err(format!(
                        "has \"{ch}\", which referral codes never use (they avoid 0/O and 1/I/L)"
                    ))
                }
                None => return Err(format!("has \"{}\", which is not a referral code character", shown(ch))),
            }
            if values.len() > CODE_LENGTH {
                break;
            }
        }
        if values.len() != CODE_LENGTH {
            return Err(format!("must be {CODE_LENGTH} characters long, such as \"7KQ2M9XJ\""));
        }
        if weighted_sum(&values) % RADIX != 0 {
            return Err("is not a valid referral code (a character was mistyped or changed)".to_owned());
        }
        Ok(ReferralCode(values.iter().map(|v| char_of(*v)).collect()))
    }

    /// A new code from a random number (randomness is passed in): 7 random characters and the check.
    pub fn from_random(random: u64) -> ReferralCode {
        let mut values = Vec::with_capacity(CODE_LENGTH);
        let mut rest = random;
        for _ in 0..CODE_LENGTH - 1 {
            values.push((rest % u64::from(RADIX)) as u32);
            rest /= u64::from(RADIX);
        }
        let partial = weighted_sum(&values) % RADIX;
        values.push((RADIX - partial) % RADIX * INVERSE_OF_LAST_WEIGHT % RADIX);
        ReferralCode(values.iter().map(|v| char_of(*v)).collect())
    }

    /// The code as friends see it: 8 upper-case characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A character as an error message shows it: control characters by code point (no Unicode tables linked,
/// as `escape_debug` would).
fn shown(ch: char) -> String {
    if ch.is_control() {
        format!("U+{:04X}", u32::from(ch))
    } else {
        ch.to_string()
    }
}

fn value_of(ch: char) -> Option<u32> {
    CODE_ALPHABET.find(ch).map(|i| i as u32)
}

fn char_of(value: u32) -> char {
    char::from(CODE_ALPHABET.as_bytes()[value as usize])
}

fn weighted_sum(values: &[u32]) -> u32 {
    values.iter().zip(1..).map(|(v, weight)| v * weight).sum()
}

wire_struct! {
    strict;
    /// The program's referral terms: where links go, what sharing says, and what a friend's first order pays.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ReferralTerms {
        /// The page friends land on: an absolute `https://` URL of the shop, or a path such as `"/"` on the
        /// origin of the page the widget runs in.
        pub landing_url: String,
        /// The query parameter that carries the code (default `ref`).
        pub param: String = "ref".to_owned(),
        /// `utm_campaign` of every link (default `referral`).
        pub campaign: String = "referral".to_owned(),
        /// Points for the referrer when a friend's first order qualifies.
        pub referrer_points: i64,
        /// Points for the friend on that order, on top of what it earns (default 0).
        pub friend_points: i64 = 0,
        /// The smallest qualifying spend of that first order, base currency minor units (default 1).
        pub minimum_order: i64 = 1,
        /// A refund within this many days of payment that takes the order below the minimum reverses both
        /// rewards (default 30).
        pub return_window_days: u32 = 30,
        /// How long a landing keeps its attribution in the browser, first touch wins (default 30 days).
        pub attribution_days: u32 = 30,
        /// At most this many rewarded referrals per referrer in any `capDays` days (0: no cap).
        pub cap_rewards: u32 = 0,
        /// The period of the cap, in days (default 30).
        pub cap_days: u32 = 30,
        /// The message that goes with the link, per locale.
        pub message: LocalizedText,
        /// The e-mail subject, per locale (default: the program's name).
        pub email_subject: Option<LocalizedText>,
        /// Error correction of the QR code (default `medium`).
        pub qr_level: QrLevel = QrLevel::Medium,
    }
}

wire_enum! {
    /// How much of a QR code may be damaged or hidden and still read: about 7%, 15%, 25% or 30%.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum QrLevel {
        /// About 7%: the smallest code.
        Low,
        /// About 15% (the default).
        #[default]
        Medium,
        /// About 25%.
        Quartile,
        /// About 30%: for a printed code at the counter.
        High,
    }
}

impl ReferralTerms {
    pub(crate) fn check(&self, c: &mut Checker, locales: &[String]) {
        if self.landing_url.starts_with('/') {
            if let Err(message) = check_path(&self.landing_url) {
                c.fail_at("landingUrl", message);
            }
        } else if let Err(message) = ShopUrl::parse(&self.landing_url) {
            c.fail_at(
                "landingUrl",
                format!("must be an https:// URL of the shop or a path such as \"/\": {message}"),
            );
        }
        let name_ok = !self.param.is_empty()
            && self.param.len() <= 32
            && self.param.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        c.require("param", name_ok, || {
            format!(
                "must be 1 to 32 letters, digits, '_' or '-', got \"{}\"",
                self.param.chars().map(shown).collect::<String>()
            )
        });
        c.require("campaign", !self.campaign.trim().is_empty() && self.campaign.len() <= 100, || {
            "must be 1 to 100 bytes".to_owned()
        });
        check_range(c, "referrerPoints", self.referrer_points, 0, 1_000_000);
        check_range(c, "friendPoints", self.friend_points, 0, 1_000_000);
        check_range(c, "minimumOrder", self.minimum_order, 1, crate::MAX_AMOUNT);
        check_range(c, "returnWindowDays", i64::from(self.return_window_days), 0, 366);
        check_range(c, "attributionDays", i64::from(self.attribution_days), 1, 366);
        check_range(c, "capRewards", i64::from(self.cap_rewards), 0, 100_000);
        check_range(c, "capDays", i64::from(self.cap_days), 1, 366);
        c.field("message", |c| check_text(c, locales, &self.message));
        if let Some(subject) = &self.email_subject {
            c.field("emailSubject", |c| check_text(c, locales, subject));
        }
    }
}

/// An absolute http(s) URL, split into the parts links are built from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ShopUrl {
    /// `https://shop.example` (scheme and authority, lower-case host).
    origin: String,
    /// Starts with `/`.
    path: String,
    /// Without the `?`; may be empty.
    query: String,
    /// Without the `#`; may be empty.
    fragment: String,
}

impl ShopUrl {
    fn parse(url: &str) -> Result<ShopUrl, String> {
        if url.chars().any(|ch| ch.is_control() || ch == '\\' || ch == ' ') {
            return Err("has a space, backslash or control character".to_owned());
        }
        // Split at the first ':' rather than searching for "://": the same URLs pass, and a substring search
        // links a 1.5 KB searcher into the widget's wasm.
        let (scheme, rest) = url.split_once(':').ok_or("has no scheme")?;
        let rest = rest.strip_prefix("//").ok_or("has no scheme")?;
        let scheme = scheme.to_ascii_lowercase();
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return Err("must name a host and no user name or password".to_owned());
        }
        let host = authority.to_ascii_lowercase();
        // The host without its port, compared whole: `http://localhost.evil.example` is not local.
        let name = match host.rsplit_once(':') {
            Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host.as_str(),
        };
        let local = matches!(name, "localhost" | "127.0.0.1" | "[::1]");
        match scheme.as_str() {
            "https" => {}
            "http" if local => {}
            _ => return Err(format!("must use https (http only on localhost), got \"{scheme}:\"")),
        }
        let (before_fragment, fragment) = tail.split_once('#').unwrap_or((tail, ""));
        let (path, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
        let path = if path.is_empty() { "/" } else { path };
        Ok(ShopUrl {
            origin: format!("{scheme}://{host}"),
            path: path.to_owned(),
            query: query.to_owned(),
            fragment: fragment.to_owned(),
        })
    }

    /// A page of the same origin: a path such as `/tea/longjing?x=1`.
    fn with_page(&self, page: &str) -> Result<ShopUrl, String> {
        check_path(page)?;
        let (before_fragment, fragment) = page.split_once('#').unwrap_or((page, ""));
        let (path, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
        Ok(ShopUrl {
            origin: self.origin.clone(),
            path: path.to_owned(),
            query: query.to_owned(),
            fragment: fragment.to_owned(),
        })
    }
}

/// A path on the shop's own origin: starts with one `/` (`//host` would name another origin).
fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(format!(
            "must be a path on the shop's origin starting with one \"/\", got \"{}\"",
            path.chars().map(shown).collect::<String>()
        ));
    }
    if path.chars().any(|ch| ch.is_control() || ch == '\\') {
        return Err("must not contain a backslash or control character".to_owned());
    }
    Ok(())
}

wire_enum! {
    /// Where a referral link is shared; each has its own `utm_source`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum ShareChannel {
        /// Copied to the clipboard.
        Copy,
        /// The device's share sheet (Web Share API).
        Native,
        /// An e-mail (`mailto:`).
        Email,
        /// WhatsApp.
        Whatsapp,
        /// X (Twitter).
        X,
        /// Facebook.
        Facebook,
        /// LINE.
        Line,
        /// Weibo.
        Weibo,
        /// WeChat, through the QR code (WeChat has no share URL for the web).
        Wechat,
    }
}

impl ShareChannel {
    /// Every channel, in the order a card offers them.
    pub const ALL: [ShareChannel; 9] = [
        ShareChannel::Copy,
        ShareChannel::Native,
        ShareChannel::Email,
        ShareChannel::Whatsapp,
        ShareChannel::X,
        ShareChannel::Facebook,
        ShareChannel::Line,
        ShareChannel::Weibo,
        ShareChannel::Wechat,
    ];

    /// The `utm_source` of links shared here.
    pub fn source(self) -> &'static str {
        match self {
            ShareChannel::Copy => "copy",
            ShareChannel::Native => "share",
            ShareChannel::Email => "email",
            ShareChannel::Whatsapp => "whatsapp",
            ShareChannel::X => "x",
            ShareChannel::Facebook => "facebook",
            ShareChannel::Line => "line",
            ShareChannel::Weibo => "weibo",
            ShareChannel::Wechat => "wechat",
        }
    }
}

/// The shopper's referral link for `channel`: the program's landing page (or `page`, a path on the same
/// origin), with the code and the UTM parameters added and the page's own query parameters kept.
/// `page_origin` is the origin of the page the widget runs in, used when the landing page is a path.
///
/// ```
/// use loyalty_core::{referral_link, ReferralCode, ShareChannel};
/// # let program = loyalty_core::Program::from_json(r#"{"version": 1, "currency": "CNY", "locales": ["en"],
/// #   "name": {"en": "Club"}, "earn": {"rate": {"points": 1, "perAmount": 100}},
/// #   "referral": {"landingUrl": "https://shop.example/welcome?lang=en", "referrerPoints": 500,
/// #                "message": {"en": "Try this shop"}}}"#).unwrap();
/// let code = ReferralCode::parse("22222222").unwrap();
/// let terms = program.config().referral.as_ref().unwrap();
/// assert_eq!(
///     referral_link(terms, "https://shop.example", &code, ShareChannel::Email, None).unwrap(),
///     "https://shop.example/welcome?lang=en&ref=22222222&utm_source=email&utm_medium=referral&utm_campaign=referral"
/// );
/// assert!(referral_link(terms, "https://shop.example", &code, ShareChannel::Copy, Some("//evil.example/")).is_err());
/// ```
pub fn referral_link(
    terms: &ReferralTerms,
    page_origin: &str,
    code: &ReferralCode,
    channel: ShareChannel,
    page: Option<&str>,
) -> Result<String, String> {
    let landing = if terms.landing_url.starts_with('/') {
        let origin = ShopUrl::parse(page_origin).map_err(|m| format!("page origin: {m}"))?;
        origin.with_page(&terms.landing_url)?
    } else {
        ShopUrl::parse(&terms.landing_url)?
    };
    let url = match page {
        None => landing,
        Some(page) if page.starts_with('/') => landing.with_page(page)?,
        Some(page) => {
            let other = ShopUrl::parse(page)?;
            if other.origin != landing.origin {
                return Err(format!("links may only go to {}, not {}", landing.origin, other.origin));
            }
            other
        }
    };
    let ours = [terms.param.as_str(), "utm_source", "utm_medium", "utm_campaign"];
    let mut query: Vec<String> = url
        .query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            !ours.contains(&name)
        })
        .map(|pair| encode(pair, QUERY_KEEP))
        .collect();
    for (name, value) in [
        (terms.param.as_str(), code.as_str()),
        ("utm_source", channel.source()),
        ("utm_medium", "referral"),
        ("utm_campaign", terms.campaign.as_str()),
    ] {
        query.push(format!("{}={}", encode(name, COMPONENT_KEEP), encode(value, COMPONENT_KEEP)));
    }
    let mut link = format!("{}{}?{}", url.origin, encode(&url.path, PATH_KEEP), query.join("&"));
    if !url.fragment.is_empty() {
        link.push('#');
        link.push_str(&encode(&url.fragment, QUERY_KEEP));
    }
    Ok(link)
}

/// Characters kept as they are in a path (others, and every non-ASCII byte, are percent-encoded; `%` is kept
/// so a path already encoded is not encoded twice).
const PATH_KEEP: &str = "-._~!$&'()*+,;=:@/%";
/// Characters kept in a query or fragment taken from the shop's own URL.
const QUERY_KEEP: &str = "-._~!$&'()*+,;=:@/?%";
/// Characters kept in a query value we write (RFC 3986 unreserved only).
const COMPONENT_KEEP: &str = "-._~";

/// Percent-encodes `text` as UTF-8, keeping ASCII letters, digits and `keep`.
pub(crate) fn encode(text: &str, keep: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || (byte.is_ascii() && keep.as_bytes().contains(&byte)) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 15)]));
        }
    }
    out
}

/// What sharing on one channel does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareIntent {
    /// The channel.
    pub channel: ShareChannel,
    /// The referral link, with this channel's `utm_source`.
    pub link: String,
    /// The program's message in the shopper's locale.
    pub text: String,
    /// The e-mail subject (for e-mail and the Web Share API's title).
    pub title: String,
    /// The URL that opens the channel's share page, for channels that have one (not copy, the share sheet
    /// or WeChat, which uses the QR code).
    pub url: Option<String>,
}

/// The share intent for `channel` in `locale` (the program's fallback locale when it has no such texts),
/// linking to the landing page or to `page` on the same origin (see [`referral_link`]).
pub fn share_intent(
    program: &Program,
    locale: &str,
    page_origin: &str,
    code: &ReferralCode,
    channel: ShareChannel,
    page: Option<&str>,
) -> Result<ShareIntent, String> {
    let config = program.config();
    let terms = config.referral.as_ref().ok_or("the program has no referral terms")?;
    let link = referral_link(terms, page_origin, code, channel, page)?;
    let text = localized(&terms.message, locale, &config.locales);
    let title = localized(terms.email_subject.as_ref().unwrap_or(&config.name), locale, &config.locales);
    let q = |s: &str| encode(s, COMPONENT_KEEP);
    let url = match channel {
        ShareChannel::Copy | ShareChannel::Native | ShareChannel::Wechat => None,
        ShareChannel::Email => {
            Some(format!("mailto:?subject={}&body={}", q(&title), q(&format!("{text}\n\n{link}"))))
        }
        ShareChannel::Whatsapp => Some(format!("https://wa.me/?text={}", q(&format!("{text} {link}")))),
        ShareChannel::X => Some(format!("https://x.com/intent/tweet?text={}&url={}", q(&text), q(&link))),
        ShareChannel::Facebook => Some(format!("https://www.facebook.com/sharer/sharer.php?u={}", q(&link))),
        ShareChannel::Line => {
            Some(format!("https://social-plugins.line.me/lineit/share?url={}&text={}", q(&link), q(&text)))
        }
        ShareChannel::Weibo => {
            Some(format!("https://service.weibo.com/share/share.php?url={}&title={}", q(&link), q(&text)))
        }
    };
    Ok(ShareIntent { channel, link, text, title, url })
}

/// The text for `locale`, else one in the same language (`zh` finds `zh-CN`), else the first of the
/// program's locales (validation made sure it exists).
pub(crate) fn localized(text: &LocalizedText, locale: &str, locales: &[String]) -> String {
    let language = |tag: &str| tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    text.get(locale)
        .or_else(|| text.iter().find(|(k, _)| language(k) == language(locale)).map(|(_, v)| v))
        .or_else(|| locales.first().and_then(|first| text.get(first)))
        .or_else(|| text.values().next())
        .cloned()
        .unwrap_or_default()
}

/// The code a landing page's query string carries, if any: `Some(Err)` for a code that fails the check (a
/// tampered or mistyped link), which is refused before any request.
pub fn landing_code(terms: &ReferralTerms, query: &str) -> Option<Result<ReferralCode, String>> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let value = query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == terms.param).then_some(value)
    })?;
    Some(ReferralCode::parse(&decode(value)))
}

/// Decodes `%XX` escapes and `+` (a space in a query); invalid escapes are kept as they are.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the rules know about a referred friend's paid order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferredOrder {
    /// True for the friend's first paid order.
    pub first_order: bool,
    /// The order's qualifying spend, base currency minor units.
    pub spend: i64,
    /// True when the friend and the referrer are the same person by e-mail ([`same_person`]).
    pub same_person: bool,
    /// The referrer's rewarded referrals within the cap's period before this one.
    pub referrer_rewards_in_period: u32,
}

wire_enum! {
    /// Why a referral earned nothing, or why the referrer's share was withheld.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum ReferralRefusal {
        /// Only the friend's first paid order counts.
        NotFirstOrder,
        /// The order's qualifying spend is under the program's minimum.
        BelowMinimum,
        /// The friend and the referrer are the same person.
        SelfReferral,
        /// The referrer reached the cap for the period; the friend is still rewarded.
        CapReached,
    }
}

/// What a referred friend's paid order gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferralReward {
    /// Points for the referrer.
    pub referrer_points: i64,
    /// Points for the friend.
    pub friend_points: i64,
    /// Why something was withheld, if it was.
    pub refusal: Option<ReferralRefusal>,
}

impl ReferralReward {
    /// Whether this order settles the referral for good (rewarded, capped or refused as a self-referral), so no
    /// later order of the friend counts. An order under the minimum, or one after the settling order, leaves
    /// the referral as it was.
    pub fn settles(&self) -> bool {
        !matches!(self.refusal, Some(ReferralRefusal::NotFirstOrder | ReferralRefusal::BelowMinimum))
    }
}

/// The rewards a referred friend's paid order earns under the program's terms (none without terms).
pub fn referral_reward(program: &Program, order: &ReferredOrder) -> ReferralReward {
    let nothing = |refusal| ReferralReward { referrer_points: 0, friend_points: 0, refusal: Some(refusal) };
    let Some(terms) = &program.config().referral else {
        return ReferralReward { referrer_points: 0, friend_points: 0, refusal: None };
    };
    if order.same_person {
        return nothing(ReferralRefusal::SelfReferral);
    }
    if !order.first_order {
        return nothing(ReferralRefusal::NotFirstOrder);
    }
    if order.spend < terms.minimum_order {
        return nothing(ReferralRefusal::BelowMinimum);
    }
    if terms.cap_rewards > 0 && order.referrer_rewards_in_period >= terms.cap_rewards {
        return ReferralReward {
            referrer_points: 0,
            friend_points: terms.friend_points,
            refusal: Some(ReferralRefusal::CapReached),
        };
    }
    ReferralReward {
        referrer_points: terms.referrer_points,
        friend_points: terms.friend_points,
        refusal: None,
    }
}

/// The start of the cap's period ending at `now`: rewards at or after it count toward the cap.
pub fn referral_cap_since(program: &Program, now: Timestamp) -> Timestamp {
    let days = program.config().referral.as_ref().map_or(30, |t| t.cap_days);
    now - i64::from(days) * DAY
}

/// True when a refund at `now` of a referred order paid at `paid_at` reverses the referral rewards: it falls
/// within the return window and leaves less than the minimum qualifying spend.
pub fn referral_reversed(program: &Program, paid_at: Timestamp, now: Timestamp, spend_left: i64) -> bool {
    program.config().referral.as_ref().is_some_and(|terms| {
        now - paid_at <= i64::from(terms.return_window_days) * DAY && spend_left < terms.minimum_order
    })
}

/// True when a refund at `now` reverses the referral rewards of an order paid at `paid_at`: by the terms of
/// `paid_under`, the program in effect at the payment ([`referral_reversed`]), and only while the reward is still
/// pending by `current`, the program in effect now ([`referral_available_at`], which decides when the reward
/// can be spent). So a program that shortens the return window since cannot leave a reward spendable by one
/// version and reversible by the other: once it can be spent, a refund no longer takes it back.
pub fn referral_refund_reverses(
    paid_under: &Program,
    current: &Program,
    paid_at: Timestamp,
    now: Timestamp,
    spend_left: i64,
) -> bool {
    referral_reversed(paid_under, paid_at, now, spend_left) && now < referral_available_at(current, paid_at)
}

/// When a referral reward earned at `at` (the friend's order's payment) can be spent: after `pendingDays`, and
/// in any case not before the return window has closed, since until then a refund takes the reward back
/// ([`referral_reversed`] counts the window's last second in). Spent before that, a reversed reward could only
/// become a negative balance, which a referrer who never orders again need never pay back. Without referral
/// terms in the program (they were removed since), the terms' default window of 30 days.
pub fn referral_available_at(program: &Program, at: Timestamp) -> Timestamp {
    let window = program.config().referral.as_ref().map_or(30, |terms| terms.return_window_days);
    let pending_until = at + i64::from(program.lifecycle.pending_days) * DAY;
    pending_until.max(at + i64::from(window) * DAY + 1)
}

/// Whether a landing's code may be attributed, at `now`, to an account the shop made at `account_made_at`:
/// only to an account made at most `attributionDays` before. A landing counts for `attributionDays` (the
/// widget forgets it then), so the capture comes at most that long after the landing, and an account made
/// since counts as new, which an old account without orders does not. The server does not know the landing's
/// time (a client could claim any), so it measures from the capture: an account made a little before the
/// landing may be refused, never an old one accepted. An account whose creation time the shop never reported
/// is not known to be new, and is refused.
pub fn referral_capture_allowed(
    program: &Program,
    account_made_at: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    let days = program.config().referral.as_ref().map_or(30, |terms| terms.attribution_days);
    account_made_at.is_some_and(|made| now.saturating_sub(made) <= i64::from(days) * DAY)
}

/// True when two e-mail addresses reach the same mailbox as far as a shop can tell: case, surrounding
/// spaces and a `+tag` are ignored, and so are dots in a Gmail address.
pub fn same_person(a: &str, b: &str) -> bool {
    match (mailbox(a), mailbox(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn mailbox(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    let local = local.split('+').next().unwrap_or(local);
    let local = if matches!(domain, "gmail.com" | "googlemail.com") {
        local.replace('.', "")
    } else {
        local.to_owned()
    };
    let domain = if domain == "googlemail.com" { "gmail.com" } else { domain };
    (!local.is_empty() && !domain.is_empty()).then(|| format!("{local}@{domain}"))
}
