//! Demo data, loaded only in demo mode and only into an empty database: the demo shop's program and a few
//! shoppers with order history, sent through the same order handling as real webhooks.

use crate::error::ApiError;
use crate::routes::{apply_order_event, store_program, OrderEvent, OrderEventKind, OrderPayload};
use crate::state::AppState;
use loyalty_core::{CartLine, Currency, Program};

/// The demo program (the demo shop's own file).
pub const PROGRAM: &str = include_str!("../../www/program.json");

/// A demo order: days ago, product id, category, unit price in fen, quantity.
pub type DemoOrder = (i64, &'static str, &'static str, i64, i64);

/// Demo shoppers and their orders.
pub const SHOPPERS: &[(&str, &[DemoOrder])] = &[
    ("demo-near-silver", &[(200, "puer", "dark-tea", 26_800, 2), (40, "longjing", "green-tea", 12_800, 3)]),
    (
        "demo-gold",
        &[
            (300, "puer", "dark-tea", 26_800, 20),
            (100, "gaiwan", "teaware", 8_900, 20),
            (5, "longjing", "green-tea", 12_800, 2),
        ],
    ),
    ("demo-new", &[]),
];

/// Seeds the demo program and shoppers if no program is stored yet.
pub async fn seed(state: &AppState) -> Result<(), ApiError> {
    if state.program_at(i64::MAX).is_some() {
        return Ok(());
    }
    let program =
        Program::from_json(PROGRAM).map_err(|p| ApiError::internal(format!("demo program: {p}")))?;
    let now = state.now();
    store_program(state, &program, 0).await?;
    for (customer, orders) in SHOPPERS {
        for (n, (days_ago, product, category, price, quantity)) in orders.iter().enumerate() {
            let paid_at = now - days_ago * 86_400;
            let order = OrderPayload {
                id: format!("{customer}-{n}"),
                customer_id: (*customer).to_owned(),
                paid_at,
                currency: Currency::CNY,
                exchange_rate: None,
                lines: vec![CartLine {
                    product_id: (*product).to_owned(),
                    variant_id: None,
                    categories: vec![(*category).to_owned()],
                    tags: vec![],
                    unit_price: *price,
                    quantity: *quantity,
                    discount: 0,
                    tax: 0,
                }],
                order_discount: 0,
                shipping: 0,
                discount_codes: vec![],
            };
            apply_order_event(state, &OrderEvent { event: OrderEventKind::Paid, order, refund: None }, now)
                .await?;
        }
    }
    tracing::info!(shoppers = SHOPPERS.len(), "seeded demo data");
    Ok(())
}
