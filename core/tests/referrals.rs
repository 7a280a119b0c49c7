//! Referral rules at the crate's boundary: codes (with property tests of the check character), links, share
//! intents, landing capture and what a friend's order pays.

use loyalty_core::{
    balance, landing_code, referral_available_at, referral_capture_allowed, referral_link, referral_reversed,
    referral_reward, same_person, share_intent, EarnSource, LedgerEntry, LedgerKind, Program, ReferralCode,
    ReferralRefusal, ReferralReward, ReferredOrder, ShareChannel, CODE_ALPHABET, CODE_LENGTH,
};
use proptest::prelude::*;

fn program(referral: &str) -> Program {
    let json = format!(
        r#"{{"version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
            "name": {{"zh-CN": "会员俱乐部", "en": "Members club"}},
            "earn": {{"rate": {{"points": 1, "perAmount": 100}}}},
            "referral": {referral}}}"#
    );
    Program::from_json(&json).unwrap_or_else(|p| panic!("{p}"))
}

const TERMS: &str = r#"{"landingUrl": "https://shop.example/welcome?lang=en#top", "referrerPoints": 500,
    "friendPoints": 100, "minimumOrder": 5000, "returnWindowDays": 30, "capRewards": 2, "capDays": 30,
    "message": {"zh-CN": "来山茶与豆，首单得 100 积分", "en": "Join me at Camellia & Bean: 100 points on your first order"},
    "emailSubject": {"zh-CN": "送你 100 积分", "en": "100 points for you"}}"#;

fn code() -> ReferralCode {
    ReferralCode::from_random(987_654_321)
}

#[test]
fn codes_read_as_shoppers_type_them() {
    let c = code();
    let s = c.as_str();
    assert_eq!(s.len(), CODE_LENGTH);
    assert!(s.chars().all(|ch| CODE_ALPHABET.contains(ch)), "{s}");
    let spaced = format!(" {}-{} ", &s[..4].to_lowercase(), &s[4..]);
    assert_eq!(ReferralCode::parse(&spaced), Ok(c.clone()));
    let check = |input: &str, message: &str| {
        assert_eq!(ReferralCode::parse(input), Err(message.to_owned()), "{input}");
    };
    check("", "must be 8 characters long, such as \"7KQ2M9XJ\"");
    check(&s[..7], "must be 8 characters long, such as \"7KQ2M9XJ\"");
    check(&format!("{s}2"), "must be 8 characters long, such as \"7KQ2M9XJ\"");
    check("2222222O", "has \"O\", which referral codes never use (they avoid 0/O and 1/I/L)");
    check("2222222l", "has \"l\", which referral codes never use (they avoid 0/O and 1/I/L)");
    check("222222<2", "has \"<\", which is not a referral code character");
    check("2222222茶", "has \"茶\", which is not a referral code character");
    check("22222223", "is not a valid referral code (a character was mistyped or changed)");
    // The all-"2" code has value 0 everywhere, so its check character is "2" as well.
    assert_eq!(ReferralCode::parse("22222222").map(|c| c.to_string()), Ok("22222222".to_owned()));
}

proptest! {
    #[test]
    fn every_generated_code_parses_back(random in any::<u64>()) {
        let c = ReferralCode::from_random(random);
        prop_assert_eq!(ReferralCode::parse(c.as_str()), Ok(c.clone()));
    }

    #[test]
    fn every_single_character_change_is_detected(random in any::<u64>(), at in 0..CODE_LENGTH, by in 1..31usize) {
        let c = ReferralCode::from_random(random);
        let alphabet: Vec<char> = CODE_ALPHABET.chars().collect();
        let mut chars: Vec<char> = c.as_str().chars().collect();
        let i = alphabet.iter().position(|a| *a == chars[at]).unwrap();
        chars[at] = alphabet[(i + by) % alphabet.len()];
        let changed: String = chars.into_iter().collect();
        prop_assert!(ReferralCode::parse(&changed).is_err(), "{} -> {} was accepted", c, changed);
    }

    #[test]
    fn every_adjacent_swap_is_detected(random in any::<u64>(), at in 0..CODE_LENGTH - 1) {
        let c = ReferralCode::from_random(random);
        let mut chars: Vec<char> = c.as_str().chars().collect();
        prop_assume!(chars[at] != chars[at + 1]);
        chars.swap(at, at + 1);
        let swapped: String = chars.into_iter().collect();
        prop_assert!(ReferralCode::parse(&swapped).is_err(), "{} -> {} was accepted", c, swapped);
    }
}

