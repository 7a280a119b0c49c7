//! The store's decisions, natively: each test plays messages in and checks the effects and the status.

use super::*;

const PROGRAM: &str = r#"{"version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
    "name": {"zh-CN": "会员俱乐部", "en": "Members club"},
    "earn": {"rate": {"points": 1, "perAmount": 100}},
    "rewards": [{"id": "ten-off", "name": {"zh-CN": "立减10元", "en": "10 off"}, "kind": "amountOff",
                 "cost": 500, "amountOff": 1000}]}"#;

const NOW: i64 = 1_767_225_600_000;

fn shopper(customer: &str, available: i64) -> String {
    format!(
        r#"{{"customerId": "{customer}", "balance": {{"available": {available}, "pending": [], "expiring": [],
        "expired": 0, "lifetimeEarned": {available}}}, "rewards": {{"affordable": [], "blocked": false}},
        "asOf": 1767225600}}"#
    )
}

fn alice() -> Identity {
    Identity { customer_id: "alice".into(), timestamp: 1_767_225_600, digest: "ab".repeat(32) }
}

fn env() -> Env {
    Env { now_ms: NOW, random: 0.5 }
}

fn body(text: &str, etag: Option<&str>) -> Result<Fetched, SyncError> {
    Ok(Fetched::Body { text: text.to_owned(), etag: etag.map(str::to_owned) })
}

fn offline() -> SyncError {
    SyncError::Offline("Failed to fetch".into())
}

fn status(status: u16, retry_after_ms: Option<u64>) -> SyncError {
    SyncError::Status { status, code: None, message: "nope".into(), retry_after_ms }
}

fn fetched(resource: Resource, result: Result<Fetched, SyncError>) -> Msg {
    Msg::Fetched { resource, generation: 0, result }
}

fn fetches(fx: &[Effect]) -> Vec<(Resource, Option<String>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Fetch { resource, etag, .. } => Some((*resource, etag.clone())),
            _ => None,
        })
        .collect()
}

fn count(fx: &[Effect], wanted: fn(&Effect) -> bool) -> usize {
    fx.iter().filter(|e| wanted(e)).count()
}

fn settled(fx: &[Effect]) -> usize {
    count(fx, |e| matches!(e, Effect::Settled))
}

fn reports(fx: &[Effect]) -> Vec<&'static str> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Report(error) => Some(error.code()),
            _ => None,
        })
        .collect()
}

fn wakes(fx: &[Effect]) -> Vec<(Timer, u64)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Wake { timer, after_ms, .. } => Some((*timer, *after_ms)),
            _ => None,
        })
        .collect()
}

fn signed_in() -> Store {
    Store::new(Some(alice()), RetryPolicy::default())
}

/// A store started from a cache holding the program and alice with `available` points.
fn started_from_cache(available: i64) -> Store {
    let mut store = signed_in();
    let cached = Cached {
        program: Some((PROGRAM.into(), None)),
        shopper: Some(shopper("alice", available)),
        outbox: vec![],
        attribution: None,
        catalog: None,
    };
    store.update(Msg::Start(cached), env());
    store
}

/// A store that loaded fresh data for alice with `available` points.
fn loaded(available: i64) -> Store {
    let mut store = signed_in();
    store.update(Msg::Start(Cached::default()), env());
    store.update(fetched(Resource::Program, body(PROGRAM, Some("\"v1\""))), env());
    store.update(fetched(Resource::Shopper, body(&shopper("alice", available), None)), env());
    assert_eq!(store.status(), SyncStatus::Fresh);
    store
}

#[test]
fn a_fresh_load_reads_both_and_settles_once() {
    let mut store = signed_in();
    let fx = store.update(Msg::Start(Cached::default()), env());
    assert_eq!(fetches(&fx), vec![(Resource::Program, None), (Resource::Shopper, None)]);
    assert_eq!(store.status(), SyncStatus::Loading);
    let fx = store.update(fetched(Resource::Program, body(PROGRAM, Some("\"v1\""))), env());
    assert_eq!(settled(&fx), 0, "the shopper is still loading");
    assert!(fx.contains(&Effect::SaveProgram { text: PROGRAM.into(), etag: Some("\"v1\"".into()) }));
    let fx = store.update(fetched(Resource::Shopper, body(&shopper("alice", 700), None)), env());
    assert_eq!(settled(&fx), 1);
    assert!(fx.contains(&Effect::SaveShopper { customer_id: "alice".into(), text: shopper("alice", 700) }));
    assert_eq!(store.status(), SyncStatus::Fresh);
    assert_eq!(store.shopper().map(|s| s.balance.available), Some(700));
    assert_eq!(store.updated_at(), Some(NOW));
}

#[test]
fn a_cached_load_is_shown_stale_then_revalidated_with_the_etag() {
    let mut store = signed_in();
    let cached = Cached {
        program: Some((PROGRAM.into(), Some("\"v1\"".into()))),
        shopper: Some(shopper("alice", 300)),
        outbox: vec![],
        attribution: None,
        catalog: None,
    };
    let fx = store.update(Msg::Start(cached), env());
    assert_eq!(store.status(), SyncStatus::Stale, "cached data is never shown as fresh");
    assert_eq!(store.shopper().map(|s| s.balance.available), Some(300));
    assert_eq!(fetches(&fx), vec![(Resource::Program, Some("\"v1\"".into())), (Resource::Shopper, None)]);
    store.update(fetched(Resource::Program, Ok(Fetched::NotModified)), env());
    assert_eq!(store.status(), SyncStatus::Stale, "the shopper is not revalidated yet");
    store.update(fetched(Resource::Shopper, body(&shopper("alice", 800), None)), env());
    assert_eq!(store.status(), SyncStatus::Fresh);
    assert_eq!(store.shopper().map(|s| s.balance.available), Some(800));
}

