//! A user's timeline: the events it had, newest first, as long as events are kept (30 days),
//! for the console and for support ("what happened to this user's wallet?"). The event
//! publisher keeps a copy of each user event in the user's own timeline partition.

use serde::Serialize;

use super::manage::WebhooksError;
use crate::domain::events::is_event_id;
use crate::domain::paging;
use crate::model::event::{Event, timeline_position};
use crate::model::validation::FieldError;
use crate::model::{AppId, UserId};
use crate::ports::{UserStore, WebhookStore};

/// The default and largest page sizes.
const PAGE_LIMITS: (usize, usize) = (20, 100);

/// A page of a user's events.
#[derive(Debug, Serialize)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// `GET /v1/users/{id}/events?limit=&cursor=`: the user's events, newest first. A user of
/// another app, or none, is `not_found`; an altered cursor or another app's is `400`.
pub async fn user_events<S: WebhookStore + UserStore>(
    store: &S,
    app: &AppId,
    user: &str,
    params: &[(String, String)],
) -> Result<EventPage, WebhooksError> {
    let user = UserId::parse(user).ok_or(WebhooksError::NotFound("user"))?;
    let (mut limit, mut before) = (PAGE_LIMITS.0, None);
    for (name, value) in params {
        match name.as_str() {
            "limit" => {
                limit = paging::parse_limit(value, PAGE_LIMITS.1)
                    .map_err(|error| WebhooksError::Invalid(vec![error]))?;
            }
            "cursor" => {
                // A cursor names its user too: one from another user's timeline is refused.
                let position = paging::decode_position(app, value)
                    .and_then(|cursor| {
                        let (owner, position) = cursor.split_once('/')?;
                        (owner == user.to_string() && is_position(position))
                            .then(|| position.to_owned())
                    })
                    .ok_or_else(|| WebhooksError::Invalid(vec![paging::bad_cursor()]))?;
                before = Some(position);
            }
            other => {
                return Err(WebhooksError::Invalid(vec![FieldError::new(
                    other,
                    "unknown query parameter; expected limit or cursor",
                )]));
            }
        }
    }
    store
        .get_user(app, user)
        .await?
        .ok_or(WebhooksError::NotFound("user"))?;
    let (events, more) = store
        .list_user_events(app, user, before.as_deref(), limit)
        .await?;
    let next_cursor = match events.last() {
        Some(last) if more => Some(paging::encode_position(
            app,
            &format!("{user}/{}", timeline_position(last)),
        )),
        _ => None,
    };
    Ok(EventPage {
        events,
        next_cursor,
    })
}

/// A timeline position: a time, `#`, an event id.
fn is_position(position: &str) -> bool {
    position
        .rsplit_once('#')
        .is_some_and(|(time, id)| !time.is_empty() && is_event_id(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_time_and_an_event_id_are_a_position() {
        let id = format!("evt_{}", "0".repeat(32));
        assert!(is_position(&format!("2026-12-07T10:00:00.000Z#{id}")));
        assert!(!is_position(&id));
        assert!(!is_position(&format!("#{id}")));
        assert!(!is_position("2026-12-07T10:00:00.000Z#evt_x"));
    }
}