#[test]
fn links_go_to_the_shop_with_the_code_and_utm_parameters() {
    let p = program(TERMS);
    let terms = p.config().referral.as_ref().unwrap();
    let c = ReferralCode::parse("22222222").unwrap();
    let check = |page: Option<&str>, channel: ShareChannel, expected: Result<&str, &str>| {
        let got = referral_link(terms, "https://ignored.example", &c, channel, page);
        assert_eq!(got.as_deref().map_err(|e| e.as_str()), expected, "{page:?}");
    };
    let utm = "ref=22222222&utm_source=wechat&utm_medium=referral&utm_campaign=referral";
    check(None, ShareChannel::Wechat, Ok(&format!("https://shop.example/welcome?lang=en&{utm}#top")));
    // Another page of the shop, its query kept and our parameters replaced rather than repeated.
    check(
        Some("/tea/longjing?ref=XXXX&utm_source=old&colour=green"),
        ShareChannel::Wechat,
        Ok(&format!("https://shop.example/tea/longjing?colour=green&{utm}")),
    );
    // Non-ASCII paths and fragments are percent-encoded as UTF-8; an encoded path is not encoded twice.
    check(
        Some("/茶/龙井#评价"),
        ShareChannel::Wechat,
        Ok(&format!("https://shop.example/%E8%8C%B6/%E9%BE%99%E4%BA%95?{utm}#%E8%AF%84%E4%BB%B7")),
    );
    check(Some("/%E8%8C%B6"), ShareChannel::Wechat, Ok(&format!("https://shop.example/%E8%8C%B6?{utm}")));
    check(
        Some("https://SHOP.example/a"),
        ShareChannel::X,
        Ok("https://shop.example/a?ref=22222222&utm_source=x&utm_medium=referral&utm_campaign=referral"),
    );
    // No open redirect: other origins, scheme-relative URLs, scripts and data are refused.
    check(
        Some("https://evil.example/"),
        ShareChannel::Copy,
        Err("links may only go to https://shop.example, not https://evil.example"),
    );
    check(
        Some("//evil.example/"),
        ShareChannel::Copy,
        Err("must be a path on the shop's origin starting with one \"/\", got \"//evil.example/\""),
    );
    check(Some("javascript:alert(1)"), ShareChannel::Copy, Err("has no scheme"));
    check(Some("data:text/html,<script>"), ShareChannel::Copy, Err("has no scheme"));
    check(
        Some("/\\evil.example"),
        ShareChannel::Copy,
        Err("must not contain a backslash or control character"),
    );
    check(
        Some("https://shop.example@evil.example/"),
        ShareChannel::Copy,
        Err("must name a host and no user name or password"),
    );
    check(
        Some("http://shop.example/"),
        ShareChannel::Copy,
        Err("must use https (http only on localhost), got \"http:\""),
    );
    // Local means the host itself, not a name that starts like it.
    for lookalike in
        ["http://localhost.evil.example/", "http://127.0.0.1.evil.example/", "http://[::1]x.example/"]
    {
        check(
            Some(lookalike),
            ShareChannel::Copy,
            Err("must use https (http only on localhost), got \"http:\""),
        );
    }
}

#[test]
fn a_landing_path_uses_the_page_origin() {
    let p = program(&TERMS.replace("https://shop.example/welcome?lang=en#top", "/"));
    let terms = p.config().referral.as_ref().unwrap();
    let c = ReferralCode::parse("22222222").unwrap();
    assert_eq!(
        referral_link(terms, "http://127.0.0.1:8080", &c, ShareChannel::Copy, None)
            .as_deref()
            .map_err(|e| e.as_str()),
        Ok("http://127.0.0.1:8080/?ref=22222222&utm_source=copy&utm_medium=referral&utm_campaign=referral")
    );
    assert_eq!(
        referral_link(terms, "javascript:alert(1)", &c, ShareChannel::Copy, None)
            .as_deref()
            .map_err(|e| e.as_str()),
        Err("page origin: has no scheme")
    );
}