#[test]
fn another_shoppers_data_is_never_shown() {
    let mut store = signed_in();
    let cached = Cached {
        program: None,
        shopper: Some(shopper("bob", 999)),
        outbox: vec![],
        attribution: None,
        catalog: None,
    };
    store.update(Msg::Start(cached), env());
    assert!(store.shopper().is_none(), "bob's cached state is not shown to alice");
    let fx = store.update(fetched(Resource::Shopper, body(&shopper("bob", 999), None)), env());
    assert!(store.shopper().is_none(), "nor bob's state from a confused backend");
    assert_eq!(reports(&fx), vec!["invalid_response"]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::SaveShopper { .. })));
}

#[test]
fn a_damaged_cache_is_ignored() {
    let mut store = signed_in();
    let cached = Cached {
        program: Some(("{\"version\": 1".into(), None)),
        shopper: Some("[]".into()),
        outbox: vec![],
        attribution: None,
        catalog: None,
    };
    let fx = store.update(Msg::Start(cached), env());
    assert!(store.program().is_none() && store.shopper().is_none());
    assert_eq!(
        fetches(&fx),
        vec![(Resource::Program, None), (Resource::Shopper, None)],
        "no etag without a copy"
    );
}

#[test]
fn offline_at_load_retries_with_backoff_then_shows_the_cache_as_offline() {
    let mut store = started_from_cache(300);
    store.update(fetched(Resource::Shopper, body(&shopper("alice", 300), None)), env());
    let mut delays = vec![];
    for attempt in 1..=4 {
        let fx = store.update(fetched(Resource::Program, Err(offline())), env());
        if attempt < 4 {
            assert_eq!(reports(&fx), Vec::<&str>::new(), "no report while retrying");
            let wake = wakes(&fx);
            assert_eq!(wake.len(), 1);
            delays.push(wake[0].1);
            let fx = store.update(Msg::RetryDue { resource: Resource::Program, generation: 0 }, env());
            assert_eq!(fetches(&fx).len(), 1);
        } else {
            assert_eq!(reports(&fx), vec!["offline"], "reported once, after the last attempt");
            assert_eq!(settled(&fx), 1);
            assert!(wakes(&fx).is_empty());
        }
    }
    // Full jitter at random 0.5: half of 500, 1000, 2000.
    assert_eq!(delays, vec![250, 500, 1000]);
    assert_eq!(store.status(), SyncStatus::Offline);
    assert!(store.program().is_some(), "the cached program is still shown");
    // Back online: a refresh succeeds and the status recovers.
    let fx = store.update(Msg::Refresh, env());
    assert_eq!(fetches(&fx).len(), 2);
    store.update(fetched(Resource::Program, Ok(Fetched::NotModified)), env());
    store.update(fetched(Resource::Shopper, body(&shopper("alice", 300), None)), env());
    assert_eq!(store.status(), SyncStatus::Fresh);
    assert!(store.error().is_none());
}

#[test]
fn which_failures_are_retried() {
    // (error, retried, code when given up)
    let cases = [
        (status(500, None), true, "server_error"),
        (status(503, Some(7000)), true, "server_error"),
        (status(429, Some(3000)), true, "rate_limited"),
        (status(408, None), true, "refused"),
        (SyncError::Timeout { after_ms: 8000 }, true, "timeout"),
        (status(404, None), false, "refused"),
        (status(401, None), false, "unauthorized"),
        (status(400, None), false, "refused"),
        (SyncError::TooLarge { limit: 1000 }, false, "response_too_large"),
        (SyncError::InvalidResponse(Problems::one("", "invalid JSON")), false, "invalid_response"),
    ];
    for (error, retried, code) in cases {
        let mut store = signed_in();
        store.update(Msg::Start(Cached::default()), env());
        let fx = store.update(fetched(Resource::Program, Err(error.clone())), env());
        assert_eq!(!wakes(&fx).is_empty(), retried, "{error:?}");
        if let Some(ms) = error.retry_after_ms() {
            assert!(wakes(&fx)[0].1 >= ms, "Retry-After is honoured: {error:?}");
        }
        if !retried {
            assert_eq!(reports(&fx), vec![code]);
        }
        assert_eq!(error.code(), code);
    }
}

#[test]
fn a_malformed_answer_keeps_the_cached_copy_and_names_the_field() {
    let mut store = started_from_cache(300);
    let wrong_type = shopper("alice", 300).replace("\"available\": 300", "\"available\": \"300\"");
    let fx = store.update(fetched(Resource::Shopper, body(&wrong_type, None)), env());
    assert_eq!(reports(&fx), vec!["invalid_response"]);
    let error = store.error().map(ToString::to_string).unwrap_or_default();
    assert!(error.contains("shopper.balance.available: must be a number, got a string"), "{error}");
    assert_eq!(store.shopper().map(|s| s.balance.available), Some(300));
    assert_eq!(store.status(), SyncStatus::Error);
}

#[test]
fn backoff_is_full_jitter_capped_and_respects_retry_after() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.delay_ms(0, 0.0, None), 0);
    assert_eq!(policy.delay_ms(0, 0.999, None), 499);
    assert_eq!(policy.delay_ms(3, 1.0, None), 4000);
    assert_eq!(policy.delay_ms(30, 1.0, None), 30_000, "capped");
    assert_eq!(policy.delay_ms(0, 0.1, Some(5000)), 5000);
    assert_eq!(policy.delay_ms(0, 0.1, Some(86_400_000)), 600_000, "a day is asked again in ten minutes");
}

fn redeem(store: &mut Store, key: &str) -> Vec<Effect> {
    store.update(Msg::Write { write: Write::Redeem { reward_id: "ten-off".into() }, key: key.into() }, env())
}

const REDEMPTION: &str =
    r#"{"id": "r1", "rewardId": "ten-off", "cost": 500, "code": "LOY-ABCDE-FGHJK", "createdAt": 1767225600}"#;

