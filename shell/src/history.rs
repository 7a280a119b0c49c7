//! The shopper's history for recommendations (views with dwell time, cart adds, purchases), kept in this
//! browser's localStorage and nowhere else: never sent to any backend. Capped at 200 events and 90 days (the
//! oldest go first), saved with a schema version (another version reads as empty), and recorded only while
//! the shopper has personalisation on and, where the shop requires it, has consented. Here, in the shell's
//! crate, because a product page records its visit before (and without) the full widget; the full widget uses
//! these same functions, so there is one history format and one set of caps.

use loyalty_core::{HistoryEvent, HistoryKind, ReadJson, Timestamp};

/// Most events kept.
pub const MAX_EVENTS: usize = 200;

/// Oldest event kept, in seconds.
pub const MAX_AGE_SECONDS: i64 = 90 * 86_400;

/// The saved format's version.
const VERSION: u32 = 1;

/// Views of the same product within this many seconds are one visit (its dwell time grows).
const SAME_VISIT_SECONDS: i64 = 30 * 60;

loyalty_core::wire_struct! {
    lenient;
    /// The history as saved.
    #[derive(Clone, Debug)]
    pub struct SavedHistory {
        /// [`VERSION`].
        pub version: u32,
        /// Oldest first.
        pub events: Vec<HistoryEvent> = Vec::new(),
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// The shopper's choices about personalisation, as saved.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Preferences {
        /// False: the shopper turned personalisation off (China's PIPL, art. 24, asks for the switch).
        pub personalised: bool = true,
        /// Consent to keep a history, where the shop requires it: none yet, given, or refused.
        pub consent: Option<bool>,
    }
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences { personalised: true, consent: None }
    }
}

impl Preferences {
    /// Whether the history may be recorded and used.
    pub fn allows_history(self, require_consent: bool) -> bool {
        self.personalised && (!require_consent || self.consent == Some(true))
    }
}

/// The shopper's choices as saved (`{"personalised":false,"consent":null}`, as the full widget's serde writes
/// them), written here: the shell links no JSON writer.
pub fn saved_preferences(preferences: Preferences) -> String {
    let flag = |b: bool| if b { "true" } else { "false" };
    let consent = preferences.consent.map_or("null", flag);
    crate::texts::join(&["{\"personalised\":", flag(preferences.personalised), ",\"consent\":", consent, "}"])
}

/// The switch under a recommendations list, turned `on` or off: the choices to save, from those saved in
/// `preferences` (empty when none).
pub fn personalise(preferences: &str, on: bool) -> String {
    let saved = (!preferences.is_empty()).then(|| Preferences::read_str(preferences)).flatten();
    saved_preferences(Preferences { personalised: on, ..saved.unwrap_or_default() })
}

/// The history saved in `text`, without what has aged out (a damaged or other-version entry reads as none).
pub fn load(text: Option<&str>, now: Timestamp) -> Vec<HistoryEvent> {
    let Some(saved) = text.and_then(SavedHistory::read_str) else { return Vec::new() };
    if saved.version != VERSION {
        return Vec::new();
    }
    let mut events = saved.events;
    prune(&mut events, now);
    events
}

