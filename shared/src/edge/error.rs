//! The API's error type: every failure a client can see, with its status, stable code and
//! message. A server-side failure keeps its cause (a [`Fault`] with the store's or SDK's
//! chain of errors) for the one log line [`crate::edge::api::error_response`] writes; the
//! client sees only the code and our message.

use http::StatusCode;

use crate::domain::access::AccessError;
use crate::domain::apps::AppsError;
use crate::domain::exports::ExportError;
use crate::domain::users::{RestoreError, UsersError};
use crate::domain::wallets::rpc::RpcError;
use crate::domain::webhooks::manage::WebhooksError;
use crate::model::validation::FieldError;
use crate::ports::{Fault, StoreError};

/// A failure as the client sees it. Rendered once, by [`crate::edge::api`], into the JSON envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("this API key lacks the {needed} scope this route needs")]
    InsufficientScope { needed: crate::model::Scope },
    #[error("too many requests for this app; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the user is disabled: enable it (POST /v1/users/{{id}}/enable) first")]
    UserDisabled,
    #[error("this app admits only users on its allowlist, and none of these identifiers is")]
    NotAllowlisted,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<http::Method> },
    #[error("an identifier in the request belongs to another user")]
    Conflict(Vec<FieldError>),
    #[error("the identifiers in the request belong to different users")]
    AmbiguousMatch(Vec<FieldError>),
    #[error("the user changed since the version in If-Match; read it again")]
    PreconditionFailed,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress; retry later")]
    IdempotencyKeyInProgress,
    #[error("the app already has {limit} {what}, the most it may have")]
    LimitReached { what: &'static str, limit: u32 },
    #[error("the user's {chain} wallet is {status}, not ready to sign")]
    WalletNotReady {
        chain: crate::model::ChainType,
        status: &'static str,
    },
    #[error("the app's signing policy refuses this request")]
    PolicyViolation(FieldError),
    #[error("the network's node rejected the transaction: {0}")]
    TransactionRejected(String),
    #[error("the network's node could not be reached; nothing was signed or sent")]
    NodeUnavailable { cause: Option<Fault> },
    #[error("the service is temporarily unavailable; retry later")]
    Unavailable {
        retry_after_secs: u32,
        cause: Option<Fault>,
    },
    #[error("an internal error occurred")]
    Internal { cause: Option<Fault> },
}

impl ApiError {
    /// The HTTP status of this failure.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::UserDisabled
            | Self::NotAllowlisted
            | Self::PolicyViolation(_)
            | Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TransactionRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NodeUnavailable { .. } => StatusCode::BAD_GATEWAY,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_)
            | Self::WalletNotReady { .. }
            | Self::AmbiguousMatch(_)
            | Self::IdempotencyKeyInProgress
            | Self::LimitReached { .. } => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::Validation(_) => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::RateLimited { .. } => "rate_limited",
            Self::NotFound(_) => "not_found",
            Self::UserDisabled => "user_disabled",
            Self::NotAllowlisted => "not_allowlisted",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::AmbiguousMatch(_) => "ambiguous_match",
            Self::LimitReached { .. } => "limit_reached",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyKeyInProgress => "idempotency_key_in_progress",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::WalletNotReady { .. } => "wallet_not_ready",
            Self::PolicyViolation(_) => "policy_violation",
            Self::TransactionRejected(_) => "transaction_rejected",
            Self::NodeUnavailable { .. } => "node_unavailable",
            Self::Unavailable { .. } => "service_unavailable",
            Self::Internal { .. } => "internal_error",
        }
    }

    /// Field-level details, empty for failures that concern no particular field.
    pub fn details(&self) -> &[FieldError] {
        match self {
            Self::Validation(details) | Self::Conflict(details) | Self::AmbiguousMatch(details) => {
                details
            }
            Self::PolicyViolation(rule) => std::slice::from_ref(rule),
            _ => &[],
        }
    }

    /// What caused a server-side failure, for the log; `None` for the client's own mistakes.
    pub fn cause(&self) -> Option<&Fault> {
        match self {
            Self::Unavailable { cause, .. }
            | Self::Internal { cause }
            | Self::NodeUnavailable { cause } => cause.as_ref(),
            _ => None,
        }
    }

    /// 503 with `Retry-After: 1`, caused by `cause` if given.
    pub fn unavailable(cause: Option<Fault>) -> Self {
        Self::Unavailable {
            retry_after_secs: 1,
            cause,
        }
    }
}

/// A store failure as the client sees it: a retryable 503, or a 500 that names nothing.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let retryable = matches!(error, StoreError::Unavailable(_));
        let cause = Some(Fault::caused_by("the store failed", error));
        if retryable {
            ApiError::unavailable(cause)
        } else {
            ApiError::Internal { cause }
        }
    }
}

// The domain's errors, mapped to what clients see: once, here.

