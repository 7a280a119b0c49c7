//! loyalty-server: the reference backend of storefront-loyalty.
//!
//! It speaks the sync contract (`/v1`, documented in `server/openapi.yaml`), keeps the points ledger in
//! SQLite, and applies every rule through `loyalty-core`, the same code the widget runs, so the points a
//! page shows are the points awarded. Start it with [`serve`]; the `loyalty-server` binary reads
//! [`config::Config`] from a file and the environment.

pub mod auth;
pub mod catalog;
pub mod catalog_answers;
pub mod config;
pub mod connections;
pub mod customers;
pub mod db;
pub mod demo;
pub mod error;
pub mod limits;
pub mod redemptions;
pub mod referrals;
pub mod routes;
pub mod state;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, post, put};
use axum::Router;
use state::AppState;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The contract version this server speaks, sent on every response as `Loyalty-Api-Version`.
pub const API_VERSION: &str = "1";

/// The application: every route, with CORS for the configured origins, the body size limit, a timeout and
/// request tracing.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    // Answers about no one shopper: health, the program and catalog (public, cached with their ETags) and the
    // shop's webhooks.
    let public = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/v1/program", get(routes::get_program))
        .route("/v1/catalog", get(catalog::get_catalog))
        .route("/v1/webhooks/orders", post(routes::order_webhook))
        .route("/v1/webhooks/customers", post(customers::customer_webhook));
    // The shopper's writes, rate-limited per shopper and per address.
    let writes = Router::new()
        .route("/v1/customers/me/birthday", put(customers::put_birthday))
        .route("/v1/referrals/capture", post(customers::capture_referral))
        .route("/v1/redemptions", post(redemptions::create_redemption))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), limits::writes));
    // Answers about one shopper (their state, codes, export) or holding a credential: never kept by a browser's
    // or a proxy's cache, where the next person on that device or behind that proxy could be handed them.
    let mut private = Router::new()
        .route("/v1/customers/me", get(routes::customers_me))
        .merge(writes)
        .route("/v1/admin/program", put(routes::put_program))
        .route("/v1/admin/catalog", put(catalog::put_catalog))
        .route("/v1/admin/customers/{id}", axum::routing::delete(customers::erase))
        .route("/v1/admin/customers/{id}/export", get(customers::export))
        .route("/v1/admin/customers/{id}/adjustments", post(customers::adjust))
        .route("/v1/admin/discount-codes/{code}", get(redemptions::get_discount_code))
        .route("/v1/admin/discount-codes/{code}/consume", post(redemptions::consume_discount_code));
    if config.demo {
        private = private
            .route("/demo/identity", get(routes::demo_identity))
            .route("/demo/orders", post(demo::place_order));
    }
    let private = private.layer(SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    let mut api = public.merge(private);
    if config.demo {
        api = api.route("/demo/products", get(catalog::demo_products));
    }
    let origins: Vec<HeaderValue> =
        config.allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        // Retry-After is not one of the headers a cross-origin page may read unless exposed: without it, the
        // widget could not honour a 429's or 503's wait.
        .expose_headers([header::ETAG, header::RETRY_AFTER, HeaderName::from_static("loyalty-api-version")])
        .max_age(Duration::from_secs(600));
    let mut app = api
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(cors)
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("loyalty-api-version"),
            HeaderValue::from_static(API_VERSION),
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        // Spans name the route's template, never the URI: paths and queries can carry discount codes and
        // shopper ids (`/v1/admin/discount-codes/{code}`, `/demo/identity?customer=`).
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                let route =
                    request.extensions().get::<axum::extract::MatchedPath>().map_or("-", |p| p.as_str());
                tracing::debug_span!("request", method = %request.method(), route)
            },
        ))
        .with_state(state);
    // A file's precompressed copy (`.br`, `.gz` beside it, as scripts/package.mjs writes them for the widget)
    // goes to a browser that accepts it: nothing is compressed per request.
    let files = |dir: &std::path::PathBuf| {
        tower_http::services::ServeDir::new(dir).precompressed_br().precompressed_gzip()
    };
    if let Some(pkg) = &config.pkg_dir {
        app = app.nest_service("/pkg", files(pkg));
    }
    if let Some(dir) = &config.static_dir {
        app = app.fallback_service(files(dir));
    }
    // The strict policy a shop can use with the widget: 'wasm-unsafe-eval' added to a self-only policy, and
    // `worker-src blob:` so the shell runs in its worker, off the page's main thread (without it the shell runs
    // on the page). On every answer, pages included: no other site may frame them (clickjacking a "Redeem"
    // button), and `frame-ancestors` is not inherited from `default-src`, so it is named.
    app.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'",
        ),
    ))
    .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
    /// Its state (tests move its clock).
    pub state: AppState,
    /// Resolves when the server has stopped.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Gives the day's birthday gifts every hour, for as long as the server runs.
async fn birthday_sweeps(state: AppState) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match customers::award_birthdays(&state).await {
            Ok(0) => {}
            Ok(given) => tracing::info!(given, "birthday sweep"),
            Err(error) if error.code == "no_program" => {}
            Err(error) => {
                tracing::warn!(code = error.code, message = %error.message, "birthday sweep failed")
            }
        }
    }
}

/// Finishes, every five minutes, the reservations nobody came back for (`redemptions::sweep_reservations`).
async fn reservation_sweeps(state: AppState) {
    let mut every_five_minutes = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        every_five_minutes.tick().await;
        match redemptions::sweep_reservations(&state).await {
            Ok(0) => {}
            Ok(finished) => tracing::info!(finished, "reservation sweep"),
            Err(error) => {
                tracing::warn!(code = error.code, message = %error.message, "reservation sweep failed")
            }
        }
    }
}

/// Opens the database, seeds demo data in demo mode, and serves until `shutdown` resolves.
pub async fn serve(
    config: config::Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, String> {
    let db = db::open(&config.database_url, config.db_max_connections).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = AppState::new(config, db).await?;
    if state.config.demo {
        demo::seed(&state).await.map_err(|e| format!("cannot seed the demo data: {}", e.message))?;
    }
    tokio::spawn(birthday_sweeps(state.clone()));
    tokio::spawn(reservation_sweeps(state.clone()));
    let app = app(state.clone());
    let timeouts = connections::Timeouts {
        header: state.config.header_timeout,
        write_stall: state.config.write_timeout,
    };
    let limits = state.config.connection_limits;
    let trusted = state.config.trusted_proxies.clone();
    let task = tokio::spawn(connections::accept(listener, app, timeouts, limits, trusted, shutdown));
    Ok(Running { addr, state, task })
}
