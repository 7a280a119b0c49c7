//! Spending points: `POST /v1/redemptions` (idempotent, never overspends), the single-use discount codes it
//! issues, and the shop's side of those codes (look up, consume at checkout).
//!
//! Idempotency follows the IETF Idempotency-Key draft and Stripe's practice: a write without a key is a 400;
//! a repeated key returns the first result, errors included, and debits once; the same key with another body
//! is a 422; a key whose first request is still running is a 409; keys are kept 7 days.

use crate::db::{self, NewEntry};
use crate::error::ApiError;
use crate::routes::{body, decode, ensure_customer, header_str, shopper};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use loyalty_core::{check_redemption, EarnSource, LedgerEntry, LedgerKind, RedeemError};
use serde_json::{json, Value};
use sha2::Digest;
use sqlx::Row;

/// How long idempotency keys are kept.
pub const KEY_TTL_SECONDS: i64 = 7 * 86_400;

/// A first request still marked running after this long is taken to have died with its process.
const ABANDONED_AFTER_SECONDS: i64 = 60;

loyalty_core::wire_struct! {
    strict;
    /// `POST /v1/redemptions` body.
    #[derive(Debug)]
    pub struct RedemptionRequest {
        /// The reward to redeem.
        pub reward_id: String,
    }
}

/// Whose keys a write is made under: a shopper's own, or the admin's acting on a shopper.
#[derive(Clone, Copy, Debug)]
pub enum KeyScope<'a> {
    /// The signed-in shopper's writes.
    Shopper(&'a str),
    /// The admin's writes on this shopper (adjustments).
    AdminFor(&'a str),
}

impl KeyScope<'_> {
    /// The scope as stored beside the key. The admin's holds a line feed, which no shopper id can (the
    /// identity check refuses it), so a shopper whose id starts with `admin:` never shares the admin's keys.
    pub fn stored(self) -> String {
        match self {
            KeyScope::Shopper(customer) => customer.to_owned(),
            KeyScope::AdminFor(customer) => format!("admin\n{customer}"),
        }
    }
}

/// What became of an idempotency key on arrival.
enum KeyState {
    /// First use (or the take-over of an abandoned attempt): go ahead under this attempt id.
    Fresh(String),
    /// Seen before and finished: this is the stored response.
    Done(StatusCode, Value),
}

async fn claim_key(
    state: &AppState,
    scope: &str,
    key: &str,
    hash: &str,
    now: i64,
) -> Result<KeyState, ApiError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
        .bind(now - KEY_TTL_SECONDS)
        .execute(&state.db)
        .await?;
    let attempt = crate::config::random_hex(16);
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, state, created_at, attempt) VALUES (?, ?, ?, 'running', ?, ?)
         ON CONFLICT (customer_id, key) DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .bind(now)
    .bind(&attempt)
    .execute(&state.db)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(KeyState::Fresh(attempt));
    }
    let (stored_hash, key_state, status, response, created_at, held_by): (
        String,
        String,
        Option<i64>,
        Option<String>,
        i64,
        String,
    ) = sqlx::query_as(
        "SELECT request_hash, state, status, response, created_at, attempt FROM idempotency_keys WHERE customer_id = ? AND key = ?",
    )
    .bind(scope)
    .bind(key)
    .fetch_one(&state.db)
    .await?;
    if stored_hash != hash {
        // The reservation sweep holds the key for a moment (`sweep_claim`): the shopper's own repeat is not a
        // reuse of the key, and gets its answer once the sweep is done.
        if stored_hash == SWEEP_HASH {
            return Err(in_flight());
        }
        return Err(key_reused());
    }
    match (key_state.as_str(), status, response) {
        ("done", Some(status), Some(response)) => {
            let status = StatusCode::from_u16(u16::try_from(status).unwrap_or(500))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::from_str(&response).map_err(ApiError::internal)?;
            Ok(KeyState::Done(status, body))
        }
        _ if now - created_at > ABANDONED_AFTER_SECONDS => {
            // The first attempt looks dead: its process died, or it has waited this long. This retry takes
            // the key over with a new attempt id; only one retry can (the update names the old id), and the
            // first attempt, if it still runs, is fenced out: every change under the key checks the id in
            // its own transaction (`KeyClaim::hold`, `KeyClaim::finish`).
            let taken = sqlx::query(
                "UPDATE idempotency_keys SET created_at = ?, attempt = ? WHERE customer_id = ? AND key = ? AND state = 'running' AND attempt = ?",
            )
            .bind(now)
            .bind(&attempt)
            .bind(scope)
            .bind(key)
            .bind(&held_by)
            .execute(&state.db)
            .await?
            .rows_affected();
            if taken == 1 {
                Ok(KeyState::Fresh(attempt))
            } else {
                Err(in_flight())
            }
        }
        _ => Err(in_flight()),
    }
}

