//! The database: opening SQLite (file created with its folder, WAL), applying the embedded migrations, and
//! the queries the routes share. Only this module writes SQL.

use loyalty_core::{Activity, EarnSource, LedgerEntry, LedgerKind, QualifyingEvent};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Migrations, embedded so the binary carries its schema; applied in order, each once.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_redemptions.sql")),
    (3, include_str!("../migrations/0003_catalog.sql")),
    (4, include_str!("../migrations/0004_indexes.sql")),
    (5, include_str!("../migrations/0005_redemption_keys.sql")),
    (6, include_str!("../migrations/0006_birthdays.sql")),
    (7, include_str!("../migrations/0007_referral_rewards.sql")),
    (8, include_str!("../migrations/0008_catalog_added.sql")),
    (9, include_str!("../migrations/0009_redemption_fences.sql")),
    (10, include_str!("../migrations/0010_customer_event_order.sql")),
];

/// Opens (creating if needed) and migrates the database, with at most `max_connections` connections.
pub async fn open(url: &str, max_connections: u32) -> Result<SqlitePool, String> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| format!("database url {url:?}: {e}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot open the database {url:?}: {e}"))?;
    migrate(&pool).await.map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(pool)
}

async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    migrate_through(pool, i64::MAX).await?;
    remint_referral_codes(pool).await
}

/// Applies the migrations up to `last` that are not applied yet (a test stops early to lay down old data).
async fn migrate_through(pool: &SqlitePool, last: i64) -> Result<(), sqlx::Error> {
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        .execute(pool)
        .await?;
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version <= last) {
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
            .bind(version)
            .fetch_optional(pool)
            .await?;
        if done.is_none() {
            let mut tx = pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, strftime('%s', 'now'))",
            )
            .bind(version)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(version, "applied migration");
        }
    }
    Ok(())
}

/// Gives a new code to every shopper whose code has no valid check character (codes minted before check
/// characters existed), and moves the attributions that named the old code: a widget refuses such a code
/// before sending it, so a link with it would never count.
async fn remint_referral_codes(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let codes: Vec<(String, String)> =
        sqlx::query_as("SELECT id, referral_code FROM customers").fetch_all(pool).await?;
    let stale: Vec<(String, String)> =
        codes.into_iter().filter(|(_, code)| loyalty_core::ReferralCode::parse(code).is_err()).collect();
    if stale.is_empty() {
        return Ok(());
    }
    let mut tx = begin_write(pool).await?;
    for (id, old) in &stale {
        let new = new_referral_code();
        sqlx::query("UPDATE customers SET referral_code = ? WHERE id = ?")
            .bind(&new)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE customers SET referred_by = ? WHERE referred_by = ?")
            .bind(&new)
            .bind(old)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(count = stale.len(), "reminted referral codes without a check character");
    Ok(())
}

/// A new referral code from the operating system's random generator (31⁷ ≈ 2.8 × 10¹⁰ codes; the unique
/// index on `customers.referral_code` refuses the rare repeat).
pub fn new_referral_code() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random generator works");
    loyalty_core::ReferralCode::from_random(u64::from_le_bytes(bytes)).to_string()
}

/// Starts a transaction that will write. `BEGIN IMMEDIATE` takes SQLite's write lock at once (waiting up to
/// the busy timeout); a deferred transaction that reads first and writes later would instead fail at once
/// with "database is locked" when another connection wrote in between.
pub async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// [`begin_write`] on a connection the caller already holds: a request that holds a pooled connection never
/// asks the pool for a second one (with every connection held by such requests, each would wait for ever).
pub async fn begin_write_on(
    conn: &mut sqlx::SqliteConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error> {
    sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await
}

/// The text stored for a ledger kind or earn source: their wire names.
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn parse_wire<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| sqlx::Error::Decode(format!("stored value {text:?}: {e}").into()))
}

