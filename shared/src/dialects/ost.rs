//! OST KIT's user API (seed `003`; its Python client `ost-kit-python` 0.0.4): under its base
//! URL (`<api>/ost/v1`), form-encoded `POST /users/` `{name}` (create), `POST /users/{id}`
//! `{name}` (update), `GET /users/{id}` and `GET /users/` (a page), every request signed (see
//! `credentials::ost`). Answers are `{success: true, data: {result_type: "user", user}}` and
//! `{…, result_type: "users", users, meta: {next_page_payload}}`; errors
//! `{success: false, err: {code, msg, error_data: [{parameter, msg}], internal_id}}`, every
//! one JSON (its client reads every body, whatever the status).
//!
//! `name` is our `username`; `addresses` are the user's ready wallets as `[chain id, address]`
//! per network of the app. We keep no token economy: `airdropped_tokens` and `token_balance`
//! are `null`, and `airdropped=true` lists nobody.

use http::StatusCode;
use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value, json};

use super::verbatim;
use crate::domain::users::UserPage;
use crate::edge::api::{Envelope, MAX_BODY_BYTES, Rendered, Reply};
use crate::edge::error::ApiError;
use crate::model::validation::FieldError;
use crate::model::{NewUser, User, WalletStatus};

/// The parameters every signed request carries.
const AUTH_PARAMS: [&str; 3] = ["api_key", "request_timestamp", "signature"];
/// The parameters of a listing.
const LIST_PARAMS: [&str; 6] = [
    "page_no",
    "limit",
    "order_by",
    "order",
    "airdropped",
    "pagination_identifier",
];
/// The default and largest page sizes (OST's).
pub const PAGE_LIMITS: (usize, usize) = (10, 100);
/// The deepest a `page_no` may reach (`page_no` × `limit` users), walked a page at a time:
/// beyond it, follow `next_page_payload` (which carries a cursor).
pub const MAX_PAGED_USERS: usize = 10_000;

/// OST's words.
#[derive(Debug, Clone, Copy, Default)]
pub struct OstEnvelope;

impl Envelope for OstEnvelope {
    fn render(&self, reply: &Reply) -> Rendered {
        verbatim(reply)
    }

    fn failure(&self, request_id: &str, error: &ApiError) -> Rendered {
        let status = error.status();
        let (code, msg) = match status {
            StatusCode::UNAUTHORIZED => (
                "UNAUTHORIZED",
                "We could not authenticate the request. Please review your credentials and \
                 authentication method."
                    .to_owned(),
            ),
            StatusCode::NOT_FOUND => ("NOT_FOUND", error.to_string()),
            StatusCode::CONFLICT => ("ALREADY_EXISTS", error.to_string()),
            StatusCode::FORBIDDEN => ("FORBIDDEN", error.to_string()),
            s if s.is_server_error() => ("INTERNAL_SERVER_ERROR", error.to_string()),
            _ => (
                "BAD_REQUEST",
                match error {
                    ApiError::Validation(_) => "At least one parameter is invalid or missing. \
                                                See err.error_data for more details."
                        .to_owned(),
                    other => other.to_string(),
                },
            ),
        };
        let error_data: Vec<Value> = error
            .details()
            .iter()
            .map(|d| json!({"parameter": d.field, "msg": d.message}))
            .collect();
        let body = json!({
            "success": false,
            "err": {"code": code, "msg": msg, "error_data": error_data, "internal_id": request_id},
        });
        Rendered {
            status: status.as_u16(),
            body: body.to_string(),
            etag: None,
        }
    }

    fn auth_scheme(&self) -> &'static str {
        "OST-Signature"
    }
}

