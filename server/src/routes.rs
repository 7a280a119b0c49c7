//! The HTTP contract's handlers. Each reads and checks its input, calls loyalty-core for every rule, and
//! writes facts through `db`. No loyalty rule is computed here.

use crate::auth::{self, IdentityRules};
use crate::db::{self, NewEntry};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use loyalty_core::{
    points_for_cart, points_to_reverse, rewards_overview, tier_progress, Cart, CartLine, Currency,
    EarnContext, EarnSource, ExchangeRate, FromJson, IssuedCode, LedgerEntry, LedgerKind, Program,
    ProgramConfig, QualifyingEvent, ShopperState, TierActivity,
};
use serde_json::{json, Value};
use sha2::Digest;

/// `GET /healthz`: the process is up and the database answers.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.db).await?;
    Ok(Json(json!({ "status": "ok" })))
}

/// `GET /v1/program`: public, cacheable, with a strong ETag.
pub async fn get_program(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let version = state.program_now()?;
    let etag = HeaderValue::from_str(&version.etag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static("public, max-age=60, stale-while-revalidate=600");
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == version.etag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache)])
            .into_response());
    }
    let json = HeaderValue::from_static("application/json");
    Ok((
        [(header::CONTENT_TYPE, json), (header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        version.body.to_string(),
    )
        .into_response())
}

/// Reads a request body that the size limit may have refused.
pub(crate) fn body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    bytes.map_err(|rejection| match rejection {
        BytesRejection::FailedToBufferBody(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is larger than the server accepts",
        ),
        other => ApiError::bad_request(other.body_text()),
    })
}

/// Parses a JSON body (400 when it is not JSON).
pub(crate) fn decode_json(bytes: &[u8]) -> Result<loyalty_core::Json, ApiError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| ApiError::bad_request("the body must be UTF-8 JSON"))?;
    loyalty_core::json::parse(text).map_err(|p| ApiError::bad_request(p.to_string()))
}

/// Decodes a JSON body into a wire type, reporting every problem (422) or unreadable JSON (400).
pub(crate) fn decode<T: FromJson>(bytes: &[u8]) -> Result<T, ApiError> {
    T::decode(&decode_json(bytes)?).map_err(|p| ApiError::invalid("invalid_body", p))
}

loyalty_core::wire_struct! {
    strict;
    /// `PUT /v1/admin/program` body.
    #[derive(Debug)]
    pub struct ProgramUpload {
        /// The program.
        pub program: ProgramConfig,
        /// When it takes effect (default: now).
        pub activates_at: Option<i64>,
    }
}

/// `PUT /v1/admin/program`: validates and stores a new program version, effective now or later.
pub async fn put_program(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    admin(&state, &headers)?;
    let upload: ProgramUpload = decode(&body(bytes)?)?;
    let program =
        upload.program.validate().map_err(|p| ApiError::invalid("invalid_program", p.under("program")))?;
    let now = state.now();
    let activates_at = upload.activates_at.unwrap_or(now);
    let version = store_program(&state, &program, activates_at).await?;
    Ok((StatusCode::CREATED, Json(json!({ "version": version, "activatesAt": activates_at })))
        .into_response())
}

/// Stores a validated program as the next version (also used to seed the demo).
pub async fn store_program(state: &AppState, program: &Program, activates_at: i64) -> Result<i64, ApiError> {
    let body = serde_json::to_string(program).map_err(ApiError::internal)?;
    let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(body.as_bytes())));
    let id = sqlx::query(
        "INSERT INTO program_versions (body, etag, activates_at, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&body)
    .bind(&etag)
    .bind(activates_at)
    .bind(state.now())
    .execute(&state.db)
    .await?
    .last_insert_rowid();
    state.reload_programs().await?;
    tracing::info!(version = id, activates_at, "stored program version");
    Ok(id)
}

pub(crate) fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Refuses a request without the admin key.
pub(crate) fn admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    auth::verify_admin(header_str(headers, header::AUTHORIZATION), &state.config.admin_keys)
}

/// Refuses a webhook whose body is not signed with the webhook secret (within the clock skew).
pub(crate) fn signed_by_shop(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    auth::verify_webhook(
        header_str(headers, header::HeaderName::from_static(auth::SIGNATURE_HEADER)),
        &state.config.webhook_secrets,
        body,
        state.now(),
        state.config.clock_skew,
    )
}

