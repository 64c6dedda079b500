//! Each dialect route's handler overhead next to the native route doing the same work, on the
//! same metered store: handler time minus its SDK calls' time, per request, alternating native
//! and dialect so both see DynamoDB Local in the same state. The dialect's cost is the
//! difference of the two medians (target: at most 0.2 ms).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use api_tests::TestStack;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use shared::adapters::sealer::LocalSealer;
use shared::dialects::credentials::{self, ClientSecrets};

use crate::meter::Meter;
use crate::report::{Report, Stats};

/// Which handler a request goes to.
#[derive(Debug, Clone, Copy)]
enum Handler {
    GetUser,
    CreateUser,
    FindOrCreate,
    Original,
    Privy,
    Ost,
    Onboarding,
}

struct Context {
    stack: TestStack,
    secrets: ClientSecrets<LocalSealer>,
    clients: Value,
}

/// A request: method, path (with its query), headers, body.
fn request(
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<(String, &str)>,
) -> Request {
    let (_, query) = path.split_once('?').unwrap_or((path, ""));
    let mut builder = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    let body = match body {
        Some((text, content_type)) => {
            builder = builder.header("content-type", content_type);
            Body::Text(text)
        }
        None => Body::Empty,
    };
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()).into_owned() {
        params.entry(name).or_default().push(value);
    }
    builder
        .body(body)
        .unwrap()
        .with_query_string_parameters(params)
}

async fn send(context: &Context, handler: Handler, request: Request) -> Response<Body> {
    let store = &context.stack.store;
    match handler {
        Handler::GetUser => get_user::handle(store, request).await,
        Handler::CreateUser => create_user::handle(store, request).await,
        Handler::FindOrCreate => find_or_create_user::handle(store, request).await,
        Handler::Original => {
            let original = original::Original {
                store,
                secrets: &context.secrets,
            };
            original::handle(&original, request).await
        }
        Handler::Privy => {
            let privy = privy::Privy {
                store,
                retention: Duration::from_secs(86_400),
            };
            privy::handle(&privy, request).await
        }
        Handler::Ost => {
            let ost = ost::Ost {
                store,
                secrets: &context.secrets,
            };
            ost::handle(&ost, request).await
        }
        Handler::Onboarding => onboarding::handle(store, request).await,
    }
}

/// A native route and a dialect's doing the same work: each makes its request from a user id
/// and a counter.
struct Pair {
    name: &'static str,
    native: Side,
    dialect: Side,
}

/// The handler, the status it must answer, and how to make its request.
type Side = (Handler, u16, MakeRequest);
type MakeRequest = fn(&Context, &str, usize) -> Request;

/// A native request, its path parameters routed as API Gateway routes them.
fn native(context: &Context, method: &str, path: &str, body: Option<Value>) -> Request {
    api_tests::request(method, path, &context.stack.api_key, body.as_ref())
}

fn original_auth(context: &Context) -> Vec<(&'static str, String)> {
    let original = &context.clients["original"];
    vec![
        (
            "x-api-key",
            original["api_key"].as_str().unwrap().to_owned(),
        ),
        (
            "authorization",
            format!("Bearer {}", original["token"].as_str().unwrap()),
        ),
    ]
}

fn privy_auth(context: &Context) -> Vec<(&'static str, String)> {
    let (basic, app_id) = api_tests::dialects::privy_basic(&context.clients);
    vec![("authorization", basic), ("privy-app-id", app_id)]
}

/// OST's parameters for `endpoint`, `extra` among them, signed now.
fn ost_signed(context: &Context, endpoint: &str, extra: &[(&str, String)]) -> String {
    let params = extra
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    let now = shared::clock::now_ms() / 1000;
    let params = api_tests::dialects::ost_signed(&context.clients, endpoint, params, now);
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish()
}

const JSON: &str = "application/json";