#[test]
fn a_redemption_is_saved_before_it_is_sent_and_retried_with_the_same_key() {
    let mut store = loaded(700);
    let fx = redeem(&mut store, "k1");
    let save = fx.iter().position(|e| matches!(e, Effect::SaveWrite(entry) if entry.key == "k1"));
    let send = fx.iter().position(|e| matches!(e, Effect::Send { entry, .. } if entry.key == "k1"));
    assert!(save.is_some() && save < send, "saved before sent: {fx:?}");
    // The answer is lost: the write waits and goes again with the same key.
    let fx =
        store.update(Msg::Sent { key: "k1".into(), kind: WriteKind::Redeem, result: Err(offline()) }, env());
    assert_eq!(wakes(&fx), vec![(Timer::Outbox, 250)]);
    assert_eq!(store.outbox()[0].status, WriteStatus::Waiting);
    assert_eq!(store.outbox()[0].entry.attempts, 1);
    let fx = store.update(Msg::ResendDue, env());
    assert!(matches!(&fx[..], [Effect::Send { entry, .. }] if entry.key == "k1"));
    let fx = store.update(
        Msg::Sent { key: "k1".into(), kind: WriteKind::Redeem, result: Ok(REDEMPTION.into()) },
        env(),
    );
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: "k1".into() }));
    assert!(fx.iter().any(
        |e| matches!(e, Effect::Settle { key, result: Ok(Written::Redemption(r)) } if key == "k1" && r.code == "LOY-ABCDE-FGHJK")
    ));
    assert_eq!(fetches(&fx), vec![(Resource::Shopper, None)], "the balance is read again");
    assert!(store.outbox().is_empty());
}

#[test]
fn an_unreadable_answer_to_a_redemption_is_asked_for_once_more_with_the_same_key() {
    let unreadable =
        || SyncError::InvalidResponse(Problems::one("redemption", "invalid JSON: unterminated string"));
    let mut store = loaded(700);
    redeem(&mut store, "k1");
    // Cut off on the way back: the points may be spent, so the same key asks for the stored answer.
    let fx = store
        .update(Msg::Sent { key: "k1".into(), kind: WriteKind::Redeem, result: Err(unreadable()) }, env());
    assert!(!fx.iter().any(|e| matches!(e, Effect::Settle { .. })), "not final yet: {fx:?}");
    assert_eq!(store.outbox()[0].status, WriteStatus::Waiting);
    let fx = store.update(Msg::ResendDue, env());
    assert!(matches!(&fx[..], [Effect::Send { entry, .. }] if entry.key == "k1"));
    let fx = store.update(
        Msg::Sent { key: "k1".into(), kind: WriteKind::Redeem, result: Ok(REDEMPTION.into()) },
        env(),
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Settle { key, result: Ok(_) } if key == "k1")));
    // Offline first, then unreadable: still asked once more (earlier retries are not re-asks).
    redeem(&mut store, "k3");
    store.update(Msg::Sent { key: "k3".into(), kind: WriteKind::Redeem, result: Err(offline()) }, env());
    store.update(Msg::ResendDue, env());
    let fx = store
        .update(Msg::Sent { key: "k3".into(), kind: WriteKind::Redeem, result: Err(unreadable()) }, env());
    assert!(!fx.iter().any(|e| matches!(e, Effect::Settle { .. })), "asked once more: {fx:?}");
    store.update(Msg::ResendDue, env());
    store.update(
        Msg::Sent { key: "k3".into(), kind: WriteKind::Redeem, result: Ok(REDEMPTION.into()) },
        env(),
    );
    // Unreadable twice: the shopper hears of it (and the balance is read again).
    redeem(&mut store, "k2");
    store.update(Msg::Sent { key: "k2".into(), kind: WriteKind::Redeem, result: Err(unreadable()) }, env());
    store.update(Msg::ResendDue, env());
    let fx = store
        .update(Msg::Sent { key: "k2".into(), kind: WriteKind::Redeem, result: Err(unreadable()) }, env());
    assert!(fx.iter().any(
        |e| matches!(e, Effect::Settle { key, result: Err(SyncError::InvalidResponse(_)) } if key == "k2")
    ));
    assert!(store.outbox().is_empty());
}

fn saved_redemption(key: &str, age_ms: i64) -> OutboxEntry {
    OutboxEntry {
        key: key.into(),
        kind: WriteKind::Redeem,
        reward_id: "ten-off".into(),
        birthday: String::new(),
        code: String::new(),
        customer_id: "alice".into(),
        created_at: NOW - age_ms,
        attempts: 2,
    }
}

fn sends(fx: &[Effect]) -> Vec<&str> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send { entry, .. } => Some(entry.key.as_str()),
            _ => None,
        })
        .collect()
}

/// Alice's state holding these discount codes: (code, reward, issued at in UTC seconds).
fn shopper_with_codes(codes: &[(&str, &str, i64)]) -> String {
    let codes: Vec<String> = codes
        .iter()
        .map(|(code, reward, at)| {
            format!(r#"{{"code": "{code}", "rewardId": "{reward}", "createdAt": {at}}}"#)
        })
        .collect();
    let state = shopper("alice", 200);
    let end = state.rfind('}').unwrap_or(state.len());
    format!("{}, \"codes\": [{}]}}", &state[..end], codes.join(", "))
}

const DAY_MS: i64 = 24 * 3600 * 1000;

#[test]
fn a_saved_write_is_resent_after_a_reload_and_checked_against_the_shopper_after_three_days() {
    let mut bobs = saved_redemption("bob-1", 0);
    bobs.customer_id = "bob".into();
    let cached = Cached {
        program: None,
        shopper: None,
        outbox: vec![saved_redemption("fresh", 60_000), saved_redemption("old", OUTBOX_MAX_AGE_MS + 1), bobs],
        attribution: None,
        catalog: None,
    };
    let mut store = signed_in();
    let fx = store.update(Msg::Start(cached), env());
    assert_eq!(
        sends(&fx),
        vec!["fresh"],
        "bob's write is not sent as alice, the old one is never sent again"
    );
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Settle { key, .. } if key == "old")),
        "not before the check"
    );
    assert!(fetches(&fx).contains(&(Resource::Shopper, None)), "the shopper's state is read to check it");
    let statuses: Vec<WriteStatus> = store.outbox().iter().map(|p| p.status).collect();
    assert_eq!(statuses, vec![WriteStatus::Sending, WriteStatus::Checking]);
    // The shopper's codes hold none for the reward since the write was made: it did not go through.
    let before = (NOW - OUTBOX_MAX_AGE_MS) / 1000 - 3 * 86_400;
    let state = shopper_with_codes(&[("LOY-OLDER-CODE1", "ten-off", before)]);
    let fx = store.update(fetched(Resource::Shopper, body(&state, None)), env());
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Settle { key, result: Err(SyncError::NotCompleted) } if key == "old")));
    assert_eq!(reports(&fx), vec!["not_completed"]);
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: "old".into() }));
    assert!(!fx.iter().any(|e| matches!(e, Effect::ForgetWrite { key, .. } if key == "fresh")));
    assert!(sends(&fx).is_empty());
    let statuses: Vec<WriteStatus> = store.outbox().iter().map(|p| p.status).collect();
    assert_eq!(statuses, vec![WriteStatus::Sending, WriteStatus::Expired]);
}