fn in_flight() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_key_in_flight",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
}

fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request; use a new key for a new request",
    )
}

/// A claimed Idempotency-Key. The write records its answer with [`KeyClaim::finish`] inside the very
/// transaction that makes its changes, so the key is done exactly when the changes are: a crash between the
/// two cannot leave changes whose key a retry would run again. The claim is fenced: when a retry has taken
/// the key over (this attempt looked abandoned), `hold` and `finish` fail with a 409 and the caller's
/// transaction rolls back, so a taken-over attempt can neither finish nor undo the other's work.
pub struct KeyClaim {
    scope: String,
    key: String,
    attempt: String,
}

/// Proof that a write stored its answer under its key (only [`KeyClaim::finish`] makes one).
pub struct Finished {
    status: StatusCode,
    body: Value,
}

impl KeyClaim {
    /// The key, as the client sent it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Checks, in the caller's write transaction, that this attempt still holds the key (a 409 when a retry
    /// took it over). The transaction's write lock keeps it held until the commit.
    pub async fn hold(&self, conn: &mut sqlx::SqliteConnection) -> Result<(), ApiError> {
        let held: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM idempotency_keys WHERE customer_id = ? AND key = ? AND attempt = ? AND state = 'running'",
        )
        .bind(&self.scope)
        .bind(&self.key)
        .bind(&self.attempt)
        .fetch_optional(conn)
        .await?;
        held.map(|_| ()).ok_or_else(in_flight)
    }

    /// Stores the answer under the key, in the caller's transaction; a 409 (and nothing stored) when a retry
    /// took the key over, so the caller's transaction must then roll back.
    pub async fn finish(
        &self,
        conn: &mut sqlx::SqliteConnection,
        status: StatusCode,
        body: Value,
    ) -> Result<Finished, ApiError> {
        let stored = store_answer(conn, self, status, &body).await?;
        if !stored {
            return Err(in_flight());
        }
        Ok(Finished { status, body })
    }
}

/// Marks the claim's key done with its answer, if this attempt still holds it.
async fn store_answer(
    conn: &mut sqlx::SqliteConnection,
    claim: &KeyClaim,
    status: StatusCode,
    body: &Value,
) -> Result<bool, ApiError> {
    let updated = sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', status = ?, response = ? WHERE customer_id = ? AND key = ? AND attempt = ? AND state = 'running'",
    )
    .bind(i64::from(status.as_u16()))
    .bind(body.to_string())
    .bind(&claim.scope)
    .bind(&claim.key)
    .bind(&claim.attempt)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

fn error_body(error: &ApiError) -> Value {
    let mut inner = json!({ "code": error.code, "message": error.message });
    if let Some(problems) = &error.problems {
        inner["problems"] = json!(problems);
    }
    json!({ "error": inner })
}

/// Runs a write once per Idempotency-Key: the first request's answer (errors included) is stored and
/// returned for repeats. `scope` namespaces keys (a shopper, or the admin acting on a shopper); `route`
/// names the endpoint, so one key cannot be replayed against another.
///
/// The write gets the [`KeyClaim`] and must [`KeyClaim::finish`] it in its own transaction. When it fails
/// with a client error it has changed nothing, and that answer is stored here; a server error is not stored
/// (it is not the request's answer), so a retry with the same key runs again.
pub async fn idempotent<F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    scope: KeyScope<'_>,
    route: &str,
    bytes: &[u8],
    write: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(KeyClaim) -> Fut,
    Fut: std::future::Future<Output = Result<Finished, ApiError>>,
{
    let key = header_str(headers, HeaderName::from_static("idempotency-key"))
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "writes need an Idempotency-Key header (1 to 255 characters, new for each new request)",
            )
        })?
        .to_owned();
    let now = state.now();
    let hash = hex::encode(sha2::Sha256::digest([route.as_bytes(), b"\n", bytes].concat()));
    let scope = scope.stored();
    let attempt = match claim_key(state, &scope, &key, &hash, now).await? {
        KeyState::Done(status, body) => return Ok((status, Json(body)).into_response()),
        KeyState::Fresh(attempt) => attempt,
    };
    let claim = KeyClaim { scope, key, attempt };
    let (scope, key, attempt) = (claim.scope.clone(), claim.key.clone(), claim.attempt.clone());
    match write(claim).await {
        Ok(Finished { status, body }) => Ok((status, Json(body)).into_response()),
        Err(error) if error.status.is_server_error() => {
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE customer_id = ? AND key = ? AND attempt = ? AND state = 'running'",
            )
            .bind(&scope)
            .bind(&key)
            .bind(&attempt)
            .execute(&state.db)
            .await?;
            Err(error)
        }
        Err(error) => {
            let body = error_body(&error);
            let claim = KeyClaim { scope, key, attempt };
            let mut conn = state.db.acquire().await?;
            // A taken-over attempt stores nothing: the key's answer is the other attempt's.
            if !store_answer(&mut conn, &claim, error.status, &body).await? {
                return Err(in_flight());
            }
            Ok((error.status, Json(body)).into_response())
        }
    }
}

