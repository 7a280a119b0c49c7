//! The catalog: the admin upserts products; `GET /v1/catalog` serves them to widgets with a popularity rank
//! and co-purchase neighbours computed from orders (recomputed at most once a minute, cached with an ETag).
//! Anyone may read it, so what one request may ask is bounded (`limit` up to loyalty-core's
//! `MAX_CATALOG_LIMIT`) and identical requests share one answer (`catalog_answers.rs`).

use crate::error::ApiError;
use crate::routes::{body, decode_json};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use loyalty_core::{neighbours, popularity_ranks, CatalogProduct, Json as Doc};
use serde_json::json;
use sha2::Digest;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How long a computed catalog is served before popularity and neighbours are recomputed.
const RECOMPUTE_AFTER_SECONDS: i64 = 60;

/// Popularity counts units sold over this window.
const POPULARITY_WINDOW_SECONDS: i64 = 90 * 86_400;

/// The most a request with the admin key may ask for: the shop's own server reading a whole large catalog (in
/// columns, for its own UI), not something a page does.
const MAX_ADMIN_LIMIT: usize = 100_000;

/// Numbers every computed catalog, so answers computed from an older one are never served for a newer one.
static CATALOG_VERSIONS: AtomicU64 = AtomicU64::new(1);

/// A computed catalog: every product with its popularity and neighbours.
#[derive(Clone)]
pub struct ServedCatalog {
    /// Unique per computation (`CATALOG_VERSIONS`).
    version: u64,
    computed_at: i64,
    /// Sorted by id, so a `near` id is found by binary search.
    products: Arc<Vec<CatalogProduct>>,
    /// How many are in stock: every `limit` from there up asks for all of them.
    in_stock: usize,
}

/// `GET /v1/catalog` query: how many popular products, and the page's products whose neighbours to add.
#[derive(serde::Deserialize)]
pub struct CatalogQuery {
    limit: Option<String>,
    near: Option<String>,
    format: Option<String>,
}