#[test]
fn a_write_past_the_resend_window_is_never_sent_again_and_its_code_is_found_in_the_shoppers_state() {
    // The page stays open (a laptop asleep for 8 days): the write failed, and the browser comes back online.
    let mut store = loaded(700);
    redeem(&mut store, "k1");
    store.update(Msg::Sent { key: "k1".into(), kind: WriteKind::Redeem, result: Err(offline()) }, env());
    let later = Env { now_ms: NOW + 8 * DAY_MS, random: 0.5 };
    for msg in [Msg::Refresh, Msg::ResendDue] {
        let fx = store.update(msg, later);
        assert!(
            sends(&fx).is_empty(),
            "a write older than the server keeps its key is never sent again: {fx:?}"
        );
    }
    assert_eq!(store.outbox()[0].status, WriteStatus::Checking);
    // The shopper's codes show it went through (issued a few seconds after the shopper asked): the code is
    // the answer, and the write leaves the outbox without a second send.
    let state = shopper_with_codes(&[
        ("LOY-NEWER-OTHER", "other", NOW / 1000 + 60),
        ("LOY-ABCDE-FGHJK", "ten-off", NOW / 1000 + 2),
    ]);
    let fx = store.update(fetched(Resource::Shopper, body(&state, None)), later);
    assert!(fx.iter().any(|e| matches!(e,
        Effect::Settle { key, result: Ok(Written::Redemption(r)) } if key == "k1" && r.code == "LOY-ABCDE-FGHJK" && r.cost == 500)));
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: "k1".into() }));
    assert!(reports(&fx).is_empty());
    assert!(sends(&fx).is_empty());
    assert!(store.outbox().is_empty());
}

#[test]
fn saved_writes_whose_age_cannot_be_trusted_or_that_cannot_be_checked_are_not_sent_again() {
    // Saved "in the future": the device's clock went back since, so the write's real age is unknown.
    let mut ahead = saved_redemption("ahead", -2 * DAY_MS);
    ahead.attempts = 1;
    let mut birthday = saved_redemption("birthday", 4 * DAY_MS);
    birthday.kind = WriteKind::Birthday;
    birthday.reward_id = String::new();
    birthday.birthday = "03-14".into();
    let mut referral = saved_redemption("referral-1-ABCDEFGH", 4 * DAY_MS);
    referral.kind = WriteKind::Referral;
    referral.reward_id = String::new();
    referral.code = "ABCDEFGH".into();
    let cached = Cached {
        program: Some((PROGRAM.into(), None)),
        shopper: None,
        outbox: vec![ahead, birthday, referral],
        attribution: None,
        catalog: None,
    };
    let mut store = signed_in();
    let fx = store.update(Msg::Start(cached), env());
    assert!(sends(&fx).is_empty(), "{fx:?}");
    // A read that fails leaves them to be checked later, still unsent.
    let fx = store.update(fetched(Resource::Shopper, Err(status(404, None))), env());
    assert!(sends(&fx).is_empty());
    assert_eq!(store.outbox().len(), 3);
    let fx = store.update(Msg::Refresh, env());
    assert!(sends(&fx).is_empty());
    // The state shows the birthday stored: done. The redemption is not among the codes; the referral
    // cannot be checked and is left alone (the server refuses a second capture anyway).
    let state = shopper_with_codes(&[]).replacen("\"codes\"", "\"birthday\": \"03-14\", \"codes\"", 1);
    let fx = store.update(fetched(Resource::Shopper, body(&state, None)), env());
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Settle { key, result: Ok(Written::Birthday(_)) } if key == "birthday")));
    assert!(fx.iter().any(
        |e| matches!(e, Effect::Settle { key, result: Err(SyncError::NotCompleted) } if key == "ahead")
    ));
    for key in ["ahead", "birthday", "referral-1-ABCDEFGH"] {
        assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: key.into() }), "{key}");
    }
    assert!(sends(&fx).is_empty());
    let left: Vec<(&str, WriteStatus)> =
        store.outbox().iter().map(|p| (p.entry.key.as_str(), p.status)).collect();
    assert_eq!(left, vec![("ahead", WriteStatus::Expired)]);
}

#[test]
fn a_refused_redemption_leaves_the_outbox_with_its_reason() {
    let mut store = loaded(100);
    redeem(&mut store, "k2");
    let refusal = SyncError::Status {
        status: 409,
        code: Some("insufficient_points".into()),
        message: "400 more points needed".into(),
        retry_after_ms: None,
    };
    let fx = store
        .update(Msg::Sent { key: "k2".into(), kind: WriteKind::Redeem, result: Err(refusal.clone()) }, env());
    assert!(fx.contains(&Effect::Settle { key: "k2".into(), result: Err(refusal) }));
    assert!(wakes(&fx).is_empty(), "a refusal is final");
    assert!(store.outbox().is_empty());
}