/// Every parameter of the request as its client signed it: the form body of a POST (URL-encoded,
/// as its client sends it, or multipart, as its documented curl does), the query of a GET (a
/// name may repeat; the signature check sees each).
pub async fn params(request: &Request) -> Result<Vec<(String, String)>, ApiError> {
    if request.method() == http::Method::GET {
        let query = request.query_string_parameters();
        let mut params = Vec::new();
        for (name, _) in query.iter() {
            if params
                .iter()
                .any(|(seen, _): &(String, String)| seen == name)
            {
                continue;
            }
            for value in query.all(name).unwrap_or_default() {
                params.push((name.to_owned(), value.to_owned()));
            }
        }
        return Ok(params);
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Ok(boundary) = multer::parse_boundary(content_type) {
        return multipart_fields(bytes, boundary).await;
    }
    Ok(url::form_urlencoded::parse(bytes)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect())
}

/// The text fields of a multipart form.
async fn multipart_fields(
    bytes: &[u8],
    boundary: String,
) -> Result<Vec<(String, String)>, ApiError> {
    let malformed =
        |_| ApiError::Validation(vec![FieldError::new("", "the multipart form is malformed")]);
    let body = bytes::Bytes::copy_from_slice(bytes);
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        fields.push((name, field.text().await.map_err(malformed)?));
    }
    Ok(fields)
}

/// The parameters but the signature's own, each name once (a repeat is refused by name).
fn call_params(params: &[(String, String)]) -> Result<Vec<(&str, &str)>, ApiError> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (name, value) in params {
        if AUTH_PARAMS.contains(&name.as_str()) {
            continue;
        }
        if seen.iter().any(|(n, _)| n == name) {
            return Err(invalid(name, "must be given at most once"));
        }
        seen.push((name, value));
    }
    Ok(seen)
}

fn invalid(parameter: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(parameter, message)])
}

/// `name`, the one parameter of a create and an update.
fn name_param(params: &[(String, String)]) -> Result<String, ApiError> {
    let params = call_params(params)?;
    if let Some((unknown, _)) = params.iter().find(|(n, _)| *n != "name") {
        return Err(invalid(unknown, "is not a parameter of this endpoint"));
    }
    match params.first() {
        Some((_, name)) => Ok((*name).to_owned()),
        None => Err(invalid("name", "is required")),
    }
}

/// Reads a create: a user named `name`.
pub fn parse_create(params: &[(String, String)]) -> Result<NewUser, ApiError> {
    let name = name_param(params)?;
    NewUser::parse(&json!({ "username": name }))
        .map_err(|errors| named(ApiError::Validation(errors)))
}

/// Reads an update: the merge patch that renames the user.
pub fn parse_update(params: &[(String, String)]) -> Result<Map<String, Value>, ApiError> {
    let name = name_param(params)?;
    let mut patch = Map::new();
    patch.insert("username".to_owned(), Value::String(name));
    Ok(patch)
}

/// `error` naming OST's parameter for our `username`.
pub fn named(error: ApiError) -> ApiError {
    super::renamed(error, &[("username", "name")])
}

/// A listing as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub page_no: usize,
    pub limit: usize,
    /// Our cursor, from a `next_page_payload`: the page after it, without walking.
    pub cursor: Option<String>,
    /// `airdropped=true`: nobody here has been airdropped tokens.
    pub airdropped_only: bool,
}

/// Reads a listing's parameters. Only the order our index keeps (newest first:
/// `order_by=creation_time`, `order=desc`) is served; another is refused by name.
pub fn parse_list(params: &[(String, String)]) -> Result<ListQuery, ApiError> {
    let mut query = ListQuery {
        page_no: 1,
        limit: PAGE_LIMITS.0,
        cursor: None,
        airdropped_only: false,
    };
    for (name, value) in call_params(params)? {
        match name {
            "page_no" => {
                query.page_no = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| invalid(name, "must be a whole number from 1"))?
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=PAGE_LIMITS.1).contains(n))
                    .ok_or_else(|| invalid(name, "must be a whole number from 1 to 100"))?
            }
            "order_by" if value == "creation_time" => {}
            "order_by" => {
                return Err(invalid(
                    name,
                    "only creation_time is supported (newest first)",
                ));
            }
            "order" if value == "desc" => {}
            "order" => return Err(invalid(name, "only desc is supported (newest first)")),
            // Python's client sends booleans as `True`/`False`.
            "airdropped" => {
                query.airdropped_only = match value.to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(invalid(name, "must be true or false")),
                }
            }
            "pagination_identifier" => query.cursor = Some(value.to_owned()),
            other if LIST_PARAMS.contains(&other) => {}
            other => return Err(invalid(other, "is not a parameter of this endpoint")),
        }
    }
    if query.page_no.saturating_mul(query.limit) > MAX_PAGED_USERS && query.cursor.is_none() {
        return Err(invalid(
            "page_no",
            "reaches too deep: follow next_page_payload (it carries pagination_identifier)",
        ));
    }
    Ok(query)
}

