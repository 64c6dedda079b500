//! Handler overhead per route: the time through the shipped handler in process (parse,
//! validate, authenticate, domain, envelope) minus the time of the SDK calls it makes, measured
//! on the same requests by the [`Meter`] on the client (so both sides see the same DynamoDB
//! Local at the same moment). Also the capacity units each operation is charged.

use std::time::Instant;

use api_tests::TestStack;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::meter::{Meter, Usage};
use crate::report::{Report, Stats, Target};

/// One route's figures.
#[derive(Debug, Clone)]
pub struct RouteCost {
    pub route: &'static str,
    pub handler: Stats,
    pub sdk: Stats,
    pub overhead: Stats,
    pub read_units: f64,
    pub write_units: f64,
    pub operations: Vec<String>,
}

/// A stack whose store's client carries `meter`.
pub async fn metered_stack(meter: &Meter) -> TestStack {
    let config = shared::config::sdk_config(Some(&api_tests::endpoint())).await;
    let client = meter.client(&config);
    let table = format!("bench-{}", uuid::Uuid::new_v4().simple());
    shared::adapters::dynamo::schema::ensure_table(&client, &table)
        .await
        .unwrap();
    // The limiter runs (its cost is part of what is measured) but never refuses.
    let store =
        shared::adapters::DynamoStore::new(client, table).with_rate_limit(api_tests::UNTHROTTLED);
    let (app, key) =
        shared::domain::apps::create_app(&store, &api_tests::wallets::stack_sealer(), "bench")
            .await
            .unwrap();
    TestStack {
        store,
        app: app.app_id,
        api_key: key.token,
    }
}

/// Measures each route `samples` times and adds the rows to `report`.
pub async fn run(report: &mut Report, samples: usize) -> Vec<RouteCost> {
    let meter = Meter::default();
    let stack = metered_stack(&meter).await;
    // Users to read, page through and find.
    let mut ids = Vec::new();
    for i in 0..50 {
        let body = json!({"email": format!("seed{i}@example.com"), "wallets": []});
        let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
        let (status, created) = api_tests::parts(&create_user::handle(&stack.store, request).await);
        assert_eq!(status, 201, "{created}");
        ids.push(created["data"]["id"].as_str().unwrap().to_owned());
    }
    meter.take();

    let mut routes = Vec::new();
    let mut counter = 0usize;
    for route in ROUTES {
        let mut handler = Vec::with_capacity(samples);
        let mut sdk = Vec::with_capacity(samples);
        let mut overhead = Vec::with_capacity(samples);
        let mut total = Usage::default();
        for sample in 0..samples {
            counter += 1;
            let id = &ids[sample % ids.len()];
            let (method, path, body, status) = (route.request)(id, counter);
            let request = api_tests::request(method, &path, &stack.api_key, body.as_ref());
            meter.take();
            let started = Instant::now();
            let response = (route.handle)(&stack, request).await;
            let elapsed = started.elapsed();
            let usage = meter.take();
            assert_eq!(response.status(), status, "{} {path}", route.name);
            handler.push(elapsed);
            sdk.push(usage.sdk_time());
            overhead.push(elapsed.saturating_sub(usage.sdk_time()));
            total.read_units += usage.read_units;
            total.write_units += usage.write_units;
            total.operations = usage.operations;
        }
        let cost = RouteCost {
            route: route.name,
            handler: Stats::of(&mut handler),
            sdk: Stats::of(&mut sdk),
            overhead: Stats::of(&mut overhead),
            read_units: total.read_units / samples as f64,
            write_units: total.write_units / samples as f64,
            operations: total.operations,
        };
        report.timing("handler", &format!("{}: handler", cost.route), cost.handler);
        report.timing(
            "handler",
            &format!("{}: its SDK calls", cost.route),
            cost.sdk,
        );
        report.overhead(
            "handler",
            &format!("{}: overhead (handler - SDK)", cost.route),
            cost.overhead,
        );
        let ratio = cost.handler.median_ms() / cost.sdk.median_ms();
        report.ratio(
            "handler",
            &format!("{}: handler / SDK, medians", cost.route),
            ratio,
            Target::AtMost(1.1),
        );
        report.capacity(
            &format!("{}: RRU / WRU per request", cost.route),
            cost.read_units,
            cost.write_units,
            json!({"operations": cost.operations}),
        );
        routes.push(cost);
    }
    limiter(report, &meter, &stack, samples).await;
    routes
}

