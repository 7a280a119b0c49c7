//! The in-memory adapter: a program and a shopper held in the page, for tests, previews and the offline demo.
//! Redemptions follow the same rules as the server (loyalty-core's `check_redemption`) and are idempotent by
//! key, so code written against it behaves the same against a real backend.

use super::{Answer, Backend, Call, Pending};
use crate::store::{Fetched, Resource, WriteKind};
use crate::sync_error::SyncError;
use loyalty_core::{
    check_redemption, rewards_overview, Activity, IssuedCode, LedgerKind, Program, Redemption, ShopperState,
};
use std::cell::RefCell;

pub(crate) struct MemoryBackend {
    program_text: String,
    /// `{"products": [...]}`, when the memory data has a catalog.
    catalog_text: Option<String>,
    program: Program,
    shopper: RefCell<Option<ShopperState>>,
    /// Answers by idempotency key.
    answers: RefCell<Vec<(String, String)>>,
}

impl MemoryBackend {
    pub(crate) fn new(
        program_text: String,
        program: Program,
        shopper: Option<ShopperState>,
        catalog_text: Option<String>,
    ) -> MemoryBackend {
        MemoryBackend {
            program_text,
            catalog_text,
            program,
            shopper: RefCell::new(shopper),
            answers: RefCell::default(),
        }
    }

    /// A write, idempotent by key as the server's: a key already answered gets the same answer; otherwise
    /// `apply` changes the shopper and gives the answer's text, which is kept for that key.
    fn write(&self, key: &str, apply: impl FnOnce(&mut ShopperState) -> Result<String, SyncError>) -> Answer {
        if let Some((_, text)) = self.answers.borrow().iter().find(|(k, _)| k == key) {
            return Ok(Fetched::Body { text: text.clone(), etag: None });
        }
        let text = match self.shopper.borrow_mut().as_mut() {
            Some(state) => apply(state)?,
            None => return Err(refusal(401, "unauthorized", "no shopper in the memory backend".into())),
        };
        self.answers.borrow_mut().push((key.to_owned(), text.clone()));
        Ok(Fetched::Body { text, etag: None })
    }

    /// Sets the birthday once, as the server does.
    fn set_birthday(state: &mut ShopperState, birthday: &str) -> Result<String, SyncError> {
        if state.birthday.is_some() {
            return Err(refusal(409, "birthday_already_set", "the birthday can be set once".into()));
        }
        state.birthday = Some(birthday.to_owned());
        answer_text(&crate::store::BirthdaySet { birthday: birthday.to_owned() })
    }

    /// Records a referral, refusing the shopper's own code as the server does.
    fn capture_referral(state: &mut ShopperState, code: &str) -> Result<String, SyncError> {
        if state.referral.as_ref().is_some_and(|r| r.code == code) {
            return Err(refusal(409, "own_referral_code", "shoppers cannot refer themselves".into()));
        }
        answer_text(&crate::store::ReferralCaptured { referred_by: code.to_owned() })
    }

    fn redeem(&self, state: &mut ShopperState, reward_id: &str, now: i64) -> Result<String, SyncError> {
        let reward = check_redemption(&self.program, reward_id, state.balance.available).map_err(|e| {
            let code = match e {
                loyalty_core::RedeemError::UnknownReward(_) => "unknown_reward",
                _ => "insufficient_points",
            };
            refusal(409, code, e.to_string())
        })?;
        let number = self.answers.borrow().len() + 1;
        let redemption = Redemption {
            id: format!("mem-{number}"),
            reward_id: reward.id.clone(),
            cost: reward.cost,
            code: format!("MEM-{number:05}"),
            created_at: now,
        };
        state.balance.available -= reward.cost;
        state.rewards = rewards_overview(&self.program, state.balance.available);
        state.codes.insert(
            0,
            IssuedCode {
                code: redemption.code.clone(),
                reward_id: reward.id.clone(),
                created_at: now,
                used: false,
            },
        );
        let activity = Activity {
            at: now,
            kind: LedgerKind::Redeem,
            points: reward.cost,
            source: None,
            order_id: None,
            reason: None,
        };
        state.activity.insert(0, activity);
        state.as_of = now;
        answer_text(&redemption)
    }
}

fn answer_text<T: serde::Serialize>(answer: &T) -> Result<String, SyncError> {
    crate::json_text(answer).ok_or_else(|| SyncError::Adapter("cannot write the answer".into()))
}

fn refusal(status: u16, code: &str, message: String) -> SyncError {
    SyncError::Status { status, code: Some(code.into()), message, retry_after_ms: None }
}

impl Backend for MemoryBackend {
    fn call(&self, call: Call) -> Pending {
        let now = (js_sys::Date::now() / 1000.0) as i64;
        let answer = match call {
            Call::Read { resource: Resource::Program, .. } => {
                Ok(Fetched::Body { text: self.program_text.clone(), etag: None })
            }
            Call::Read { resource: Resource::Catalog, .. } => match &self.catalog_text {
                Some(text) => Ok(Fetched::Body { text: text.clone(), etag: None }),
                None => Err(refusal(404, "not_found", "the memory data has no catalog".into())),
            },
            Call::Read { resource: Resource::Shopper, .. } => match &*self.shopper.borrow() {
                Some(state) => crate::json_text(state)
                    .map(|text| Fetched::Body { text, etag: None })
                    .ok_or_else(|| SyncError::Adapter("cannot write the shopper state".into())),
                None => Err(refusal(401, "unauthorized", "no shopper in the memory backend".into())),
            },
            Call::Write { entry, .. } => self.write(&entry.key, |state| match entry.kind {
                WriteKind::Redeem => self.redeem(state, &entry.reward_id, now),
                WriteKind::Birthday => MemoryBackend::set_birthday(state, &entry.birthday),
                WriteKind::Referral => MemoryBackend::capture_referral(state, &entry.code),
            }),
        };
        Box::pin(std::future::ready(answer))
    }
}