#[test]
fn guests_read_only_the_program_and_cannot_redeem() {
    let mut store = Store::new(None, RetryPolicy::default());
    let fx = store.update(Msg::Start(Cached::default()), env());
    assert_eq!(fetches(&fx), vec![(Resource::Program, None)]);
    store.update(fetched(Resource::Program, body(PROGRAM, None)), env());
    assert_eq!(store.status(), SyncStatus::Fresh);
    let fx = redeem(&mut store, "k3");
    assert_eq!(fx, vec![Effect::Settle { key: "k3".into(), result: Err(SyncError::NotSignedIn) }]);
}

#[test]
fn signing_out_forgets_the_shopper_and_drops_late_answers() {
    let mut store = loaded(700);
    store.update(Msg::Refresh, env());
    let fx = store.update(Msg::SignOut, env());
    assert!(fx.contains(&Effect::ForgetShopper { customer_id: "alice".into() }));
    assert!(store.shopper().is_none());
    store.update(fetched(Resource::Shopper, body(&shopper("alice", 700), None)), env());
    assert!(store.shopper().is_none(), "an answer that arrives after sign-out is dropped");
    // Bob signs in on the same page: alice's state is gone, bob's cache is used.
    let bob = Identity { customer_id: "bob".into(), ..alice() };
    let cached = Cached {
        program: None,
        shopper: Some(shopper("bob", 50)),
        outbox: vec![],
        attribution: None,
        catalog: None,
    };
    let fx = store.update(Msg::SignIn(bob, cached), env());
    assert_eq!(store.shopper().map(|s| s.customer_id.as_str()), Some("bob"));
    assert_eq!(store.status(), SyncStatus::Stale);
    assert!(fetches(&fx).contains(&(Resource::Shopper, None)));
}

#[test]
fn another_shopper_signing_in_takes_the_one_before_off_the_device() {
    let mut store = loaded(700);
    let birthday = Msg::Write { write: Write::Birthday { birthday: "08-31".into() }, key: "b1".into() };
    store.update(birthday, env());
    let bob = Identity { customer_id: "bob".into(), ..alice() };
    let fx = store.update(Msg::SignIn(bob.clone(), Cached::default()), env());
    assert!(fx.contains(&Effect::ForgetShopper { customer_id: "alice".into() }), "{fx:?}");
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: "b1".into() }), "{fx:?}");
    // The same shopper with a fresh signature keeps their cache.
    let fx = store.update(Msg::SignIn(bob, Cached::default()), env());
    assert!(!fx.iter().any(|e| matches!(e, Effect::ForgetShopper { .. })), "{fx:?}");
}

#[test]
fn a_sign_out_mid_round_still_ends_the_round() {
    let mut store = signed_in();
    store.update(Msg::Start(Cached::default()), env());
    store.update(fetched(Resource::Program, body(PROGRAM, None)), env());
    let fx = store.update(Msg::SignOut, env());
    assert_eq!(settled(&fx), 1, "ready() and refresh() must not wait for an answer about nobody");
    let fx = store.update(fetched(Resource::Shopper, body(&shopper("alice", 1), None)), env());
    assert_eq!(settled(&fx), 0);
    assert!(store.shopper().is_none());
}

#[test]
fn answers_and_timers_for_the_previous_shopper_are_dropped() {
    let mut store = signed_in();
    store.update(Msg::Start(Cached::default()), env());
    store.update(fetched(Resource::Program, body(PROGRAM, None)), env());
    // Alice's read fails and waits to retry; bob signs in meanwhile.
    store.update(fetched(Resource::Shopper, Err(offline())), env());
    let bob = Identity { customer_id: "bob".into(), ..alice() };
    let fx = store.update(Msg::SignIn(bob, Cached::default()), env());
    let generation = fx
        .iter()
        .find_map(|e| match e {
            Effect::Fetch { resource: Resource::Shopper, generation, .. } => Some(*generation),
            _ => None,
        })
        .expect("bob is read");
    assert_ne!(generation, 0);
    // Alice's late failure and her retry timer: nothing happens to bob.
    let late = store
        .update(Msg::Fetched { resource: Resource::Shopper, generation: 0, result: Err(offline()) }, env());
    assert!(late.is_empty(), "{late:?}");
    let timer = store.update(Msg::RetryDue { resource: Resource::Shopper, generation: 0 }, env());
    assert!(timer.is_empty(), "{timer:?}");
    let fx = store.update(
        Msg::Fetched { resource: Resource::Shopper, generation, result: body(&shopper("bob", 5), None) },
        env(),
    );
    assert_eq!(settled(&fx), 0, "the program is being revalidated too");
    let fx = store.update(fetched(Resource::Program, Ok(Fetched::NotModified)), env());
    assert_eq!(settled(&fx), 1);
    assert_eq!(store.status(), SyncStatus::Fresh);
}

#[test]
fn a_key_still_in_flight_on_the_server_is_asked_again() {
    let mut store = loaded(700);
    redeem(&mut store, "k4");
    let in_flight = SyncError::Status {
        status: 409,
        code: Some("idempotency_key_in_flight".into()),
        message: "retry shortly".into(),
        retry_after_ms: None,
    };
    let fx =
        store.update(Msg::Sent { key: "k4".into(), kind: WriteKind::Redeem, result: Err(in_flight) }, env());
    assert_eq!(wakes(&fx).len(), 1, "a 409 for a key in flight is not a refusal");
    assert!(reports(&fx).is_empty());
    assert_eq!(store.outbox()[0].status, WriteStatus::Waiting);
}