/// `POST /v1/redemptions`: spends points on a reward and returns a single-use discount code.
pub async fn create_redemption(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let customer = shopper(&state, &headers)?;
    let bytes = body(bytes)?;
    idempotent(&state, &headers, KeyScope::Shopper(&customer), "POST /v1/redemptions", &bytes, |claim| {
        let (state, customer, bytes) = (state.clone(), customer.clone(), bytes.clone());
        // Run to the end even if the client goes away or the request times out: a redemption whose points
        // are reserved must get its code or its points back, whatever happens to the connection.
        let task = tokio::spawn(async move { redeem(&state, &customer, &bytes, claim).await });
        async move { task.await.map_err(ApiError::internal)? }
    })
    .await
}

/// A redemption made (its points spent) and the reward it was for.
struct Made {
    id: String,
    reward: loyalty_core::Reward,
    created_at: i64,
    available_after: i64,
}

impl Made {
    fn answer(&self, code: &str) -> Value {
        json!({
            "id": self.id,
            "rewardId": self.reward.id,
            "cost": self.reward.cost,
            "code": code,
            "reward": self.reward,
            "balance": { "available": self.available_after },
            "createdAt": self.created_at,
        })
    }
}

/// The answer to a repeat of a redemption's key whose stored answer has expired with the key: the
/// redemption itself (its code and the reward as it was redeemed), with the balance as it is now.
async fn answer_again(
    tx: &mut sqlx::SqliteConnection,
    program: &loyalty_core::Program,
    customer: &str,
    earlier: &Earlier,
    now: i64,
) -> Result<Value, ApiError> {
    let reward: String = sqlx::query_scalar("SELECT reward FROM discount_codes WHERE code = ?")
        .bind(&earlier.code)
        .fetch_one(&mut *tx)
        .await?;
    let reward: loyalty_core::Reward = serde_json::from_str(&reward).map_err(ApiError::internal)?;
    let ledger = db::ledger(&mut *tx, customer).await?;
    let available = loyalty_core::balance(program, &ledger, now).map_err(ApiError::internal)?.available;
    let made =
        Made { id: earlier.id.clone(), reward, created_at: earlier.created_at, available_after: available };
    Ok(made.answer(&earlier.code))
}

/// A redemption made before under the same key.
struct Earlier {
    id: String,
    reward_id: String,
    code: String,
    state: String,
    created_at: i64,
    /// The points it spent.
    cost: i64,
    /// The reward as redeemed (JSON), or none for a redemption made before the server kept it.
    reward: Option<String>,
}

impl Earlier {
    /// The reward this redemption paid for: as stored with it, or for a redemption made before rewards were
    /// stored, as the program in effect then had it (or, failing that, the program now). Either way at the cost it spent, so a reservation that is
    /// completed or refunded later gives what was paid for and returns what was spent, whatever the program
    /// says by then (a price raised since must not refund more than was debited).
    fn reward(&self, state: &AppState) -> Result<loyalty_core::Reward, ApiError> {
        let mut reward = match &self.reward {
            Some(json) => serde_json::from_str::<loyalty_core::Reward>(json).map_err(ApiError::internal)?,
            None => [state.program_at(self.created_at), state.program_at(state.now())]
                .into_iter()
                .flatten()
                .find_map(|version| version.program.reward(&self.reward_id).cloned())
                .ok_or_else(|| ApiError::internal("a reserved redemption's reward is in no program"))?,
        };
        reward.cost = self.cost;
        Ok(reward)
    }
}