#[test]
fn the_program_refuses_terms_that_would_redirect_or_are_incomplete() {
    let check = |terms: &str, expected: &str| {
        let json = format!(
            r#"{{"version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
                "name": {{"zh-CN": "会员", "en": "Club"}}, "earn": {{"rate": {{"points": 1, "perAmount": 100}}}},
                "referral": {terms}}}"#
        );
        let error = Program::from_json(&json).map(|_| ()).map_err(|p| p.to_string());
        assert_eq!(error, Err(expected.to_owned()), "{terms}");
    };
    check(
        r#"{"landingUrl": "javascript:alert(1)", "referrerPoints": 1, "message": {"zh-CN": "来", "en": "Come"}}"#,
        "referral.landingUrl: must be an https:// URL of the shop or a path such as \"/\": has no scheme",
    );
    check(
        r#"{"landingUrl": "//evil.example", "referrerPoints": 1, "message": {"zh-CN": "来", "en": "Come"}}"#,
        "referral.landingUrl: must be a path on the shop's origin starting with one \"/\", got \"//evil.example\"",
    );
    check(
        r#"{"landingUrl": "/", "referrerPoints": -5, "param": "a b", "message": {"en": "Come"}}"#,
        "referral.param: must be 1 to 32 letters, digits, '_' or '-', got \"a b\"; \
         referral.referrerPoints: must be between 0 and 1000000, got -5; \
         referral.message: missing the \"zh-CN\" text",
    );
}

#[test]
fn share_intents_carry_the_locale_message_and_a_per_channel_link() {
    let p = program(TERMS);
    let c = ReferralCode::parse("22222222").unwrap();
    let intent =
        |locale: &str, channel| share_intent(&p, locale, "https://shop.example", &c, channel, None).unwrap();
    let link = |source: &str| {
        format!("https://shop.example/welcome?lang=en&ref=22222222&utm_source={source}&utm_medium=referral&utm_campaign=referral#top")
    };
    let enc = |s: &str| {
        s.replace('%', "%25")
            .replace(':', "%3A")
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('&', "%26")
            .replace('=', "%3D")
            .replace('#', "%23")
    };
    let email = intent("en", ShareChannel::Email);
    assert_eq!(email.title, "100 points for you");
    assert_eq!(
        email.url.as_deref(),
        Some(format!(
            "mailto:?subject=100%20points%20for%20you&body=Join%20me%20at%20Camellia%20%26%20Bean%3A%20100%20points%20on%20your%20first%20order%0A%0A{}",
            enc(&link("email"))
        ).as_str())
    );
    let zh = intent("zh-CN", ShareChannel::Weibo);
    assert_eq!(zh.text, "来山茶与豆，首单得 100 积分");
    assert!(zh.url.as_deref().unwrap().starts_with(&format!(
        "https://service.weibo.com/share/share.php?url={}&title=%E6%9D%A5",
        enc(&link("weibo"))
    )));
    // A locale the program lacks falls back to its first locale.
    assert_eq!(intent("fr", ShareChannel::Copy).text, "来山茶与豆，首单得 100 积分");
    for (channel, prefix) in [
        (ShareChannel::Whatsapp, "https://wa.me/?text=Join%20me"),
        (ShareChannel::X, "https://x.com/intent/tweet?text=Join%20me"),
        (ShareChannel::Facebook, "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fshop.example"),
        (ShareChannel::Line, "https://social-plugins.line.me/lineit/share?url=https%3A%2F%2Fshop.example"),
    ] {
        let got = intent("en", channel);
        assert_eq!(got.link, link(channel.source()));
        assert!(got.url.as_deref().unwrap().starts_with(prefix), "{channel:?}: {:?}", got.url);
        assert!(got.url.as_deref().unwrap().contains(&enc(&got.link)), "{channel:?} carries its link");
    }
    for channel in [ShareChannel::Copy, ShareChannel::Native, ShareChannel::Wechat] {
        assert_eq!(intent("en", channel).url, None);
    }
}

