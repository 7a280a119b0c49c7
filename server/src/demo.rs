//! Demo data, loaded only in demo mode and only into an empty database: the demo brand's program and
//! catalog (`server/demo/`, written by `scripts/gen-demo-data.py`), four demo shoppers with order history
//! (one close to the next tier, one with points about to expire), and forty background shoppers whose
//! baskets give the catalog its popularity and bought-together neighbours. Every order goes through the same
//! handling as a real webhook.

use crate::error::ApiError;
use crate::routes::{apply_order_event, store_program, OrderEvent, OrderEventKind, OrderPayload};
use crate::state::AppState;
use loyalty_core::{CartLine, CatalogProduct, Currency, FromJson, Program};

/// The demo program.
pub const PROGRAM: &str = include_str!("../demo/program.json");

/// The demo catalog (60 products).
pub const CATALOG: &str = include_str!("../demo/catalog.json");

/// A demo order: days ago, then (product id, quantity) lines.
pub type DemoOrder = (i64, &'static [(&'static str, i64)]);

/// The demo shoppers the demo page signs in as.
pub const SHOPPERS: &[(&str, &[DemoOrder])] = &[
    // ¥925 in the last 12 months: ¥75 short of Silver.
    (
        "demo-near-silver",
        &[
            (200, &[("house-blend", 2), ("gaiwan", 1)]),
            (40, &[("longjing", 2), ("tasting-cups", 1)]),
            (20, &[("dianhong", 2)]),
        ],
    ),
    // Gold, with a large order.
    (
        "demo-gold",
        &[
            (300, &[("puer-raw", 4), ("yixing-pot", 2)]),
            (120, &[("hand-grinder", 2), ("geisha", 3)]),
            (12, &[("tea-gift-box", 5)]),
        ],
    ),
    // Points from almost a year ago, expiring within the month.
    ("demo-expiring", &[(350, &[("coffee-gift-box", 1), ("filters-100", 2)])]),
    ("demo-new", &[]),
];

const BACKGROUND_SHOPPERS: u64 = 40;

/// Products often bought together, so the background baskets have structure.
const AFFINITY: &[&[&str]] = &[
    &["yirgacheffe", "v60", "filters-100", "pour-over-kettle"],
    &["espresso-blend", "moka-pot", "mug"],
    &["house-blend", "french-press", "drip-daily-10"],
    &["longjing", "gaiwan", "fairness-cup"],
    &["tieguanyin", "dahongpao", "tasting-cups"],
    &["puer-ripe", "yixing-pot", "tea-tray"],
    &["drip-sampler-5", "drip-single-origin-10"],
    &["winter-spice-blend", "chestnut-latte-kit", "ginger-black-tea"],
];

/// Seeds the demo data if no program is stored yet. Refuses a database that holds a real shop's data: demo
/// mode signs anyone in as any shopper and pays orders for them, so pointed at a real database by mistake (a
/// leftover `LOYALTY_DEMO=1`) it would hand out every shopper's points.
pub async fn seed(state: &AppState) -> Result<(), ApiError> {
    let program =
        Program::from_json(PROGRAM).map_err(|p| ApiError::internal(format!("demo program: {p}")))?;
    // The demo marks the databases it seeds; one seeded before the mark existed is known by its first program.
    let marked: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'demo_database'")
            .fetch_optional(&state.db)
            .await?;
    if marked.is_some() {
        return Ok(());
    }
    let first: Option<String> = sqlx::query_scalar("SELECT body FROM program_versions ORDER BY id LIMIT 1")
        .fetch_optional(&state.db)
        .await?;
    match first {
        Some(body) if body == serde_json::to_string(&program).map_err(ApiError::internal)? => return Ok(()),
        Some(_) => return Err(not_a_demo_database()),
        None => {
            let customers: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(&state.db).await?;
            if customers > 0 {
                return Err(not_a_demo_database());
            }
        }
    }
    let catalog = Vec::<CatalogProduct>::from_json_str(CATALOG)
        .map_err(|p| ApiError::internal(format!("demo catalog: {p}")))?;
    let now = state.now();
    // A table of its own, not a migration: only a demo database has it, and a demo database stays one when the
    // demo's program changes in a later release.
    sqlx::query("CREATE TABLE IF NOT EXISTS demo_database (seeded_at INTEGER NOT NULL)")
        .execute(&state.db)
        .await?;
    sqlx::query("INSERT INTO demo_database (seeded_at) VALUES (?)").bind(now).execute(&state.db).await?;
    store_program(state, &program, 0).await?;
    for product in &catalog {
        // The seasonal and limited products arrived last week; the rest have been on sale for months.
        let fresh = product.tags.iter().any(|t| t == "limited" || t == "winter");
        let added = now - if fresh { 5 } else { 120 } * 86_400;
        sqlx::query("INSERT INTO catalog_products (id, body, updated_at, created_at) VALUES (?, ?, ?, ?)")
            .bind(&product.id)
            .bind(serde_json::to_string(product).map_err(ApiError::internal)?)
            .bind(now)
            .bind(added)
            .execute(&state.db)
            .await?;
    }
    let line = |id: &str, quantity: i64| -> Result<CartLine, ApiError> {
        let p = catalog
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ApiError::internal(format!("demo product {id}")))?;
        Ok(CartLine {
            product_id: p.id.clone(),
            variant_id: None,
            categories: p.categories.clone(),
            tags: p.tags.clone(),
            unit_price: p.price,
            quantity,
            discount: 0,
            tax: 0,
        })
    };
    let mut orders: Vec<(String, i64, Vec<CartLine>)> = Vec::new();
    for (customer, history) in SHOPPERS {
        for (days_ago, lines) in *history {
            let lines = lines.iter().map(|(id, q)| line(id, *q)).collect::<Result<Vec<_>, _>>()?;
            orders.push(((*customer).to_owned(), *days_ago, lines));
        }
    }
    // Background baskets from a fixed-seed generator: the same demo every time.
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    for shopper in 0..BACKGROUND_SHOPPERS {
        for _ in 0..=next(3) {
            let group = AFFINITY[usize::try_from(next(AFFINITY.len() as u64)).unwrap_or(0)];
            let mut ids: Vec<&str> = group.iter().copied().filter(|_| next(3) > 0).collect();
            if ids.is_empty() {
                ids.push(group[0]);
            }
            if next(2) == 0 {
                ids.push(&catalog[usize::try_from(next(catalog.len() as u64)).unwrap_or(0)].id);
            }
            ids.sort_unstable();
            ids.dedup();
            let lines = ids.iter().map(|id| line(id, 1)).collect::<Result<Vec<_>, _>>()?;
            orders.push((format!("demo-bg-{shopper}"), 1 + i64::try_from(next(80)).unwrap_or(0), lines));
        }
    }
    orders.sort_by_key(|(_, days_ago, _)| std::cmp::Reverse(*days_ago));
    for (n, (customer, days_ago, lines)) in orders.into_iter().enumerate() {
        let order = paid(format!("demo-order-{n}"), customer, now - days_ago * 86_400, lines);
        apply_order_event(state, &order, now).await?;
    }
    tracing::info!(products = catalog.len(), "seeded demo data");
    Ok(())
}