/// The shopper the request is signed for.
pub(crate) fn shopper(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let header = header_str(headers, header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("sign in: this resource needs the shopper's identity"))?;
    let config = &state.config;
    let rules = IdentityRules {
        shop_id: &config.shop_id,
        secrets: &config.shop_secrets,
        max_age: config.identity_max_age,
        skew: config.clock_skew,
    };
    auth::verify_shopper(header, &rules, state.now())
}

/// Creates the shopper's row on first sight (the shop signed the identity, so the customer exists).
pub(crate) async fn ensure_customer(
    conn: &mut sqlx::SqliteConnection,
    customer: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customers (id, referral_code, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(customer)
    .bind(db::new_referral_code())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `GET /v1/customers/me`: balance, tier standing, rewards within reach, referral code and recent activity.
pub async fn customers_me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ShopperState>, ApiError> {
    let customer = shopper(&state, &headers)?;
    let version = state.program_now()?;
    let program = &version.program;
    let now = state.now();
    // One connection for every read; the row is created only the first time (a read is cheaper than an
    // upsert, which would take SQLite's write lock on every call).
    let mut conn = state.db.acquire().await?;
    let profile = "SELECT referral_code, birthday, birthday_set_at FROM customers WHERE id = ?";
    let row: (String, Option<String>, Option<i64>) =
        match sqlx::query_as(profile).bind(&customer).fetch_optional(&mut *conn).await? {
            Some(row) => row,
            None => {
                ensure_customer(&mut conn, &customer, now).await?;
                sqlx::query_as(profile).bind(&customer).fetch_one(&mut *conn).await?
            }
        };
    let mut ledger = db::ledger(&mut *conn, &customer).await?;
    // A birthday gift due now is in the ledger before the balance is derived, even between two hourly
    // sweeps; whether one is due is seen in what this request already read, so most reads cost nothing more.
    let last_gift = ledger.iter().filter(|e| e.source == EarnSource::Birthday).map(|e| e.at).max();
    if crate::customers::gift_due(program, row.1.as_deref(), row.2, last_gift, now).is_some()
        && crate::customers::award_birthday(&mut conn, program, &customer, now).await?
    {
        ledger = db::ledger(&mut *conn, &customer).await?;
    }
    let balance = loyalty_core::balance(program, &ledger, now).map_err(ApiError::internal)?;
    let events = db::qualifying_events(&mut *conn, &customer).await?;
    let retained = loyalty_core::retained_tier(program, &events);
    let tier = tier_progress(program, &TierActivity { events, retained_tier_id: retained }, now)
        .map_err(ApiError::internal)?;
    let rewards = rewards_overview(program, balance.available);
    let referral = crate::referrals::standing(&mut conn, &customer, row.0).await?;
    let activity = db::recent_activity(&mut *conn, &customer, 20).await?;
    // The shopper's codes, so a code redeemed on another device or before a reload is not lost. Only codes
    // that can be used: a redemption waiting on the shop's coupon endpoint holds `pending:<id>`, and one whose
    // points were returned `failed:<id>` (see `redemptions.rs`); neither is a code.
    let codes: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT r.code, r.reward_id, r.created_at, d.consumed_at FROM redemptions r
         LEFT JOIN discount_codes d ON d.code = r.code
         WHERE r.customer_id = ? AND r.code NOT LIKE 'pending:%' AND r.code NOT LIKE 'failed:%'
         ORDER BY r.created_at DESC LIMIT 20",
    )
    .bind(&customer)
    .fetch_all(&mut *conn)
    .await?;
    let codes = codes
        .into_iter()
        .map(|(code, reward_id, created_at, used)| IssuedCode {
            code,
            reward_id,
            created_at,
            used: used.is_some(),
        })
        .collect();
    Ok(Json(ShopperState {
        customer_id: customer,
        program_version: version.id,
        balance,
        tier: Some(tier),
        rewards,
        referral: Some(referral),
        birthday: row.1,
        activity,
        codes,
        as_of: now,
    }))
}

loyalty_core::wire_enum! {
    /// What happened to an order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum OrderEventKind {
        /// Paid: award its points.
        Paid,
        /// Refunded in part or whole: take back points in proportion.
        Refunded,
        /// Cancelled: take back what is left.
        Cancelled,
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// An order as the shop's server reports it.
    #[derive(Clone, Debug)]
    pub struct OrderPayload {
        /// The shop's order id.
        pub id: String,
        /// The shopper.
        pub customer_id: String,
        /// When it was paid, Unix seconds.
        pub paid_at: i64,
        /// The currency of every amount.
        pub currency: Currency,
        /// Needed when the currency is not the program's.
        pub exchange_rate: Option<ExchangeRate>,
        /// The lines.
        pub lines: Vec<CartLine>,
        /// Order-level discount, minor units.
        pub order_discount: i64 = 0,
        /// Shipping charged, minor units.
        pub shipping: i64 = 0,
        /// Discount codes used (codes this server issued are marked used).
        pub discount_codes: Vec<String> = Vec::new(),
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// A refund of part or all of an order.
    #[derive(Clone, Debug)]
    pub struct RefundPayload {
        /// The shop's refund id (a refund is applied once).
        pub id: String,
        /// Amount refunded, minor units of the order's currency.
        pub amount: i64,
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// `POST /v1/webhooks/orders` body.
    #[derive(Clone, Debug)]
    pub struct OrderEvent {
        /// What happened.
        pub event: OrderEventKind,
        /// The order (in full for `paid`; `id` and `customerId` suffice for the others).
        pub order: OrderPayload,
        /// For `refunded`.
        pub refund: Option<RefundPayload>,
    }
}

/// `POST /v1/webhooks/orders`: awards, reverses or cancels an order's points. Idempotent by order id and
/// event (and refund id): a replay returns the first response and changes nothing.
pub async fn order_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body(bytes)?;
    let now = state.now();
    signed_by_shop(&state, &headers, &bytes)?;
    let event: OrderEvent = decode(&bytes)?;
    // Points for an id no identity can name would be stranded: refuse it as the customer webhook does.
    if !auth::is_customer_id(&event.order.customer_id) {
        return Err(ApiError::invalid(
            "invalid_body",
            loyalty_core::Problems::one("order.customerId", "must be 1 to 128 bytes without newlines"),
        ));
    }
    let response = apply_order_event(&state, &event, now).await?;
    Ok((StatusCode::OK, Json(response)).into_response())
}

/// Applies an order event once: a replay (same order, event and refund id) returns the stored response.
pub async fn apply_order_event(state: &AppState, event: &OrderEvent, now: i64) -> Result<Value, ApiError> {
    // The replay key names its parts unambiguously (a JSON array), so no order id can collide with another
    // order's event or refund.
    let key = match (&event.event, &event.refund) {
        (OrderEventKind::Refunded, Some(refund)) => {
            json!([event.order.id, "refunded", refund.id]).to_string()
        }
        (OrderEventKind::Refunded, None) => {
            return Err(ApiError::invalid(
                "invalid_body",
                loyalty_core::Problems::one("refund", "is required for a refund"),
            ))
        }
        (kind, _) => json!([event.order.id, db::wire_name(kind)]).to_string(),
    };
    let _write = state.write_lock.lock().await;
    let mut tx = crate::db::begin_write(&state.db).await?;
    let done: Option<String> = sqlx::query_scalar("SELECT response FROM webhook_events WHERE id = ?")
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(response) = done {
        return serde_json::from_str(&response).map_err(ApiError::internal);
    }
    let response = match event.event {
        OrderEventKind::Paid => order_paid(state, &mut tx, &event.order, now).await?,
        OrderEventKind::Refunded => {
            let refund = event.refund.as_ref().ok_or_else(|| ApiError::bad_request("refund is required"))?;
            order_reversed(state, &mut tx, &event.order, Some(refund.amount), now).await?
        }
        OrderEventKind::Cancelled => order_reversed(state, &mut tx, &event.order, None, now).await?,
    };
    sqlx::query("INSERT INTO webhook_events (id, received_at, response) VALUES (?, ?, ?)")
        .bind(&key)
        .bind(now)
        .bind(response.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(response)
}

async fn order_paid(
    state: &AppState,
    tx: &mut sqlx::SqliteConnection,
    order: &OrderPayload,
    now: i64,
) -> Result<Value, ApiError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT awarded FROM orders WHERE id = ?")
        .bind(&order.id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "order_exists",
            "this order was already reported paid",
        ));
    }
    let version = state
        .program_at(order.paid_at)
        .or_else(|| state.program_at(now))
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "no_program", "no loyalty program was active"))?;
    let program = &version.program;
    ensure_customer(&mut *tx, &order.customer_id, now).await?;
    // The shopper's tier when the order was paid decides its multiplier.
    let before: Vec<QualifyingEvent> = db::qualifying_events(&mut *tx, &order.customer_id)
        .await?
        .into_iter()
        .filter(|e| e.at < order.paid_at)
        .collect();
    let tier =
        tier_progress(program, &TierActivity { events: before, retained_tier_id: None }, order.paid_at)
            .map_err(|p| ApiError::invalid("invalid_body", p.under("order")))?
            .current_tier_id;
    let cart = Cart {
        currency: order.currency,
        exchange_rate: order.exchange_rate,
        lines: order.lines.clone(),
        order_discount: order.order_discount,
        shipping: order.shipping,
    };
    let earned =
        points_for_cart(&**program, &cart, &EarnContext { now: order.paid_at, tier_id: tier.clone() })
            .map_err(|p| ApiError::invalid("invalid_body", p.under("order")))?;
    let merchandise: i64 =
        cart.lines.iter().map(|l| l.unit_price * l.quantity - l.discount).sum::<i64>() - cart.order_discount;
    // Each part was checked by the rules; their sum is checked here, where it is stored.
    let tax: i128 = cart.lines.iter().map(|l| i128::from(l.tax)).sum();
    let amount = i64::try_from(i128::from(merchandise) + tax + i128::from(cart.shipping))
        .ok()
        .filter(|a| *a <= loyalty_core::MAX_AMOUNT)
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_body",
                loyalty_core::Problems::one(
                    "order",
                    format!("the order total must be at most {}", loyalty_core::MAX_AMOUNT),
                ),
            )
        })?;
    let spend_base = loyalty_core::qualifying_spend(&cart);
    sqlx::query(
        "INSERT INTO orders (id, customer_id, paid_at, currency, amount, spend_base, awarded, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'paid')",
    )
    .bind(&order.id)
    .bind(&order.customer_id)
    .bind(order.paid_at)
    .bind(order.currency.code())
    .bind(amount)
    .bind(spend_base)
    .bind(earned.points)
    .execute(&mut *tx)
    .await?;
    for line in &cart.lines {
        sqlx::query(
            "INSERT INTO order_lines (order_id, product_id, quantity) VALUES (?, ?, ?)
             ON CONFLICT (order_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity",
        )
        .bind(&order.id)
        .bind(&line.product_id)
        .bind(line.quantity)
        .execute(&mut *tx)
        .await?;
    }
    // Codes this server issued are used up by the order that names them (others are the shop's own).
    for code in &order.discount_codes {
        if !db::use_discount_code(&mut *tx, code, &order.id, now).await? {
            // The code itself is not logged: an unused code is worth money to whoever reads the log.
            tracing::debug!("an order's discount code is not ours, already used or withdrawn");
        }
    }
    if earned.points > 0 {
        let entry = LedgerEntry {
            at: order.paid_at,
            kind: LedgerKind::Earn,
            points: earned.points,
            source: EarnSource::Purchase,
            order_id: Some(order.id.clone()),
        };
        db::append_ledger(
            &mut *tx,
            NewEntry { customer: &order.customer_id, entry, reason: None, actor: None },
            now,
        )
        .await?;
    }
    let qualifying = QualifyingEvent {
        at: order.paid_at,
        source: EarnSource::Purchase,
        spend: spend_base,
        points: earned.points,
        orders: 1,
    };
    db::append_qualifying(&mut *tx, &order.customer_id, &qualifying).await?;
    let referral = crate::referrals::on_paid(
        &mut *tx,
        program,
        &order.customer_id,
        &order.id,
        order.paid_at,
        spend_base,
        now,
    )
    .await?;
    Ok(json!({
        "orderId": order.id, "event": "paid", "points": earned.points, "tierId": tier, "earned": earned,
        "referral": referral,
    }))
}

