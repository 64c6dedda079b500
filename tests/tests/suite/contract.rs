//! `openapi.yaml` is true of the running API: the local API serves it and its reference page;
//! real responses of every route validate against it; schemathesis generates over a thousand
//! requests from it and finds no server error, no response that breaks it and no accepted
//! request it forbids; and the TypeScript client generated from it runs its quick start.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use api_tests::TestStack;
use api_tests::receiver::Receiver;
use jsonschema::Registry;
use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The contract as JSON.
fn contract() -> Value {
    document("openapi.yaml")
}

/// An OpenAPI document of the repository's root, as JSON.
fn document(file: &str) -> Value {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    to_json(&YamlLoader::load_from_str(&text).unwrap()[0])
}

fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Hash(hash) => Value::Object(
            hash.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        other => panic!("a non-string key: {other:?}"),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => json!(i),
        Yaml::Real(r) => json!(r.parse::<f64>().unwrap()),
        Yaml::Boolean(b) => json!(b),
        Yaml::Null => Value::Null,
        other => panic!("unexpected YAML: {other:?}"),
    }
}

/// Validates responses against the contract's schema for (method, path template, status).
pub(crate) struct Contract {
    doc: Value,
    registry: Registry<'static>,
}

const BASE: &str = "urn:wallet-users:openapi";

impl Contract {
    fn load() -> Self {
        Self::of(contract())
    }

    /// The dialects' contract (`openapi.dialects.yaml`).
    pub(crate) fn dialects() -> Self {
        Self::of(document("openapi.dialects.yaml"))
    }