loyalty_core::wire_struct! {
    strict;
    /// `POST /demo/orders` body: what the demo page's cart holds.
    #[derive(Debug)]
    pub struct DemoCheckout {
        /// The signed-in demo shopper.
        pub customer_id: String,
        /// Product ids and quantities; prices come from the catalog.
        pub lines: Vec<DemoLine>,
    }
}

loyalty_core::wire_struct! {
    strict;
    /// One line of the demo cart.
    #[derive(Debug)]
    pub struct DemoLine {
        /// A catalog product id.
        pub product_id: String,
        /// How many, 1 to 99.
        pub quantity: i64,
    }
}

/// `POST /demo/orders` (demo mode only): the demo page's "Place order". It plays the shop's server, which
/// would send the order webhook once the payment clears: prices come from the catalog, and the order goes
/// through the same handling as a signed webhook (points, tiers, a referral's reward).
pub async fn place_order(
    axum::extract::State(state): axum::extract::State<AppState>,
    bytes: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let bytes = crate::routes::body(bytes)?;
    let checkout: DemoCheckout = crate::routes::decode(&bytes)?;
    let mut problems = loyalty_core::Problems::default();
    if checkout.customer_id.is_empty() || checkout.customer_id.len() > 128 {
        problems.push("customerId", "must be 1 to 128 bytes");
    }
    if checkout.lines.is_empty() {
        problems.push("lines", "must hold at least one product");
    }
    let mut lines = Vec::new();
    for (i, line) in checkout.lines.iter().enumerate() {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM catalog_products WHERE id = ?")
            .bind(&line.product_id)
            .fetch_optional(&state.db)
            .await?;
        let product = body.and_then(|b| CatalogProduct::from_json_str(&b).ok());
        match product {
            Some(p) if (1..=99).contains(&line.quantity) => lines.push(CartLine {
                product_id: p.id,
                variant_id: None,
                categories: p.categories,
                tags: p.tags,
                unit_price: p.price,
                quantity: line.quantity,
                discount: 0,
                tax: 0,
            }),
            Some(_) => problems.push(format!("lines[{i}].quantity"), "must be 1 to 99"),
            None => problems.push(format!("lines[{i}].productId"), "is not in the catalog"),
        }
    }
    if !problems.0.is_empty() {
        return Err(ApiError::invalid("invalid_body", problems));
    }
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(ApiError::internal)?;
    let now = state.now();
    let order =
        paid(format!("demo-web-{:016x}", u64::from_le_bytes(random)), checkout.customer_id, now, lines);
    Ok(axum::Json(apply_order_event(&state, &order, now).await?))
}

/// A paid demo order in CNY, as the shop's server would report it.
fn paid(id: String, customer_id: String, paid_at: i64, lines: Vec<CartLine>) -> OrderEvent {
    let order = OrderPayload {
        id,
        customer_id,
        paid_at,
        currency: Currency::CNY,
        exchange_rate: None,
        lines,
        order_discount: 0,
        shipping: 0,
        discount_codes: vec![],
    };
    OrderEvent { event: OrderEventKind::Paid, order, refund: None }
}

/// The refusal of demo mode on a database the demo did not make.
fn not_a_demo_database() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "not_a_demo_database",
        "demo mode refuses this database: it holds a shop's data that the demo did not write, and demo mode lets \
         anyone sign in as any shopper; point LOYALTY_DATABASE_URL at a database of its own, or turn LOYALTY_DEMO off",
    )
}
