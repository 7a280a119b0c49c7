//! The catalog's computed answers, shared between requests: `GET /v1/catalog` is public, so anyone can ask
//! it again and again; an answer is computed once per catalog version and normalised query, kept in a small
//! bounded cache, and concurrent identical requests wait for the one computation instead of each doing it.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::http::HeaderValue;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Answers kept at most. The widget asks one query per page type (the home page's, and each product page's
/// `near`), so a few dozen cover a shop's busy pages between recomputations (once a minute).
const MAX_ANSWERS: usize = 64;

/// Bytes of answer bodies kept at most (an answer of 5,000 products is about 2 MB; an admin's larger one may
/// be dropped at once, and is then only shared by the requests already waiting for it).
const MAX_BYTES: usize = 32 << 20;

/// What an answer depends on: the catalog version it was computed from and the query, normalised so that
/// queries asking the same thing share one answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    /// The computed catalog's version (`ServedCatalog::version`).
    pub catalog: u64,
    /// `limit`.
    pub limit: usize,
    /// `near`: sorted, without repeats, only ids in the catalog (an unknown id changes nothing).
    pub near: Vec<String>,
    /// `format=columns`.
    pub columns: bool,
    /// The program's locales, which columns carry titles in (empty for products).
    pub locales: Vec<String>,
}

/// A computed answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Its strong ETag.
    pub etag: HeaderValue,
    /// Its body.
    pub body: Bytes,
}

#[derive(Default)]
struct Kept {
    /// The newest catalog version seen: answers for older ones are dropped.
    catalog: u64,
    answers: HashMap<AnswerKey, Arc<OnceCell<Answer>>>,
    /// Keys in the order they were added, oldest first (the first to go).
    order: VecDeque<AnswerKey>,
}

/// The shared answers, and how many were computed (tests read the counts).
#[derive(Default)]
pub struct CatalogAnswers {
    kept: Mutex<Kept>,
    computed: AtomicU64,
    catalogs_computed: AtomicU64,
    /// Held while the catalog itself (popularity, neighbours) is recomputed, so concurrent requests that find
    /// it stale wait for one recomputation instead of each running the queries.
    pub(crate) recompute: tokio::sync::Mutex<()>,
}

impl CatalogAnswers {
    /// How many answers have been computed.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// How many times the catalog itself has been computed.
    pub fn catalogs_computed(&self) -> u64 {
        self.catalogs_computed.load(Ordering::Relaxed)
    }

    pub(crate) fn count_catalog(&self) {
        self.catalogs_computed.fetch_add(1, Ordering::Relaxed);
    }

    /// The answer for `key`: the kept one, the one another request is computing (waited for), or `compute`'s.
    /// A failed computation is not kept; the next request tries again.
    pub async fn get_or_compute<F, Fut>(&self, key: AnswerKey, compute: F) -> Result<Answer, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Answer, ApiError>>,
    {
        let cell = {
            let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if key.catalog > kept.catalog {
                *kept = Kept { catalog: key.catalog, ..Kept::default() };
            }
            if key.catalog < kept.catalog {
                // A request that read the catalog just before it was recomputed: answer it, keep nothing.
                None
            } else if let Some(cell) = kept.answers.get(&key) {
                Some(cell.clone())
            } else {
                let cell = Arc::new(OnceCell::new());
                kept.answers.insert(key.clone(), cell.clone());
                kept.order.push_back(key.clone());
                Some(cell)
            }
        };
        let counted = || {
            self.computed.fetch_add(1, Ordering::Relaxed);
            compute()
        };
        let Some(cell) = cell else {
            return counted().await;
        };
        let answer = cell.get_or_try_init(counted).await?.clone();
        self.trim();
        Ok(answer)
    }

    /// Drops the oldest answers while more are kept than `MAX_ANSWERS` or `MAX_BYTES` allow. Requests waiting
    /// on a dropped answer still get it (they hold the cell).
    fn trim(&self) {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            // At most MAX_ANSWERS + a few to add up: cheaper than keeping a running total right under races.
            let bytes: usize = kept.answers.values().filter_map(|c| c.get()).map(|a| a.body.len()).sum();
            if kept.answers.len() <= MAX_ANSWERS && bytes <= MAX_BYTES {
                break;
            }
            let Some(oldest) = kept.order.pop_front() else { break };
            kept.answers.remove(&oldest);
        }
    }
}