    /// Every (method, path) the document has.
    pub(crate) fn operations(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for path in self.doc["paths"].as_object().unwrap().keys() {
            for method in ["get", "post", "put", "patch", "delete"] {
                if self.operation(path, method).is_object() {
                    found.push((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        found
    }

    /// The operation, through a path item's `$ref` if it has one.
    fn operation(&self, template: &str, method: &str) -> &Value {
        let item = &self.doc["paths"][template];
        match item["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/pathItems/");
                &self.doc["components"]["pathItems"][name][method]
            }
            None => &item[method],
        }
    }

    fn of(doc: Value) -> Self {
        let registry = Registry::new()
            .add(BASE, doc.clone())
            .unwrap()
            .prepare()
            .unwrap();
        Self { doc, registry }
    }

    /// Checks `body` against the schema documented for (method, template, status), or the
    /// operation's `default` response when the status has none of its own.
    pub(crate) fn check(&self, method: &str, template: &str, status: u16, body: &Value) {
        let escape = |s: &str| {
            s.replace('~', "~0")
                .replace('/', "~1")
                .replace('{', "%7B")
                .replace('}', "%7D")
        };
        let operation = self.operation(template, method);
        assert!(
            operation.is_object(),
            "{method} {template} is not in the contract"
        );
        let documented = if operation["responses"][status.to_string()].is_object() {
            status.to_string()
        } else {
            "default".to_owned()
        };
        let mut response = &operation["responses"][&documented];
        let mut pointer = format!(
            "/paths/{}/{method}/responses/{documented}",
            escape(template)
        );
        assert!(
            response.is_object(),
            "{method} {template} does not document {status}"
        );
        if let Some(reference) = response["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/responses/");
            response = &self.doc["components"]["responses"][name];
            pointer = format!("/components/responses/{name}");
        }
        if status == 204 {
            assert!(response.get("content").is_none(), "204 has no body");
            return;
        }
        assert!(
            response["content"]["application/json"]["schema"].is_object(),
            "{method} {template} {status} has no JSON schema"
        );
        let schema = json!({"$ref": format!("{BASE}#{pointer}/content/application~1json/schema")});
        let validator = jsonschema::options()
            .with_registry(&self.registry)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {template} {status} breaks the contract: {errors:?}\n{body}"
        );
    }
}

/// The local API on a free port, with the wallet creator running; its address.
async fn serve(stack: &TestStack) -> (String, local_api::Services) {
    stack.serve().await
}

#[tokio::test]
async fn the_local_api_serves_its_contract_and_reference_page() {
    let stack = TestStack::new().await;
    let (address, _) = serve(&stack).await;
    let client = shared::tls::reqwest_builder().build().unwrap();
    let spec = client
        .get(format!("{address}/openapi.yaml"))
        .send()
        .await
        .unwrap();
    assert_eq!(spec.status(), 200);
    let text = spec.text().await.unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(root().join("openapi.yaml")).unwrap()
    );
    let page = client.get(format!("{address}/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(r#"spec-url="/openapi.yaml""#) && page.contains("/docs/redoc.standalone.js")
    );
    assert!(!page.contains("https://"), "no CDN");
}

/// Requests to the local API, each response checked against the contract.
struct Exchanges {
    client: reqwest::Client,
    address: String,
    key: String,
    contract: Contract,
    checked: Vec<String>,
}

impl Exchanges {
    /// Sends `method path` (with the key, and `body` as JSON), checks the response against
    /// the contract's `method template`, and returns its body.
    async fn send(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request = self
            .client
            .request(
                method.to_uppercase().parse().unwrap(),
                format!("{}{path}", self.address),
            )
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        self.contract.check(method, template, status, &body);
        self.checked.push(format!("{method} {template} {status}"));
        body
    }
}

#[tokio::test]
async fn every_route_answers_as_the_contract_says() {
    let stack = TestStack::new().await;
    let (address, _) = serve(&stack).await;
    let mut api = Exchanges {
        client: shared::tls::reqwest_builder().build().unwrap(),
        address: address.clone(),
        key: stack.api_key.clone(),
        contract: Contract::load(),
        checked: Vec::new(),
    };

    let user = json!({"email": "c@example.com", "external_id": "c-1", "linked_accounts": [{"type": "twitter", "subject": "77", "username": "c"}], "custom_metadata": {"tier": 2}});
    let created = api.send("post", "/v1/users", "/v1/users", Some(user)).await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let by_id = format!("/v1/users/{id}");
    api.send(
        "post",
        "/v1/users",
        "/v1/users",
        Some(json!({"email": "c@example.com"})),
    )
    .await;
    api.send("post", "/v1/users", "/v1/users", Some(json!({"email": 7})))
        .await;
    api.send("get", "/v1/users/{id}", &by_id, None).await;
    api.send(
        "get",
        "/v1/users/{id}",
        "/v1/users/01a20aa0-c667-7753-a798-45a1efcb9abc",
        None,
    )
    .await;
    api.send("get", "/v1/users", "/v1/users?email=c@example.com", None)
        .await;
    api.send("get", "/v1/users", "/v1/users?limit=5", None)
        .await;
    let find = "/v1/users/find-or-create";
    api.send("post", find, find, Some(json!({"email": "c@example.com"})))
        .await;
    api.send("post", find, find, Some(json!({"email": "d@example.com"})))
        .await;
    let batch = json!({"users": [{"email": "e@example.com"}, {"email": "bad"}]});
    api.send("post", "/v1/users/batch", "/v1/users/batch", Some(batch))
        .await;
    api.send(
        "patch",
        "/v1/users/{id}",
        &by_id,
        Some(json!({"username": "cee"})),
    )
    .await;
    let link = json!({"type": "github", "subject": "5"});
    api.send(
        "post",
        "/v1/users/{id}/linked-accounts",
        &format!("{by_id}/linked-accounts"),
        Some(link),
    )
    .await;
    let unlink = "/v1/users/{id}/linked-accounts/{type}/{value}";
    api.send(
        "delete",
        unlink,
        &format!("{by_id}/linked-accounts/github/5"),
        None,
    )
    .await;
    let wallet = json!({"chain_type": "solana"});
    api.send(
        "post",
        "/v1/users/{id}/wallets",
        &format!("{by_id}/wallets"),
        Some(wallet),
    )
    .await;
    // Signing with the user's ethereum wallet: `200` once it is ready, `409 wallet_not_ready` while it
    // is still pending (the creator runs alongside); either answer must be the contract's.
    let rpc = "/v1/users/{id}/wallets/{chain_type}/rpc";
    let ethereum_rpc = format!("{by_id}/wallets/ethereum/rpc");
    let sign = json!({"method": "personal_sign", "params": {"message": "hello"}});
    let signed = api
        .send("post", rpc, &ethereum_rpc, Some(sign.clone()))
        .await;
    assert!(
        signed["success"] == true || signed["error"]["code"] == "wallet_not_ready",
        "{signed}"
    );
    // The solana wallet was queued just above: most likely still pending.
    let solana_rpc = format!("{by_id}/wallets/solana/rpc");
    let solana = json!({"method": "signMessage", "params": {"message": "aGVsbG8="}});
    let signed = api.send("post", rpc, &solana_rpc, Some(solana)).await;
    assert!(
        signed["success"] == true || signed["error"]["code"] == "wallet_not_ready",
        "{signed}"
    );
    let unknown = json!({"method": "eth_sign", "params": {"message": "hello"}});
    let refused = api.send("post", rpc, &ethereum_rpc, Some(unknown)).await;
    assert_eq!(refused["error"]["code"], "validation_failed", "{refused}");
    let bitcoin = format!("{by_id}/wallets/bitcoin/rpc");
    let missing = api.send("post", rpc, &bitcoin, Some(sign)).await;
    assert_eq!(missing["error"]["code"], "not_found", "{missing}");

    let receiver = Receiver::start(vec![]).await;
    let hooks = "/v1/webhooks";
    let register = json!({"url": receiver.url, "events": ["user.deleted"]});
    let endpoint = api.send("post", hooks, hooks, Some(register)).await;
    let endpoint_id = endpoint["data"]["id"].as_str().unwrap().to_owned();
    let by_endpoint = format!("/v1/webhooks/{endpoint_id}");
    api.send(
        "post",
        hooks,
        hooks,
        Some(json!({"url": "ftp://x", "events": []})),
    )
    .await;
    api.send("get", hooks, hooks, None).await;
    api.send(
        "post",
        "/v1/webhooks/{id}/rotate-secret",
        &format!("{by_endpoint}/rotate-secret"),
        None,
    )
    .await;
    api.send(
        "get",
        "/v1/webhooks/{id}/deliveries",
        &format!("{by_endpoint}/deliveries"),
        None,
    )
    .await;
    let redeliver = "/v1/events/evt_00000000000000000000000000000000/redeliver";
    api.send("post", "/v1/events/{id}/redeliver", redeliver, None)
        .await;
    for action in ["disable", "enable"] {
        let template = format!("/v1/users/{{id}}/{action}");
        api.send("post", &template, &format!("{by_id}/{action}"), None)
            .await;
    }
    api.send("get", "/v1/users", "/v1/users?status=disabled", None)
        .await;

    let settings = "/v1/app/settings";
    api.send("get", settings, settings, None).await;
    api.send(
        "patch",
        settings,
        settings,
        Some(json!({"allowlist_required": false})),
    )
    .await;
    api.send("patch", settings, settings, Some(json!({"x": 1})))
        .await;
    let allow = "/v1/allowlist";
    let entry = json!({"type": "email_domain", "value": "example.com"});
    let added = api.send("post", allow, allow, Some(entry.clone())).await;
    api.send("post", allow, allow, Some(entry)).await;
    api.send("get", allow, "/v1/allowlist?limit=1", None).await;
    let entry_id = added["data"]["id"].as_str().unwrap().to_owned();
    let by_entry = format!("/v1/allowlist/{entry_id}");
    api.send("delete", "/v1/allowlist/{id}", &by_entry, None)
        .await;
    api.send("delete", "/v1/allowlist/{id}", &by_entry, None)
        .await;
    let invitation =
        json!({"identifier": {"type": "email", "value": "inv@example.com"}, "campaign": "c"});
    let invites = "/v1/invitations";
    let invited = api
        .send("post", invites, invites, Some(invitation.clone()))
        .await;
    api.send("post", invites, invites, Some(invitation)).await;
    api.send("get", invites, invites, None).await;
    let user_invites = "/v1/users/{id}/invitations";
    let mine = format!("{by_id}/invitations");
    let phone = json!({"identifier": {"type": "phone", "value": "+14155550199"}});
    api.send("post", user_invites, &mine, Some(phone)).await;
    api.send("get", user_invites, &mine, None).await;
    let revoke = format!(
        "/v1/invitations/{}",
        invited["data"]["id"].as_str().unwrap()
    );
    api.send("delete", "/v1/invitations/{id}", &revoke, None)
        .await;
    api.send("delete", "/v1/invitations/{id}", &revoke, None)
        .await;
    let found = api
        .send(
            "post",
            find,
            find,
            Some(json!({"email": "inv@example.com"})),
        )
        .await;
    assert_eq!(found["data"]["user"]["onboarding"], Value::Null);

    let keys = "/v1/keys";
    let issued = api
        .send("post", keys, keys, Some(json!({"scopes": ["admin"]})))
        .await;
    api.send("post", keys, keys, Some(json!({"scopes": []})))
        .await;
    api.send("get", keys, keys, None).await;
    // A key grants only what it holds: the admin-only key asking for more is 403.
    let stack_key = std::mem::replace(
        &mut api.key,
        issued["data"]["api_key"].as_str().unwrap().to_owned(),
    );
    let refused = api.send("post", keys, keys, None).await;
    assert_eq!(refused["error"]["code"], "insufficient_scope", "{refused}");
    api.key = stack_key;
    let by_key = format!("/v1/keys/{}", issued["data"]["key_id"].as_str().unwrap());
    api.send("delete", "/v1/keys/{id}", &by_key, None).await;
    api.send("delete", "/v1/keys/{id}", &by_key, None).await;

    let exports = "/v1/exports";
    let export = api.send("post", exports, exports, None).await;
    let by_export = format!("/v1/exports/{}", export["data"]["id"].as_str().unwrap());
    api.send("get", "/v1/exports/{id}", &by_export, None).await;
    let missing = format!("/v1/exports/ux_{}", "0".repeat(32));
    let missing = api.send("get", "/v1/exports/{id}", &missing, None).await;
    assert_eq!(missing["error"]["code"], "not_found", "{missing}");

    api.send("delete", "/v1/users/{id}", &by_id, None).await;
    api.send("delete", "/v1/webhooks/{id}", &by_endpoint, None)
        .await;
    assert!(api.checked.len() >= 48, "{:?}", api.checked);

    // Without a key: 401 in the envelope.
    let unauthorised = shared::tls::reqwest_builder()
        .build()
        .unwrap()
        .get(format!("{address}{by_id}"))
        .send()
        .await
        .unwrap();
    let status = unauthorised.status().as_u16();
    let body: Value = serde_json::from_str(&unauthorised.text().await.unwrap()).unwrap();
    api.contract.check("get", "/v1/users/{id}", status, &body);
}

/// Schemathesis is single-threaded and CPU-bound: its coverage phase alone makes about 11,000
/// cases of the 33 operations (445 s in one run), most of them for the user-creating bodies.
/// Four runs instead, on a partition of the paths that covers every operation by construction:
/// `/v1/users` itself, its literal sub-paths (batch, lookup, find-or-create), one user's
/// routes, and everything else.
const USERS: &str = "^/v1/users$";
const USERS_LITERAL: &str = "^/v1/users/[a-z-]+$";
const A_USERS_OWN: &str = r"^/v1/users/\{id\}";

#[tokio::test]
async fn schemathesis_finds_no_server_error_schema_break_or_accepted_forbidden_request_on_v1_users()
{
    schemathesis(&["--include-path-regex", USERS]).await;
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_schema_break_or_accepted_forbidden_request_on_batch_lookup_and_find_or_create()
 {
    schemathesis(&["--include-path-regex", USERS_LITERAL]).await;
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_schema_break_or_accepted_forbidden_request_on_a_users_own_routes()
 {
    schemathesis(&["--include-path-regex", A_USERS_OWN]).await;
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_schema_break_or_accepted_forbidden_request_on_every_other_route()
 {
    // One regex: schemathesis keeps only the last of several `--exclude-path-regex`.
    let rest = format!("({USERS})|({USERS_LITERAL})|({A_USERS_OWN})");
    schemathesis(&["--exclude-path-regex", &rest]).await;
}

/// Runs schemathesis on the operations `filter` selects, against a fresh local API: no
/// server error, every response in the contract, no request the contract forbids accepted.
async fn schemathesis(filter: &[&str]) {
    let stack = TestStack::new().await;
    let (address, _) = serve(&stack).await;
    let work = std::env::temp_dir().join(format!("schemathesis-{}", stack.table()));
    std::fs::create_dir_all(&work).unwrap();
    let output = tokio::process::Command::new(api_tests::python_tool("st"))
        .current_dir(&work)
        .args(["run", root().join("openapi.yaml").to_str().unwrap(), "--url", &address])
        .args(["--header", &format!("Authorization: Bearer {}", stack.api_key)])
        .args(filter)
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,negative_data_rejection,content_type_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "20261123",
            // One worker: schemathesis 4.32 has crashed internally (a KeyError in its strategy
            // cache) with two.
            "--workers",
            "1",
            "--no-color",
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated: usize = stdout
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_suffix(" passed")
                .and_then(|l| l.split(" generated").next()?.parse().ok())
        })
        .unwrap_or_else(|| panic!("no case count in:\n{stdout}"));
    println!("schemathesis: {generated} cases");
    assert!(generated >= 300, "only {generated} cases:\n{stdout}");
}

#[tokio::test]
async fn the_typescript_client_runs_its_quick_start() {
    let stack = TestStack::new().await;
    let (address, _) = serve(&stack).await;
    let client_dir = root().join("clients/typescript");
    assert!(
        client_dir.join("node_modules").exists(),
        "run scripts/test.sh, which installs the client's packages"
    );
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new("npm")
            .args(["run", "--silent", "example"])
            .current_dir(&client_dir)
            .env("API_URL", &address)
            .env("API_KEY", &stack.api_key)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("created: false") && stdout.contains("wallet    ethereum 0x"),
        "{stdout}"
    );
}
