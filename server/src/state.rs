//! What every request handler shares: configuration, the database, the loaded program versions, the clock
//! and the write lock.

use crate::config::Config;
use crate::error::ApiError;
use loyalty_core::Program;
use sqlx::{Row, SqlitePool};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// One stored program version.
#[derive(Clone)]
pub struct ProgramVersion {
    /// Version number (increasing).
    pub id: i64,
    /// The validated program.
    pub program: Arc<Program>,
    /// Its JSON as served.
    pub body: Arc<str>,
    /// Strong ETag of `body`.
    pub etag: Arc<str>,
    /// When it takes effect, Unix seconds.
    pub activates_at: i64,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// The database.
    pub db: SqlitePool,
    programs: Arc<RwLock<Vec<ProgramVersion>>>,
    clock_offset: Arc<AtomicI64>,
    catalog: Arc<RwLock<Option<crate::catalog::ServedCatalog>>>,
    /// Outbound HTTP (the shop's coupon endpoint), with a short timeout.
    pub http: reqwest::Client,
    /// Serialises writes that read a balance and then spend it. SQLite has one writer anyway; a PostgreSQL
    /// port replaces this with row locks (`SELECT ... FOR UPDATE`) on the shopper.
    pub write_lock: Arc<tokio::sync::Mutex<()>>,
    /// The shopper's writes per shopper and per address (`limits.rs`).
    pub limiter: Arc<crate::limits::RateLimiter>,
    /// The catalog's answers, computed once per catalog version and query (`catalog_answers.rs`).
    pub catalog_answers: Arc<crate::catalog_answers::CatalogAnswers>,
}

impl AppState {
    /// Builds the state and loads the stored program versions.
    pub async fn new(config: Config, db: SqlitePool) -> Result<AppState, String> {
        let state = AppState {
            config: Arc::new(config),
            db,
            programs: Arc::default(),
            clock_offset: Arc::default(),
            catalog: Arc::default(),
            limiter: Arc::default(),
            catalog_answers: Arc::default(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                // A redirect would carry the signed body elsewhere (and could go from https to http).
                .redirect(reqwest::redirect::Policy::none())
                // Nor through a proxy from the environment (`http_proxy`): an `http://` loopback endpoint's signed
                // body would cross the network in clear to it.
                .no_proxy()
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))?,
            write_lock: Arc::default(),
        };
        state.reload_programs().await.map_err(|e| format!("cannot load the stored programs: {e}"))?;
        Ok(state)
    }

    /// Now, Unix seconds (the system clock, plus the offset tests may set).
    pub fn now(&self) -> i64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        system + self.clock_offset.load(Ordering::Relaxed)
    }

    /// Moves the clock (tests of pending points, expiry and identity age).
    pub fn advance_clock(&self, seconds: i64) {
        self.clock_offset.fetch_add(seconds, Ordering::Relaxed);
    }

    /// The catalog as last computed.
    pub fn cached_catalog(&self) -> Option<crate::catalog::ServedCatalog> {
        self.catalog.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Keeps a computed catalog for the next requests.
    pub fn cache_catalog(&self, served: crate::catalog::ServedCatalog) {
        *self.catalog.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(served);
    }

    /// Forgets the computed catalog (after an upload).
    pub fn invalidate_catalog(&self) {
        *self.catalog.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Re-reads every program version from the database.
    pub async fn reload_programs(&self) -> Result<(), sqlx::Error> {
        let rows = sqlx::query("SELECT id, body, etag, activates_at FROM program_versions ORDER BY id")
            .fetch_all(&self.db)
            .await?;
        let mut versions = Vec::with_capacity(rows.len());
        for row in rows {
            let body: String = row.try_get("body")?;
            let program = Program::from_json(&body)
                .map_err(|p| sqlx::Error::Decode(format!("stored program is invalid: {p}").into()))?;
            versions.push(ProgramVersion {
                id: row.try_get("id")?,
                program: Arc::new(program),
                body: body.into(),
                etag: row.try_get::<String, _>("etag")?.into(),
                activates_at: row.try_get("activates_at")?,
            });
        }
        *self.programs.write().unwrap_or_else(std::sync::PoisonError::into_inner) = versions;
        Ok(())
    }

    /// The version in effect at `at`: the newest whose activation time has passed.
    pub fn program_at(&self, at: i64) -> Option<ProgramVersion> {
        let versions = self.programs.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        versions.iter().rev().find(|v| v.activates_at <= at).cloned()
    }

    /// The version in effect now, or the error the contract gives when none is.
    pub fn program_now(&self) -> Result<ProgramVersion, ApiError> {
        self.program_at(self.now()).ok_or_else(|| {
            ApiError::new(axum::http::StatusCode::NOT_FOUND, "no_program", "no loyalty program is active yet")
        })
    }
}
