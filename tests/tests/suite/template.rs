//! `template.yaml` agrees with the code: every HTTP route in the template is in the route table
//! and served by the function the table names, every route is in the template, and every
//! function crate in the workspace is deployed by the template; and the template passes
//! `cfn-lint` and `sam validate --lint`; and `openapi.yaml` documents exactly the routed paths.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn template() -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// (method, path, binary) of every HTTP API event, and every deployed binary.
fn template_routes() -> (BTreeSet<(String, String, String)>, BTreeSet<String>) {
    let template = template();
    let mut routes = BTreeSet::new();
    let mut binaries = BTreeSet::new();
    for (_, resource) in template["Resources"].as_hash().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        binaries.insert(binary.clone());
        let Some(events) = resource["Properties"]["Events"].as_hash() else {
            continue;
        };
        for (_, event) in events {
            let properties = &event["Properties"];
            if event["Type"].as_str() == Some("HttpApi")
                && let (Some(method), Some(path)) =
                    (properties["Method"].as_str(), properties["Path"].as_str())
            {
                routes.insert((method.to_owned(), path.to_owned(), binary.clone()));
            }
        }
    }
    (routes, binaries)
}

#[test]
fn template_routes_and_the_route_table_are_the_same() {
    let (in_template, _) = template_routes();
    let mut in_code: BTreeSet<(String, String, String)> = shared::edge::routes::routes()
        .into_iter()
        .map(|spec| {
            (
                spec.method.to_string(),
                spec.path.to_owned(),
                spec.function.to_owned(),
            )
        })
        .collect();
    // Each dialect takes every path under its mount.
    for (mount, function) in shared::dialects::MOUNTS {
        in_code.insert((
            "ANY".to_owned(),
            format!("{mount}/{{proxy+}}"),
            function.to_owned(),
        ));
    }
    for (method, path, function) in shared::dialects::ROUTED_APART {
        in_code.insert((method.to_owned(), path.to_owned(), function.to_owned()));
    }
    for (method, path) in shared::edge::console::ROUTES {
        in_code.insert((method.to_owned(), path.to_owned(), "console".to_owned()));
    }
    assert_eq!(in_template, in_code);
}

/// The console is served on the API's own origin, so the API needs no CORS: with none
/// configured, no other web origin can call it from a browser (a stolen key pasted into a
/// look-alike page elsewhere gets nothing back that the page could read).
#[test]
fn the_api_allows_no_cross_origin_caller_and_serves_the_console_itself() {
    let template = template();
    let api = &template["Resources"]["HttpApi"]["Properties"];
    assert!(api.as_hash().is_some(), "the HttpApi resource");
    assert!(
        api["CorsConfiguration"].is_badvalue(),
        "{:?}",
        api["CorsConfiguration"]
    );
    let (routes, _) = template_routes();
    for (method, path) in shared::edge::console::ROUTES {
        let route = (method.to_owned(), path.to_owned(), "console".to_owned());
        assert!(routes.contains(&route), "{route:?}");
    }
}

