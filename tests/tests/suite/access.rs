//! Who may come in and who brought them: app settings, the allowlist and invitations, through
//! the handlers, on every store. After each test the guards match the users exactly.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use api_tests::{Backend, TestStack, assert_error, parts, request};
use futures::StreamExt;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

async fn call<S: Backend>(
    stack: &TestStack<S>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Response<Body> {
    let mut request = request(method, path, &stack.api_key, body.as_ref());
    if method == "PATCH" {
        request
            .headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
    }
    access::handle(&stack.store, &api_tests::wallets::stack_sealer(), request).await
}

async fn ok<S: Backend>(
    stack: &TestStack<S>,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let (got, body) = parts(&call(stack, method, path, body).await);
    assert_eq!(got, status, "{method} {path}: {body}");
    body["data"].clone()
}

async fn create<S: Backend>(stack: &TestStack<S>, body: Value) -> Response<Body> {
    let request = request("POST", "/v1/users", &stack.api_key, Some(&body));
    create_user::handle(&stack.store, request).await
}

async fn created<S: Backend>(stack: &TestStack<S>, body: Value) -> Value {
    let (status, body) = parts(&create(stack, body).await);
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

async fn find_or_create<S: Backend>(stack: &TestStack<S>, body: Value) -> (u16, Value) {
    let request = request(
        "POST",
        "/v1/users/find-or-create",
        &stack.api_key,
        Some(&body),
    );
    let (status, body) = parts(&find_or_create_user::handle(&stack.store, request).await);
    (status, body["data"].clone())
}

async fn user<S: Backend>(stack: &TestStack<S>, id: &str) -> Value {
    let path = format!("/v1/users/{id}");
    let request = request("GET", &path, &stack.api_key, None);
    let (status, body) = parts(&get_user::handle(&stack.store, request).await);
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn entries_match_identifiers_as_uniqueness_normalises_them<S: Backend>(stack: TestStack<S>) {
    let email = ok(
        &stack,
        "POST",
        "/v1/allowlist",
        Some(json!({"type": "email", "value": "Ada@Example.com"})),
        201,
    )
    .await;
    assert_eq!(email["type"], "email");
    assert_eq!(email["value"], "Ada@Example.com");
    assert_eq!(email["accepted_at"], Value::Null);
    // The same identifier in another spelling is the same entry.
    let again = ok(
        &stack,
        "POST",
        "/v1/allowlist",
        Some(json!({"type": "email", "value": "ada@EXAMPLE.com"})),
        200,
    )
    .await;
    assert_eq!(again, email);
    let address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    for (kind, value) in [
        ("email_domain", "corp.example"),
        (
            "wallet",
            address.to_uppercase().replace("0X", "0x").as_str(),
        ),
        ("phone", "+14155550123"),
        ("twitter", "@Grace_H"),
        ("external_id", "legacy-7"),
    ] {
        ok(
            &stack,
            "POST",
            "/v1/allowlist",
            Some(json!({"type": kind, "value": value})),
            201,
        )
        .await;
    }
    // Paged two at a time: six entries, each once.
    let mut seen = Vec::new();
    let mut path = "/v1/allowlist?limit=2".to_owned();
    loop {
        let page = ok(&stack, "GET", &path, None, 200).await;
        for entry in page["entries"].as_array().unwrap() {
            seen.push(id_of(entry));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/allowlist?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((seen.len(), distinct.len()), (6, 6));

    // Each kind matches, whatever the spelling the user came with.
    for (body, on_allowlist) in [
        (json!({"email": "ADA@example.com"}), true),
        (json!({"email": "someone@Corp.Example"}), true),
        (
            json!({"linked_accounts": [{"type": "wallet", "chain_type": "ethereum", "address": address.to_lowercase()}]}),
            true,
        ),
        (
            json!({"linked_accounts": [{"type": "phone", "number": "+14155550123"}]}),
            true,
        ),
        (
            json!({"linked_accounts": [{"type": "twitter", "subject": "99", "username": "grace_h"}]}),
            true,
        ),
        (json!({"external_id": "legacy-7"}), true),
        (json!({"email": "bob@elsewhere.example"}), false),
    ] {
        let (status, data) = find_or_create(&stack, body.clone()).await;
        assert_eq!(status, 201, "{body}: {data}");
        assert_eq!(data["on_allowlist"], on_allowlist, "{body}");
        // Found again, it still is (or is not).
        let (status, data) = find_or_create(&stack, body.clone()).await;
        assert_eq!((status, &data["on_allowlist"]), (200, &json!(on_allowlist)));
    }
    let page = ok(&stack, "GET", "/v1/allowlist", None, 200).await;
    for entry in page["entries"].as_array().unwrap() {
        assert!(entry["accepted_at"].is_string(), "{entry}");
    }

    // Removed, an entry matches no more; removing it twice is 404.
    let path = format!("/v1/allowlist/{}", id_of(&email));
    ok(&stack, "DELETE", &path, None, 204).await;
    assert_error(&call(&stack, "DELETE", &path, None).await, 404, "not_found");
    let (_, data) = find_or_create(&stack, json!({"email": "ada@example.com"})).await;
    assert_eq!(data["on_allowlist"], false);

    // Bad entries and queries are named and change nothing.
    let before = stack.snapshot().await;
    for body in [
        json!({"type": "email", "value": "nope"}),
        json!({"type": "email_domain", "value": "localhost"}),
        json!({"type": "wallet", "value": "0x12"}),
        json!({"type": "passport", "value": "x"}),
        json!({"type": "email"}),
        json!({"type": "email", "value": "a@b.example", "note": "x"}),
        json!("email"),
    ] {
        let response = call(&stack, "POST", "/v1/allowlist", Some(body.clone())).await;
        assert_error(&response, 400, "validation_failed");
    }
    for path in [
        "/v1/allowlist?limit=0",
        "/v1/allowlist?cursor=abc",
        "/v1/allowlist?sort=id",
    ] {
        assert_error(
            &call(&stack, "GET", path, None).await,
            400,
            "validation_failed",
        );
    }
    assert_eq!(stack.snapshot().await, before);
    stack.assert_guards_match_users().await;
}

async fn a_required_allowlist_refuses_unmatched_new_users_and_writes_nothing<S: Backend>(
    stack: TestStack<S>,
) {
    let settings = ok(&stack, "GET", "/v1/app/settings", None, 200).await;
    assert_eq!(settings["allowlist_required"], false);
    let before_required = created(&stack, json!({"email": "early@example.com"})).await;
    ok(
        &stack,
        "POST",
        "/v1/allowlist",
        Some(json!({"type": "email_domain", "value": "corp.example"})),
        201,
    )
    .await;
    let settings = ok(
        &stack,
        "PATCH",
        "/v1/app/settings",
        Some(json!({"allowlist_required": true})),
        200,
    )
    .await;
    assert_eq!(settings["allowlist_required"], true);

    let before = stack.snapshot().await;
    let envelope = assert_error(
        &create(&stack, json!({"email": "eve@elsewhere.example"})).await,
        403,
        "not_allowlisted",
    );
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allowlist")
    );
    let (status, _) = find_or_create(&stack, json!({"email": "eve@elsewhere.example"})).await;
    assert_eq!(status, 403);
    assert_eq!(stack.snapshot().await, before, "refusals wrote nothing");

    // A matching user is created; an existing one is still found, off the allowlist.
    let (status, data) = find_or_create(&stack, json!({"email": "ann@corp.example"})).await;
    assert_eq!((status, &data["on_allowlist"]), (201, &json!(true)));
    let (status, data) = find_or_create(&stack, json!({"email": "early@example.com"})).await;
    assert_eq!((status, &data["created"]), (200, &json!(false)));
    assert_eq!(data["user"]["id"], before_required["id"]);
    assert_eq!(data["on_allowlist"], false);

    // A batch refuses its unmatched rows alone.
    let body = json!({"users": [{"email": "x@corp.example"}, {"email": "y@elsewhere.example"}]});
    let request = request("POST", "/v1/users/batch", &stack.api_key, Some(&body));
    let (status, batch) = parts(&import_users::handle(&stack.store, request).await);
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch["data"]["results"][0]["status"], 201);
    assert_eq!(batch["data"]["results"][1]["status"], 403);
    assert_eq!(
        batch["data"]["results"][1]["error"]["code"],
        "not_allowlisted"
    );

    for body in [
        json!({"allowlist_required": "yes"}),
        json!({"invite_only": true}),
    ] {
        let response = call(&stack, "PATCH", "/v1/app/settings", Some(body)).await;
        assert_error(&response, 400, "validation_failed");
    }
    ok(
        &stack,
        "PATCH",
        "/v1/app/settings",
        Some(json!({"allowlist_required": false})),
        200,
    )
    .await;
    created(&stack, json!({"email": "eve@elsewhere.example"})).await;
    stack.assert_guards_match_users().await;
}

async fn an_invitation_is_claimed_once_by_the_first_user_holding_it<S: Backend>(
    stack: TestStack<S>,
) {
    let inviter = created(&stack, json!({"email": "ada@example.com"})).await;
    let inviter_id = id_of(&inviter);
    let invite_path = format!("/v1/users/{inviter_id}/invitations");
    let invitation = ok(
        &stack,
        "POST",
        &invite_path,
        Some(json!({"identifier": {"type": "email", "value": "Bob@Example.com"}, "campaign": "spring-quest"})),
        201,
    )
    .await;
    assert_eq!(invitation["status"], "open");
    assert_eq!(invitation["invited_by"], inviter_id.as_str());
    assert_eq!(
        invitation["identifier"],
        json!({"type": "email", "value": "Bob@Example.com"})
    );
    // The first inviter gets the credit: a second invitation of the same identifier is refused.
    let response = call(
        &stack,
        "POST",
        "/v1/invitations",
        Some(json!({"identifier": {"type": "email", "value": "bob@example.com"}})),
    )
    .await;
    let envelope = assert_error(&response, 409, "conflict");
    assert!(
        envelope
            .to_string()
            .contains(invitation["id"].as_str().unwrap())
    );
    // An identifier a user holds cannot be invited.
    let response = call(
        &stack,
        "POST",
        "/v1/invitations",
        Some(json!({"identifier": {"type": "email", "value": "ADA@example.com"}})),
    )
    .await;
    assert_error(&response, 409, "conflict");

    // Bob comes in by email: the invitation is his, counted once on Ada.
    let bob = created(&stack, json!({"email": "bob@example.com"})).await;
    let onboarding = &bob["onboarding"];
    assert_eq!(onboarding["invitation_id"], invitation["id"]);
    assert_eq!(onboarding["invited_by"], inviter_id.as_str());
    assert_eq!(onboarding["campaign"], "spring-quest");
    assert_eq!(onboarding["invited_at"], invitation["invited_at"]);
    assert_eq!(onboarding["accepted_at"], bob["created_at"]);
    let ada = user(&stack, &inviter_id).await;
    assert_eq!(ada["users_onboarded"], 1);
    assert_eq!(ada["version"], 2, "the count is a change of the inviter");
    let mine = ok(&stack, "GET", &invite_path, None, 200).await;
    let listed = &mine["invitations"][0];
    assert_eq!(listed["status"], "accepted");
    assert_eq!(listed["invitee"], bob["id"]);
    // Claimed, it cannot be revoked.
    let revoke = format!("/v1/invitations/{}", id_of(&invitation));
    assert_error(
        &call(&stack, "DELETE", &revoke, None).await,
        409,
        "conflict",
    );

    // The app invites a phone; a user who links it claims it (it had no invitation).
    let phone = ok(
        &stack,
        "POST",
        "/v1/invitations",
        Some(json!({"identifier": {"type": "phone", "value": "+14155550123"}})),
        201,
    )
    .await;
    assert_eq!(phone["invited_by"], Value::Null);
    let carol = created(&stack, json!({"email": "carol@example.com"})).await;
    assert_eq!(carol["onboarding"], Value::Null);
    let path = format!("/v1/users/{}/linked-accounts", id_of(&carol));
    let account = json!({"type": "phone", "number": "+14155550123"});
    let request_ = request("POST", &path, &stack.api_key, Some(&account));
    let (status, linked) = parts(&link_account::handle(&stack.store, request_).await);
    assert_eq!(status, 201, "{linked}");
    assert_eq!(linked["data"]["onboarding"]["invitation_id"], phone["id"]);
    assert_eq!(linked["data"]["onboarding"]["invited_by"], Value::Null);

    // A revoked invitation is claimed by no one.
    let dave_invite = ok(
        &stack,
        "POST",
        &invite_path,
        Some(json!({"identifier": {"type": "external_id", "value": "dave-1"}})),
        201,
    )
    .await;
    let revoked = ok(
        &stack,
        "DELETE",
        &format!("/v1/invitations/{}", id_of(&dave_invite)),
        None,
        200,
    )
    .await;
    assert_eq!(revoked["status"], "revoked");
    let dave = created(&stack, json!({"external_id": "dave-1"})).await;
    assert_eq!(dave["onboarding"], Value::Null);
    assert_eq!(user(&stack, &inviter_id).await["users_onboarded"], 1);

    // A batch import claims too, row by row.
    let erin_invite = ok(
        &stack,
        "POST",
        &invite_path,
        Some(json!({"identifier": {"type": "email", "value": "erin@example.com"}})),
        201,
    )
    .await;
    let body = json!({"users": [{"email": "erin@example.com"}, {"email": "frank@example.com"}]});
    let request_ = request("POST", "/v1/users/batch", &stack.api_key, Some(&body));
    let (status, batch) = parts(&import_users::handle(&stack.store, request_).await);
    assert_eq!(status, 200, "{batch}");
    let rows = &batch["data"]["results"];
    assert_eq!(
        rows[0]["user"]["onboarding"]["invitation_id"],
        erin_invite["id"]
    );
    assert_eq!(rows[1]["user"]["onboarding"], Value::Null);
    assert_eq!(user(&stack, &inviter_id).await["users_onboarded"], 2);

    // Newest first, app-wide; bad requests are named.
    let all = ok(&stack, "GET", "/v1/invitations?limit=2", None, 200).await;
    let ids: Vec<String> = all["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids, [id_of(&erin_invite), id_of(&dave_invite)]);
    assert!(all["next_cursor"].is_string());
    let before = stack.snapshot().await;
    for body in [
        json!({"identifier": {"type": "email_domain", "value": "example.com"}}),
        json!({"identifier": {"type": "email", "value": "x@y.example"}, "campaign": ""}),
        json!({"identifier": "x@y.example"}),
        json!({"campaign": "c"}),
    ] {
        let response = call(&stack, "POST", "/v1/invitations", Some(body)).await;
        assert_error(&response, 400, "validation_failed");
    }
    let missing = "/v1/users/0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1b/invitations";
    let body = json!({"identifier": {"type": "email", "value": "x@y.example"}});
    assert_error(
        &call(&stack, "POST", missing, Some(body.clone())).await,
        404,
        "not_found",
    );
    assert_error(
        &call(&stack, "DELETE", "/v1/invitations/inv_00", None).await,
        404,
        "not_found",
    );
    // A disabled user invites no one.
    let path = format!("/v1/users/{inviter_id}/disable");
    let request_ = request("POST", &path, &stack.api_key, None);
    assert_eq!(
        update_user::handle(&stack.store, request_).await.status(),
        200
    );
    let before_disabled = stack.snapshot().await;
    assert_error(
        &call(&stack, "POST", &invite_path, Some(body)).await,
        403,
        "user_disabled",
    );
    assert_eq!(stack.snapshot().await, before_disabled);
    assert_ne!(before, before_disabled);
    stack.assert_guards_match_users().await;
}

async fn a_claim_whose_inviter_is_gone_is_still_claimed<S: Backend>(stack: TestStack<S>) {
    let inviter = created(&stack, json!({"email": "ada@example.com"})).await;
    let invite_path = format!("/v1/users/{}/invitations", id_of(&inviter));
    let invitation = ok(
        &stack,
        "POST",
        &invite_path,
        Some(json!({"identifier": {"type": "email", "value": "bob@example.com"}})),
        201,
    )
    .await;
    let path = format!("/v1/users/{}", id_of(&inviter));
    let deleted = delete_user::handle(
        &stack.store,
        Duration::from_secs(86400),
        request("DELETE", &path, &stack.api_key, None),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    let bob = created(&stack, json!({"email": "bob@example.com"})).await;
    assert_eq!(bob["onboarding"]["invitation_id"], invitation["id"]);
    assert_eq!(bob["onboarding"]["invited_by"], inviter["id"]);
    assert_eq!(stack.user_count().await, 1, "no inviter item was made up");
    let all = ok(&stack, "GET", "/v1/invitations", None, 200).await;
    assert_eq!(all["invitations"][0]["status"], "accepted");
    stack.assert_guards_match_users().await;
}

/// 50 invitees created at once, and racing find-or-creates for half of them: the inviter's
/// count is exactly 50, each invitation claimed once, by the one user holding its email.
async fn racing_invitees_are_counted_exactly_once<S: Backend>(stack: TestStack<S>) {
    const INVITEES: usize = 50;
    let inviter = created(&stack, json!({"email": "ada@example.com"})).await;
    let inviter_id = id_of(&inviter);
    let invite_path = format!("/v1/users/{inviter_id}/invitations");
    let email = |n: usize| format!("invitee.{n}@example.com");
    for n in 0..INVITEES {
        ok(
            &stack,
            "POST",
            &invite_path,
            Some(json!({"identifier": {"type": "email", "value": email(n)}, "campaign": "race"})),
            201,
        )
        .await;
    }
    // Every create, and a find-or-create of every other invitee beside it, racing it for the
    // same email. At most 25 requests are in flight: past that, DynamoDB Local on two cores
    // (one JVM serving the whole suite) takes longer than the SDK's 2 s per attempt.
    type Race<'a> = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
    let mut races: Vec<Race<'_>> = Vec::new();
    for n in 0..INVITEES {
        let on = &stack;
        races.push(Box::pin(async move {
            let response = create(on, json!({"email": email(n)})).await;
            // A racing find-or-create may have made the user first.
            let (status, body) = parts(&response);
            assert!(matches!(status, 201 | 409), "{status} {body}");
        }));
        if n % 2 == 0 {
            races.push(Box::pin(async move {
                let body = json!({"email": email(n)});
                let request = request("POST", "/v1/users/find-or-create", &on.api_key, Some(&body));
                let (status, body) = parts(&find_or_create_user::handle(&on.store, request).await);
                assert!(matches!(status, 200 | 201), "{status} {body}");
            }));
        }
    }
    futures::stream::iter(races)
        .buffer_unordered(25)
        .collect::<Vec<()>>()
        .await;

    // Each claim committed with its invitee; its count on the inviter followed it, retried
    // while other counts held the inviter's item. A count that ran out of attempts is left
    // for the event publisher (not running here) and the sweep, which finds the rest: with
    // the counts the requests made, exactly one per invitee, and nothing on a second sweep.
    let settled = shared::domain::access::settle_counts(&stack.store, &stack.app)
        .await
        .unwrap();
    let ada = user(&stack, &inviter_id).await;
    assert_eq!(ada["users_onboarded"], INVITEES as u64, "{settled} settled");
    let again = shared::domain::access::settle_counts(&stack.store, &stack.app)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(
        user(&stack, &inviter_id).await["users_onboarded"],
        INVITEES as u64
    );
    assert_eq!(stack.user_count().await, INVITEES + 1);
    let mut claimed = Vec::new();
    let mut path = format!("{invite_path}?limit=100");
    loop {
        let page = ok(&stack, "GET", &path, None, 200).await;
        for invitation in page["invitations"].as_array().unwrap() {
            assert_eq!(invitation["status"], "accepted", "{invitation}");
            let invitee = user(&stack, invitation["invitee"].as_str().unwrap()).await;
            assert_eq!(invitee["onboarding"]["invitation_id"], invitation["id"]);
            assert_eq!(
                invitee["email"].as_str().unwrap(),
                invitation["identifier"]["value"].as_str().unwrap()
            );
            claimed.push(id_of(invitation));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{invite_path}?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), INVITEES);
    stack.assert_guards_match_users().await;
}

async fn an_apps_networks_choose_new_users_wallets<S: Backend>(stack: TestStack<S>) {
    let settings = ok(&stack, "GET", "/v1/app/settings", None, 200).await;
    assert_eq!(
        settings["networks"],
        json!([{"chain_type": "ethereum", "chain_id": 1, "name": "Ethereum",
                "explorer_url": "https://etherscan.io/address/{address}"}])
    );
    let networks = json!([
        {"chain_type": "ethereum", "chain_id": 137, "name": "Polygon", "explorer_url": "https://polygonscan.com/address/{address}"},
        {"chain_type": "solana", "cluster": "devnet", "name": "Solana devnet", "explorer_url": "https://explorer.solana.com/address/{address}?cluster=devnet"},
        {"chain_type": "ethereum", "chain_id": 8453, "name": "Base", "explorer_url": "https://basescan.org/address/{address}"}
    ]);
    let changed = ok(
        &stack,
        "PATCH",
        "/v1/app/settings",
        Some(json!({"networks": networks})),
        200,
    )
    .await;
    assert_eq!(changed["networks"], networks);
    assert_eq!(changed["allowlist_required"], false, "kept");
    // One wallet per chain type of the app's networks, unless the request says otherwise.
    let user = created(&stack, json!({})).await;
    let chains: Vec<&str> = user["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["chain_type"].as_str().unwrap())
        .collect();
    assert_eq!(chains, ["ethereum", "solana"]);
    assert_eq!(
        user["wallets"][0]["networks"],
        json!([]),
        "none until ready"
    );
    let none = created(&stack, json!({"wallets": []})).await;
    assert_eq!(none["wallets"], json!([]));

    let before = stack.snapshot().await;
    for body in [
        json!({"networks": []}),
        json!({"networks": [{"chain_type": "ethereum", "name": "x", "explorer_url": "https://x.example/{address}"}]}),
        json!({"networks": [{"chain_type": "solana", "cluster": "devnet", "name": "x", "explorer_url": "https://x.example/"}]}),
        json!({"networks": "ethereum"}),
    ] {
        let response = call(&stack, "PATCH", "/v1/app/settings", Some(body)).await;
        assert_error(&response, 400, "validation_failed");
    }
    assert_eq!(stack.snapshot().await, before);
}

/// A claim whose count did not follow it (the request ran out of attempts, or died) is
/// counted by the sweep, once.
async fn a_claim_left_uncounted_is_counted_once_by_the_sweep<S: Backend>(stack: TestStack<S>) {
    let inviter = created(&stack, json!({"email": "ada@example.com"})).await;
    let invite_path = format!("/v1/users/{}/invitations", id_of(&inviter));
    ok(
        &stack,
        "POST",
        &invite_path,
        Some(json!({"identifier": {"type": "email", "value": "bob@example.com"}})),
        201,
    )
    .await;
    let bob: shared::model::User = serde_json::from_value(json!({
        "id": "0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1b", "external_id": null,
        "email": "bob@example.com", "username": null, "linked_accounts": [],
        "custom_metadata": {}, "wallets": [],
        "created_at": "2026-12-01T00:00:00.000Z", "updated_at": "2026-12-01T00:00:00.000Z",
        "version": 1
    }))
    .unwrap();
    // The claim committed through the store alone: no count followed it.
    let read = shared::domain::access::read_for(&stack.store, &stack.app, &bob)
        .await
        .unwrap();
    let admitted =
        shared::domain::access::admit_new(&read.1, &read.0, "2026-12-01T00:00:00.000Z").unwrap();
    assert!(admitted.admission.claim.is_some());
    stack
        .store
        .insert_user(&stack.app, &bob, &bob.identifiers(), &admitted.admission)
        .await
        .unwrap();
    assert_eq!(user(&stack, &id_of(&inviter)).await["users_onboarded"], 0);
    let settle = || shared::domain::access::settle_counts(&stack.store, &stack.app);
    assert_eq!(settle().await.unwrap(), 1);
    assert_eq!(user(&stack, &id_of(&inviter)).await["users_onboarded"], 1);
    assert_eq!(settle().await.unwrap(), 0);
    assert_eq!(user(&stack, &id_of(&inviter)).await["users_onboarded"], 1);
}

api_tests::on_every_store!(
    a_claim_left_uncounted_is_counted_once_by_the_sweep,
    a_write_whose_admitting_entry_went_is_refused,
    an_apps_networks_choose_new_users_wallets,
    entries_match_identifiers_as_uniqueness_normalises_them,
    a_required_allowlist_refuses_unmatched_new_users_and_writes_nothing,
    an_invitation_is_claimed_once_by_the_first_user_holding_it,
    a_claim_whose_inviter_is_gone_is_still_claimed,
    racing_invitees_are_counted_exactly_once,
);

/// From the table's stream: the invitee's `user.created` then `invitation.accepted`, and the
/// inviter's `user.updated` with its new count; a link that claims one, `invitation.accepted`.
#[tokio::test]
async fn claims_are_events_from_the_stream() {
    use shared::model::event::EventType;
    let stack = TestStack::new().await;
    let sealer = api_tests::wallets::test_sealer();
    let mut pipeline = api_tests::wallets::Pipeline::new(&stack).await;
    let inviter = created(&stack, json!({"wallets": []})).await;
    let invite_path = format!("/v1/users/{}/invitations", id_of(&inviter));
    let invitation = ok(
        &stack,
        "POST",
        &invite_path,
        Some(
            json!({"identifier": {"type": "email", "value": "bob@example.com"}, "campaign": "c1"}),
        ),
        201,
    )
    .await;
    pipeline.drain(&stack, &sealer).await;
    let bob = created(&stack, json!({"email": "bob@example.com", "wallets": []})).await;
    pipeline.drain(&stack, &sealer).await;

    let events = pipeline.publisher.events.lock().unwrap().clone();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            let user = e.data["user_id"].as_str().or(e.data["id"].as_str());
            (e.event_type.as_str(), user.unwrap())
        })
        .collect();
    let (inviter_id, bob_id) = (id_of(&inviter), id_of(&bob));
    assert!(
        seen.contains(&("user.created", bob_id.as_str())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("invitation.accepted", bob_id.as_str())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("user.updated", inviter_id.as_str())),
        "{seen:?}"
    );
    let accepted = pipeline.publisher.of_type(EventType::InvitationAccepted);
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        accepted[0].data["onboarding"]["invitation_id"],
        invitation["id"]
    );
    assert_eq!(accepted[0].data["onboarding"]["invited_by"], inviter["id"]);
    let updated = pipeline.publisher.of_type(EventType::UserUpdated);
    assert_eq!(updated.last().unwrap().data["users_onboarded"], 1);

    // A claim whose count did not follow it is counted by the event publisher, once.
    let carol_invite = ok(
        &stack,
        "POST",
        &invite_path,
        Some(json!({"identifier": {"type": "email", "value": "carol@example.com"}})),
        201,
    )
    .await;
    let carol: shared::model::User = serde_json::from_value(json!({
        "id": "0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1c", "external_id": null,
        "email": "carol@example.com", "username": null, "linked_accounts": [],
        "custom_metadata": {}, "wallets": [],
        "created_at": "2026-12-01T00:00:00.000Z", "updated_at": "2026-12-01T00:00:00.000Z",
        "version": 1
    }))
    .unwrap();
    let (keys, read) = shared::domain::access::read_for(&stack.store, &stack.app, &carol)
        .await
        .unwrap();
    let admitted = shared::domain::access::admit_new(&read, &keys, &carol.created_at).unwrap();
    let claimed = shared::model::User {
        onboarding: admitted.onboarding.clone(),
        ..carol.clone()
    };
    shared::ports::UserStore::insert_user(
        &stack.store,
        &stack.app,
        &claimed,
        &carol.identifiers(),
        &admitted.admission,
    )
    .await
    .unwrap();
    assert_eq!(user(&stack, &inviter_id).await["users_onboarded"], 1);
    pipeline.drain(&stack, &sealer).await;
    assert_eq!(user(&stack, &inviter_id).await["users_onboarded"], 2);
    pipeline.drain(&stack, &sealer).await;
    assert_eq!(user(&stack, &inviter_id).await["users_onboarded"], 2);
    let accepted = pipeline.publisher.of_type(EventType::InvitationAccepted);
    assert_eq!(
        accepted[1].data["onboarding"]["invitation_id"],
        carol_invite["id"]
    );

    // Deleted and restored, Bob is created again, but his claim is not announced again.
    let path = format!("/v1/users/{bob_id}");
    let delete = request("DELETE", &path, &stack.api_key, None);
    let deleted = delete_user::handle(&stack.store, Duration::from_secs(86400), delete).await;
    assert_eq!(deleted.status(), 204);
    let id = shared::model::UserId::parse(&bob_id).unwrap();
    shared::domain::users::restore_user(&stack.store, &stack.app, id)
        .await
        .unwrap();
    pipeline.drain(&stack, &sealer).await;
    assert_eq!(pipeline.publisher.of_type(EventType::UserCreated).len(), 4);
    assert_eq!(
        pipeline
            .publisher
            .of_type(EventType::InvitationAccepted)
            .len(),
        2
    );
}

/// A write admitted by an allowlist entry that is gone by the time it commits is refused as
/// changed, on every store: the operation reads again (and is refused if nothing else admits).
async fn a_write_whose_admitting_entry_went_is_refused<S: Backend>(stack: TestStack<S>) {
    use shared::ports::WriteError;
    use shared::ports::access::Admission;
    let user: shared::model::User = serde_json::from_value(json!({
        "id": "0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1b", "external_id": null, "email": null,
        "username": null, "linked_accounts": [], "custom_metadata": {}, "wallets": [],
        "created_at": "2026-12-01T00:00:00.000Z", "updated_at": "2026-12-01T00:00:00.000Z",
        "version": 1
    }))
    .unwrap();
    let gone = "alw_00000000000000000000000000000000".to_owned();
    for admission in [
        Admission {
            hold: vec![gone.clone()],
            ..Admission::NONE
        },
        Admission {
            accept: vec![gone.clone()],
            ..Admission::NONE
        },
    ] {
        let written = stack
            .store
            .insert_user(&stack.app, &user, &[], &admission)
            .await;
        assert_eq!(written, Err(WriteError::AdmissionChanged));
    }
    assert_eq!(stack.user_count().await, 0);
}

/// A wallet made ready shows each network of its chain type, with the explorer URL of its
/// address; an app that declared none shows Ethereum mainnet.
#[tokio::test]
async fn ready_wallets_show_their_networks() {
    let stack = TestStack::new().await;
    let sealer = api_tests::wallets::test_sealer();
    let mut pipeline = api_tests::wallets::Pipeline::new(&stack).await;
    let plain = created(&stack, json!({})).await;
    pipeline.drain(&stack, &sealer).await;
    let plain = user(&stack, &id_of(&plain)).await;
    let wallet = &plain["wallets"][0];
    let address = wallet["address"].as_str().unwrap();
    assert_eq!(
        wallet["networks"],
        json!([{"chain_id": 1, "name": "Ethereum",
                "explorer_url": format!("https://etherscan.io/address/{address}")}])
    );

    let networks = json!([
        {"chain_type": "ethereum", "chain_id": 137, "name": "Polygon", "explorer_url": "https://polygonscan.com/address/{address}"},
        {"chain_type": "ethereum", "chain_id": 8453, "name": "Base", "explorer_url": "https://basescan.org/address/{address}"},
        {"chain_type": "solana", "cluster": "devnet", "name": "Solana devnet", "explorer_url": "https://explorer.solana.com/address/{address}?cluster=devnet"}
    ]);
    ok(
        &stack,
        "PATCH",
        "/v1/app/settings",
        Some(json!({"networks": networks})),
        200,
    )
    .await;
    let multi = created(&stack, json!({})).await;
    pipeline.drain(&stack, &sealer).await;
    let multi = user(&stack, &id_of(&multi)).await;
    let evm = &multi["wallets"][0];
    let address = evm["address"].as_str().unwrap();
    let chain_ids: Vec<u64> = evm["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["chain_id"].as_u64().unwrap())
        .collect();
    assert_eq!(chain_ids, [137, 8453]);
    assert_eq!(
        evm["networks"][1]["explorer_url"],
        format!("https://basescan.org/address/{address}")
    );
    let sol = &multi["wallets"][1];
    assert_eq!(sol["status"], "ready");
    assert_eq!(sol["networks"][0]["cluster"], "devnet");
    assert!(
        sol["networks"][0]["explorer_url"]
            .as_str()
            .unwrap()
            .contains(sol["address"].as_str().unwrap())
    );
}