/// A refund (`Some(amount)`) or a cancellation (`None`: everything not yet refunded).
async fn order_reversed(
    state: &AppState,
    tx: &mut sqlx::SqliteConnection,
    order: &OrderPayload,
    refund: Option<i64>,
    now: i64,
) -> Result<Value, ApiError> {
    let row: Option<(String, i64, i64, i64, i64, String)> = sqlx::query_as(
        "SELECT customer_id, amount, spend_base, awarded, refunded, status FROM orders WHERE id = ?",
    )
    .bind(&order.id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((customer, amount, spend_base, awarded, refunded, status)) = row else {
        // Deliveries can arrive out of order: the shop retries, and the paid event comes first.
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "order_unknown",
            "the order has not been reported paid yet",
        ));
    };
    if status == "cancelled" {
        return Ok(json!({ "orderId": order.id, "event": "ignored", "points": 0 }));
    }
    let left = amount - refunded;
    let this = match refund {
        Some(r) if r <= 0 => {
            return Err(ApiError::invalid(
                "invalid_body",
                loyalty_core::Problems::one("refund.amount", "must be positive"),
            ))
        }
        Some(r) => r.min(left),
        None => left,
    };
    let points = points_to_reverse(awarded, amount, refunded, this);
    let spend = points_to_reverse(spend_base, amount, refunded, this);
    let fully = refunded + this >= amount;
    let status = if refund.is_none() {
        "cancelled"
    } else if fully {
        "refunded"
    } else {
        "paid"
    };
    sqlx::query("UPDATE orders SET refunded = ?, status = ? WHERE id = ?")
        .bind(refunded + this)
        .bind(status)
        .bind(&order.id)
        .execute(&mut *tx)
        .await?;
    if points > 0 {
        let entry = LedgerEntry {
            at: now,
            kind: LedgerKind::Reverse,
            points,
            source: EarnSource::Purchase,
            order_id: Some(order.id.clone()),
        };
        db::append_ledger(&mut *tx, NewEntry { customer: &customer, entry, reason: None, actor: None }, now)
            .await?;
    }
    let qualifying = QualifyingEvent {
        at: now,
        source: EarnSource::Purchase,
        spend: -spend,
        points: -points,
        orders: if fully && refunded < amount { -1 } else { 0 },
    };
    db::append_qualifying(&mut *tx, &customer, &qualifying).await?;
    // The referral is judged on the order's spend after every refund so far, under the program it was paid in,
    // and only while the reward is still pending under the program in effect now (which decides when it can be
    // spent: see `loyalty_core::referral_refund_reverses`).
    let mut referral = Value::Null;
    let paid_at: i64 = sqlx::query_scalar("SELECT paid_at FROM orders WHERE id = ?")
        .bind(&order.id)
        .fetch_one(&mut *tx)
        .await?;
    if let (Some(paid_under), Some(current)) =
        (state.program_at(paid_at).or_else(|| state.program_at(now)), state.program_at(now))
    {
        let spend_left = spend_base - points_to_reverse(spend_base, amount, 0, refunded + this);
        referral = crate::referrals::on_refund(
            &mut *tx,
            &paid_under.program,
            &current.program,
            &order.id,
            spend_left,
            now,
        )
        .await?;
    }
    let event = if refund.is_some() { "refunded" } else { "cancelled" };
    Ok(
        json!({ "orderId": order.id, "event": event, "points": -points, "refunded": this, "referral": referral }),
    )
}