impl From<UsersError> for ApiError {
    fn from(error: UsersError) -> Self {
        match error {
            UsersError::NotFound => ApiError::NotFound("user"),
            UsersError::Taken(fields) => ApiError::Conflict(
                fields
                    .into_iter()
                    .map(|field| FieldError::new(field, "is already held by another user"))
                    .collect(),
            ),
            UsersError::Ambiguous(matches) => ApiError::AmbiguousMatch(
                matches
                    .into_iter()
                    .map(|(field, id)| FieldError::new(field, format!("belongs to user {id}")))
                    .collect(),
            ),
            UsersError::Invalid(fields) => ApiError::Validation(fields),
            UsersError::PreconditionFailed => ApiError::PreconditionFailed,
            UsersError::NotLinked => ApiError::NotFound("linked account"),
            UsersError::Disabled => ApiError::UserDisabled,
            UsersError::NotAllowlisted => ApiError::NotAllowlisted,
            UsersError::Contention => {
                ApiError::unavailable(Some(Fault::new("writers kept colliding on one user")))
            }
            UsersError::Repeats(fields) => ApiError::Conflict(fields),
            UsersError::Store(error) => ApiError::from(error),
        }
    }
}

impl From<RestoreError> for ApiError {
    fn from(error: RestoreError) -> Self {
        let conflict =
            |field: &str, message: String| Self::Conflict(vec![FieldError::new(field, message)]);
        match error {
            RestoreError::NotDeleted | RestoreError::RetentionEnded { .. } => {
                Self::NotFound("deleted user within its retention period")
            }
            RestoreError::Taken(fields) => UsersError::Taken(fields).into(),
            RestoreError::NeedsAdmin => conflict("id", RestoreError::NeedsAdmin.to_string()),
            RestoreError::KeysGone(chains) => conflict(
                "wallets",
                format!("the sealed keys of wallets {chains:?} are gone"),
            ),
            RestoreError::Store(error) => Self::from(error),
        }
    }
}

impl From<WebhooksError> for ApiError {
    fn from(error: WebhooksError) -> Self {
        match error {
            WebhooksError::Invalid(fields) => ApiError::Validation(fields),
            WebhooksError::NotFound(what) => ApiError::NotFound(what),
            WebhooksError::LimitReached(limit) => ApiError::LimitReached {
                what: "webhook endpoints",
                limit,
            },
            WebhooksError::Contention => {
                ApiError::unavailable(Some(Fault::new("writers kept colliding on one endpoint")))
            }
            WebhooksError::RotatedRecently { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            WebhooksError::Store(error) => ApiError::from(error),
            other => ApiError::unavailable(Some(Fault::caused_by(
                "the webhook operation failed",
                other,
            ))),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::Invalid(fields) => ApiError::Validation(fields),
            AccessError::NotFound(what) => ApiError::NotFound(what),
            AccessError::AlreadyInvited(open) => ApiError::Conflict(vec![FieldError::new(
                "identifier",
                format!("has an open invitation already: {}", open.id),
            )]),
            AccessError::AlreadyUser => ApiError::Conflict(vec![FieldError::new(
                "identifier",
                "already belongs to a user",
            )]),
            AccessError::NotOpen(invitation) => ApiError::Conflict(vec![FieldError::new(
                "id",
                format!(
                    "the invitation is {}, no longer open",
                    serde_json::to_value(invitation.status)
                        .ok()
                        .and_then(|status| status.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            )]),
            AccessError::UserDisabled => ApiError::UserDisabled,
            AccessError::Store(error) => ApiError::from(error),
        }
    }
}

impl From<ExportError> for ApiError {
    fn from(error: ExportError) -> Self {
        match error {
            ExportError::NotFound => ApiError::NotFound("export"),
            ExportError::Store(error) => ApiError::from(error),
            // The bucket or the queue failing is passing; the export resumes where it was.
            ExportError::Files(error) => ApiError::unavailable(Some(Fault::caused_by(
                "the export's files or runs failed",
                error,
            ))),
            other => ApiError::Internal {
                cause: Some(Fault::caused_by("exporting failed", other)),
            },
        }
    }
}

impl From<AppsError> for ApiError {
    fn from(error: AppsError) -> Self {
        match error {
            AppsError::NoSuchKey { .. } => ApiError::NotFound("API key"),
            AppsError::NoScopes => ApiError::Validation(vec![FieldError::new(
                "scopes",
                "must list at least one scope",
            )]),
            AppsError::NotHeld(needed) => ApiError::InsufficientScope { needed },
            AppsError::Store(error) => ApiError::from(error),
            // The key service failing to make a data key is passing (throttled, unreachable);
            // an app gone under its own live key is not the client's doing.
            AppsError::Seal(error) => ApiError::unavailable(Some(Fault::caused_by(
                "sealing a client secret failed",
                error,
            ))),
            other => ApiError::Internal {
                cause: Some(Fault::caused_by("issuing a key failed", other)),
            },
        }
    }
}

impl From<RpcError> for ApiError {
    fn from(error: RpcError) -> Self {
        match error {
            RpcError::NotFound(what) => ApiError::NotFound(what),
            RpcError::UserDisabled => ApiError::UserDisabled,
            RpcError::WalletNotReady(chain, status) => ApiError::WalletNotReady { chain, status },
            RpcError::Invalid(fields) => ApiError::Validation(fields),
            RpcError::Policy(rule) => ApiError::PolicyViolation(rule),
            RpcError::Rejected(message) => ApiError::TransactionRejected(message),
            RpcError::NodeUnavailable(cause) => ApiError::NodeUnavailable {
                cause: Some(Fault::caused_by("the chain's node failed", cause)),
            },
            RpcError::Store(error) => ApiError::from(error),
            other => ApiError::Internal {
                cause: Some(Fault::caused_by("signing failed", other)),
            },
        }
    }
}
