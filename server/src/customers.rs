//! Shoppers' own writes (birthday, referral capture), the customer webhook from the shop, and the admin's
//! tools for one shopper: manual point adjustments with an audit trail, data export, and erasure.

use crate::db::{self, NewEntry};
use crate::error::ApiError;
use crate::redemptions::{idempotent, KeyScope};
use crate::routes::{body, decode, ensure_customer, shopper};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use loyalty_core::{
    birthday_award, BirthdayAward, EarnSource, LedgerEntry, LedgerKind, MonthDay, Problems, Program,
    QualifyingEvent,
};
use serde_json::{json, Value};
use sqlx::Row;

loyalty_core::wire_struct! {
    strict;
    /// `PUT /v1/customers/me/birthday` body.
    #[derive(Debug)]
    pub struct BirthdayRequest {
        /// Month and day, `MM-DD` (no year: it is not needed and not asked for).
        pub birthday: String,
    }
}

/// `PUT /v1/customers/me/birthday`: set once (a second, different date is a 409).
pub async fn put_birthday(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let customer = shopper(&state, &headers)?;
    let bytes = body(bytes)?;
    idempotent(
        &state,
        &headers,
        KeyScope::Shopper(&customer),
        "PUT /v1/customers/me/birthday",
        &bytes,
        |claim| {
            let (state, customer, bytes) = (&state, &customer, &bytes);
            async move {
                let request: BirthdayRequest = decode(bytes)?;
                let birthday = MonthDay::parse(&request.birthday)
                    .map_err(|m| ApiError::invalid("invalid_body", Problems::one("birthday", m)))?;
                let now = state.now();
                let mut conn = crate::db::begin_write(&state.db).await?;
                ensure_customer(&mut conn, customer, now).await?;
                let set = sqlx::query(
                "UPDATE customers SET birthday = ?, birthday_set_at = ? WHERE id = ? AND birthday IS NULL",
            )
            .bind(birthday.to_string())
            .bind(now)
            .bind(customer)
            .execute(&mut *conn)
            .await?
            .rows_affected();
                if set == 0 {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "birthday_already_set",
                        "the birthday can be set once; the shop can correct it",
                    ));
                }
                let finished = claim
                    .finish(&mut conn, StatusCode::OK, json!({ "birthday": birthday.to_string() }))
                    .await?;
                conn.commit().await?;
                Ok(finished)
            }
        },
    )
    .await
}

loyalty_core::wire_struct! {
    strict;
    /// `POST /v1/referrals/capture` body.
    #[derive(Debug)]
    pub struct CaptureRequest {
        /// The referral code from the landing link.
        pub code: String,
    }
}

/// `POST /v1/referrals/capture`: records who referred the signed-in shopper (before their first order,
/// never themselves, once). A guest's code waits in the browser until sign-in.
pub async fn capture_referral(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let customer = shopper(&state, &headers)?;
    let bytes = body(bytes)?;
    idempotent(
        &state,
        &headers,
        KeyScope::Shopper(&customer),
        "POST /v1/referrals/capture",
        &bytes,
        |claim| {
            let (state, customer, bytes) = (&state, &customer, &bytes);
            async move {
                let request: CaptureRequest = decode(bytes)?;
                let code = loyalty_core::ReferralCode::parse(&request.code)
                    .map_err(|message| ApiError::invalid("invalid_body", Problems::one("code", message)))?
                    .to_string();
                let now = state.now();
                let _write = state.write_lock.lock().await;
                let mut tx = crate::db::begin_write(&state.db).await?;
                ensure_customer(&mut tx, customer, now).await?;
                let version = state.program_at(now);
                attach_referral(&mut tx, version.as_ref().map(|v| &*v.program), customer, &code, now).await?;
                let finished = claim.finish(&mut tx, StatusCode::OK, json!({ "referredBy": code })).await?;
                tx.commit().await?;
                Ok(finished)
            }
        },
    )
    .await
}