/// A shopper's ledger, oldest first.
pub async fn ledger<'c, E>(db: E, customer: &str) -> Result<Vec<LedgerEntry>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let rows = sqlx::query(
        "SELECT at, kind, points, source, order_id FROM ledger WHERE customer_id = ? ORDER BY at, id",
    )
    .bind(customer)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LedgerEntry {
                at: r.try_get("at")?,
                kind: parse_wire::<LedgerKind>(r.try_get("kind")?)?,
                points: r.try_get("points")?,
                source: parse_wire::<EarnSource>(r.try_get("source")?)?,
                order_id: r.try_get("order_id")?,
            })
        })
        .collect()
}

/// A shopper's qualifying events.
pub async fn qualifying_events<'c, E>(db: E, customer: &str) -> Result<Vec<QualifyingEvent>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let rows = sqlx::query("SELECT at, source, spend, points, orders FROM qualifying_events WHERE customer_id = ? ORDER BY at, id")
        .bind(customer)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(QualifyingEvent {
                at: r.try_get("at")?,
                source: parse_wire::<EarnSource>(r.try_get("source")?)?,
                spend: r.try_get("spend")?,
                points: r.try_get("points")?,
                orders: r.try_get("orders")?,
            })
        })
        .collect()
}

/// The latest `limit` ledger entries, newest first.
pub async fn recent_activity<'c, E>(db: E, customer: &str, limit: i64) -> Result<Vec<Activity>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let rows = sqlx::query(
        "SELECT at, kind, points, source, order_id, reason FROM ledger WHERE customer_id = ? ORDER BY at DESC, id DESC LIMIT ?",
    )
    .bind(customer)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Activity {
                at: r.try_get("at")?,
                kind: parse_wire::<LedgerKind>(r.try_get("kind")?)?,
                points: r.try_get("points")?,
                source: Some(parse_wire::<EarnSource>(r.try_get("source")?)?),
                order_id: r.try_get("order_id")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

/// A new ledger entry.
pub struct NewEntry<'a> {
    /// The shopper.
    pub customer: &'a str,
    /// The fact.
    pub entry: LedgerEntry,
    /// Shown to the shopper, or an admin's reason.
    pub reason: Option<&'a str>,
    /// Who made a manual adjustment.
    pub actor: Option<&'a str>,
}

