//! Errors as the contract states them: `{"error": {"code", "message"}}` with the right HTTP status, plus a
//! `problems` list (path and message) when a body did not validate.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use loyalty_core::Problems;
use serde_json::json;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, e.g. `invalid_body`, `unauthorized`.
    pub code: &'static str,
    /// A readable message, lowercase, no trailing period.
    pub message: String,
    /// Every problem with its path, for bodies that did not validate.
    pub problems: Option<Problems>,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after: Option<i64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), problems: None, retry_after: None }
    }

    /// 422: the body was well-formed JSON that broke the contract's rules, with every problem.
    pub fn invalid(code: &'static str, problems: Problems) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message: problems.to_string(),
            problems: Some(problems),
            retry_after: None,
        }
    }

    /// 400: the body could not be read.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no valid credentials.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 429: too many writes; try again after `seconds`.
    pub fn rate_limited(scope: &str, seconds: i64) -> ApiError {
        ApiError {
            retry_after: Some(seconds.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many writes from this {scope}: try again in {} s", seconds.max(1)),
            )
        }
    }

    /// 500: logged in full, reported to the caller without internals.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        ApiError::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(problems) = &self.problems {
            error["problems"] = json!(problems);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