/// Links `customer` to the referrer owning `code`, with the rules every path shares, under the program in
/// effect at `now` (none: no terms to attribute under).
async fn attach_referral(
    tx: &mut sqlx::SqliteConnection,
    program: Option<&Program>,
    customer: &str,
    code: &str,
    now: i64,
) -> Result<(), ApiError> {
    let owner: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT id, email FROM customers WHERE referral_code = ?")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
    let (owner, owner_email) = owner.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_referral_code", "no shopper has this referral code")
    })?;
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM customers WHERE id = ?")
        .bind(customer)
        .fetch_one(&mut *tx)
        .await?;
    let same_mailbox =
        loyalty_core::same_person(owner_email.as_deref().unwrap_or(""), email.as_deref().unwrap_or(""));
    if owner == customer || same_mailbox {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_referral_code",
            "shoppers cannot refer themselves",
        ));
    }
    let (referred_by,): (Option<String>,) = sqlx::query_as("SELECT referred_by FROM customers WHERE id = ?")
        .bind(customer)
        .fetch_one(&mut *tx)
        .await?;
    match referred_by {
        Some(existing) if existing == code => return Ok(()),
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_referred",
                "this shopper was already referred",
            ))
        }
        None => {}
    }
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE customer_id = ?")
        .bind(customer)
        .fetch_one(&mut *tx)
        .await?;
    if orders > 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_a_new_customer",
            "referrals count for shoppers without orders",
        ));
    }
    // First touch is for new accounts: an old account that never ordered is not one (the rule is core's).
    let program = program.ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "no_program", "no loyalty program is active to refer under")
    })?;
    let made: Option<i64> = sqlx::query_scalar("SELECT signed_up_at FROM customers WHERE id = ?")
        .bind(customer)
        .fetch_one(&mut *tx)
        .await?;
    if !loyalty_core::referral_capture_allowed(program, made, now) {
        let days = program.config().referral.as_ref().map_or(30, |t| t.attribution_days);
        return Err(match made {
            None => ApiError::new(
                StatusCode::CONFLICT,
                "account_age_unknown",
                "the shop has not reported when this account was made (signedUpAt in the customer webhook), so it is not known to be new",
            ),
            Some(_) => ApiError::new(
                StatusCode::CONFLICT,
                "not_a_new_customer",
                format!("referrals count for accounts the shop made at most attributionDays ({days}) days before"),
            ),
        });
    }
    sqlx::query("UPDATE customers SET referred_by = ? WHERE id = ?")
        .bind(code)
        .bind(customer)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