/// `PUT /v1/admin/catalog`: `{"products": [...], "replace": false}` upserts products (with `replace`, products
/// not listed are removed). Every product is checked; one bad product refuses the whole upload.
pub async fn put_catalog(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    crate::routes::admin(&state, &headers)?;
    let doc = decode_json(&body(bytes)?)?;
    let version = state.program_now()?;
    let products_json = doc.get("products").ok_or_else(|| {
        ApiError::invalid("invalid_body", loyalty_core::Problems::one("products", "is required"))
    })?;
    let products = loyalty_core::parse_catalog(products_json, &version.program.locales)
        .map_err(|p| ApiError::invalid("invalid_catalog", p.under("products")))?;
    let replace = matches!(doc.get("replace"), Some(Doc::Bool(true)));
    let now = state.now();
    let mut tx = crate::db::begin_write(&state.db).await?;
    if replace {
        sqlx::query("DELETE FROM catalog_products").execute(&mut *tx).await?;
    }
    for product in &products {
        let stored = CatalogProduct {
            popularity: 0,
            neighbours: Vec::new(),
            neighbour_weights: Vec::new(),
            ..product.clone()
        };
        sqlx::query(
            "INSERT INTO catalog_products (id, body, updated_at, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(&product.id)
        .bind(serde_json::to_string(&stored).map_err(ApiError::internal)?)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // After any recomputation in flight (which may have read the products before this upload) has stored
    // its result, so that result cannot outlive the upload.
    let _recomputing = state.catalog_answers.recompute.lock().await;
    state.invalidate_catalog();
    Ok((StatusCode::OK, Json(json!({ "upserted": products.len(), "replaced": replace }))).into_response())
}

/// `GET /v1/catalog?limit=2000&near=a,b`: the candidate set a widget ranks (loyalty-core's
/// `candidate_set`: the most popular in stock and what goes with the page's products); public, cacheable,
/// with a strong ETag per answer.
pub async fn get_catalog(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<CatalogQuery>,
) -> Result<Response, ApiError> {
    let mut problems = loyalty_core::Problems::default();
    // Anyone may ask: one request is bounded by what a widget may be configured to ask for. The shop's own
    // server (the admin key) may read more.
    let most = if crate::routes::admin(&state, &headers).is_ok() {
        MAX_ADMIN_LIMIT
    } else {
        loyalty_core::MAX_CATALOG_LIMIT
    };
    let limit = match query.limit.as_deref().map(str::parse::<usize>) {
        None => loyalty_core::CANDIDATES,
        Some(Ok(n)) if n <= most => n,
        Some(_) => {
            problems.push("limit", format!("must be a whole number from 0 to {most}"));
            0
        }
    };
    let near: Vec<&str> =
        query.near.as_deref().map(|n| n.split(',').filter(|s| !s.is_empty()).collect()).unwrap_or_default();
    if near.len() > 50 || near.iter().any(|id| id.len() > 128) {
        problems.push("near", "must be at most 50 product ids of at most 128 bytes, comma-separated");
    }
    let columns = match query.format.as_deref() {
        None | Some("products") => false,
        Some("columns") => true,
        Some(_) => {
            problems.push("format", "must be \"products\" (the default) or \"columns\"");
            false
        }
    };
    if !problems.0.is_empty() {
        return Err(ApiError::invalid("invalid_query", problems));
    }
    let served = current(&state).await?;
    // In columns, titles in the program's locales (none before a program is loaded: nothing can show them).
    let locales = if columns {
        state.program_now().map(|v| v.program.locales.clone()).unwrap_or_default()
    } else {
        Vec::new()
    };
    // `near` asks the same in any order, with repeats, or with ids the catalog does not hold (they add
    // nothing to the candidate set): one key for all of those, so varying them computes nothing new.
    let mut near: Vec<String> = near
        .into_iter()
        .filter(|id| served.products.binary_search_by(|p| p.id.as_str().cmp(id)).is_ok())
        .map(str::to_owned)
        .collect();
    near.sort_unstable();
    near.dedup();
    // Every limit from the number of products in stock up asks for all of them: one key, one answer.
    let limit = limit.min(served.in_stock);
    let key = crate::catalog_answers::AnswerKey { catalog: served.version, limit, near, columns, locales };
    // Computing an answer (the candidate set, up to a few MB of JSON, its hash) is CPU work: off the async
    // workers, so that requests asking for answers not cached yet cannot stall every other request.
    let answer = state
        .catalog_answers
        .get_or_compute(key.clone(), || {
            let (served, key) = (served.clone(), key.clone());
            async move {
                tokio::task::spawn_blocking(move || answer(&served, &key))
                    .await
                    .map_err(ApiError::internal)?
            }
        })
        .await?;
    // An answer past the public bound was asked for with the admin key: a shared cache must not hand it to
    // anonymous callers, who would then get from the cache what the server refuses them.
    let cache = if key.limit > loyalty_core::MAX_CATALOG_LIMIT {
        HeaderValue::from_static("private, max-age=300")
    } else {
        HeaderValue::from_static("public, max-age=300, stale-while-revalidate=3600")
    };
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == answer.etag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, answer.etag), (header::CACHE_CONTROL, cache)])
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::ETAG, answer.etag),
            (header::CACHE_CONTROL, cache),
        ],
        answer.body,
    )
        .into_response())
}

/// Computes the answer to `key` from `served`: the candidate set in the format asked for, and its ETag.
fn answer(
    served: &ServedCatalog,
    key: &crate::catalog_answers::AnswerKey,
) -> Result<crate::catalog_answers::Answer, ApiError> {
    let near: Vec<&str> = key.near.iter().map(String::as_str).collect();
    let chosen = loyalty_core::candidate_set(&served.products, key.limit, &near);
    // Per candidate set and format (not per computation time: a recomputation that changes nothing keeps it).
    // The products are written once: their JSON is hashed, and is the body's.
    let products = serde_json::to_string(&chosen).map_err(ApiError::internal)?;
    let mut digest = sha2::Sha256::new();
    digest.update(products.as_bytes());
    if key.columns {
        digest.update(key.locales.join(",").as_bytes());
    }
    digest.update(if key.columns { "columns" } else { "products" });
    let etag = format!("\"{}\"", hex::encode(digest.finalize()));
    let etag = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let body = if key.columns {
        serde_json::to_string(&loyalty_core::CatalogColumns::from_products(&chosen, &key.locales))
            .map_err(ApiError::internal)?
    } else {
        format!("{{\"products\":{products},\"computedAt\":{}}}", served.computed_at)
    };
    Ok(crate::catalog_answers::Answer { etag, body: body.into() })
}