#[test]
fn landing_reads_the_code_and_refuses_a_tampered_one() {
    let p = program(TERMS);
    let terms = p.config().referral.as_ref().unwrap();
    let check = |query: &str, expected: Option<Result<&str, &str>>| {
        let got = landing_code(terms, query);
        let got = got.as_ref().map(|r| r.as_ref().map(|c| c.as_str()).map_err(|e| e.as_str()));
        assert_eq!(got, expected, "{query}");
    };
    check("", None);
    check("?utm_source=x", None);
    check("?refx=22222222", None);
    check("?ref=22222222&utm_source=copy", Some(Ok("22222222")));
    check("lang=en&ref=2222-2222", Some(Ok("22222222")));
    check("ref=2222%2D2222", Some(Ok("22222222")));
    check("ref=22222223", Some(Err("is not a valid referral code (a character was mistyped or changed)")));
    check("ref=%3Cscript%3E", Some(Err("has \"<\", which is not a referral code character")));
}

#[test]
fn a_friends_first_qualifying_order_pays_both_within_the_cap() {
    let p = program(TERMS);
    let order =
        ReferredOrder { first_order: true, spend: 5000, same_person: false, referrer_rewards_in_period: 0 };
    let check = |order: ReferredOrder, expected: (i64, i64, Option<ReferralRefusal>)| {
        let got = referral_reward(&p, &order);
        let settles =
            !matches!(expected.2, Some(ReferralRefusal::NotFirstOrder | ReferralRefusal::BelowMinimum));
        assert_eq!(got.settles(), settles, "{order:?}");
        assert_eq!(
            got,
            ReferralReward { referrer_points: expected.0, friend_points: expected.1, refusal: expected.2 },
            "{order:?}"
        );
    };
    check(order, (500, 100, None));
    check(ReferredOrder { referrer_rewards_in_period: 1, ..order }, (500, 100, None));
    check(
        ReferredOrder { referrer_rewards_in_period: 2, ..order },
        (0, 100, Some(ReferralRefusal::CapReached)),
    );
    check(ReferredOrder { spend: 4999, ..order }, (0, 0, Some(ReferralRefusal::BelowMinimum)));
    check(ReferredOrder { first_order: false, ..order }, (0, 0, Some(ReferralRefusal::NotFirstOrder)));
    check(ReferredOrder { same_person: true, ..order }, (0, 0, Some(ReferralRefusal::SelfReferral)));
    let uncapped = program(&TERMS.replace("\"capRewards\": 2", "\"capRewards\": 0"));
    assert_eq!(
        referral_reward(&uncapped, &ReferredOrder { referrer_rewards_in_period: 1000, ..order })
            .referrer_points,
        500
    );
}

#[test]
fn a_refund_in_the_return_window_that_breaks_the_minimum_reverses_the_reward() {
    let p = program(TERMS);
    let paid = 1_700_000_000;
    let day = 86_400;
    assert!(referral_reversed(&p, paid, paid + 29 * day, 0));
    assert!(referral_reversed(&p, paid, paid + 30 * day, 4999));
    assert!(!referral_reversed(&p, paid, paid + 30 * day, 5000), "still qualifies");
    assert!(!referral_reversed(&p, paid, paid + 30 * day + 1, 0), "after the return window");
}

#[test]
fn the_same_person_is_recognised_by_mailbox() {
    for (a, b, same) in [
        ("Ann@Example.com", " ann@example.com ", true),
        ("ann+shop@example.com", "ann@example.com", true),
        ("a.n.n@gmail.com", "ann@googlemail.com", true),
        ("a.nn@example.com", "ann@example.com", false),
        ("ann@example.com", "ann@example.org", false),
        ("", "", false),
        ("not an address", "not an address", false),
    ] {
        assert_eq!(same_person(a, b), same, "{a} / {b}");
    }
}

