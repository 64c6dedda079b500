//! An app's allowlist: add, list and remove entries. An entry's id is derived from the
//! identifier it names, so adding the same identifier twice (in any spelling that normalises
//! alike) returns the first entry.

use super::AccessError;
use crate::clock;
use crate::domain::paging;
use crate::model::AppId;
use crate::model::access::{self, AllowEntry, Named};
use crate::model::ids::is_hex_id;
use crate::ports::access::AccessStore;

/// A page of entries and the cursor of the next.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntryPage {
    pub entries: Vec<AllowEntry>,
    pub next_cursor: Option<String>,
}

/// Adds an entry for `named`: `true` if new, `false` with the existing entry if one names
/// the same identifier.
pub async fn add_entry<S: AccessStore>(
    store: &S,
    app: &AppId,
    named: &Named,
) -> Result<(AllowEntry, bool), AccessError> {
    let entry = AllowEntry {
        id: access::allow_entry_id(&named.key),
        kind: named.kind,
        value: named.value.clone(),
        created_at: clock::now_rfc3339(),
        accepted_at: None,
    };
    Ok(store.add_allow_entry(app, &entry).await?)
}

/// A page of the app's entries, in id order.
pub async fn list_entries<S: AccessStore>(
    store: &S,
    app: &AppId,
    limit: usize,
    cursor: Option<&str>,
) -> Result<EntryPage, AccessError> {
    let after = match cursor {
        Some(cursor) => Some(
            paging::decode_position(app, cursor)
                .filter(|id| is_hex_id(id, access::ALLOW_ENTRY_PREFIX))
                .ok_or_else(bad_cursor)?,
        ),
        None => None,
    };
    let (entries, more) = store
        .list_allow_entries(app, after.as_deref(), limit)
        .await?;
    let next_cursor = match entries.last() {
        Some(last) if more => Some(paging::encode_position(app, &last.id)),
        _ => None,
    };
    Ok(EntryPage {
        entries,
        next_cursor,
    })
}

/// Removes the entry with `id`.
pub async fn delete_entry<S: AccessStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<(), AccessError> {
    if !is_hex_id(id, access::ALLOW_ENTRY_PREFIX) || !store.delete_allow_entry(app, id).await? {
        return Err(AccessError::NotFound("allowlist entry"));
    }
    Ok(())
}

pub(super) fn bad_cursor() -> AccessError {
    AccessError::Invalid(vec![paging::bad_cursor()])
}