/// The per-app rate limiter alone, as every authenticated request runs it: its own time minus
/// its one SDK call, and the capacity that call is charged.
async fn limiter(report: &mut Report, meter: &Meter, stack: &TestStack, samples: usize) {
    let (mut sdk, mut overhead) = (Vec::new(), Vec::new());
    let mut units = Usage::default();
    for _ in 0..samples {
        meter.take();
        let started = Instant::now();
        let now = shared::clock::now_ms();
        let admitted = shared::domain::rate_limit::admit(&stack.store, &stack.app, now).await;
        let elapsed = started.elapsed();
        let usage = meter.take();
        assert!(
            matches!(
                admitted,
                Ok(shared::domain::rate_limit::Admission::Admitted(_))
            ),
            "{admitted:?}"
        );
        sdk.push(usage.sdk_time());
        overhead.push(elapsed.saturating_sub(usage.sdk_time()));
        units.read_units += usage.read_units;
        units.write_units += usage.write_units;
    }
    report.timing("handler", "rate limiter: its SDK call", Stats::of(&mut sdk));
    report.overhead(
        "handler",
        "rate limiter: overhead (admit - SDK)",
        Stats::of(&mut overhead),
    );
    report.capacity(
        "rate limiter: RRU / WRU per request",
        units.read_units / samples as f64,
        units.write_units / samples as f64,
        json!({"target": "<= 1 write"}),
    );
}

type Handle = for<'a> fn(
    &'a TestStack,
    Request,
) -> std::pin::Pin<Box<dyn Future<Output = Response<Body>> + 'a>>;

/// A request to make: method, path, body, expected status.
type Call = (&'static str, String, Option<Value>, u16);

struct Route {
    name: &'static str,
    /// From a user id and a counter: method, path, body, expected status.
    request: fn(&str, usize) -> Call,
    handle: Handle,
}

const ROUTES: &[Route] = &[
    Route {
        name: "GET /v1/users/{id}",
        request: |id, _| ("GET", format!("/v1/users/{id}"), None, 200),
        handle: |s, r| Box::pin(get_user::handle(&s.store, r)),
    },
    Route {
        name: "GET /v1/users?email=",
        request: |_, n| {
            let path = format!("/v1/users?email=seed{}@example.com", n % 50);
            ("GET", path, None, 200)
        },
        handle: |s, r| Box::pin(get_user::handle(&s.store, r)),
    },
    Route {
        name: "GET /v1/users (page of 20)",
        request: |_, _| ("GET", "/v1/users?limit=20".to_owned(), None, 200),
        handle: |s, r| Box::pin(get_user::handle(&s.store, r)),
    },
    Route {
        name: "POST /v1/users",
        request: |_, n| {
            let body = json!({"email": format!("new{n}@example.com"), "wallets": [{"chain_type": "ethereum"}]});
            ("POST", "/v1/users".to_owned(), Some(body), 201)
        },
        handle: |s, r| Box::pin(create_user::handle(&s.store, r)),
    },
    Route {
        name: "POST find-or-create (found)",
        request: |_, n| {
            let body = json!({"email": format!("seed{}@example.com", n % 50)});
            (
                "POST",
                "/v1/users/find-or-create".to_owned(),
                Some(body),
                200,
            )
        },
        handle: |s, r| Box::pin(find_or_create_user::handle(&s.store, r)),
    },
    Route {
        name: "POST find-or-create (created)",
        request: |_, n| {
            let body = json!({"email": format!("foc{n}@example.com"), "wallets": [{"chain_type": "ethereum"}]});
            (
                "POST",
                "/v1/users/find-or-create".to_owned(),
                Some(body),
                201,
            )
        },
        handle: |s, r| Box::pin(find_or_create_user::handle(&s.store, r)),
    },
    Route {
        name: "PATCH /v1/users/{id}",
        request: |id, n| {
            let body = json!({"custom_metadata": {"plan": format!("p{n}")}});
            ("PATCH", format!("/v1/users/{id}"), Some(body), 200)
        },
        handle: |s, r| Box::pin(update_user::handle(&s.store, r)),
    },
    Route {
        name: "POST /v1/allowlist",
        request: |_, n| {
            let body = json!({"type": "email", "value": format!("allowed{n}@example.com")});
            ("POST", "/v1/allowlist".to_owned(), Some(body), 201)
        },
        handle: |s, r| {
            Box::pin(async move {
                let sealer = api_tests::wallets::stack_sealer();
                access::handle(&s.store, &sealer, r).await
            })
        },
    },
    Route {
        name: "GET /v1/allowlist (page of 20)",
        request: |_, _| ("GET", "/v1/allowlist?limit=20".to_owned(), None, 200),
        handle: |s, r| {
            Box::pin(async move {
                let sealer = api_tests::wallets::stack_sealer();
                access::handle(&s.store, &sealer, r).await
            })
        },
    },
    Route {
        name: "POST /v1/users/{id}/invitations",
        request: |id, n| {
            let body = json!({"identifier": {"type": "email", "value": format!("invited{n}@example.com")}});
            (
                "POST",
                format!("/v1/users/{id}/invitations"),
                Some(body),
                201,
            )
        },
        handle: |s, r| {
            Box::pin(async move {
                let sealer = api_tests::wallets::stack_sealer();
                access::handle(&s.store, &sealer, r).await
            })
        },
    },
    // Last: it leaves the users disabled.
    Route {
        name: "POST /v1/users/{id}/disable",
        request: |id, n| {
            let body = json!({"reason": format!("review {n}")});
            ("POST", format!("/v1/users/{id}/disable"), Some(body), 200)
        },
        handle: |s, r| Box::pin(update_user::handle(&s.store, r)),
    },
];