/// The computed catalog, recomputed when older than a minute (by one request; the others wait for it).
async fn current(state: &AppState) -> Result<ServedCatalog, ApiError> {
    let fresh = |now: i64| state.cached_catalog().filter(|c| now - c.computed_at < RECOMPUTE_AFTER_SECONDS);
    if let Some(served) = fresh(state.now()) {
        return Ok(served);
    }
    let _recomputing = state.catalog_answers.recompute.lock().await;
    // Another request may have recomputed it while this one waited.
    let now = state.now();
    if let Some(served) = fresh(now) {
        return Ok(served);
    }
    let served = compute(state, now).await?;
    state.catalog_answers.count_catalog();
    state.cache_catalog(served.clone());
    Ok(served)
}

/// `GET /demo/products` (demo mode only): every product, sold out too, for the demo shop's own product list
/// (a real shop lists products from its own database; widgets read the bounded `GET /v1/catalog`).
pub async fn demo_products(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let served = current(&state).await?;
    Ok(Json(json!({ "products": &*served.products })))
}

async fn compute(state: &AppState, now: i64) -> Result<ServedCatalog, ApiError> {
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT body, created_at FROM catalog_products ORDER BY id")
            .fetch_all(&state.db)
            .await?;
    let mut products = Vec::with_capacity(rows.len());
    for (body, created_at) in rows {
        let product: CatalogProduct = serde_json::from_str(&body).map_err(ApiError::internal)?;
        // When the shop first uploaded it, unless the upload said when the product was added.
        products.push(CatalogProduct { added_at: product.added_at.or(created_at), ..product });
    }
    let units: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT l.product_id, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE o.status != 'cancelled' AND o.paid_at >= ? GROUP BY l.product_id",
    )
    .bind(now - POPULARITY_WINDOW_SECONDS)
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .collect();
    let pairs: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT a.product_id, b.product_id, COUNT(DISTINCT a.order_id) FROM order_lines a
         JOIN order_lines b ON a.order_id = b.order_id AND a.product_id < b.product_id
         JOIN orders o ON o.id = a.order_id WHERE o.status != 'cancelled'
         GROUP BY a.product_id, b.product_id",
    )
    .fetch_all(&state.db)
    .await?;
    let orders_with: Vec<(String, i64)> = sqlx::query_as(
        "SELECT l.product_id, COUNT(DISTINCT l.order_id) FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE o.status != 'cancelled' GROUP BY l.product_id",
    )
    .fetch_all(&state.db)
    .await?;
    // The rules (percentiles, which neighbours and their weights) are loyalty-core's; this only counts.
    let known: std::collections::HashSet<&str> = products.iter().map(|p| p.id.as_str()).collect();
    let units: Vec<(&str, i64)> =
        units.iter().filter(|(id, _)| known.contains(id.as_str())).map(|(id, u)| (id.as_str(), *u)).collect();
    let ranks: HashMap<String, u32> = popularity_ranks(products.len(), &units).into_iter().collect();
    let orders_with: Vec<(&str, i64)> = orders_with
        .iter()
        .filter(|(id, _)| known.contains(id.as_str()))
        .map(|(id, n)| (id.as_str(), *n))
        .collect();
    let pairs: Vec<(&str, &str, i64)> = pairs
        .iter()
        .filter(|(a, b, _)| known.contains(a.as_str()) && known.contains(b.as_str()))
        .map(|(a, b, n)| (a.as_str(), b.as_str(), *n))
        .collect();
    let mut near: HashMap<String, Vec<(String, u32)>> =
        neighbours(&orders_with, &pairs).into_iter().collect();
    let served: Vec<CatalogProduct> = products
        .iter()
        .map(|p| {
            let (ids, weights) = near.remove(&p.id).unwrap_or_default().into_iter().unzip();
            CatalogProduct {
                popularity: ranks.get(&p.id).copied().unwrap_or(0),
                neighbours: ids,
                neighbour_weights: weights,
                ..p.clone()
            }
        })
        .collect();
    let mut served = served;
    served.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let version = CATALOG_VERSIONS.fetch_add(1, Ordering::Relaxed);
    let in_stock = served.iter().filter(|p| p.in_stock).count();
    Ok(ServedCatalog { version, computed_at: now, products: Arc::new(served), in_stock })
}