/// Query of the demo sign-in route.
#[derive(serde::Deserialize)]
pub struct DemoIdentityQuery {
    customer: String,
}

/// `GET /demo/identity?customer=ID` (demo mode only): what a shop's server renders into its page for a
/// signed-in shopper. A real shop computes this on its own server; the secret never leaves it.
pub async fn demo_identity(
    State(state): State<AppState>,
    Query(query): Query<DemoIdentityQuery>,
) -> Result<Json<Value>, ApiError> {
    if query.customer.is_empty() || query.customer.contains('\n') {
        return Err(ApiError::bad_request("customer must be a non-empty id without newlines"));
    }
    let now = state.now();
    // The demo plays the shop, which knows when an account was made: a new demo shopper's account is made by
    // this first sign-in (what a shop reports as `signedUpAt`; a referral landing needs it).
    let mut conn = state.db.acquire().await?;
    ensure_customer(&mut conn, &query.customer, now).await?;
    sqlx::query("UPDATE customers SET signed_up_at = COALESCE(signed_up_at, created_at) WHERE id = ?")
        .bind(&query.customer)
        .execute(&mut *conn)
        .await?;
    drop(conn);
    let config = &state.config;
    Ok(Json(json!({
        "customerId": query.customer,
        "timestamp": now,
        "digest": auth::shopper_digest(&config.shop_secrets[0], &config.shop_id, &query.customer, now),
        "authorization": auth::shopper_header(&config.shop_secrets[0], &config.shop_id, &query.customer, now),
    })))
}