async fn redeem(
    state: &AppState,
    customer: &str,
    bytes: &[u8],
    claim: KeyClaim,
) -> Result<Finished, ApiError> {
    let request: RedemptionRequest = decode(bytes)?;
    let version = state.program_now()?;
    let program = &version.program;
    let now = state.now();
    let coupon_endpoint = state.config.coupon_endpoint.as_deref();
    // One writer at a time reads the balance and spends it, so concurrent redemptions cannot overspend.
    let write = state.write_lock.lock().await;
    let mut tx = crate::db::begin_write(&state.db).await?;
    claim.hold(&mut tx).await?;
    ensure_customer(&mut tx, customer, now).await?;
    // A redemption made under this key before: its answer expired with the key (kept 7 days), or an earlier
    // attempt was cut off during the shop's coupon call. The redemption remembers its key for ever, so a
    // repeat at any age gets that redemption and never spends, or refunds, again.
    let earlier = earlier_redemption(&mut tx, customer, claim.key()).await?;
    if let Some(earlier) = earlier {
        if earlier.reward_id != request.reward_id {
            return Err(key_reused());
        }
        if earlier.state == "done" {
            let answer = answer_again(&mut tx, program, customer, &earlier, now).await?;
            let finished = claim.finish(&mut tx, StatusCode::CREATED, answer).await?;
            tx.commit().await?;
            return Ok(finished);
        }
        if earlier.state != "reserved" {
            return Err(ApiError::internal(format!("a {} redemption kept its key", earlier.state)));
        }
        return resume(state, tx, write, program, customer, earlier, claim).await;
    }
    let ledger = db::ledger(&mut *tx, customer).await?;
    let balance = loyalty_core::balance(program, &ledger, now).map_err(ApiError::internal)?;
    let reward = check_redemption(program, &request.reward_id, balance.available).map_err(|e| match e {
        RedeemError::UnknownReward(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "unknown_reward", e.to_string())
        }
        RedeemError::NotEnoughPoints { .. } => {
            ApiError::new(StatusCode::CONFLICT, "not_enough_points", e.to_string())
        }
        RedeemError::NegativeBalance => {
            ApiError::new(StatusCode::CONFLICT, "negative_balance", e.to_string())
        }
        other => ApiError::new(StatusCode::CONFLICT, "cannot_redeem", other.to_string()),
    })?;
    let made = Made {
        id: format!("rdm_{}", crate::config::random_hex(12)),
        reward: reward.clone(),
        created_at: now,
        available_after: balance.available - reward.cost,
    };
    // With the shop's endpoint the points are reserved now and the code filled in after the call.
    let code = if coupon_endpoint.is_some() { format!("pending:{}", made.id) } else { discount_code() };
    let entry = LedgerEntry {
        at: now,
        kind: LedgerKind::Redeem,
        points: reward.cost,
        source: EarnSource::Purchase,
        order_id: None,
    };
    let reason = reward.name.get(&program.locales[0]).map(String::as_str);
    db::append_ledger(&mut tx, NewEntry { customer, entry, reason, actor: None }, now).await?;
    sqlx::query(
        "INSERT INTO redemptions (id, customer_id, reward_id, cost, code, created_at, idempotency_key, state, reward)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&made.id)
    .bind(customer)
    .bind(&reward.id)
    .bind(reward.cost)
    .bind(&code)
    .bind(now)
    .bind(claim.key())
    .bind(if coupon_endpoint.is_some() { "reserved" } else { "done" })
    .bind(serde_json::to_string(&made.reward).map_err(ApiError::internal)?)
    .execute(&mut *tx)
    .await?;
    if let Some(endpoint) = coupon_endpoint {
        tx.commit().await?;
        drop(write);
        return complete_with_shop(state, customer, made, claim, endpoint).await;
    }
    insert_code(&mut tx, &code, customer, &made.id, &made.reward, now).await?;
    let finished = claim.finish(&mut tx, StatusCode::CREATED, made.answer(&code)).await?;
    tx.commit().await?;
    Ok(finished)
}