/// The history as saved: `{"version": 1, "events": [...]}`, written here (the shell links no JSON writer).
pub fn saved(events: &[HistoryEvent]) -> String {
    let mut out = String::from("{\"version\":");
    out.push_str(&crate::texts::decimal(u64::from(VERSION)));
    out.push_str(",\"events\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"productId\":");
        push_string(&mut out, &e.product_id);
        out.push_str(",\"kind\":\"");
        out.push_str(match e.kind {
            HistoryKind::View => "view",
            HistoryKind::Cart => "cart",
            HistoryKind::Purchase => "purchase",
        });
        out.push_str("\",\"at\":");
        // By hand: `to_string` would link the formatting machinery the shell otherwise leaves out.
        if e.at < 0 {
            out.push('-');
        }
        out.push_str(&crate::texts::decimal(e.at.unsigned_abs()));
        out.push_str(",\"dwellSeconds\":");
        out.push_str(&crate::texts::decimal(u64::from(e.dwell_seconds)));
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A product page's visit (or its dwell time, when the page is left) into the saved history `text`, if the
/// shopper's saved `preferences` and the shop's `require_consent` allow a history: the new text to save.
pub fn visit(
    text: Option<&str>,
    preferences: Option<&str>,
    require_consent: bool,
    event: HistoryEvent,
    now: Timestamp,
) -> Option<String> {
    let preferences = preferences.and_then(Preferences::read_str).unwrap_or_default();
    if !preferences.allows_history(require_consent) {
        return None;
    }
    let mut events = load(text, now);
    record(&mut events, event, now);
    Some(saved(&events))
}

/// Adds an event: a repeated view within one visit lengthens the first; then the caps apply.
pub fn record(events: &mut Vec<HistoryEvent>, event: HistoryEvent, now: Timestamp) {
    let same_visit = events.iter_mut().rev().find(|e| {
        e.kind == HistoryKind::View
            && event.kind == HistoryKind::View
            && e.product_id == event.product_id
            && (event.at - e.at).abs() <= SAME_VISIT_SECONDS
    });
    match same_visit {
        Some(visit) => {
            visit.dwell_seconds = visit.dwell_seconds.saturating_add(event.dwell_seconds).min(3_600)
        }
        None => {
            let at = events.partition_point(|e| e.at <= event.at);
            events.insert(at, event);
        }
    }
    prune(events, now);
}

fn prune(events: &mut Vec<HistoryEvent>, now: Timestamp) {
    events.retain(|e| now - e.at <= MAX_AGE_SECONDS && e.at <= now + 300);
    if events.len() > MAX_EVENTS {
        let extra = events.len() - MAX_EVENTS;
        events.drain(..extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_767_225_600;

    fn view(id: &str, at: Timestamp, dwell: u32) -> HistoryEvent {
        HistoryEvent { product_id: id.into(), kind: HistoryKind::View, at, dwell_seconds: dwell }
    }

    #[test]
    fn the_history_keeps_200_events_and_90_days_oldest_dropped_first() {
        let mut events = Vec::new();
        for i in 0..250 {
            record(&mut events, view(&format!("p{i}"), NOW - 250 + i, 5), NOW);
        }
        assert_eq!(events.len(), MAX_EVENTS);
        assert_eq!((events[0].product_id.as_str(), events[199].product_id.as_str()), ("p50", "p249"));
        record(&mut events, view("old", NOW - MAX_AGE_SECONDS - 1, 5), NOW);
        assert!(!events.iter().any(|e| e.product_id == "old"));
        // A later visit of the same product in the same half hour lengthens it.
        record(&mut events, view("p249", NOW, 40), NOW);
        assert_eq!((events.len(), events[199].dwell_seconds), (MAX_EVENTS, 45));
    }

    #[test]
    fn only_this_version_is_read_and_aged_events_are_dropped() {
        let text = |version: u32| {
            format!(
                r#"{{"version": {version}, "events": [{{"productId": "a", "kind": "view", "at": {}}},
                   {{"productId": "b", "kind": "purchase", "at": {}}}]}}"#,
                NOW - 10,
                NOW - MAX_AGE_SECONDS - 10
            )
        };
        let loaded = load(Some(&text(1)), NOW);
        assert_eq!(loaded.iter().map(|e| e.product_id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(load(Some(&text(2)), NOW).is_empty());
        assert!(load(Some("{damaged"), NOW).is_empty());
        assert!(load(None, NOW).is_empty());
    }

    #[test]
    fn the_saved_history_reads_back_as_itself_whatever_the_ids() {
        let events = vec![
            view("plain", NOW - 5, 0),
            view("quote\" back\\slash \u{1} tab\t 中文 \u{1F375}", NOW - 4, 12),
            HistoryEvent {
                product_id: "c".into(),
                kind: HistoryKind::Purchase,
                at: NOW - 3,
                dwell_seconds: 0,
            },
        ];
        let text = saved(&events);
        assert_eq!(load(Some(&text), NOW), events);
        assert_eq!(SavedHistory::read_str(&text).map(|s| s.version), Some(1));
    }

    #[test]
    fn a_visit_is_kept_only_when_the_shopper_allows_it() {
        let first = visit(None, None, false, view("tea", NOW, 0), NOW).expect("allowed by default");
        assert_eq!(load(Some(&first), NOW).len(), 1);
        // Leaving the page adds the dwell time to the same visit.
        let left = visit(Some(&first), None, false, view("tea", NOW + 40, 40), NOW + 40).expect("allowed");
        assert_eq!(load(Some(&left), NOW + 40)[0].dwell_seconds, 40);
        assert_eq!(visit(None, Some(r#"{"personalised": false}"#), false, view("tea", NOW, 0), NOW), None);
        assert_eq!(visit(None, None, true, view("tea", NOW, 0), NOW), None);
        assert!(visit(
            None,
            Some(r#"{"personalised": true, "consent": true}"#),
            true,
            view("tea", NOW, 0),
            NOW
        )
        .is_some());
    }

    #[test]
    fn consent_and_the_switch_decide_together() {
        let prefs = |personalised, consent| Preferences { personalised, consent };
        assert!(prefs(true, None).allows_history(false));
        assert!(!prefs(true, None).allows_history(true));
        assert!(prefs(true, Some(true)).allows_history(true));
        assert!(!prefs(false, Some(true)).allows_history(true));
        assert!(!prefs(false, None).allows_history(false));
    }

    #[test]
    fn the_switch_keeps_the_consent_and_writes_what_the_reader_reads() {
        for (saved, on, expected) in [
            ("", false, r#"{"personalised":false,"consent":null}"#),
            (r#"{"personalised":false,"consent":true}"#, true, r#"{"personalised":true,"consent":true}"#),
            (r#"{"consent":false}"#, false, r#"{"personalised":false,"consent":false}"#),
            ("not json", true, r#"{"personalised":true,"consent":null}"#),
        ] {
            let text = personalise(saved, on);
            assert_eq!(text, expected, "{saved}");
            assert_eq!(Preferences::read_str(&text).map(|p| p.personalised), Some(on));
        }
    }
}