#[test]
fn every_function_crate_is_deployed_and_every_deployed_binary_exists() {
    let (_, deployed) = template_routes();
    let functions_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let crates: BTreeSet<String> = std::fs::read_dir(functions_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(deployed, crates);
}

fn run_tool(tool: &str, args: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = std::process::Command::new(api_tests::python_tool(tool))
        .args(args)
        .current_dir(&root)
        // `sam validate` needs a region (it calls no AWS API with --lint); no telemetry.
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{tool} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn cfn_lint_passes() {
    run_tool("cfn-lint", &["template.yaml"]);
}

#[test]
fn sam_validate_lint_passes() {
    run_tool(
        "sam",
        &["validate", "--lint", "--template-file", "template.yaml"],
    );
}

#[test]
fn every_route_is_in_openapi_yaml_and_back() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let contract = YamlLoader::load_from_str(&text).unwrap().remove(0);
    let mut documented = BTreeSet::new();
    for (path, item) in contract["paths"].as_hash().unwrap() {
        for (method, _) in item.as_hash().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                documented.insert((
                    method.to_ascii_uppercase(),
                    path.as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    let routed: BTreeSet<(String, String)> = shared::edge::routes::routes()
        .into_iter()
        .map(|spec| (spec.method.to_string(), spec.path.to_owned()))
        .collect();
    assert_eq!(documented, routed);
}

/// The idempotency lock must outlast any request that holds it: every function serving HTTP
/// routes has a timeout of at most the constant the lock is derived from, and the longest of
/// them is that constant (so it is not a guess left behind by a change to the template).
#[test]
fn http_function_timeouts_are_within_the_idempotency_locks_bound() {
    let template = template();
    let default = template["Globals"]["Function"]["Timeout"].as_i64().unwrap();
    let mut longest = 0;
    for (name, resource) in template["Resources"].as_hash().unwrap() {
        let properties = &resource["Properties"];
        let serves_http = properties["Events"].as_hash().is_some_and(|events| {
            events
                .values()
                .any(|e| e["Type"].as_str() == Some("HttpApi"))
        });
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") || !serves_http {
            continue;
        }
        let timeout = properties["Timeout"].as_i64().unwrap_or(default);
        assert!(
            timeout as u64 <= shared::edge::idempotency::LONGEST_HTTP_TIMEOUT.as_secs(),
            "{name:?} has Timeout {timeout}, beyond idempotency::LONGEST_HTTP_TIMEOUT"
        );
        longest = longest.max(timeout as u64);
    }
    assert_eq!(
        longest,
        shared::edge::idempotency::LONGEST_HTTP_TIMEOUT.as_secs()
    );
}

/// Every scalar under `node` (CloudFormation's tags, `!GetAtt`, `!If`, are read as their plain
/// values: `!GetAtt WalletKey.Arn` is "WalletKey.Arn").
fn scalars(node: &Yaml) -> Vec<String> {
    match node {
        Yaml::String(text) => vec![text.clone()],
        Yaml::Array(items) => items.iter().flat_map(scalars).collect(),
        Yaml::Hash(hash) => hash.values().flat_map(scalars).collect(),
        _ => Vec::new(),
    }
}

/// The KMS key a resource reference names ("WalletKey.Arn" -> "WalletKey").
fn key_named(reference: &str) -> String {
    reference.trim_end_matches(".Arn").to_owned()
}

/// Which functions may use the key service, and how: (function, action, encryption context,
/// key), from the functions' own policies and from IAM policies attached to their roles.
fn kms_grants() -> BTreeSet<(String, String, String, String)> {
    let template = template();
    let mut grants = BTreeSet::new();
    for (name, resource) in template["Resources"].as_hash().unwrap() {
        let name = name.as_str().unwrap();
        let (function, statements): (String, Vec<&Yaml>) = match resource["Type"].as_str().unwrap()
        {
            "AWS::Serverless::Function" => (
                name.to_owned(),
                resource["Properties"]["Policies"]
                    .as_vec()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["Statement"].as_vec())
                    .flatten()
                    .collect(),
            ),
            "AWS::IAM::Policy" => {
                let roles = scalars(&resource["Properties"]["Roles"]);
                assert_eq!(roles.len(), 1, "{name}: one role per policy");
                (
                    roles[0].trim_end_matches("Role").to_owned(),
                    resource["Properties"]["PolicyDocument"]["Statement"]
                        .as_vec()
                        .unwrap()
                        .iter()
                        .collect(),
                )
            }
            _ => continue,
        };
        for statement in statements {
            let context = statement["Condition"]["StringEquals"]["kms:EncryptionContext:purpose"]
                .as_str()
                .unwrap_or("<any>")
                .to_owned();
            for action in statement["Action"].as_vec().into_iter().flatten() {
                let action = action.as_str().unwrap();
                if !action.starts_with("kms:") {
                    continue;
                }
                for key in scalars(&statement["Resource"]) {
                    grants.insert((
                        function.clone(),
                        action.to_owned(),
                        context.clone(),
                        key_named(&key),
                    ));
                }
            }
        }
    }
    grants
}

/// Custody: only the signing function may open a wallet key; the wallet creator may only make
/// data keys; no grant of the key service goes without an encryption context.
#[test]
fn only_the_signing_function_may_decrypt_wallet_keys() {
    let grants = kms_grants();
    let wallet = shared::ports::sealer::KeyPurpose::WalletKeys.context();
    let on_wallets: Vec<(&str, &str)> = grants
        .iter()
        .filter(|(_, _, context, _)| context == wallet)
        .map(|(name, action, _, _)| (name.as_str(), action.as_str()))
        .collect();
    assert_eq!(
        on_wallets,
        [
            ("CreateWalletsFunction", "kms:GenerateDataKey"),
            ("WalletRpcFunction", "kms:Decrypt")
        ]
    );
    assert!(
        grants.iter().all(|(_, _, context, _)| context != "<any>"),
        "{grants:?}"
    );
}

/// One app's flood must not take the account's concurrency: every background consumer (on the
/// stream or a queue) has reserved concurrency, the queue's pollers are capped to delivery's,
/// and every function reads the per-app rate limit the deployment sets.
#[test]
fn consumers_are_bounded_and_every_function_knows_the_app_rate_limit() {
    let template = template();
    let mut consumers = Vec::new();
    for (name, resource) in template["Resources"].as_hash().unwrap() {
        let properties = &resource["Properties"];
        let Some(events) = properties["Events"].as_hash() else {
            continue;
        };
        for event in events.values() {
            let kind = event["Type"].as_str().unwrap_or_default();
            if kind == "DynamoDB" || kind == "SQS" {
                let name = name.as_str().unwrap();
                consumers.push(name.to_owned());
                assert!(
                    !properties["ReservedConcurrentExecutions"].is_badvalue(),
                    "{name} has no reserved concurrency"
                );
            }
            if kind == "SQS" {
                assert!(
                    !event["Properties"]["ScalingConfig"]["MaximumConcurrency"].is_badvalue(),
                    "{name:?}'s queue pollers are not capped"
                );
            }
        }
    }
    consumers.sort();
    assert_eq!(
        consumers,
        [
            "CreateWalletsFunction",
            "DeliverWebhooksFunction",
            "PublishEventsFunction",
            "RunExportsFunction"
        ]
    );
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(
        !variables[shared::config::APP_RATE_LIMIT_VAR].is_badvalue(),
        "{variables:?}"
    );
    assert!(!template["Parameters"]["AppRateLimitPerSecond"].is_badvalue());
}

/// The KMS keys, by logical id.
fn kms_keys() -> Vec<(String, Yaml)> {
    template()["Resources"]
        .as_hash()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::KMS::Key"))
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

/// The key each purpose is sealed under now.
fn key_of(purpose: shared::ports::sealer::KeyPurpose) -> &'static str {
    use shared::ports::sealer::KeyPurpose;
    match purpose {
        KeyPurpose::WalletKeys => "WalletKey",
        KeyPurpose::WebhookSecrets => "WebhookSecretKey",
        KeyPurpose::ClientSecrets => "ClientSecretKey",
    }
}

/// One key per purpose, and each function seals and opens its purpose on that purpose's key
/// only (its `KMS_KEY_ID` names it); the one exception is opening the webhook and client
/// secrets sealed on the wallet key before the keys were split.
#[test]
fn each_purpose_has_its_own_key_and_each_function_uses_only_its_own() {
    use shared::ports::sealer::KeyPurpose;
    let purposes = [
        KeyPurpose::WalletKeys,
        KeyPurpose::WebhookSecrets,
        KeyPurpose::ClientSecrets,
    ];
    let keys: BTreeSet<String> = kms_keys().into_iter().map(|(name, _)| name).collect();
    let expected: BTreeSet<String> = purposes.iter().map(|p| key_of(*p).to_owned()).collect();
    assert_eq!(keys, expected);
    let grants = kms_grants();
    // Client secrets: sealed by the access function (keys issued over the API), opened by the
    // two dialects that sign with them (on the wallet key too, for secrets sealed before the
    // keys were split), by nothing else.
    let on_client_secrets: BTreeSet<(&str, &str, &str)> = grants
        .iter()
        .filter(|(_, _, context, _)| context == KeyPurpose::ClientSecrets.context())
        .map(|(function, action, _, key)| (function.as_str(), action.as_str(), key.as_str()))
        .collect();
    assert_eq!(
        on_client_secrets,
        BTreeSet::from([
            ("AccessFunction", "kms:GenerateDataKey", "ClientSecretKey"),
            ("OriginalFunction", "kms:Decrypt", "ClientSecretKey"),
            ("OriginalFunction", "kms:Decrypt", "WalletKey"),
            ("OstFunction", "kms:Decrypt", "ClientSecretKey"),
            ("OstFunction", "kms:Decrypt", "WalletKey"),
        ])
    );
    let template = template();
    for (function, action, context, key) in grants {
        let purpose = purposes
            .iter()
            .find(|p| p.context() == context)
            .unwrap_or_else(|| panic!("{function}: {context}"));
        let legacy =
            action == "kms:Decrypt" && key == "WalletKey" && *purpose != KeyPurpose::WalletKeys;
        assert!(
            key == key_of(*purpose) || legacy,
            "{function} {action} {context} on {key}"
        );
        let configured = &template["Resources"][function.as_str()]["Properties"]["Environment"]["Variables"]
            ["KMS_KEY_ID"];
        assert_eq!(
            key_named(configured.as_str().unwrap()),
            key_of(*purpose),
            "{function}'s KMS_KEY_ID"
        );
    }
}

/// The statements of a key policy with `effect`.
fn statements(key: &Yaml, effect: &str) -> Vec<Yaml> {
    key["Properties"]["KeyPolicy"]["Statement"]
        .as_vec()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"].as_str() == Some(effect))
        .cloned()
        .collect()
}

fn actions(statement: &Yaml) -> Vec<String> {
    scalars(&statement["Action"])
}

/// Whether an IAM action pattern (`kms:ReEncrypt*`, `kms:*`) covers `action`.
fn covers(pattern: &str, action: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

/// The wallet key's policy: the account administers it (without any use of it), and an
/// explicit Deny stops everyone but the signing function's role and the break-glass role from
/// Decrypt, ReEncrypt and CreateGrant, whatever their IAM policies allow.
#[test]
fn the_wallet_key_opens_for_the_signer_and_the_break_glass_role_only() {
    let keys = kms_keys();
    let (_, wallet_key) = keys.iter().find(|(name, _)| name == "WalletKey").unwrap();
    let opening = [
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:CreateGrant",
    ];
    for statement in statements(wallet_key, "Allow") {
        let unconditional = statement["Condition"].is_badvalue();
        for pattern in actions(&statement) {
            assert!(
                !(unconditional && opening.iter().any(|a| covers(&pattern, a))),
                "an unconditional Allow of {pattern} on the wallet key"
            );
            assert!(
                !covers(&pattern, "kms:ReEncryptFrom") && !covers(&pattern, "kms:CreateGrant"),
                "the wallet key allows {pattern}"
            );
        }
    }
    // Administration keeps PutKeyPolicy, so the account cannot be locked out of the key.
    assert!(statements(wallet_key, "Allow").iter().any(|s| {
        s["Condition"].is_badvalue() && actions(s).iter().any(|a| a == "kms:PutKeyPolicy")
    }));
    let denies = statements(wallet_key, "Deny");
    for action in opening {
        let deny = denies
            .iter()
            .find(|s| actions(s).iter().any(|p| covers(p, action)))
            .unwrap_or_else(|| panic!("no Deny of {action}"));
        assert_eq!(scalars(&deny["Principal"]), ["*"]);
        let excepted: BTreeSet<String> =
            scalars(&deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])
                .into_iter()
                .filter(|name| name != "HasBreakGlassRole")
                .collect();
        assert_eq!(
            excepted,
            BTreeSet::from([
                "BreakGlassRoleArn".to_owned(),
                "WalletRpcFunctionRole.Arn".to_owned()
            ]),
            "{action}"
        );
        // Nothing but the two legacy purposes escapes the Deny.
        let escapes =
            scalars(&deny["Condition"]["StringNotEquals"]["kms:EncryptionContext:purpose"]);
        assert!(
            !escapes
                .iter()
                .any(|p| p == shared::ports::sealer::KeyPurpose::WalletKeys.context()),
            "{escapes:?}"
        );
    }
    let parameter = &template()["Parameters"]["BreakGlassRoleArn"];
    assert_eq!(parameter["Default"].as_str(), Some(""));
}

/// A Decrypt of the wallet key in the wallet context by anyone but the signing function is
/// matched from CloudTrail (read-only management events included) and raises an alarm.
#[test]
fn decrypting_a_wallet_key_by_anyone_else_raises_an_alarm() {
    let template = template();
    let resources = template["Resources"].as_hash().unwrap();
    let (rule_name, rule) = resources
        .iter()
        .find(|(_, r)| {
            r["Type"].as_str() == Some("AWS::Events::Rule")
                && scalars(&r["Properties"]["EventPattern"]["detail"]["resources"])
                    == ["WalletKey.Arn"]
        })
        .expect("a rule on the wallet key's CloudTrail events");
    let properties = &rule["Properties"];
    assert_eq!(
        properties["State"].as_str(),
        Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    );
    let pattern = &properties["EventPattern"];
    assert_eq!(scalars(&pattern["source"]), ["aws.kms"]);
    let wallet = shared::ports::sealer::KeyPurpose::WalletKeys.context();
    let branches = pattern["detail"]["$or"].as_vec().unwrap();
    let decrypts: Vec<&Yaml> = branches
        .iter()
        .filter(|b| scalars(&b["eventName"]) == ["Decrypt"])
        .collect();
    assert!(!decrypts.is_empty());
    for branch in &decrypts {
        assert_eq!(
            scalars(&branch["requestParameters"]["encryptionContext"]["purpose"]),
            [wallet]
        );
    }
    assert!(decrypts.iter().any(|b| {
        b["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"][0]["anything-but"].as_str()
            == Some("WalletRpcFunctionRole.Arn")
    }));
    let alarmed = resources.values().any(|r| {
        r["Type"].as_str() == Some("AWS::CloudWatch::Alarm")
            && r["Properties"]["Namespace"].as_str() == Some("AWS/Events")
            && scalars(&r["Properties"]["Dimensions"])
                .contains(&rule_name.as_str().unwrap().to_owned())
    });
    assert!(alarmed, "no alarm on {rule_name:?}");
}

/// Every IAM statement that applies to each function's role: its own `Policies` and every
/// policy resource (`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`) attached to its role.
fn statements_by_function() -> std::collections::BTreeMap<String, Vec<Yaml>> {
    let template = template();
    let resources = template["Resources"].as_hash().unwrap();
    let mut by_function = std::collections::BTreeMap::<String, Vec<Yaml>>::new();
    for (name, resource) in resources {
        let name = name.as_str().unwrap();
        match resource["Type"].as_str().unwrap() {
            "AWS::Serverless::Function" => {
                let own = resource["Properties"]["Policies"]
                    .as_vec()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["Statement"].as_vec())
                    .flatten()
                    .cloned();
                by_function.entry(name.to_owned()).or_default().extend(own);
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                let statements = resource["Properties"]["PolicyDocument"]["Statement"]
                    .as_vec()
                    .unwrap();
                for role in scalars(&resource["Properties"]["Roles"]) {
                    let function = role.strip_suffix("Role").unwrap().to_owned();
                    assert!(
                        resources.contains_key(&Yaml::String(function.clone())),
                        "{name} names the role of no function: {role}"
                    );
                    by_function
                        .entry(function)
                        .or_default()
                        .extend(statements.iter().cloned());
                }
            }
            _ => {}
        }
    }
    by_function
}

/// Whether an IAM `StringLike` pattern (`*` any run, `?` one character) matches `text`.
fn like(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .filter(|at| text.is_char_boundary(*at))
            .any(|at| like(&pattern[1..], &text[at..])),
        Some(first) => {
            let mut rest = text.chars();
            if rest.next().is_some_and(|c| first == '?' || c == first) {
                like(&pattern[first.len_utf8()..], rest.as_str())
            } else {
                false
            }
        }
    }
}