/// The redemption made before under this key, if any.
async fn earlier_redemption(
    tx: &mut sqlx::SqliteConnection,
    customer: &str,
    key: &str,
) -> Result<Option<Earlier>, ApiError> {
    sqlx::query(
        "SELECT id, reward_id, code, state, created_at, cost, reward FROM redemptions
         WHERE customer_id = ? AND idempotency_key = ?",
    )
    .bind(customer)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?
    .map(|row| {
        Ok::<_, sqlx::Error>(Earlier {
            id: row.try_get("id")?,
            reward_id: row.try_get("reward_id")?,
            code: row.try_get("code")?,
            state: row.try_get("state")?,
            created_at: row.try_get("created_at")?,
            cost: row.try_get("cost")?,
            reward: row.try_get("reward")?,
        })
    })
    .transpose()
    .map_err(ApiError::from)
}

/// Finishes a reservation left by an earlier attempt (cut off during the shop's coupon call), under `claim`,
/// which holds its key: with the shop's code, or the server's own when the endpoint is no longer configured,
/// or (the shop failing) with the points given back. Takes the caller's transaction and write lock, and lets
/// go of both before calling the shop.
async fn resume(
    state: &AppState,
    mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    write: tokio::sync::MutexGuard<'_, ()>,
    program: &loyalty_core::Program,
    customer: &str,
    earlier: Earlier,
    claim: KeyClaim,
) -> Result<Finished, ApiError> {
    let now = state.now();
    let reward = earlier.reward(state)?;
    let ledger = db::ledger(&mut *tx, customer).await?;
    let available_after = loyalty_core::balance(program, &ledger, now).map_err(ApiError::internal)?.available;
    let made = Made { id: earlier.id, reward, created_at: earlier.created_at, available_after };
    match state.config.coupon_endpoint.as_deref() {
        Some(endpoint) => {
            drop(tx);
            drop(write);
            complete_with_shop(state, customer, made, claim, endpoint).await
        }
        // The shop's endpoint was configured when the points were reserved and is not any more: the server
        // issues the code itself, as it does for every redemption in this mode.
        None => {
            let code = discount_code();
            let finished = store_code(&mut tx, customer, &made, &claim, &code, now).await?;
            tx.commit().await?;
            Ok(finished)
        }
    }
}

/// How old a reservation must be before the server finishes it without the shopper: far beyond any attempt's
/// life (an attempt is taken over after 60 s; the shop's call times out after 5 s).
pub const RESERVATION_SWEEP_AFTER_SECONDS: i64 = 15 * 60;

/// Finishes the reservations nobody came back for: a shopper whose attempt was cut off (the process killed
/// during the shop's coupon call) and who never repeats its key on that device would otherwise see the points
/// gone and no code. Each is finished as a repeat of its key would finish it (the shop's code, the server's own,
/// or the points back), under a claim of its key taken over from the dead attempt, so a live attempt or a repeat
/// arriving meanwhile is fenced out. Returns how many were finished (a code or a refund).
pub async fn sweep_reservations(state: &AppState) -> Result<usize, ApiError> {
    let now = state.now();
    let left: Vec<(String, String)> = sqlx::query_as(
        "SELECT customer_id, idempotency_key FROM redemptions
         WHERE state = 'reserved' AND created_at < ? AND idempotency_key IS NOT NULL",
    )
    .bind(now - RESERVATION_SWEEP_AFTER_SECONDS)
    .fetch_all(&state.db)
    .await?;
    let mut finished = 0;
    for (customer, key) in left {
        let scope = KeyScope::Shopper(&customer).stored();
        let Some((claim, inserted)) = sweep_claim(state, scope, key, now).await? else {
            continue; // an attempt holds the key right now: it finishes the reservation itself
        };
        let (scope, key, attempt) = (claim.scope.clone(), claim.key.clone(), claim.attempt.clone());
        let outcome = async {
            let version = state.program_now()?;
            let write = state.write_lock.lock().await;
            let mut tx = crate::db::begin_write(&state.db).await?;
            claim.hold(&mut tx).await?;
            match earlier_redemption(&mut tx, &customer, claim.key()).await? {
                Some(earlier) if earlier.state == "reserved" => {
                    resume(state, tx, write, &version.program, &customer, earlier, claim).await.map(Some)
                }
                _ => Ok(None),
            }
        }
        .await;
        // A key the sweep made for itself (the shopper's had expired) is removed again, so the shopper's own
        // repeat, whatever its body's bytes, finds the redemption and gets its answer; so is the key after a
        // server error (as a request's would be), so that a repeat runs again.
        let release = inserted || outcome.as_ref().is_err_and(|e| e.status.is_server_error());
        if release {
            sqlx::query("DELETE FROM idempotency_keys WHERE customer_id = ? AND key = ? AND attempt = ?")
                .bind(&scope)
                .bind(&key)
                .bind(&attempt)
                .execute(&state.db)
                .await?;
        }
        match outcome {
            Ok(Some(_)) => finished += 1,
            Ok(None) => {}
            // A refund after the shop failed is an error to the shopper's request, and a finished sweep here.
            Err(error) if error.code == "coupon_endpoint_failed" => finished += 1,
            Err(error) => tracing::warn!(code = error.code, "finishing a left reservation failed"),
        }
    }
    Ok(finished)
}

