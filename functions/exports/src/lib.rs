//! `POST /v1/exports` starts an export of every user of the app (`202` with the job); `GET /v1/exports/{id}` shows its progress and links to its files. The export
//! itself runs elsewhere (`run-exports`, fed by a queue); a GET of an export whose run was
//! lost asks for another, so an export never hangs silently.

use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::domain::exports;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Route};
use shared::model::AppId;
use shared::ports::AppStore;
use shared::ports::export::{ExportFiles, ExportJob, ExportRuns, ExportStore};

/// What the handler works with.
pub struct Services<'a, S, F, R> {
    pub store: &'a S,
    pub files: &'a F,
    pub runs: &'a R,
}

/// Handles one request: the job, or the error envelope.
pub async fn handle<S, F, R>(services: &Services<'_, S, F, R>, request: Request) -> Response<Body>
where
    S: ExportStore + AppStore + IdempotencyStore,
    F: ExportFiles,
    R: ExportRuns,
{
    let request_id = api::request_id(&request);
    let route = match routes::of_request(&request) {
        Ok(resolved) => resolved.route,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let app = match accept(services.store, &request, route).await {
        Ok(app) => app,
        Err(error) => return api::error_response(&request_id, &error),
    };
    if route == Route::StartExport {
        return idempotency::run(
            services.store,
            &app,
            &request,
            &request_id,
            shared::ports::commit::OnCommit::Nothing,
            || start(services, &app),
        )
        .await;
    }
    let id = api::path_param(&request, "id").unwrap_or_default();
    api::respond(&request_id, show(services, &app, &id).await)
}

/// Checks the method and the key (and, for a start, that the body says nothing).
async fn accept<S: AppStore>(
    store: &S,
    request: &Request,
    route: Route,
) -> Result<AppId, ApiError> {
    match route {
        Route::StartExport => api::require_method(request, &[Method::POST])?,
        Route::GetExport => api::require_method(request, &[Method::GET])?,
        _ => return Err(ApiError::NotFound("route")),
    }
    let app = auth::authenticate(store, request).await?;
    if route == Route::StartExport {
        shared::edge::api::bodies::parse_empty(&api::json_body(request)?)
            .map_err(ApiError::Validation)?;
    }
    Ok(app)
}

async fn start<S, F, R>(services: &Services<'_, S, F, R>, app: &AppId) -> Result<Reply, ApiError>
where
    S: ExportStore,
    F: ExportFiles,
    R: ExportRuns,
{
    let job = exports::start_export(services.store, app).await?;
    services
        .runs
        .request_run(app, &job.id)
        .await
        .map_err(exports::ExportError::from)?;
    Ok(Reply::with_status(
        StatusCode::ACCEPTED,
        view(services.files, app, &job).await?,
    ))
}

async fn show<S, F, R>(
    services: &Services<'_, S, F, R>,
    app: &AppId,
    id: &str,
) -> Result<Reply, ApiError>
where
    S: ExportStore,
    F: ExportFiles,
    R: ExportRuns,
{
    let job = exports::get_export(services.store, app, id).await?;
    // An export whose run was lost is resumed by its reader; failing to ask is the next
    // reader's to retry (in STALL), and this one still sees the job.
    let job =
        match exports::resume_if_stalled(services.store, services.runs, app, job.clone()).await {
            Ok(job) => job,
            Err(error) => {
                tracing::warn!(%error, export = id, "asking for a stalled export's run failed");
                job
            }
        };
    Ok(Reply::ok(view(services.files, app, &job).await?))
}

/// The job as the API shows it: its parts as links to fetch.
async fn view<F: ExportFiles>(files: &F, app: &AppId, job: &ExportJob) -> Result<Value, ApiError> {
    let mut links = Vec::with_capacity(job.parts.len());
    for part in &job.parts {
        let (url, expires_at) = files
            .link(app, &job.id, &part.name)
            .await
            .map_err(exports::ExportError::from)?;
        links.push(json!({
            "url": url,
            "users": part.users,
            "bytes": part.bytes,
            "expires_at": expires_at,
        }));
    }
    Ok(json!({
        "id": job.id,
        "status": job.status,
        "users": job.users,
        "files": links,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
    }))
}
