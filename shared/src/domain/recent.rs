//! A small bounded cache of opened secrets (webhook signing secrets, client secrets): what a
//! miss costs is a key service call, so the most recently used stay.

use std::collections::HashMap;

/// A map of at most `capacity` entries that forgets the least recently used. Eviction scans
/// the entries: at a few thousand, that is far cheaper than the key service call a miss costs.
pub struct Recent<Key, Value> {
    capacity: usize,
    clock: u64,
    entries: HashMap<Key, (Value, u64)>,
}

impl<Key: std::hash::Hash + Eq + Clone, Value> Recent<Key, Value> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            clock: 0,
            entries: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get(&mut self, key: &Key) -> Option<&Value> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(value, used)| {
            *used = clock;
            &*value
        })
    }

    pub fn insert(&mut self, key: Key, value: Value) {
        self.clock += 1;
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, self.clock));
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn it_keeps_at_most_its_capacity_and_forgets_the_least_recently_used() {
        let mut recent = Recent::new(2);
        recent.insert("a", 1);
        recent.insert("b", 2);
        assert_eq!(recent.get(&"a"), Some(&1));
        recent.insert("c", 3);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.get(&"b"), None, "b was the least recently used");
        assert_eq!(recent.get(&"a"), Some(&1));
        assert_eq!(recent.get(&"c"), Some(&3));
        recent.insert("a", 4);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.get(&"a"), Some(&4));
    }
}