/// The request hash of a key the sweep made for itself (no request's hash is this: those are hex).
const SWEEP_HASH: &str = "reservation-sweep";

/// The sweep's claim of a left reservation's key: taken over from the dead attempt that holds it, or made anew
/// when the key has expired (then `true`: the sweep removes it when done). `None` when a live attempt holds it.
async fn sweep_claim(
    state: &AppState,
    scope: String,
    key: String,
    now: i64,
) -> Result<Option<(KeyClaim, bool)>, ApiError> {
    let attempt = crate::config::random_hex(16);
    let taken = sqlx::query(
        "UPDATE idempotency_keys SET created_at = ?, attempt = ?
         WHERE customer_id = ? AND key = ? AND state = 'running' AND created_at < ?",
    )
    .bind(now)
    .bind(&attempt)
    .bind(&scope)
    .bind(&key)
    .bind(now - ABANDONED_AFTER_SECONDS)
    .execute(&state.db)
    .await?
    .rows_affected();
    if taken == 1 {
        return Ok(Some((KeyClaim { scope, key, attempt }, false)));
    }
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, state, created_at, attempt)
         VALUES (?, ?, ?, 'running', ?, ?) ON CONFLICT (customer_id, key) DO NOTHING",
    )
    .bind(&scope)
    .bind(&key)
    .bind(SWEEP_HASH)
    .bind(now)
    .bind(&attempt)
    .execute(&state.db)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some((KeyClaim { scope, key, attempt }, true)))
}