loyalty_core::wire_enum! {
    /// What happened to a customer.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum CustomerEventKind {
        /// Signed up.
        Created,
        /// Changed details.
        Updated,
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// A customer as the shop's server reports it.
    #[derive(Clone, Debug)]
    pub struct CustomerPayload {
        /// The shop's customer id.
        pub id: String,
        /// E-mail address.
        pub email: Option<String>,
        /// When they signed up, Unix seconds.
        pub signed_up_at: Option<i64>,
        /// A referral code the shop captured at sign-up.
        pub referral_code: Option<String>,
        /// When the shop last changed this customer, Unix seconds: the event's own time, which orders
        /// events (one not newer than the last applied changes nothing).
        pub updated_at: Option<i64>,
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// `POST /v1/webhooks/customers` body.
    #[derive(Clone, Debug)]
    pub struct CustomerEvent {
        /// What happened.
        pub event: CustomerEventKind,
        /// The customer.
        pub customer: CustomerPayload,
    }
}

/// `POST /v1/webhooks/customers`: created or updated. An upsert ordered by the event's `updatedAt`, so replays
/// and late deliveries change nothing; a referral code captured at sign-up completes the attribution here.
pub async fn customer_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body(bytes)?;
    let now = state.now();
    crate::routes::signed_by_shop(&state, &headers, &bytes)?;
    let event: CustomerEvent = decode(&bytes)?;
    let c = &event.customer;
    let mut problems = Problems::default();
    if !crate::auth::is_customer_id(&c.id) {
        problems.push("customer.id", "must be 1 to 128 bytes without newlines");
    }
    // Times order events and say whether an account is new: one in the future (milliseconds, or a wrong clock)
    // would put every later event before it, or keep an account new for ever.
    let latest = now.saturating_add(state.config.clock_skew);
    for (field, at) in [("customer.updatedAt", c.updated_at), ("customer.signedUpAt", c.signed_up_at)] {
        if at.is_some_and(|at| at > latest) {
            problems.push(field, "must be Unix seconds, not in the future");
        }
    }
    if !problems.0.is_empty() {
        return Err(ApiError::invalid("invalid_body", problems));
    }
    let _write = state.write_lock.lock().await;
    let mut tx = crate::db::begin_write(&state.db).await?;
    ensure_customer(&mut tx, &c.id, now).await?;
    let last: Option<i64> = sqlx::query_scalar("SELECT shop_updated_at FROM customers WHERE id = ?")
        .bind(&c.id)
        .fetch_one(&mut *tx)
        .await?;
    match (c.updated_at, last) {
        // Not newer than the event last applied: a replay or a late delivery. Answered, and nothing changes
        // (an old e-mail coming back would undo the self-referral check that relies on the current one).
        (Some(at), Some(last)) if at <= last => {
            tx.commit().await?;
            return Ok(Json(json!({ "customerId": c.id, "referral": Value::Null, "ignored": "stale" })));
        }
        // A timed event newer than anything applied sets what it carries.
        (Some(at), _) => {
            sqlx::query(
                "UPDATE customers SET email = COALESCE(?, email), signed_up_at = COALESCE(signed_up_at, ?),
                 shop_updated_at = ? WHERE id = ?",
            )
            .bind(&c.email)
            .bind(c.signed_up_at)
            .bind(at)
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
        }
        // An event without a time cannot be ordered: it fills in only what is not known yet.
        (None, _) => {
            sqlx::query(
                "UPDATE customers SET email = COALESCE(email, ?), signed_up_at = COALESCE(signed_up_at, ?)
                 WHERE id = ?",
            )
            .bind(&c.email)
            .bind(c.signed_up_at)
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
        }
    }
    let mut referral = Value::Null;
    if let Some(code) = &c.referral_code {
        let attached = match loyalty_core::ReferralCode::parse(code) {
            Ok(code) => {
                let version = state.program_at(now);
                let program = version.as_ref().map(|v| &*v.program);
                attach_referral(&mut tx, program, &c.id, code.as_str(), now).await.map(|()| code.to_string())
            }
            Err(message) => Err(ApiError::invalid(
                "invalid_referral_code",
                Problems::one("customer.referralCode", message),
            )),
        };
        referral = match attached {
            Ok(code) => json!({ "referredBy": code }),
            // The customer is recorded either way; the shop learns why the code did not count.
            Err(error) if error.status.is_client_error() => {
                json!({ "refused": error.code, "message": error.message })
            }
            Err(error) => return Err(error),
        };
    }
    tx.commit().await?;
    Ok(Json(json!({ "customerId": c.id, "referral": referral })))
}

loyalty_core::wire_struct! {
    strict;
    /// `POST /v1/admin/customers/{id}/adjustments` body.
    #[derive(Debug)]
    pub struct AdjustmentRequest {
        /// Points to add (positive) or take (negative).
        pub points: i64,
        /// Why, kept in the audit trail and shown to the shopper.
        pub reason: String,
        /// Who did it (a name or staff id).
        pub actor: String,
    }
}

/// The largest manual adjustment either way, in points.
const MAX_ADJUSTMENT: i64 = 100_000_000;