#[test]
fn a_write_answered_after_sign_out_settles_its_promise_and_is_never_sent_twice() {
    let mut store = loaded(700);
    redeem(&mut store, "k5");
    store.update(Msg::SignOut, env());
    // Alice signs in again on this page while her write is still on its way: it is not sent again.
    let saved = OutboxEntry {
        key: "k5".into(),
        kind: WriteKind::Redeem,
        reward_id: "ten-off".into(),
        birthday: String::new(),
        code: String::new(),
        customer_id: "alice".into(),
        created_at: NOW,
        attempts: 0,
    };
    let fx = store.update(Msg::SignIn(alice(), Cached { outbox: vec![saved], ..Cached::default() }), env());
    assert!(!fx.iter().any(|e| matches!(e, Effect::Send { .. })), "{fx:?}");
    let fx = store.update(
        Msg::Sent { key: "k5".into(), kind: WriteKind::Redeem, result: Ok(REDEMPTION.into()) },
        env(),
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Settle { key, result: Ok(_) } if key == "k5")));
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: "k5".into() }));
    assert!(store.outbox().is_empty());
    // And if she had not come back, the answer still settles the promise and clears the saved copy.
    let mut store = loaded(700);
    redeem(&mut store, "k6");
    store.update(Msg::SignOut, env());
    let fx = store.update(
        Msg::Sent { key: "k6".into(), kind: WriteKind::Redeem, result: Ok(REDEMPTION.into()) },
        env(),
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Settle { key, result: Ok(_) } if key == "k6")));
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: "k6".into() }));
}

#[test]
fn the_balance_is_read_again_after_a_redemption_even_mid_read() {
    let mut store = loaded(700);
    redeem(&mut store, "k7");
    let fx = store.update(Msg::Refresh, env());
    assert!(fetches(&fx).contains(&(Resource::Shopper, None)));
    let fx = store.update(
        Msg::Sent { key: "k7".into(), kind: WriteKind::Redeem, result: Ok(REDEMPTION.into()) },
        env(),
    );
    assert!(fetches(&fx).is_empty(), "a read is already on its way");
    let fx = store.update(fetched(Resource::Shopper, body(&shopper("alice", 700), None)), env());
    assert_eq!(fetches(&fx), vec![(Resource::Shopper, None)], "that read may predate the redemption");
}

#[test]
fn settled_comes_before_the_change_notices() {
    let mut store = signed_in();
    store.update(Msg::Start(Cached::default()), env());
    store.update(fetched(Resource::Program, body(PROGRAM, None)), env());
    let fx = store.update(fetched(Resource::Shopper, Err(status(404, None))), env());
    assert_eq!(fx.first(), Some(&Effect::Settled), "{fx:?}");
}

#[test]
fn subscribers_are_told_once_per_message() {
    let mut store = loaded(700);
    redeem(&mut store, "k8");
    let fx = store.update(
        Msg::Sent { key: "k8".into(), kind: WriteKind::Redeem, result: Err(status(409, None)) },
        env(),
    );
    assert_eq!(count(&fx, |e| matches!(e, Effect::Changed)), 1, "{fx:?}");
}

#[test]
fn a_birthday_goes_through_the_outbox_and_leaves_the_device_at_sign_out() {
    let mut store = loaded(700);
    let birthday =
        |key: &str| Msg::Write { write: Write::Birthday { birthday: "08-31".into() }, key: key.into() };
    let fx = store.update(birthday("b1"), env());
    let saved = fx.iter().find_map(|e| match e {
        Effect::SaveWrite(entry) => Some(entry.clone()),
        _ => None,
    });
    let saved = saved.expect("saved before it is sent");
    assert_eq!(
        (saved.kind, saved.birthday.as_str(), saved.reward_id.as_str()),
        (WriteKind::Birthday, "08-31", "")
    );
    // The saved text reads back as the same write (and a write saved before kinds existed is a redemption).
    #[cfg(not(target_arch = "wasm32"))]
    {
        let text = serde_json::to_string(&saved).expect("saved as JSON");
        assert_eq!(OutboxEntry::from_json_str(&text).ok(), Some(saved));
    }
    let old = r#"{"key": "k0", "rewardId": "ten-off", "customerId": "alice", "createdAt": 1}"#;
    assert_eq!(OutboxEntry::from_json_str(old).map(|e| e.kind).ok(), Some(WriteKind::Redeem));
    // An answer is decoded as a birthday, and the shopper is read again to show it.
    let sent = |result| Msg::Sent { key: "b1".into(), kind: WriteKind::Birthday, result };
    let fx = store.update(sent(Ok(r#"{"birthday": "08-31"}"#.into())), env());
    let answer = Written::Birthday(BirthdaySet { birthday: "08-31".into() });
    assert!(fx.contains(&Effect::Settle { key: "b1".into(), result: Ok(answer) }), "{fx:?}");
    assert_eq!(fetches(&fx), vec![(Resource::Shopper, None)]);
    // A birthday still waiting when the shopper signs out is removed from the device; a redemption stays.
    store.update(birthday("b2"), env());
    store.update(Msg::Sent { key: "b2".into(), kind: WriteKind::Birthday, result: Err(offline()) }, env());
    redeem(&mut store, "k9");
    let fx = store.update(Msg::SignOut, env());
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key: "b2".into() }), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::ForgetWrite { key, .. } if key == "k9")), "{fx:?}");
}

const REFERRAL_PROGRAM: &str = r#"{"version": 1, "currency": "CNY", "locales": ["en"], "name": {"en": "Club"},
    "earn": {"rate": {"points": 1, "perAmount": 100}},
    "referral": {"landingUrl": "/", "referrerPoints": 500, "attributionDays": 30, "message": {"en": "Come"}}}"#;

/// Alice's state with her own referral code.
fn shopper_with_code(customer: &str, code: &str) -> String {
    shopper(customer, 0).replace(r#""asOf""#, &format!(r#""referral": {{"code": "{code}"}}, "asOf""#))
}

fn referral_writes(fx: &[Effect]) -> Vec<(String, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send { entry, .. } if entry.kind == WriteKind::Referral => {
                Some((entry.key.clone(), entry.code.clone()))
            }
            _ => None,
        })
        .collect()
}