/// Whether `statement` is about `action` on the users table (for Deny: whose condition on
/// `dynamodb:LeadingKeys`, if any, matches `partition`).
fn applies(statement: &Yaml, action: &str, partition: &str) -> bool {
    let on_action = match statement["NotAction"].as_vec() {
        Some(excluded) => !scalars(&Yaml::Array(excluded.clone()))
            .iter()
            .any(|p| covers(p, action)),
        None => actions(statement).iter().any(|p| covers(p, action)),
    };
    let on_table = scalars(&statement["Resource"])
        .iter()
        .any(|r| r == "UsersTable.Arn" || r == "${UsersTable.Arn}/*" || r == "*");
    if !on_action || !on_table {
        return false;
    }
    let condition = &statement["Condition"];
    match condition.as_hash() {
        None => true,
        Some(_) => {
            let patterns = scalars(&condition["ForAnyValue:StringLike"]["dynamodb:LeadingKeys"]);
            assert!(
                !patterns.is_empty(),
                "a DynamoDB statement with a condition this test does not read: {statement:?}"
            );
            patterns.iter().any(|p| like(p, partition))
        }
    }
}

/// The DynamoDB actions that read or write items.
const ITEM_ACTIONS: [&str; 14] = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:GetRecords",
];

/// What each function may do to items of `partition`: allowed by a statement and denied by
/// none. Functions that may do nothing there are left out.
fn reach(partition: &str) -> Vec<(String, Vec<&'static str>)> {
    statements_by_function()
        .into_iter()
        .filter_map(|(function, statements)| {
            let with = |effect: &str, action: &str| {
                statements
                    .iter()
                    .filter(|s| s["Effect"].as_str() == Some(effect))
                    .any(|s| applies(s, action, partition))
            };
            let actions: Vec<&str> = ITEM_ACTIONS
                .into_iter()
                .filter(|action| with("Allow", action) && !with("Deny", action))
                .collect();
            (!actions.is_empty()).then_some((function, actions))
        })
        .collect()
}

