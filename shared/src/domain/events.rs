//! The events of a user's life, derived from the table's stream: the table is the outbox, so
//! an event exists for every committed change and none for a rejected request.
//!
//! One stream record of a user item yields at most one event per change it carries:
//!
//! | record | event |
//! |--------|-------|
//! | INSERT (created, imported, restored) | `user.created` |
//! | MODIFY where a wallet became `ready` | `user.wallet_created` |
//! | MODIFY where a wallet became `failed` | `user.wallet_failed` |
//! | MODIFY where the user became `disabled` / `active` | `user.disabled` / `user.enabled` |
//! | INSERT or MODIFY where the user claimed an invitation | `invitation.accepted`, after the above |
//! | any other MODIFY the API can see (profile, linked accounts, a wallet requested) | `user.updated` |
//! | REMOVE | `user.deleted` |
//! | INSERT of a signature record (beside the user) | `user.wallet_signed` |
//! | INSERT of a key export record (beside the user) | `user.wallet_key_exported` |
//! | INSERT of a webhook endpoint (beside the app) | `webhook_endpoint.created` |
//!
//! Bookkeeping that the API shows no difference for (a counted wallet attempt) yields nothing.
//! An event's id is derived from the user, its version after the change, and the event type,
//! so every delivery of the same record carries the same id and receivers can deduplicate.

pub use crate::model::event::{Event, EventType, UserEvent};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::change::{ChangeKind, ChangeRecord, PoisonRecord};
use crate::model::key_export::KeyExportRecord;
use crate::model::signature::SignatureRecord;
use crate::model::webhook::Endpoint;
use crate::model::{AppId, ChainType, User, UserId, UserStatus, Wallet, WalletStatus};

/// The id of the event of `kind` about `user` at `version` (and `chain`, for wallet events).
pub fn event_id(
    app: &AppId,
    user: UserId,
    version: u64,
    kind: EventType,
    chain: Option<ChainType>,
) -> String {
    let chain = chain.map(|c| c.to_string()).unwrap_or_default();
    let digest = Sha256::digest(format!("{app}/{user}/{version}/{kind}/{chain}"));
    format!("evt_{}", hex::encode(&digest[..16]))
}

/// Whether `text` has the form of an event id.
pub fn is_event_id(text: &str) -> bool {
    crate::model::ids::is_hex_id(text, "evt_")
}

/// The events one stream record carries, in the order they happened.
pub fn events_of(record: &ChangeRecord) -> Result<Vec<UserEvent>, PoisonRecord> {
    if let Some((app, signature)) = &record.signature {
        return Ok(vec![signed_event(app, signature)]);
    }
    if let Some((app, export)) = &record.key_export {
        return Ok(vec![exported_event(app, export)]);
    }
    if let Some((app, endpoint)) = &record.endpoint {
        return Ok(vec![endpoint_event(app, endpoint)]);
    }
    let Some(change) = record.change.clone()? else {
        return Ok(Vec::new());
    };
    Ok(match (change.kind, change.old, change.new) {
        (ChangeKind::Insert, _, Some((app, user))) => {
            let created_at = user.created_at.clone();
            let mut events = vec![user_event(
                &app,
                &user,
                EventType::UserCreated,
                created_at,
                None,
            )];
            // A restore (a later version) brings back a claim already announced.
            if user.version == 1 {
                events.extend(accepted(&app, None, &user));
            }
            events
        }
        (ChangeKind::Remove, Some((app, user)), _) => vec![user_event(
            &app,
            &user,
            EventType::UserDeleted,
            change.committed_at,
            None,
        )],
        (ChangeKind::Modify, Some((_, old)), Some((app, new))) => {
            let mut events = changes(&app, &old, &new, change.committed_at);
            events.extend(accepted(&app, Some(&old), &new));
            events
        }
        (kind, _, _) => return Err(record.poison(format!("a {kind:?} record without its images"))),
    })
}

