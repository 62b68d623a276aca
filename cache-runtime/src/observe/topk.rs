//! The most requested keys of one namespace: a Space-Saving sketch (Metwally et al.) of
//! fixed capacity. Every key seen either has a counter, or takes over the smallest one
//! (inheriting its count as the error bound), so the heavy hitters stay and memory stays
//! bounded whatever the key space.

/// One of the most requested keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TopKey {
    /// The key's argument digest (the last part of the cache key).
    pub key: String,
    /// The function's human-readable label for these arguments, when it gives one
    /// (`#[cached(label = "...")]`).
    pub label: Option<String>,
    /// Estimated requests (an overestimate by at most the count it took over).
    pub count: u64,
}

struct Slot {
    key: Box<str>,
    label: Option<Box<str>>,
    count: u64,
}

pub(crate) struct TopK {
    capacity: usize,
    slots: Vec<Slot>,
}

impl TopK {
    pub(crate) fn new(capacity: usize) -> Self {
        TopK {
            capacity,
            slots: Vec::with_capacity(capacity),
        }
    }

    /// Counts one request of `key` (worth `weight` requests, for sampled counting).
    pub(crate) fn record(&mut self, key: &str, label: Option<&str>, weight: u64) {
        if self.capacity == 0 {
            return;
        }
        if let Some(slot) = self.slots.iter_mut().find(|s| &*s.key == key) {
            slot.count += weight;
            if slot.label.is_none() {
                slot.label = label.map(Into::into);
            }
            return;
        }
        let slot = Slot {
            key: key.into(),
            label: label.map(Into::into),
            count: weight,
        };
        if self.slots.len() < self.capacity {
            self.slots.push(slot);
            return;
        }
        if let Some(min) = self.slots.iter_mut().min_by_key(|s| s.count) {
            let count = min.count + weight;
            *min = Slot { count, ..slot };
        }
    }

    /// The `n` most requested keys, most requested first (ties by key).
    pub(crate) fn top(&self, n: usize) -> Vec<TopKey> {
        let mut all: Vec<TopKey> = self
            .slots
            .iter()
            .map(|s| TopKey {
                key: s.key.to_string(),
                label: s.label.as_deref().map(str::to_owned),
                count: s.count,
            })
            .collect();
        all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_while_under_capacity() {
        let mut t = TopK::new(4);
        for (key, n) in [("a", 5), ("b", 3), ("c", 1)] {
            for _ in 0..n {
                t.record(key, None, 1);
            }
        }
        t.record("b", Some("user 2"), 1);
        let top = t.top(2);
        assert_eq!(
            top,
            [
                TopKey {
                    key: "a".into(),
                    label: None,
                    count: 5
                },
                TopKey {
                    key: "b".into(),
                    label: Some("user 2".into()),
                    count: 4
                },
            ]
        );
    }

    #[test]
    fn heavy_hitters_survive_a_long_tail() {
        let mut t = TopK::new(8);
        for i in 0..10_000u32 {
            t.record("hot", None, 1);
            if i % 2 == 0 {
                t.record("warm", None, 1);
            }
            t.record(&format!("cold {i}"), None, 1);
        }
        let top = t.top(2);
        assert_eq!(top[0].key, "hot");
        assert_eq!(top[1].key, "warm");
        assert!(top[0].count >= 10_000 && top[1].count >= 5_000, "{top:?}");
        assert_eq!(t.slots.len(), 8);
    }
}