/// Gives a reserved redemption its code and stores the answer under the key, in the caller's transaction.
/// A redemption that is no longer reserved although this attempt holds its key cannot happen (only the key's
/// holder changes it); should it, nothing changes and the error is a 500, never an answer stored under the key.
async fn store_code(
    tx: &mut sqlx::SqliteConnection,
    customer: &str,
    made: &Made,
    claim: &KeyClaim,
    code: &str,
    now: i64,
) -> Result<Finished, ApiError> {
    let updated =
        sqlx::query("UPDATE redemptions SET code = ?, state = 'done' WHERE id = ? AND state = 'reserved'")
            .bind(code)
            .bind(&made.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if updated != 1 {
        return Err(not_reserved(&made.id));
    }
    insert_code(&mut *tx, code, customer, &made.id, &made.reward, now).await?;
    claim.finish(tx, StatusCode::CREATED, made.answer(code)).await
}

/// The error for a redemption found not reserved by the attempt that holds its key: a server error (so the
/// wrapper stores no answer under the key, and a repeat answers the redemption as it is).
fn not_reserved(redemption: &str) -> ApiError {
    ApiError::internal(format!("redemption {redemption} is not reserved although its key is held"))
}

/// Gets the code for a reserved redemption from the shop, or gives the points back. Either way the outcome
/// is committed together with the key's answer (the refund deletes the key so that the shopper may retry).
/// Only the attempt that holds the key does either, and only to a redemption that is still reserved: a
/// taken-over attempt gets a 409 and leaves the redemption to the attempt that took it over.
async fn complete_with_shop(
    state: &AppState,
    customer: &str,
    made: Made,
    claim: KeyClaim,
    endpoint: &str,
) -> Result<Finished, ApiError> {
    let now = state.now();
    let stored = async {
        let code = shop_coupon(state, endpoint, &made.id, customer, &made.reward).await?;
        let mut tx = crate::db::begin_write(&state.db).await?;
        let finished = store_code(&mut tx, customer, &made, &claim, &code, now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(finished)
    }
    .await;
    let error = match stored {
        Ok(finished) => return Ok(finished),
        Err(error) if error.code == "idempotency_key_in_flight" => return Err(error),
        Err(error) => error,
    };
    // Give the points back (the ledger is append-only, so with a correcting entry).
    let _write = state.write_lock.lock().await;
    let mut tx = crate::db::begin_write(&state.db).await?;
    claim.hold(&mut tx).await?;
    let refunded = sqlx::query(
        "UPDATE redemptions SET code = ?, state = 'refunded', idempotency_key = NULL WHERE id = ? AND state = 'reserved'",
    )
    .bind(format!("failed:{}", made.id))
    .bind(&made.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if refunded != 1 {
        return Err(not_reserved(&made.id));
    }
    let entry = LedgerEntry {
        at: now,
        kind: LedgerKind::Adjust,
        points: made.reward.cost,
        source: EarnSource::Adjustment,
        order_id: None,
    };
    let reason = Some("redemption failed: points returned");
    db::append_ledger(&mut tx, NewEntry { customer, entry, reason, actor: Some("loyalty-server") }, now)
        .await?;
    tx.commit().await?;
    if error.status == StatusCode::BAD_GATEWAY {
        Err(error)
    } else {
        tracing::error!(redemption = made.id, error = %error.message, "storing the shop's code failed; points returned");
        Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "coupon_endpoint_failed",
            "the shop could not create the coupon; no points were spent",
        ))
    }
}

async fn insert_code(
    tx: &mut sqlx::SqliteConnection,
    code: &str,
    customer: &str,
    redemption: &str,
    reward: &loyalty_core::Reward,
    now: i64,
) -> Result<(), ApiError> {
    let reward = serde_json::to_string(reward).map_err(ApiError::internal)?;
    sqlx::query("INSERT INTO discount_codes (code, customer_id, redemption_id, reward, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(code)
        .bind(customer)
        .bind(redemption)
        .bind(&reward)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

/// Asks the shop's coupon endpoint for a code: `POST` of `{redemptionId, customerId, reward}` signed like
/// a webhook (`Loyalty-Signature`), answered with `{"code": "..."}`. Any failure is a 502 and the points go
/// back. A retry after a crash asks again with the same `redemptionId`; the shop should answer it with the
/// same code. Redirects are not followed (the HTTP client refuses them), so the signed body goes only where
/// the operator said.
async fn shop_coupon(
    state: &AppState,
    endpoint: &str,
    redemption: &str,
    customer: &str,
    reward: &loyalty_core::Reward,
) -> Result<String, ApiError> {
    // What is logged names the failure, never the shop's answer (it may hold a code) or the endpoint's URL.
    let failed = |why: String| {
        tracing::warn!(redemption, why, "the shop's coupon endpoint failed");
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "coupon_endpoint_failed",
            "the shop could not create the coupon; no points were spent",
        )
    };
    let body =
        serde_json::to_vec(&json!({ "redemptionId": redemption, "customerId": customer, "reward": reward }))
            .map_err(ApiError::internal)?;
    // Signed with the current webhook secret (`Config` always holds one, first).
    let signature = crate::auth::webhook_signature(&state.config.webhook_secrets[0], state.now(), &body);
    let response = state
        .http
        .post(endpoint)
        .header("content-type", "application/json")
        .header(crate::auth::SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .map_err(|e| failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("status {}", response.status())));
    }
    // The answer is one short code: read at most 16 KB of it, so a shop (or whatever answers in its place)
    // cannot make the server buffer an endless body for the length of the timeout.
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.without_url().to_string()))? {
        if body.len() + chunk.len() > COUPON_ANSWER_LIMIT {
            return Err(failed(format!("the answer is over {COUPON_ANSWER_LIMIT} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    let answer: Value = serde_json::from_slice(&body).map_err(|_| failed("the answer is not JSON".into()))?;
    match answer.get("code").and_then(Value::as_str) {
        Some(code) if !code.is_empty() && code.len() <= 64 && code.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(code.to_owned())
        }
        _ => Err(failed("the answer has no usable code".into())),
    }
}

/// The most of the shop's coupon answer the server reads.
const COUPON_ANSWER_LIMIT: usize = 16 * 1024;

/// The discount codes' alphabet: no look-alikes (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// The code character a random byte gives, or none for the bytes past the largest multiple of the alphabet's
/// length (248 = 8 × 31): those are drawn again, so every character is equally likely.
fn code_char(byte: u8) -> Option<char> {
    let len = CODE_ALPHABET.len();
    let usable = 256 - 256 % len;
    (usize::from(byte) < usable).then(|| char::from(CODE_ALPHABET[usize::from(byte) % len]))
}

/// A discount code: `LOY-` and 10 characters without look-alikes, about 49 bits of randomness.
fn discount_code() -> String {
    let mut chars = String::with_capacity(10);
    while chars.len() < 10 {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random generator works");
        chars.extend(bytes.iter().filter_map(|b| code_char(*b)).take(10 - chars.len()));
    }
    format!("LOY-{}-{}", &chars[..5], &chars[5..])
}

/// A code that exists but may not be used: its redemption's points were given back (see migration 0009).
fn withdrawn() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "code_withdrawn",
        "this discount code was withdrawn: the points it was bought with were given back",
    )
}

async fn code_view(state: &AppState, code: &str) -> Result<Value, ApiError> {
    if db::discount_code_withdrawn(&state.db, code).await? == Some(true) {
        return Err(withdrawn());
    }
    let row = sqlx::query(
        "SELECT customer_id, reward, created_at, consumed_at, consumed_order_id FROM discount_codes WHERE code = ?",
    )
    .bind(code)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::not_found("no discount code has this value"))?;
    let customer: String = row.try_get("customer_id")?;
    let reward: String = row.try_get("reward")?;
    let created_at: i64 = row.try_get("created_at")?;
    let consumed_at: Option<i64> = row.try_get("consumed_at")?;
    let order: Option<String> = row.try_get("consumed_order_id")?;
    let reward: Value = serde_json::from_str(&reward).map_err(ApiError::internal)?;
    Ok(json!({
        "code": code,
        "customerId": customer,
        "reward": reward,
        "createdAt": created_at,
        "consumed": consumed_at.is_some(),
        "consumedAt": consumed_at,
        "orderId": order,
    }))
}

