//! The `loyalty-server` binary: reads the configuration (`--config FILE`, `--demo`, and `LOYALTY_*`
//! environment variables), serves until Ctrl-C or SIGTERM, then shuts down gracefully.

use loyalty_server::config::Config;
use std::path::PathBuf;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=info,sqlx=warn".into());
    // LOYALTY_LOG_FORMAT=json writes one JSON object per event, for log collectors.
    if std::env::var("LOYALTY_LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    let mut demo = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => file = args.next().map(PathBuf::from),
            "--demo" => demo = true,
            "--help" | "-h" => {
                eprintln!("usage: loyalty-server [--config FILE] [--demo]   (settings: see README, LOYALTY_* variables)");
                return std::process::ExitCode::SUCCESS;
            }
            other => {
                eprintln!("loyalty-server: unknown argument {other:?} (try --help)");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let env = |name: &str| {
        if demo && name == "LOYALTY_DEMO" {
            Some("1".to_owned())
        } else {
            std::env::var(name).ok()
        }
    };
    let config = match Config::load(file.as_deref(), &env) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("loyalty-server: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let demo = config.demo;
    match loyalty_server::serve(config, shutdown_signal()).await {
        Ok(running) => {
            tracing::info!(addr = %running.addr, demo, "loyalty-server listening");
            if demo {
                eprintln!("demo shop: http://{}/  (Ctrl-C to stop)", running.addr);
            }
            match running.task.await {
                Ok(Ok(())) => std::process::ExitCode::SUCCESS,
                Ok(Err(e)) => {
                    eprintln!("loyalty-server: {e}");
                    std::process::ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("loyalty-server: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(message) => {
            eprintln!("loyalty-server: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