/// Appends to the ledger inside a transaction.
pub async fn append_ledger(
    conn: &mut sqlx::SqliteConnection,
    new: NewEntry<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledger (customer_id, at, kind, points, source, order_id, reason, actor, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.customer)
    .bind(new.entry.at)
    .bind(wire_name(&new.entry.kind))
    .bind(new.entry.points)
    .bind(wire_name(&new.entry.source))
    .bind(&new.entry.order_id)
    .bind(new.reason)
    .bind(new.actor)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends a qualifying event inside a transaction.
pub async fn append_qualifying(
    conn: &mut sqlx::SqliteConnection,
    customer: &str,
    event: &QualifyingEvent,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO qualifying_events (customer_id, at, source, spend, points, orders) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(customer)
        .bind(event.at)
        .bind(wire_name(&event.source))
        .bind(event.spend)
        .bind(event.points)
        .bind(event.orders)
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses a discount code this server issued on an order: true when this call used it. A code is usable only while
/// its redemption is finished with that very code and the code was not withdrawn (see migration 0009): so a code
/// whose points were given back can never be used, whichever way it is presented (the admin call or an order).
pub async fn use_discount_code<'c, E>(
    db: E,
    code: &str,
    order_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let used = sqlx::query(
        "UPDATE discount_codes SET consumed_at = ?, consumed_order_id = ?
         WHERE code = ? AND consumed_at IS NULL AND voided_at IS NULL AND EXISTS (
             SELECT 1 FROM redemptions r
             WHERE r.id = discount_codes.redemption_id AND r.state = 'done' AND r.code = discount_codes.code)",
    )
    .bind(now)
    .bind(order_id)
    .bind(code)
    .execute(db)
    .await?
    .rows_affected();
    Ok(used == 1)
}

/// Whether a discount code was withdrawn: never used, and either voided or no longer the code of a finished
/// redemption (see [`use_discount_code`]). `None` when no code has this value. A code used before stays what it
/// was, so that using it again for the same order still answers as before.
pub async fn discount_code_withdrawn<'c, E>(db: E, code: &str) -> Result<Option<bool>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    sqlx::query_scalar(
        "SELECT d.consumed_at IS NULL AND (d.voided_at IS NOT NULL OR r.id IS NULL) FROM discount_codes d
         LEFT JOIN redemptions r ON r.id = d.redemption_id AND r.state = 'done' AND r.code = d.code
         WHERE d.code = ?",
    )
    .bind(code)
    .fetch_optional(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at migration `last`, in memory (one connection, so every query sees the same database).
    async fn at_migration(last: i64) -> SqlitePool {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        migrate_through(&pool, last).await.expect("migrations");
        pool
    }

    #[tokio::test]
    async fn the_fences_migration_withdraws_the_codes_the_replay_bug_left_usable() {
        // The old code left two kinds of usable codes behind: one whose redemption was refunded after it had
        // finished (`failed:` placeholder, points back), and a first code replaced by a second one on the same
        // redemption. Both must be withdrawn; a finished redemption's own code, and a used code, stay as they are.
        let pool = at_migration(8).await;
        for sql in [
            "INSERT INTO redemptions (id, customer_id, reward_id, cost, code, created_at, idempotency_key)
             VALUES ('r_refunded', 'c1', 'ten-off', 500, 'failed:r_refunded', 1, NULL),
                    ('r_twice', 'c1', 'ten-off', 500, 'SECOND', 1, 'k2'),
                    ('r_good', 'c1', 'ten-off', 500, 'GOOD', 1, 'k3'),
                    ('r_pending', 'c1', 'ten-off', 500, 'pending:r_pending', 1, 'k4')",
            "INSERT INTO discount_codes (code, customer_id, redemption_id, reward, created_at, consumed_at)
             VALUES ('REFUNDED', 'c1', 'r_refunded', '{}', 1, NULL), ('FIRST', 'c1', 'r_twice', '{}', 1, NULL),
                    ('SECOND', 'c1', 'r_twice', '{}', 1, NULL), ('GOOD', 'c1', 'r_good', '{}', 1, NULL),
                    ('USED', 'c1', 'r_refunded', '{}', 1, 5)",
            "INSERT INTO idempotency_keys (customer_id, key, request_hash, state, created_at)
             VALUES ('admin:c1', 'k', 'h', 'done', 1), ('ADMIN:c9', 'k', 'h', 'done', 1), ('c1', 'k', 'h', 'done', 1)",
        ] {
            sqlx::raw_sql(sql).execute(&pool).await.expect("old rows");
        }
        migrate_through(&pool, 9).await.expect("migration 9");
        let withdrawn: Vec<String> =
            sqlx::query_scalar("SELECT code FROM discount_codes WHERE voided_at IS NOT NULL ORDER BY code")
                .fetch_all(&pool)
                .await
                .expect("codes");
        assert_eq!(withdrawn, ["FIRST", "REFUNDED"]);
        let states: Vec<(String, String)> = sqlx::query_as("SELECT id, state FROM redemptions ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("rows");
        let states: Vec<(&str, &str)> =
            states.iter().map(|(id, state)| (id.as_str(), state.as_str())).collect();
        assert_eq!(
            states,
            [("r_good", "done"), ("r_pending", "reserved"), ("r_refunded", "refunded"), ("r_twice", "done")]
        );
        for (code, withdrawn) in
            [("REFUNDED", true), ("FIRST", true), ("SECOND", false), ("GOOD", false), ("USED", false)]
        {
            assert_eq!(discount_code_withdrawn(&pool, code).await.expect("query"), Some(withdrawn), "{code}");
        }
        let scopes: Vec<String> =
            sqlx::query_scalar("SELECT customer_id FROM idempotency_keys ORDER BY customer_id")
                .fetch_all(&pool)
                .await
                .expect("keys");
        assert_eq!(scopes, ["ADMIN:c9", "admin\nc1", "c1"], "only the exact prefix `admin:` moves");
    }
}