/// `GET /v1/admin/discount-codes/{code}`: what a code is worth and whether it is still unused.
pub async fn get_discount_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    crate::routes::admin(&state, &headers)?;
    Ok(Json(code_view(&state, &code).await?))
}

loyalty_core::wire_struct! {
    lenient;
    /// `POST /v1/admin/discount-codes/{code}/consume` body.
    #[derive(Debug)]
    pub struct ConsumeRequest {
        /// The order the code is used on (consuming again for the same order is a no-op).
        pub order_id: String,
    }
}

/// `POST /v1/admin/discount-codes/{code}/consume`: the shop uses the code at checkout. Idempotent per order:
/// again for the same order returns the same answer; for another order it is a 409.
pub async fn consume_discount_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    crate::routes::admin(&state, &headers)?;
    let request: ConsumeRequest = decode(&body(bytes)?)?;
    consume(&state, &code, &request.order_id, state.now()).await?;
    Ok(Json(code_view(&state, &code).await?))
}

/// Marks a code used by an order; the same order again is fine, another order is a conflict.
pub async fn consume(state: &AppState, code: &str, order_id: &str, now: i64) -> Result<(), ApiError> {
    if db::use_discount_code(&state.db, code, order_id, now).await? {
        return Ok(());
    }
    if db::discount_code_withdrawn(&state.db, code).await? == Some(true) {
        return Err(withdrawn());
    }
    let used_by: Option<Option<String>> =
        sqlx::query_scalar("SELECT consumed_order_id FROM discount_codes WHERE code = ?")
            .bind(code)
            .fetch_optional(&state.db)
            .await?;
    match used_by {
        None => Err(ApiError::not_found("no discount code has this value")),
        Some(Some(order)) if order == order_id => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "code_already_used",
            "this discount code was used on another order",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_character_is_equally_likely() {
        // Each byte value once: the usable ones must give every character the same number of times. With
        // `byte % 31` over all 256 values, the first 8 characters came 9 times and the rest 8.
        let mut counts = std::collections::HashMap::new();
        let mut redrawn = 0;
        for byte in 0..=u8::MAX {
            match code_char(byte) {
                Some(c) => *counts.entry(c).or_insert(0) += 1,
                None => redrawn += 1,
            }
        }
        assert_eq!(counts.len(), CODE_ALPHABET.len());
        assert!(counts.values().all(|&n| n == 8), "{counts:?}");
        assert_eq!(redrawn, 256 - 8 * 31);
        let code = discount_code();
        assert_eq!(code.len(), "LOY-XXXXX-XXXXX".len());
        assert!(code[4..].chars().all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))), "{code}");
    }

    #[test]
    fn admin_keys_never_share_a_scope_with_a_shopper() {
        assert_ne!(KeyScope::AdminFor("c1").stored(), KeyScope::Shopper("admin:c1").stored());
        assert_eq!(KeyScope::Shopper("admin:c1").stored(), "admin:c1");
        assert!(KeyScope::AdminFor("c1").stored().contains('\n'), "a character no shopper id can hold");
    }
}