fn warnings(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Warn(message) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_landing_code_is_kept_first_touch_and_sent_once_the_shopper_is_known() {
    let friend = loyalty_core::ReferralCode::from_random(42).to_string();
    let other = loyalty_core::ReferralCode::from_random(43).to_string();
    // A guest lands before the program is known: the code waits for the parameter's name.
    let mut store = Store::new(None, RetryPolicy::default());
    store.update(Msg::Start(Cached::default()), env());
    let fx = store.update(Msg::Landed(format!("?utm_source=x&ref={friend}")), env());
    assert_eq!(store.attribution(), None, "{fx:?}");
    let fx = store.update(fetched(Resource::Program, body(REFERRAL_PROGRAM, None)), env());
    let kept = Attribution { code: friend.clone(), landed_at: NOW, expires_at: NOW + 30 * 86_400_000 };
    assert!(fx.contains(&Effect::SaveAttribution(kept.clone())), "{fx:?}");
    assert_eq!(store.attribution(), Some(&kept));
    // A later link does not replace the first while it counts; a tampered one is refused with a warning.
    let later = Env { now_ms: NOW + 1000, random: 0.5 };
    store.update(Msg::Landed(format!("?ref={other}")), later);
    assert_eq!(store.attribution(), Some(&kept));
    let mut tampered = friend.clone();
    tampered.replace_range(7..8, if friend.ends_with('2') { "3" } else { "2" });
    let fx = store.update(Msg::Landed(format!("?ref={tampered}")), later);
    assert_eq!(
        warnings(&fx),
        vec!["the referral code in this page's link is refused: it is not a valid referral code (a character was mistyped or changed)".to_owned()]
    );
    // Signing up: nothing is sent until the shopper's own code is known, then one write with a key per landing.
    let fx = store.update(Msg::SignIn(alice(), Cached::default()), env());
    assert!(referral_writes(&fx).is_empty(), "{fx:?}");
    let answer = body(&shopper_with_code("alice", "22222222"), None);
    let fx = store.update(Msg::Fetched { resource: Resource::Shopper, generation: 1, result: answer }, env());
    let key = format!("referral-{NOW}-{friend}");
    assert_eq!(referral_writes(&fx), vec![(key.clone(), friend.clone())]);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::SaveWrite(entry) if entry.key == key)),
        "saved before it is sent"
    );
    // Another message while it is on its way sends nothing twice.
    let fx = store.update(Msg::Refresh, env());
    assert!(referral_writes(&fx).is_empty(), "{fx:?}");
    // Recorded: the attribution leaves the device, and nothing is reported to the shopper.
    let answer = Ok(format!(r#"{{"referredBy": "{friend}"}}"#));
    let fx = store.update(Msg::Sent { key: key.clone(), kind: WriteKind::Referral, result: answer }, env());
    assert!(fx.contains(&Effect::ForgetAttribution), "{fx:?}");
    assert!(fx.contains(&Effect::ForgetWrite { customer_id: "alice".into(), key }), "{fx:?}");
    assert_eq!((store.attribution(), reports(&fx)), (None, vec![]));
}

#[test]
fn a_shoppers_own_link_and_a_refused_capture_are_used_up_quietly() {
    let own = loyalty_core::ReferralCode::from_random(7).to_string();
    let friend = loyalty_core::ReferralCode::from_random(8).to_string();
    let signed_in_with_code = || {
        let mut store = signed_in();
        store.update(Msg::Start(Cached::default()), env());
        store.update(fetched(Resource::Program, body(REFERRAL_PROGRAM, None)), env());
        store.update(fetched(Resource::Shopper, body(&shopper_with_code("alice", &own), None)), env());
        store
    };
    // Opening one's own link attributes nothing.
    let mut store = signed_in_with_code();
    let fx = store.update(Msg::Landed(format!("?ref={own}")), env());
    assert_eq!((store.attribution(), referral_writes(&fx)), (None, vec![]));
    // An own code kept from before sign-in is dropped, never sent.
    let mut store = signed_in();
    let cached = Attribution { code: own.clone(), landed_at: NOW, expires_at: NOW + 1 };
    let fx0 = store.update(Msg::Start(Cached { attribution: Some(cached), ..Cached::default() }), env());
    store.update(fetched(Resource::Program, body(REFERRAL_PROGRAM, None)), env());
    let fx = store.update(fetched(Resource::Shopper, body(&shopper_with_code("alice", &own), None)), env());
    assert!(referral_writes(&fx0).is_empty() && referral_writes(&fx).is_empty());
    assert!(fx.contains(&Effect::ForgetAttribution), "{fx:?}");
    // An expired one is dropped too.
    let mut store = signed_in();
    let expired = Attribution { code: friend.clone(), landed_at: NOW - 10, expires_at: NOW };
    let fx = store.update(Msg::Start(Cached { attribution: Some(expired), ..Cached::default() }), env());
    assert!(fx.is_empty() || store.attribution().is_some(), "needs the program first");
    let fx = store.update(fetched(Resource::Program, body(REFERRAL_PROGRAM, None)), env());
    assert!(fx.contains(&Effect::ForgetAttribution), "{fx:?}");
    // A refusal (an existing customer) uses the attribution up with a console warning, not an error shown.
    let mut store = signed_in_with_code();
    store.update(Msg::Landed(format!("?ref={friend}")), env());
    let key = format!("referral-{NOW}-{friend}");
    let refused = Err(SyncError::Status {
        status: 409,
        code: Some("not_a_new_customer".into()),
        message: "referrals count for shoppers without orders".into(),
        retry_after_ms: None,
    });
    let fx = store.update(Msg::Sent { key: key.clone(), kind: WriteKind::Referral, result: refused }, env());
    assert!(fx.contains(&Effect::ForgetAttribution), "{fx:?}");
    assert_eq!(reports(&fx), Vec::<&str>::new());
    assert_eq!(warnings(&fx).len(), 1, "{fx:?}");
    assert_eq!(store.error(), None);
    // A backend that cannot capture (no captureReferral in a JS adapter) keeps it for the shop's own form.
    let mut store = signed_in_with_code();
    store.update(Msg::Landed(format!("?ref={friend}")), env());
    let unsupported = Err(SyncError::Status {
        status: 501,
        code: Some("not_supported".into()),
        message: "no".into(),
        retry_after_ms: None,
    });
    let fx = store.update(Msg::Sent { key, kind: WriteKind::Referral, result: unsupported }, env());
    assert!(!fx.contains(&Effect::ForgetAttribution), "{fx:?}");
    assert_eq!(store.attribution().map(|a| a.code.as_str()), Some(friend.as_str()));
    let fx = store.update(Msg::Refresh, env());
    assert!(referral_writes(&fx).is_empty(), "not asked again on this page: {fx:?}");
}

const CATALOG: &str = r#"{"products": [
    {"id": "tea", "title": {"en": "Tea"}, "url": "/p/tea", "price": 100, "neighbours": ["cup"]},
    {"id": "cup", "title": {"en": "Cup"}, "url": "/p/cup", "price": 50},
    {"id": "bad", "title": {"en": "Bad"}, "url": "javascript:alert(1)", "price": 1}
]}"#;