fn owned(expected: &[(&str, &[&'static str])]) -> Vec<(String, Vec<&'static str>)> {
    expected
        .iter()
        .map(|(function, actions)| ((*function).to_owned(), actions.to_vec()))
        .collect()
}

/// Sealed wallet keys are out of reach of every function but the wallet creator (which may
/// only write and purge them) and the signer (which may only read them); sealed client secrets
/// of every function but the two dialects that sign with them (which may only read them) and
/// the access function, which issues keys (and may only create them). The
/// partitions are the code's own (`keys::wallet_keys_pk`, `keys::client_secret_pk`): a layout
/// change the template does not follow fails here. DynamoDB Local does not enforce IAM, so the
/// template is what is checked; `custody` proves the functions' code stays inside it.
#[test]
fn sealed_keys_and_client_secrets_are_out_of_every_other_functions_reach() {
    use shared::adapters::dynamo::keys;
    let app = shared::model::AppId::generate();
    let user = shared::model::UserId::generate();
    assert_eq!(
        reach(&keys::wallet_keys_pk(&app, user)),
        owned(&[
            (
                "CreateWalletsFunction",
                &["dynamodb:PutItem", "dynamodb:DeleteItem"]
            ),
            (
                "WalletRpcFunction",
                &["dynamodb:GetItem", "dynamodb:BatchGetItem"]
            ),
        ])
    );
    assert_eq!(
        reach(&keys::client_secret_pk("00112233aabbccdd")),
        owned(&[
            // Issuing a key over the API: its secret's Put, in the key's transaction.
            ("AccessFunction", &["dynamodb:PutItem"]),
            ("OriginalFunction", &["dynamodb:GetItem"]),
            ("OstFunction", &["dynamodb:GetItem"]),
        ])
    );
    // The denials are only of those partitions: the user's own stays readable.
    let users: Vec<String> = reach(&keys::user_pk(&app, user))
        .into_iter()
        .filter(|(_, actions)| actions.contains(&"dynamodb:GetItem"))
        .map(|(function, _)| function)
        .collect();
    assert!(users.contains(&"GetUserFunction".to_owned()), "{users:?}");
    // A Scan or PartiQL statement names no partition key a condition could deny: no function
    // may use them at all.
    for (function, statements) in statements_by_function() {
        for action in ITEM_ACTIONS
            .iter()
            .filter(|a| a.contains("Scan") || a.contains("PartiQL"))
        {
            assert!(
                !statements
                    .iter()
                    .filter(|s| s["Effect"].as_str() == Some("Allow"))
                    .any(|s| applies(s, action, "")),
                "{function} may {action}"
            );
        }
    }
}

#[test]
fn like_matches_as_iam_string_like_does() {
    assert!(like("WALLETKEY#*", "WALLETKEY#app#user"));
    assert!(like("WALLETKEY#*", "WALLETKEY#"));
    assert!(!like("WALLETKEY#*", "APP#a#USER#u"));
    assert!(!like("WALLETKEY#*", "XWALLETKEY#a"));
    assert!(like("a?c", "abc") && !like("a?c", "ac"));
}
