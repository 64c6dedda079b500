//! DynamoDB stream events as the wallet creator and the event publisher receive them: the
//! invocation payload deserialised as `aws_lambda_events::event::dynamodb::Event` (as the
//! Lambda runtime does), each record decoded by `adapters::dynamo::stream::record`, then read
//! by `wallets::stream::wallet_work` (creator) and `events::events_of` (publisher).
//!
//! Asserts: never panics (a malformed record must be a `PoisonRecord`, not a crash of the
//! whole batch); a removal asks for no wallet; wallet work names at least one wallet, each
//! index once; events are deterministic (redeliveries carry the same ids; a record is poison
//! every time or never), have the event-id form, survive a JSON round trip, and fit the
//! record: INSERT is one `user.created`, REMOVE one `user.deleted`, MODIFY only updates and
//! wallet events.
#![no_main]

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use libfuzzer_sys::fuzz_target;
use shared::adapters::dynamo::stream;
use shared::domain::events::{self, Event, EventType};
use shared::domain::wallets::stream::wallet_work;

fuzz_target!(|data: &[u8]| {
    if data.len() > shared_fuzz::MAX_INPUT {
        return;
    }
    let Ok(batch) = serde_json::from_slice::<StreamEvent>(data) else {
        return;
    };
    for raw in &batch.records {
        let record = &stream::record(raw);
        match wallet_work(record) {
            Ok(Some(work)) => {
                assert_ne!(raw.event_name, "REMOVE");
                assert!(!work.to_create.is_empty());
                for (position, (index, _)) in work.to_create.iter().enumerate() {
                    assert!(work.to_create[..position].iter().all(|(i, _)| i < index));
                }
            }
            Ok(None) => {}
            Err(poison) => assert_eq!(poison.record_id, raw.event_id),
        }

        let found = events::events_of(record);
        // The reason of a poison record may differ between reads (an image is a HashMap, and
        // which bad attribute is met first depends on its order): only success must not.
        let again = events::events_of(&stream::record(raw));
        let found = match (found, again) {
            (Ok(found), Ok(again)) => {
                assert_eq!(found, again, "events are not deterministic");
                found
            }
            (Err(poison), Err(_)) => {
                assert_eq!(poison.record_id, raw.event_id);
                continue;
            }
            (found, again) => panic!("read twice: {found:?} then {again:?}"),
        };
        let kinds: Vec<EventType> = found.iter().map(|e| e.event.event_type).collect();
        match raw.event_name.as_str() {
            "INSERT" if !found.is_empty() => assert_eq!(kinds, [EventType::UserCreated]),
            "REMOVE" if !found.is_empty() => assert_eq!(kinds, [EventType::UserDeleted]),
            "MODIFY" => assert!(kinds.iter().all(|kind| matches!(
                kind,
                EventType::UserUpdated | EventType::WalletCreated | EventType::WalletFailed
            ))),
            _ => {}
        }
        for user_event in &found {
            let event = &user_event.event;
            assert!(events::is_event_id(&event.id), "{}", event.id);
            let text = match serde_json::to_string(event) {
                Ok(text) => text,
                Err(error) => panic!("{event:?} does not serialise: {error}"),
            };
            let back: Event = match serde_json::from_str(&text) {
                Ok(back) => back,
                Err(error) => panic!("{text} does not read back: {error}"),
            };
            assert_eq!(
                (&back.id, back.event_type, &back.app_id, &back.created_at),
                (
                    &event.id,
                    event.event_type,
                    &event.app_id,
                    &event.created_at
                )
            );
        }
    }
});