/// The events of a change from `old` to `new`.
fn changes(app: &AppId, old: &User, new: &User, committed_at: String) -> Vec<UserEvent> {
    let status_before = |chain: ChainType| {
        old.wallets
            .iter()
            .find(|w| w.chain_type == chain)
            .map(|w| w.status)
    };
    let mut events = Vec::new();
    for wallet in &new.wallets {
        if status_before(wallet.chain_type) == Some(wallet.status) {
            continue;
        }
        let kind = match wallet.status {
            WalletStatus::Ready => EventType::WalletCreated,
            WalletStatus::Failed => EventType::WalletFailed,
            // Entering `pending` is a request the API made: `user.updated` below covers it.
            WalletStatus::Pending => continue,
        };
        let at = match (kind, &wallet.created_at) {
            (EventType::WalletCreated, Some(at)) => at.clone(),
            _ => committed_at.clone(),
        };
        events.push(wallet_event(app, new, wallet, kind, at));
    }
    let at = new.updated_at.clone();
    if old.status != new.status {
        let kind = match new.status {
            UserStatus::Disabled => EventType::UserDisabled,
            UserStatus::Active => EventType::UserEnabled,
        };
        events.push(user_event(app, new, kind, at, None));
    } else if events.is_empty() && visible(old) != visible(new) {
        events.push(user_event(app, new, EventType::UserUpdated, at, None));
    }
    events
}

/// `invitation.accepted` if the user claimed an invitation in this change.
fn accepted(app: &AppId, old: Option<&User>, new: &User) -> Option<UserEvent> {
    let onboarding = new.onboarding.as_ref()?;
    if old.is_some_and(|old| old.onboarding.is_some()) {
        return None;
    }
    let mut event = user_event(
        app,
        new,
        EventType::InvitationAccepted,
        onboarding.accepted_at.clone(),
        None,
    );
    event.event.data = json!({"user_id": new.id, "version": new.version, "onboarding": onboarding});
    Some(event)
}

/// What the API shows of a user, less the bookkeeping of wallet attempts and the version.
fn visible(user: &User) -> User {
    let mut user = user.clone();
    user.version = 0;
    for wallet in &mut user.wallets {
        wallet.attempts = 0;
        wallet.last_error = None;
    }
    user
}

fn user_event(
    app: &AppId,
    user: &User,
    kind: EventType,
    created_at: String,
    chain: Option<ChainType>,
) -> UserEvent {
    UserEvent {
        user_id: Some(user.id),
        event: Event {
            id: event_id(app, user.id, user.version, kind, chain),
            event_type: kind,
            created_at,
            app_id: app.clone(),
            data: serde_json::to_value(user).unwrap_or(Value::Null),
        },
    }
}

/// `user.wallet_signed`: the record of a signature (never what was signed, only its hash). Its
/// id derives from the record's, so redeliveries of the record carry the same event id.
fn signed_event(app: &AppId, record: &SignatureRecord) -> UserEvent {
    let digest = Sha256::digest(format!("{app}/{}/{}", record.id, EventType::WalletSigned));
    UserEvent {
        user_id: Some(record.user_id),
        event: Event {
            id: format!("evt_{}", hex::encode(&digest[..16])),
            event_type: EventType::WalletSigned,
            created_at: record.created_at.clone(),
            app_id: app.clone(),
            data: serde_json::to_value(record).unwrap_or(Value::Null),
        },
    }
}

/// `user.wallet_key_exported`: a key left the stack by break-glass export, whose record says
/// to whom, why and by whom. Its id derives from the record's.
fn exported_event(app: &AppId, record: &KeyExportRecord) -> UserEvent {
    let kind = EventType::WalletKeyExported;
    let digest = Sha256::digest(format!("{app}/{}/{kind}", record.id));
    UserEvent {
        user_id: Some(record.user_id),
        event: Event {
            id: format!("evt_{}", hex::encode(&digest[..16])),
            event_type: kind,
            created_at: record.created_at.clone(),
            app_id: app.clone(),
            data: serde_json::to_value(record).unwrap_or(Value::Null),
        },
    }
}

/// `webhook_endpoint.created`: the endpoint as the API lists it, never its secrets, so that
/// the app's endpoints (the new one among them) hear of every endpoint registered.
fn endpoint_event(app: &AppId, endpoint: &Endpoint) -> UserEvent {
    let kind = EventType::WebhookEndpointCreated;
    let digest = Sha256::digest(format!("{app}/{}/{kind}", endpoint.id));
    UserEvent {
        user_id: None,
        event: Event {
            id: format!("evt_{}", hex::encode(&digest[..16])),
            event_type: kind,
            created_at: endpoint.created_at.clone(),
            app_id: app.clone(),
            data: endpoint.view(),
        },
    }
}

fn wallet_event(
    app: &AppId,
    user: &User,
    wallet: &Wallet,
    kind: EventType,
    created_at: String,
) -> UserEvent {
    let mut event = user_event(app, user, kind, created_at, Some(wallet.chain_type));
    event.event.data = json!({"user_id": user.id, "version": user.version, "wallet": wallet});
    event
}