fn catalog_fetches(fx: &[Effect]) -> Vec<(Option<String>, Vec<String>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Fetch { resource: Resource::Catalog, etag, near, identity, .. } => {
                assert!(identity.is_none(), "the catalog is public: no identity is sent");
                Some((etag.clone(), near.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn the_catalog_is_read_only_when_asked_for_and_never_changes_the_pages_status() {
    let mut store = loaded(700);
    assert_eq!(store.catalog(), None);
    let fx = store.update(Msg::Refresh, env());
    assert!(catalog_fetches(&fx).is_empty(), "not asked for yet");
    let want = |near: &[&str]| Msg::WantCatalog { near: near.iter().map(|s| (*s).to_owned()).collect() };
    let fx = store.update(want(&["tea"]), env());
    assert_eq!(catalog_fetches(&fx), vec![(None, vec!["tea".to_owned()])]);
    // Asked again while it is on its way: one request.
    assert!(catalog_fetches(&store.update(want(&["tea"]), env())).is_empty());
    let fx = store.update(fetched(Resource::Catalog, body(CATALOG, Some("\"c1\""))), env());
    let ids: Vec<&str> =
        store.catalog().map(|c| c.iter().map(|p| p.id.as_str()).collect()).unwrap_or_default();
    assert_eq!(ids, ["tea", "cup"], "a product with an unsafe link is left out");
    assert_eq!(
        warnings(&fx),
        vec![r#"catalog product "bad" is left out: its link must be a path on the shop (/products/x) or an https:// URL, got "javascript:alert(1)""#.to_owned()]
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveCatalog { near, .. } if near == &["tea".to_owned()])));
    assert_eq!(store.status(), SyncStatus::Fresh);
    // The same page's products again: nothing to read; another product page: read for it; a refresh revalidates.
    assert!(catalog_fetches(&store.update(want(&["tea"]), env())).is_empty());
    let fx = store.update(Msg::Refresh, env());
    assert_eq!(catalog_fetches(&fx), vec![(Some("\"c1\"".to_owned()), vec!["tea".to_owned()])]);
    store.update(fetched(Resource::Catalog, Ok(Fetched::NotModified)), env());
    let fx = store.update(want(&["cup"]), env());
    assert_eq!(catalog_fetches(&fx), vec![(Some("\"c1\"".to_owned()), vec!["cup".to_owned()])]);
    // A failure is retried, then reported in the console only: the page's status and error stay.
    let mut attempts = 0;
    let mut fx = store.update(fetched(Resource::Catalog, Err(status(503, None))), env());
    while fx.iter().any(|e| matches!(e, Effect::Wake { timer: Timer::Retry(Resource::Catalog), .. })) {
        attempts += 1;
        store.update(Msg::RetryDue { resource: Resource::Catalog, generation: 0 }, env());
        fx = store.update(fetched(Resource::Catalog, Err(status(503, None))), env());
    }
    assert_eq!(attempts, 3);
    assert_eq!((store.status(), store.error().is_none()), (SyncStatus::Fresh, true));
    assert_eq!(store.catalog_error().map(SyncError::code), Some("server_error"));
    assert_eq!(warnings(&fx).len(), 1, "{fx:?}");
    assert_eq!(store.catalog().map(|c| c.len()), Some(2), "the copy in hand is still there to rank");
}

#[test]
fn a_code_issued_before_the_write_or_a_clock_set_back_never_answers_an_old_write() {
    // A morning redemption of the same reward, its code used at checkout; the evening's, saved offline, never
    // reached the server. Four days later the morning's code was taken as the evening's answer (a day's slack
    // for the device's clock); by the backend's clock it was issued ten hours before the write.
    let cached = Cached {
        program: Some((PROGRAM.into(), None)),
        shopper: None,
        outbox: vec![saved_redemption("evening", 4 * DAY_MS)],
        attribution: None,
        catalog: None,
    };
    let mut store = signed_in();
    store.update(Msg::Start(cached), env());
    let morning = (NOW - 4 * DAY_MS) / 1000 - 10 * 3600;
    let state = shopper_with_codes(&[("LOY-MORNI-NGUSE", "ten-off", morning)])
        .replace(r#""createdAt": "#, r#""used": true, "createdAt": "#);
    let fx = store.update(fetched(Resource::Shopper, body(&state, None)), env());
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Settle { key, result: Err(SyncError::NotCompleted) } if key == "evening")
        ),
        "{fx:?}"
    );

    // The device's clock set back by six days after an eight-day-old write: by the device the write is two days
    // old, but the cached state was read by the backend eight days after it. It is checked, never sent.
    let mut old = saved_redemption("k", 2 * DAY_MS);
    old.attempts = 1;
    let read_at = old.created_at / 1000 + 8 * 24 * 3600;
    let cached = Cached {
        program: Some((PROGRAM.into(), None)),
        shopper: Some(shopper("alice", 200).replace("\"asOf\": 1767225600", &format!("\"asOf\": {read_at}"))),
        outbox: vec![old],
        attribution: None,
        catalog: None,
    };
    let mut store = signed_in();
    let fx = store.update(Msg::Start(cached), env());
    assert!(sends(&fx).is_empty(), "{fx:?}");
    assert_eq!(store.outbox()[0].status, WriteStatus::Checking);
}
