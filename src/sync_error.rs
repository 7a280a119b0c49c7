//! Why talking to the backend failed: one closed list, each with a stable code, a readable message, and the
//! two facts the store decides by (may it be retried, does it mean "offline").

use loyalty_core::Problems;

/// A failed read or write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncError {
    /// The request never got an answer (no network, DNS, CORS refusal, connection reset).
    Offline(String),
    /// No answer within the configured time; the request was aborted.
    Timeout {
        /// The configured timeout.
        after_ms: u32,
    },
    /// The backend answered with an error status.
    Status {
        /// The HTTP status (or the `status` a custom adapter's error carried).
        status: u16,
        /// The backend's own error code, when its body had one.
        code: Option<String>,
        /// The backend's message, or the status text.
        message: String,
        /// From `Retry-After`, milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The answer was not what the contract says (bad JSON, a wrong-typed field, another shopper's data,
    /// a wrong content type); every problem has its path.
    InvalidResponse(Problems),
    /// The answer was larger than the configured cap and was not read.
    TooLarge {
        /// The configured cap, bytes.
        limit: u32,
    },
    /// A custom adapter's function threw or rejected without a status.
    Adapter(String),
    /// A write too old to send again, which the shopper's state does not show as done; the shopper's
    /// activity shows what happened.
    NotCompleted,
    /// A write needs a signed-in shopper.
    NotSignedIn,
    /// The client was destroyed before the answer came.
    Destroyed,
}

impl SyncError {
    /// The stable code JS can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Offline(_) => "offline",
            SyncError::Timeout { .. } => "timeout",
            SyncError::Status { status: 401 | 403, .. } => "unauthorized",
            SyncError::Status { status: 429, .. } => "rate_limited",
            SyncError::Status { status: 500.., .. } => "server_error",
            SyncError::Status { .. } => "refused",
            SyncError::InvalidResponse(_) => "invalid_response",
            SyncError::TooLarge { .. } => "response_too_large",
            SyncError::Adapter(_) => "adapter_failed",
            SyncError::NotCompleted => "not_completed",
            SyncError::NotSignedIn => "not_signed_in",
            SyncError::Destroyed => "destroyed",
        }
    }

    /// Worth trying again: the network, a timeout, 408, 429 and 5xx. Other 4xx and unreadable answers are
    /// definitive (repeating the request would get the same answer).
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Offline(_) | SyncError::Timeout { .. } | SyncError::Adapter(_) => true,
            // 501 Not Implemented is not going to change by asking again.
            SyncError::Status { status, .. } => matches!(status, 408 | 429 | 500 | 502..),
            _ => false,
        }
    }

    /// Worth sending a write again: what is worth retrying for a read, and the contract's "this key's first
    /// request is still running" (409 `idempotency_key_in_flight`), which will have an answer shortly.
    pub fn is_retryable_write(&self) -> bool {
        self.is_retryable()
            || matches!(self, SyncError::Status { status: 409, code: Some(code), .. } if code == "idempotency_key_in_flight")
    }

    /// The backend could not be reached (as opposed to answering badly).
    pub fn is_offline(&self) -> bool {
        matches!(self, SyncError::Offline(_) | SyncError::Timeout { .. })
    }

    pub(crate) fn is_about_shopper(&self) -> bool {
        matches!(self, SyncError::Status { status: 401 | 403, .. })
    }

    /// How long the backend asked us to wait.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            SyncError::Status { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    /// The HTTP status, if the backend answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            SyncError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn problems(&self) -> Option<&Problems> {
        match self {
            SyncError::InvalidResponse(p) => Some(p),
            _ => None,
        }
    }
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Offline(detail) => write!(f, "the loyalty service cannot be reached: {detail}"),
            SyncError::Timeout { after_ms } => {
                write!(f, "the loyalty service did not answer within {after_ms} ms")
            }
            SyncError::Status { status, message, .. } => {
                write!(f, "the loyalty service answered {status}: {message}")
            }
            SyncError::InvalidResponse(p) => write!(f, "the loyalty service sent an unreadable answer: {p}"),
            SyncError::TooLarge { limit } => {
                write!(f, "the loyalty service sent an answer larger than {limit} bytes; it was not read")
            }
            SyncError::Adapter(message) => write!(f, "the loyalty adapter failed: {message}"),
            SyncError::NotCompleted => f.write_str(
                "a redemption saved days ago could not be confirmed; your activity shows what happened",
            ),
            SyncError::NotSignedIn => f.write_str("sign in to redeem rewards"),
            SyncError::Destroyed => f.write_str("the loyalty client was destroyed"),
        }
    }
}
