//! `POST /v1/users/batch` `{"users":[…]}`: creates up to 100 users, each atomically on its
//! own. `200` with one result per input index: the created user (`201`) or the error a single
//! create would have given (`400`, `409`, `503`…). One bad item never blocks the others.

use http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::domain::users;
use shared::edge::api::{self, Reply};
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::{auth, quota};
use shared::model::rate_limit::Budget;
use shared::model::validation::FieldError;
use shared::model::{AppId, NewUser};
use shared::ports::access::AccessStore;
use shared::ports::{AppStore, UserStore};

/// Handles one request: 200 with per-item results, or the error envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, items) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    idempotency::run(store, &app, &request, &request_id, idempotency::commit::OnCommit::Rows, || async {
        // Rows an earlier run of this request committed are replayed, not created again.
        let committed = idempotency::committed_rows(store).await?;
        // Only rows still to be made are spent: a retry replays the rest.
        let fresh = items.len().saturating_sub(committed.len());
        quota::spend(store, &app, Budget::IMPORTED_USERS, fresh as u32).await?;
        let outcomes = users::create_users(store, &app, &items, &committed).await;
        let outcomes: Vec<Result<_, ApiError>> = outcomes
            .into_iter()
            .map(|outcome| outcome.map_err(ApiError::from))
            .collect();
        let transient = outcomes
            .iter()
            .any(|outcome| matches!(outcome, Err(error) if error.status().is_server_error()));
        let results: Vec<Value> = outcomes
            .into_iter()
            .enumerate()
            .map(|(index, outcome)| match outcome {
                Ok(user) => json!({"index": index, "status": 201, "user": user}),
                Err(error) => json!({
                    "index": index,
                    "status": error.status().as_u16(),
                    "error": {"code": error.code(), "message": error.to_string(), "details": error.details()},
                }),
            })
            .collect();
        Ok(Reply::ok(json!({ "results": results })).with_transient_failures(transient))
    })
    .await
}

type Items = Vec<Result<NewUser, Vec<FieldError>>>;

/// Authenticates and checks the batch's shape; a request refused here claims no key.
async fn accept<S: AppStore>(store: &S, request: &Request) -> Result<(AppId, Items), ApiError> {
    api::require_method(request, &[Method::POST])?;
    let app = auth::authenticate(store, request).await?;
    let items = shared::edge::api::bodies::parse_batch(&api::json_body(request)?)
        .map_err(ApiError::Validation)?;
    Ok((app, items))
}
