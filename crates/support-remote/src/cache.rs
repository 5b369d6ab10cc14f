//! A disk cache of remote answers with a time to live, one small file per
//! (service, text), so repeated tickets and re-runs do not call again.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::breaker::write_atomically;

#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    ttl_secs: u64,
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    stored_at: u64,
    key: String,
    value: T,
}

impl DiskCache {
    pub fn new(dir: PathBuf, ttl_secs: u64) -> Self {
        DiskCache { dir, ttl_secs }
    }

    fn path(&self, key: &str) -> PathBuf {
        // A stable 64-bit hash names the file; the full key inside guards against collisions.
        let mut h = std::hash::DefaultHasher::new();
        key.hash(&mut h);
        self.dir.join(format!("{:016x}.json", h.finish()))
    }

    /// The value stored under `key`, if younger than the TTL.
    pub fn get<T: DeserializeOwned>(&self, key: &str, now: u64) -> Option<T> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
        (entry.key == key && now.saturating_sub(entry.stored_at) < self.ttl_secs)
            .then_some(entry.value)
    }

    pub fn put<T: Serialize>(&self, key: &str, value: &T, now: u64) {
        let entry = Entry {
            stored_at: now,
            key: key.to_string(),
            value,
        };
        let path = self.path(key);
        if let Err(e) = write_atomically(
            &path,
            &serde_json::to_vec(&entry).expect("entry serializes"),
        ) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write cache entry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_fresh_values_and_forgets_stale_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().to_path_buf(), 60);
        cache.put("k", &"v".to_string(), 1000);
        assert_eq!(cache.get::<String>("k", 1059).as_deref(), Some("v"));
        assert_eq!(cache.get::<String>("k", 1060), None);
        assert_eq!(cache.get::<String>("other", 1000), None);
    }
}