/// `POST /v1/admin/customers/{id}/adjustments`: a manual correction, with reason and actor kept.
pub async fn adjust(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(customer): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    crate::routes::admin(&state, &headers)?;
    let bytes = body(bytes)?;
    idempotent(
        &state,
        &headers,
        KeyScope::AdminFor(&customer),
        "POST /v1/admin/customers/adjustments",
        &bytes,
        |claim| {
            let (state, customer, bytes) = (&state, &customer, &bytes);
            async move {
                let request: AdjustmentRequest = decode(bytes)?;
                let mut problems = Vec::new();
                // A range, not `abs()`: `i64::MIN` has no positive counterpart, and its `abs()` overflows (it
                // wrapped to itself and passed, and the entry broke every later read of the balance).
                let range = -MAX_ADJUSTMENT..=MAX_ADJUSTMENT;
                if request.points == 0 || !range.contains(&request.points) {
                    problems.push(loyalty_core::Problem {
                        path: "points".into(),
                        message: format!(
                            "must be non-zero and at most {MAX_ADJUSTMENT} either way, got {}",
                            request.points
                        ),
                    });
                }
                for (field, value) in [("reason", &request.reason), ("actor", &request.actor)] {
                    if value.trim().is_empty() || value.len() > 500 {
                        problems.push(loyalty_core::Problem {
                            path: field.into(),
                            message: "must be 1 to 500 bytes".into(),
                        });
                    }
                }
                if !problems.is_empty() {
                    return Err(ApiError::invalid("invalid_body", Problems(problems)));
                }
                let now = state.now();
                let _write = state.write_lock.lock().await;
                let mut tx = crate::db::begin_write(&state.db).await?;
                ensure_customer(&mut tx, customer, now).await?;
                let entry = LedgerEntry {
                    at: now,
                    kind: LedgerKind::Adjust,
                    points: request.points,
                    source: EarnSource::Adjustment,
                    order_id: None,
                };
                let new =
                    NewEntry { customer, entry, reason: Some(&request.reason), actor: Some(&request.actor) };
                db::append_ledger(&mut tx, new, now).await?;
                let answer = json!({ "customerId": customer, "points": request.points, "at": now });
                let finished = claim.finish(&mut tx, StatusCode::CREATED, answer).await?;
                tx.commit().await?;
                // No customer id in the logs: erasure could not reach it there.
                tracing::info!(points = request.points, actor = request.actor, "manual adjustment");
                Ok(finished)
            }
        },
    )
    .await
}