/// A user as OST shows one.
pub fn user_reply(user: &User) -> Reply {
    Reply::ok(json!({"success": true, "data": {"result_type": "user", "user": user_view(user)}}))
}

/// A page of users, and what to send for the next one.
pub fn page_reply(query: &ListQuery, page: &UserPage) -> Reply {
    let users: Vec<Value> = page.users.iter().map(user_view).collect();
    let next = match &page.next_cursor {
        Some(cursor) => json!({
            "page_no": query.page_no + 1,
            "limit": query.limit,
            "order_by": "creation_time",
            "order": "desc",
            "pagination_identifier": cursor,
        }),
        None => json!({}),
    };
    Reply::ok(json!({
        "success": true,
        "data": {"result_type": "users", "users": users, "meta": {"next_page_payload": next}},
    }))
}

fn user_view(user: &User) -> Value {
    let addresses: Vec<Value> = user
        .wallets
        .iter()
        .filter(|wallet| wallet.status == WalletStatus::Ready)
        .flat_map(|wallet| {
            wallet.networks.iter().map(move |network| {
                let chain = network
                    .chain_id
                    .map(|id| id.to_string())
                    .or_else(|| network.cluster.clone());
                json!([chain, wallet.address])
            })
        })
        .collect();
    json!({
        "id": user.id,
        "addresses": addresses,
        "name": user.username,
        "airdropped_tokens": null,
        "token_balance": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_create_is_its_name_and_nothing_else() {
        let signed = [
            ("api_key", "k"),
            ("request_timestamp", "1"),
            ("signature", "s"),
        ];
        let mut with_name = signed.to_vec();
        with_name.push(("name", "Alice"));
        assert_eq!(
            parse_create(&params(&with_name))
                .unwrap()
                .username
                .as_deref(),
            Some("Alice")
        );
        assert_eq!(
            parse_create(&params(&signed)).unwrap_err().details()[0].field,
            "name"
        );
        let short = parse_create(&params(&[("name", "Al")])).unwrap_err();
        assert_eq!(short.details()[0].field, "name");
        let extra = parse_create(&params(&[("name", "Alice"), ("age", "3")])).unwrap_err();
        assert_eq!(extra.details()[0].field, "age");
    }

    #[test]
    fn listings_take_its_parameters_and_refuse_an_order_we_cannot_keep() {
        let query = parse_list(&params(&[
            ("page_no", "2"),
            ("limit", "5"),
            ("airdropped", "False"),
        ]))
        .unwrap();
        assert_eq!(
            (query.page_no, query.limit, query.airdropped_only),
            (2, 5, false)
        );
        for bad in [
            ("order_by", "name"),
            ("order", "asc"),
            ("limit", "101"),
            ("page_no", "0"),
        ] {
            let error = parse_list(&params(&[bad])).unwrap_err();
            assert_eq!(error.details()[0].field, bad.0);
        }
        assert!(parse_list(&params(&[("page_no", "1001"), ("limit", "10")])).is_err());
    }

    #[test]
    fn every_error_is_its_envelope() {
        let body: Value =
            serde_json::from_str(&OstEnvelope.failure("req-9", &ApiError::Unauthorized).body)
                .unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["err"]["code"], "UNAUTHORIZED");
        assert_eq!(body["err"]["internal_id"], "req-9");
        assert_eq!(body["err"]["error_data"], json!([]));
    }
}
