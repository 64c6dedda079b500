//! Break-glass export (`wallet-users-admin break-glass-export`), checked by code nobody here
//! wrote: pyrage decrypts the age file, eth-account and solders derive each key's address
//! (tests/clients/break_glass_open.py). Every key is recorded before it is opened; a key
//! service that will not open the keys (the operator lacks the role) exports and records
//! nothing.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use api_tests::{TestStack, parts, request};
use serde_json::{Value, json};
use shared::model::event::EventType;

/// The stack's dev key-encryption key, as `api_tests::wallets::stack_sealer` holds it.
const STACK_KEK: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

/// The checker in the seed clients' venv, with `args`: its JSON output.
async fn checker(args: &[&str]) -> Value {
    let python = std::env::var("SEED_CLIENTS_PYTHON").expect(
        "SEED_CLIENTS_PYTHON is not set: run the tests with scripts/test.sh (scripts/seed-clients.sh)",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/break_glass_open.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The admin CLI on the stack's table, opening keys with `kek`.
async fn admin(stack: &TestStack, kek: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(api_tests::binary("wallet-users-admin"))
        .args(args)
        .env("TABLE_NAME", stack.table())
        .env("DYNAMODB_ENDPOINT", api_tests::endpoint())
        .env("LOCAL_KEY_ENCRYPTION_KEY", kek)
        .env_remove("KMS_KEY_ID")
        .env_remove("WALLET_KMS_KEY_ID")
        .output()
        .await
        .unwrap()
}

async fn create(stack: &TestStack, body: Value) -> String {
    let request = request("POST", "/v1/users", &stack.api_key, Some(&body));
    let (status, body) = parts(&create_user::handle(&stack.store, request).await);
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

/// The audit records beside the users.
async fn exports(stack: &TestStack) -> Vec<Value> {
    stack
        .items_with_sk("EXPORT#")
        .await
        .into_iter()
        .map(|item| serde_dynamo::from_item(item).unwrap())
        .collect()
}

/// A new directory of this test's own.
fn scratch() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("break-glass-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Users with wallets on both chains, one without any; the pipeline that made their wallets.
async fn users_with_wallets(stack: &TestStack) -> (Vec<String>, api_tests::wallets::Pipeline) {
    let sealer = api_tests::wallets::stack_sealer();
    let mut pipeline = api_tests::wallets::Pipeline::new(stack).await;
    let both = json!({"wallets": [{"chain_type": "ethereum"}, {"chain_type": "solana"}]});
    let ids = vec![
        create(stack, both).await,
        create(stack, json!({"wallets": [{"chain_type": "ethereum"}]})).await,
        create(stack, json!({"wallets": []})).await,
    ];
    pipeline.drain(stack, &sealer).await;
    (ids, pipeline)
}

#[tokio::test]
async fn every_exported_key_opens_with_age_and_derives_its_wallets_address() {
    let stack = TestStack::new().await;
    let (ids, mut pipeline) = users_with_wallets(&stack).await;
    let age = checker(&["keygen"]).await;
    let (identity, recipient) = (
        age["identity"].as_str().unwrap(),
        age["recipient"].as_str().unwrap(),
    );
    let dir = scratch();
    let out = dir.join("keys.age");
    let app = stack.app.to_string();
    let run = |out: &Path, more: &[&str]| {
        let mut args = vec![
            "break-glass-export",
            "--app-id",
            &app,
            "--recipient",
            recipient,
            "--reason",
            "INC-42: the API is down",
            "--out",
        ];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(more);
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let stack = &stack;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            admin(stack, STACK_KEK, &args).await
        }
    };
    let output = run(&out, &[]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["exported"], 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner alone");
    }
    assert!(!out.with_extension("partial").exists());

    // Each key derives the address its wallet shows, by libraries nobody here wrote.
    let opened = checker(&["open", identity, out.to_str().unwrap()]).await;
    let mut wallets = Vec::new();
    for id in &ids {
        let request = request("GET", &format!("/v1/users/{id}"), &stack.api_key, None);
        let (_, user) = parts(&get_user::handle(&stack.store, request).await);
        for wallet in user["data"]["wallets"].as_array().unwrap() {
            wallets.push((
                id.clone(),
                wallet["chain_type"].clone(),
                wallet["address"].clone(),
            ));
        }
    }
    let mut derived: Vec<(String, Value, Value)> = opened
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            assert_eq!(key["app_id"], app.as_str());
            assert_eq!(key["derived"], key["address"], "{key}");
            (
                key["user_id"].as_str().unwrap().to_owned(),
                key["chain_type"].clone(),
                key["derived"].clone(),
            )
        })
        .collect();
    derived.sort_by_key(|(user, chain, _)| (user.clone(), chain.to_string()));
    wallets.sort_by_key(|(user, chain, _)| (user.clone(), chain.to_string()));
    assert_eq!(derived, wallets);
    // An age file, in which no address (nor anything else of the lines) shows.
    let file = std::fs::read(&out).unwrap();
    assert!(file.starts_with(b"age-encryption.org/v1\n"));
    for (_, _, address) in &wallets {
        let address = address.as_str().unwrap().as_bytes();
        assert!(!file.windows(address.len()).any(|w| w == address));
    }

    // Each key was recorded, with why, to whom and by whom.
    let recorded = exports(&stack).await;
    assert_eq!(recorded.len(), 3);
    for record in &recorded {
        assert_eq!(record["reason"], "INC-42: the API is down");
        assert_eq!(record["recipient"], recipient);
        assert!(record["operator"].as_str().unwrap().starts_with("local:"));
        assert!(record["id"].as_str().unwrap().starts_with("kx_"));
    }
    // And the stream made each a `user.wallet_key_exported` event, for the app's webhooks.
    pipeline
        .drain(&stack, &api_tests::wallets::stack_sealer())
        .await;
    let events = pipeline.publisher.of_type(EventType::WalletKeyExported);
    let mut announced: Vec<&Value> = events.iter().map(|event| &event.data).collect();
    let mut recorded = recorded.iter().collect::<Vec<_>>();
    announced.sort_by_key(|data| data["id"].as_str().unwrap().to_owned());
    recorded.sort_by_key(|record| record["id"].as_str().unwrap().to_owned());
    assert_eq!(announced.len(), 3);
    for (data, record) in announced.iter().zip(&recorded) {
        for field in [
            "id",
            "user_id",
            "chain_type",
            "address",
            "recipient",
            "reason",
            "operator",
        ] {
            assert_eq!(data[field], record[field], "{field}");
        }
        assert!(data.get("private_key").is_none());
    }

    // One user's keys alone; an existing file is never overwritten.
    let one = dir.join("one.age");
    let output = run(&one, &["--user-id", &ids[1]]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let opened = checker(&["open", identity, one.to_str().unwrap()]).await;
    assert_eq!(opened.as_array().unwrap().len(), 1);
    assert_eq!(opened[0]["user_id"], ids[1].as_str());
    assert_eq!(exports(&stack).await.len(), 4);
    let again = run(&one, &["--user-id", &ids[1]]).await;
    assert!(!again.status.success());
    assert_eq!(exports(&stack).await.len(), 4);
}

#[tokio::test]
async fn without_the_key_that_seals_them_nothing_is_exported_or_recorded() {
    let stack = TestStack::new().await;
    let (_, mut pipeline) = users_with_wallets(&stack).await;
    let age = checker(&["keygen"]).await;
    let recipient = age["recipient"].as_str().unwrap();
    let out = scratch().join("keys.age");
    let out_arg = out.to_str().unwrap();
    let app = stack.app.to_string();
    let base = ["break-glass-export", "--app-id", &app, "--out", out_arg];
    let refusals: [(&str, Vec<&str>, &str); 3] = [
        // Another key-encryption key: as KMS refuses a principal without the role.
        (
            "11111111111111111111111111111111111111111111111111111111111111aa",
            vec!["--recipient", recipient, "--reason", "INC-42"],
            "refused",
        ),
        (
            STACK_KEK,
            vec!["--recipient", "age1nope", "--reason", "INC-42"],
            "recipient",
        ),
        (
            STACK_KEK,
            vec!["--recipient", recipient, "--reason", " "],
            "reason",
        ),
    ];
    for (kek, more, says) in refusals {
        let args: Vec<&str> = base.iter().copied().chain(more).collect();
        let output = admin(&stack, kek, &args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!out.exists() && !out.with_extension("partial").exists());
        assert!(
            exports(&stack).await.is_empty(),
            "a refused export records nothing"
        );
    }
    pipeline
        .drain(&stack, &api_tests::wallets::stack_sealer())
        .await;
    assert!(
        pipeline
            .publisher
            .of_type(EventType::WalletKeyExported)
            .is_empty()
    );
}