/// A program with the given `pendingDays` and referral return window.
fn program_with_windows(pending_days: u32, return_window_days: u32) -> Program {
    let terms =
        TERMS.replace("\"returnWindowDays\": 30", &format!("\"returnWindowDays\": {return_window_days}"));
    let json = format!(
        r#"{{"version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
            "name": {{"zh-CN": "会员俱乐部", "en": "Members club"}},
            "earn": {{"rate": {{"points": 1, "perAmount": 100}}}},
            "lifecycle": {{"pendingDays": {pending_days}}},
            "referral": {terms}}}"#
    );
    Program::from_json(&json).unwrap_or_else(|p| panic!("{p}"))
}

fn referral_earned(points: i64, at: i64) -> LedgerEntry {
    LedgerEntry {
        at,
        kind: LedgerKind::Earn,
        points,
        source: EarnSource::Referral,
        order_id: Some("referral-1".into()),
    }
}

#[test]
fn a_referral_reward_waits_out_the_return_window_even_with_no_pending_days() {
    // The outside review's scenario: pendingDays 0 (the default), a 30-day return window. The referrer could
    // spend the reward at once, then the friend refunded and the reward could not be taken back.
    let p = program_with_windows(0, 30);
    let paid = 1_700_000_000;
    let day = 86_400;
    let ledger = [referral_earned(500, paid)];
    let at = |now: i64| {
        let b = balance(&p, &ledger, now).unwrap_or_else(|e| panic!("{e}"));
        (b.available, b.pending.iter().map(|d| d.points).sum::<i64>())
    };
    assert_eq!(at(paid), (0, 500), "pending on the day");
    assert_eq!(at(paid + 30 * day), (0, 500), "a refund now still reverses it");
    assert!(referral_reversed(&p, paid, paid + 30 * day, 0));
    assert_eq!(at(paid + 30 * day + 1), (500, 0), "spendable once no refund can reverse it");
    assert_eq!(referral_available_at(&p, paid), paid + 30 * day + 1);
    // A longer pendingDays still wins.
    let longer = program_with_windows(45, 30);
    assert_eq!(referral_available_at(&longer, paid), paid + 45 * day);
}

proptest! {
    #[test]
    fn a_referral_reward_is_never_spendable_while_a_refund_could_reverse_it(
        pending_days in 0u32..=365,
        window_days in 0u32..=366,
        points in 1i64..1_000_000,
        after in 0i64..800 * 86_400,
    ) {
        let p = program_with_windows(pending_days, window_days);
        let paid = 1_700_000_000;
        let now = paid + after;
        let b = balance(&p, &[referral_earned(points, paid)], now).unwrap_or_else(|e| panic!("{e}"));
        let reversible = referral_reversed(&p, paid, now, 0);
        prop_assert!(!(reversible && b.available > 0), "{b:?} at {after} s while a refund reverses it");
        let held_by_pending = after < i64::from(pending_days) * 86_400;
        prop_assert_eq!(b.available, if reversible || held_by_pending { 0 } else { points });
        prop_assert_eq!(b.available + b.pending.iter().map(|d| d.points).sum::<i64>(), points);
    }
}

#[test]
fn a_landing_counts_only_for_an_account_made_within_attribution_days() {
    let p = program(TERMS); // attributionDays 30, the default
    let now = 1_700_000_000;
    let day = 86_400;
    for (made, counts) in [
        (Some(now), true),
        (Some(now - 30 * day), true),
        (Some(now - 30 * day - 1), false),
        (Some(now - 3_650 * day), false),
        (Some(now + 60), true), // the shop's clock a little ahead
        (None, false),          // the shop never said: not known to be new
    ] {
        assert_eq!(referral_capture_allowed(&p, made, now), counts, "{made:?}");
    }
    let week = program(&TERMS.replace("\"capDays\": 30", "\"capDays\": 30, \"attributionDays\": 7"));
    assert!(!referral_capture_allowed(&week, Some(now - 8 * day), now));
    assert!(referral_capture_allowed(&week, Some(now - 7 * day), now));
}