const PAIRS: &[Pair] = &[
    Pair {
        name: "Original GET /v1/user/{uid}",
        native: (Handler::GetUser, 200, |c, id, _| {
            native(c, "GET", &format!("/v1/users/{id}"), None)
        }),
        dialect: (Handler::Original, 200, |c, id, _| {
            request(
                "GET",
                &format!("/original/v1/user/{id}"),
                &original_auth(c),
                None,
            )
        }),
    },
    Pair {
        name: "Original POST /v1/user",
        native: (Handler::CreateUser, 201, |c, _, n| {
            let body =
                json!({"email": format!("n{n}@example.com"), "external_id": format!("n{n}")});
            native(c, "POST", "/v1/users", Some(body))
        }),
        dialect: (Handler::Original, 201, |c, _, n| {
            let body =
                json!({"email": format!("o{n}@example.com"), "user_external_id": format!("o{n}")});
            request(
                "POST",
                "/original/v1/user",
                &original_auth(c),
                Some((body.to_string(), JSON)),
            )
        }),
    },
    Pair {
        name: "Privy GET /v1/users/{id}",
        native: (Handler::GetUser, 200, |c, id, _| {
            native(c, "GET", &format!("/v1/users/{id}"), None)
        }),
        dialect: (Handler::Privy, 200, |c, id, _| {
            request(
                "GET",
                &format!("/privy/v1/users/did:privy:{id}"),
                &privy_auth(c),
                None,
            )
        }),
    },
    Pair {
        name: "Privy POST /v1/users/email/address",
        native: (Handler::GetUser, 200, |c, _, n| {
            native(
                c,
                "GET",
                &format!("/v1/users?email=seed{}@example.com", n % 50),
                None,
            )
        }),
        dialect: (Handler::Privy, 200, |c, _, n| {
            let body = json!({"address": format!("seed{}@example.com", n % 50)});
            request(
                "POST",
                "/privy/v1/users/email/address",
                &privy_auth(c),
                Some((body.to_string(), JSON)),
            )
        }),
    },
    Pair {
        name: "Privy POST /v1/users",
        native: (Handler::CreateUser, 201, |c, _, n| {
            let body = json!({"email": format!("pn{n}@example.com"), "wallets": []});
            native(c, "POST", "/v1/users", Some(body))
        }),
        dialect: (Handler::Privy, 200, |c, _, n| {
            let body = json!({"linked_accounts": [{"type": "email", "address": format!("p{n}@example.com")}]});
            request(
                "POST",
                "/privy/v1/users",
                &privy_auth(c),
                Some((body.to_string(), JSON)),
            )
        }),
    },
    Pair {
        name: "OST GET /users/{id}",
        native: (Handler::GetUser, 200, |c, id, _| {
            native(c, "GET", &format!("/v1/users/{id}"), None)
        }),
        dialect: (Handler::Ost, 200, |c, id, n| {
            // A parameter of its own: a signature is accepted once.
            let endpoint = format!("/users/{id}");
            let query = ost_signed(c, &endpoint, &[("n", n.to_string())]);
            request("GET", &format!("/ost/v1{endpoint}?{query}"), &[], None)
        }),
    },
    Pair {
        name: "OST POST /users/",
        native: (Handler::CreateUser, 201, |c, _, n| {
            let body = json!({"username": format!("Native {n}")});
            native(c, "POST", "/v1/users", Some(body))
        }),
        dialect: (Handler::Ost, 200, |c, _, n| {
            let form = ost_signed(c, "/users/", &[("name", format!("Alice {n}"))]);
            request(
                "POST",
                "/ost/v1/users/",
                &[],
                Some((form, "application/x-www-form-urlencoded")),
            )
        }),
    },
    Pair {
        name: "find-or-create API (created)",
        native: (Handler::FindOrCreate, 201, |c, _, n| {
            let body = json!({"username": format!("john_{n}"),
                              "linked_accounts": [{"type": "wallet", "chain_type": "ethereum", "address": address(n, 1)}]});
            native(c, "POST", "/v1/users/find-or-create", Some(body))
        }),
        dialect: (Handler::Onboarding, 201, |c, _, n| {
            let body = json!({"username": format!("john_{n}"), "address": address(n, 2)});
            let key = vec![("authorization", format!("ApiKey {}", c.stack.api_key))];
            request(
                "POST",
                "/onboarding/v1/users/find-or-create",
                &key,
                Some((body.to_string(), JSON)),
            )
        }),
    },
];

/// A fresh ethereum address of `n`, per side.
fn address(n: usize, side: u8) -> String {
    format!("0x{side:02x}{n:038x}")
}

/// Measures each pair `samples` times and adds the rows to `report`.
pub async fn run(report: &mut Report, samples: usize) {
    let meter = Meter::default();
    let stack = crate::overhead::metered_stack(&meter).await;
    let sealer = api_tests::wallets::stack_sealer();
    let key = shared::domain::apps::issue_api_key(
        &stack.store,
        &sealer,
        &stack.app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    let clients = credentials::clients(&stack.app, &key);
    let context = Context {
        stack,
        secrets: ClientSecrets::new(sealer),
        clients,
    };
    let mut ids = Vec::new();
    for i in 0..50 {
        let body = json!({"email": format!("seed{i}@example.com"), "wallets": []});
        let created = native(&context, "POST", "/v1/users", Some(body));
        let (status, created) =
            api_tests::parts(&send(&context, Handler::CreateUser, created).await);
        assert_eq!(status, 201, "{created}");
        ids.push(created["data"]["id"].as_str().unwrap().to_owned());
    }
    let mut counter = 0;
    for pair in PAIRS {
        let mut overheads: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        for sample in 0..samples {
            counter += 1;
            let id = &ids[sample % ids.len()];
            for (side, (handler, status, make)) in
                [pair.native, pair.dialect].into_iter().enumerate()
            {
                let request = make(&context, id, counter);
                meter.take();
                let started = Instant::now();
                let response = send(&context, handler, request).await;
                let elapsed = started.elapsed();
                let usage = meter.take();
                assert_eq!(response.status(), status, "{} ({side})", pair.name);
                overheads[side].push(elapsed.saturating_sub(usage.sdk_time()));
            }
        }
        let [native, dialect] = overheads;
        let (native, dialect) = (
            Stats::of(&mut native.clone()),
            Stats::of(&mut dialect.clone()),
        );
        report.timing(
            "dialects",
            &format!("{}: native overhead", pair.name),
            native,
        );
        report.timing(
            "dialects",
            &format!("{}: dialect overhead", pair.name),
            dialect,
        );
        let extra = dialect.median_ms() - native.median_ms();
        report.figure_with_target(
            "dialects",
            &format!("{}: dialect - native, medians", pair.name),
            &format!("{extra:.3} ms"),
            json!({"extra_ms": extra}),
            "<= 0.2 ms",
            extra <= 0.2,
        );
    }
}