/// `GET /v1/admin/customers/{id}/export`: everything stored about a shopper (GDPR art. 15, PIPL art. 45).
pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(customer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    crate::routes::admin(&state, &headers)?;
    let row = sqlx::query("SELECT id, email, signed_up_at, birthday, referral_code, referred_by, created_at, shop_updated_at FROM customers WHERE id = ?")
        .bind(&customer)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no shopper has this id"))?;
    let profile = json!({
        "id": row.try_get::<String, _>("id")?,
        "email": row.try_get::<Option<String>, _>("email")?,
        "signedUpAt": row.try_get::<Option<i64>, _>("signed_up_at")?,
        "birthday": row.try_get::<Option<String>, _>("birthday")?,
        "referralCode": row.try_get::<String, _>("referral_code")?,
        "referredBy": row.try_get::<Option<String>, _>("referred_by")?,
        "createdAt": row.try_get::<i64, _>("created_at")?,
        "updatedAt": row.try_get::<Option<i64>, _>("shop_updated_at")?,
    });
    let ledger: Vec<Value> = sqlx::query("SELECT at, kind, points, source, order_id, reason, actor FROM ledger WHERE customer_id = ? ORDER BY at, id")
        .bind(&customer)
        .fetch_all(&state.db)
        .await?
        .iter()
        .map(|r| -> Result<Value, sqlx::Error> {
            Ok(json!({
                "at": r.try_get::<i64, _>("at")?, "kind": r.try_get::<String, _>("kind")?,
                "points": r.try_get::<i64, _>("points")?, "source": r.try_get::<String, _>("source")?,
                "orderId": r.try_get::<Option<String>, _>("order_id")?, "reason": r.try_get::<Option<String>, _>("reason")?,
                "actor": r.try_get::<Option<String>, _>("actor")?,
            }))
        })
        .collect::<Result<_, _>>()?;
    let orders: Vec<Value> = sqlx::query("SELECT id, paid_at, currency, amount, awarded, refunded, status FROM orders WHERE customer_id = ? ORDER BY paid_at")
        .bind(&customer)
        .fetch_all(&state.db)
        .await?
        .iter()
        .map(|r| -> Result<Value, sqlx::Error> {
            Ok(json!({
                "id": r.try_get::<String, _>("id")?, "paidAt": r.try_get::<i64, _>("paid_at")?,
                "currency": r.try_get::<String, _>("currency")?, "amount": r.try_get::<i64, _>("amount")?,
                "awarded": r.try_get::<i64, _>("awarded")?, "refunded": r.try_get::<i64, _>("refunded")?,
                "status": r.try_get::<String, _>("status")?,
            }))
        })
        .collect::<Result<_, _>>()?;
    let redemptions: Vec<Value> = sqlx::query("SELECT id, reward_id, cost, code, created_at FROM redemptions WHERE customer_id = ? ORDER BY created_at")
        .bind(&customer)
        .fetch_all(&state.db)
        .await?
        .iter()
        .map(|r| -> Result<Value, sqlx::Error> {
            Ok(json!({
                "id": r.try_get::<String, _>("id")?, "rewardId": r.try_get::<String, _>("reward_id")?,
                "cost": r.try_get::<i64, _>("cost")?, "code": r.try_get::<String, _>("code")?,
                "createdAt": r.try_get::<i64, _>("created_at")?,
            }))
        })
        .collect::<Result<_, _>>()?;
    let qualifying_events: Vec<Value> = db::qualifying_events(&state.db, &customer)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "at": e.at, "source": db::wire_name(&e.source), "spend": e.spend, "points": e.points,
                "orders": e.orders,
            })
        })
        .collect();
    let discount_codes: Vec<Value> = sqlx::query("SELECT code, reward, created_at, consumed_at, consumed_order_id FROM discount_codes WHERE customer_id = ? ORDER BY created_at, rowid")
        .bind(&customer)
        .fetch_all(&state.db)
        .await?
        .iter()
        .map(|r| -> Result<Value, ApiError> {
            let reward: Value =
                serde_json::from_str(&r.try_get::<String, _>("reward")?).map_err(ApiError::internal)?;
            let used_at = r.try_get::<Option<i64>, _>("consumed_at")?;
            Ok(json!({
                "code": r.try_get::<String, _>("code")?, "reward": reward,
                "createdAt": r.try_get::<i64, _>("created_at")?, "used": used_at.is_some(), "usedAt": used_at,
                "orderId": r.try_get::<Option<String>, _>("consumed_order_id")?,
            }))
        })
        .collect::<Result<_, _>>()?;
    let referrals = referrals_export(&state, &customer, &profile).await?;
    Ok(Json(json!({
        "profile": profile, "ledger": ledger, "orders": orders, "redemptions": redemptions,
        "qualifyingEvents": qualifying_events, "discountCodes": discount_codes, "referrals": referrals,
        "exportedAt": state.now(),
    })))
}

/// The shopper's referrals, both ways: who referred them and what their own order paid them; and, as a
/// referrer, how many signed up with their code and what each reward paid. A friend's id and order are the
/// friend's data, so the referrer's side names a reward as the ledger does (`referral-<n>`), never the friend.
async fn referrals_export(state: &AppState, customer: &str, profile: &Value) -> Result<Value, ApiError> {
    let reward_row = |r: &sqlx::sqlite::SqliteRow, points: &str| -> Result<Value, sqlx::Error> {
        Ok(json!({
            "points": r.try_get::<i64, _>(points)?, "status": r.try_get::<String, _>("status")?,
            "refusal": r.try_get::<Option<String>, _>("refusal")?, "at": r.try_get::<i64, _>("created_at")?,
            "reversedAt": r.try_get::<Option<i64>, _>("reversed_at")?,
        }))
    };
    let as_friend = sqlx::query("SELECT order_id, friend_points, status, refusal, created_at, reversed_at FROM referral_rewards WHERE friend_id = ?")
        .bind(customer)
        .fetch_optional(&state.db)
        .await?
        .map(|r| -> Result<Value, sqlx::Error> {
            let mut reward = reward_row(&r, "friend_points")?;
            reward["orderId"] = json!(r.try_get::<String, _>("order_id")?);
            Ok(reward)
        })
        .transpose()?;
    let as_referrer: Vec<Value> = sqlx::query("SELECT rowid, referrer_points, status, refusal, created_at, reversed_at FROM referral_rewards WHERE referrer_id = ? ORDER BY created_at, rowid")
        .bind(customer)
        .fetch_all(&state.db)
        .await?
        .iter()
        .map(|r| -> Result<Value, sqlx::Error> {
            let mut reward = reward_row(r, "referrer_points")?;
            reward["reward"] = json!(format!("referral-{}", r.try_get::<i64, _>("rowid")?));
            Ok(reward)
        })
        .collect::<Result<_, _>>()?;
    let code = profile["referralCode"].as_str().unwrap_or_default();
    let invited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE referred_by = ?")
        .bind(code)
        .fetch_one(&state.db)
        .await?;
    Ok(json!({
        "asFriend": { "referredBy": profile["referredBy"], "reward": as_friend },
        "asReferrer": { "code": code, "invited": invited, "rewards": as_referrer },
    }))
}

/// `DELETE /v1/admin/customers/{id}`: erasure (GDPR art. 17, PIPL art. 47). Personal data is deleted; the
/// points ledger, orders and codes are kept as accounting records under a random pseudonym that nothing
/// links back to the shopper.
pub async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(customer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    crate::routes::admin(&state, &headers)?;
    let pseudonym = format!("erased:{}", crate::config::random_hex(16));
    let now = state.now();
    let _write = state.write_lock.lock().await;
    let mut tx = crate::db::begin_write(&state.db).await?;
    let code: Option<String> =
        sqlx::query_scalar("DELETE FROM customers WHERE id = ? RETURNING referral_code")
            .bind(&customer)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(code) = code else {
        return Err(ApiError::not_found("no shopper has this id"));
    };
    // The shopper's referral code is public (shared beside their name): left in the friends' `referred_by` or in
    // a friend's stored capture answer, it would join back to the pseudonym's rewards, ledger and orders. The
    // friends stay referred (by nobody that can be named), so they cannot be referred again.
    sqlx::query("UPDATE customers SET referred_by = 'erased' WHERE referred_by = ?")
        .bind(&code)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM idempotency_keys WHERE instr(response, ?) > 0")
        .bind(format!("\"{code}\""))
        .execute(&mut *tx)
        .await?;
    // Whole statements, not a table name formatted in: every query in the server is a literal.
    for sql in [
        "UPDATE ledger SET customer_id = ? WHERE customer_id = ?",
        "UPDATE qualifying_events SET customer_id = ? WHERE customer_id = ?",
        "UPDATE orders SET customer_id = ? WHERE customer_id = ?",
        "UPDATE redemptions SET customer_id = ? WHERE customer_id = ?",
        "UPDATE discount_codes SET customer_id = ? WHERE customer_id = ?",
        "UPDATE referral_rewards SET friend_id = ? WHERE friend_id = ?",
        "UPDATE referral_rewards SET referrer_id = ? WHERE referrer_id = ?",
    ] {
        sqlx::query(sql).bind(&pseudonym).bind(&customer).execute(&mut *tx).await?;
    }
    // Stored answers can hold personal data (a birthday): they go, for the shopper's and the admin's keys.
    for scope in [KeyScope::Shopper(&customer).stored(), KeyScope::AdminFor(&customer).stored()] {
        sqlx::query("DELETE FROM idempotency_keys WHERE customer_id = ?")
            .bind(scope)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(at = now, "erased a shopper's personal data");
    Ok(Json(json!({ "erased": true, "at": now })))
}

/// The birthday gift due at `now` from a shopper's stored birthday (`MM-DD`), when the shop learned it, and the
/// instant of their latest gift.
pub(crate) fn gift_due(
    program: &Program,
    birthday: Option<&str>,
    known_since: Option<i64>,
    last_gift: Option<i64>,
    now: i64,
) -> Option<BirthdayAward> {
    let birthday = MonthDay::parse(birthday?).ok()?;
    birthday_award(program, birthday, known_since?, last_gift, now)
}

/// Gives a shopper the birthday gift if one is due (see [`loyalty_core::birthday_award`]); true when given.
/// Cheap when nothing is due: one read, and a write transaction only to give the gift, re-checked inside it so
/// two callers at once give it once. It runs on the caller's connection: a read of `customers/me` that gives
/// the gift must not take a second pooled connection while it holds one.
pub(crate) async fn award_birthday(
    conn: &mut sqlx::SqliteConnection,
    program: &Program,
    customer: &str,
    now: i64,
) -> Result<bool, ApiError> {
    if program.birthday.is_none() {
        return Ok(false);
    }
    let due = |row: Option<(Option<String>, Option<i64>, Option<i64>)>| {
        let (birthday, known_since, last) = row?;
        gift_due(program, birthday.as_deref(), known_since, last, now)
    };
    let query = "SELECT c.birthday, c.birthday_set_at,
                    (SELECT MAX(at) FROM ledger l WHERE l.customer_id = c.id AND l.source = 'birthday')
                 FROM customers c WHERE c.id = ?";
    let row = sqlx::query_as(query).bind(customer).fetch_optional(&mut *conn).await?;
    if due(row).is_none() {
        return Ok(false);
    }
    let mut tx = crate::db::begin_write_on(conn).await?;
    let Some(award) = due(sqlx::query_as(query).bind(customer).fetch_optional(&mut *tx).await?) else {
        return Ok(false);
    };
    let entry = LedgerEntry {
        at: award.at,
        kind: LedgerKind::Earn,
        points: award.points,
        source: EarnSource::Birthday,
        order_id: None,
    };
    db::append_ledger(&mut tx, NewEntry { customer, entry, reason: None, actor: None }, now).await?;
    let event = QualifyingEvent {
        at: award.at,
        source: EarnSource::Birthday,
        spend: 0,
        points: award.points,
        orders: 0,
    };
    db::append_qualifying(&mut tx, customer, &event).await?;
    tx.commit().await?;
    tracing::info!(at = award.at, points = award.points, "gave a birthday gift");
    Ok(true)
}

/// Gives every birthday gift that is due (the server runs this hourly, so a gift is in the ledger on the day
/// even for a shopper who does not visit). Returns how many were given.
pub async fn award_birthdays(state: &AppState) -> Result<usize, ApiError> {
    let program = state.program_now()?;
    if program.program.birthday.is_none() {
        return Ok(0);
    }
    let now = state.now();
    let customers: Vec<String> =
        sqlx::query_scalar("SELECT id FROM customers WHERE birthday IS NOT NULL ORDER BY id")
            .fetch_all(&state.db)
            .await?;
    let mut given = 0;
    for customer in customers {
        // A connection per shopper, given back between them, so the sweep never starves the requests.
        let mut conn = state.db.acquire().await?;
        given += usize::from(award_birthday(&mut conn, &program.program, &customer, now).await?);
    }
    Ok(given)
}
