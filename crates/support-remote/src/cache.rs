//! A disk cache of remote answers with a time to live, one small file per
//! (service, text), so repeated tickets and re-runs do not call again.
//!
//! Files are readable by their owner only (directory 0700, files 0600) and
//! named by the SHA-256 of the key; the ticket text itself is never stored.
//! [`DiskCache::prune_if_due`] keeps the directory bounded: it deletes expired
//! entries, temporary files left by killed processes and, while the cache is
//! over its size limit, the oldest entries. It scans at most once per
//! [`PRUNE_EVERY`] across processes, so a step started every minute does not
//! walk the directory every minute.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How often a cache directory is scanned for pruning, at most.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Its modification time is when the directory was last pruned.
const PRUNED_MARKER: &str = ".pruned";
/// Prefix of temporary files, renamed into place once written.
const TEMP_PREFIX: &str = ".tmp-";
/// A temporary file older than this was left by a process that died writing it.
const TEMP_GRACE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    ttl: Duration,
    max_bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    stored_at: u64,
    value: T,
}

/// What one pruning pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub expired: usize,
    pub over_size: usize,
    pub temporary: usize,
}

impl DiskCache {
    pub fn new(dir: PathBuf, ttl_secs: u64, max_bytes: u64) -> Self {
        DiskCache {
            dir,
            ttl: Duration::from_secs(ttl_secs),
            max_bytes,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", sha256_hex(key)))
    }

    /// The value stored under `key`, if younger than the TTL.
    pub fn get<T: DeserializeOwned>(&self, key: &str, now: u64) -> Option<T> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
        (now.saturating_sub(entry.stored_at) < self.ttl.as_secs()).then_some(entry.value)
    }

    pub fn put<T: Serialize>(&self, key: &str, value: &T, now: u64) {
        let entry = Entry {
            stored_at: now,
            value,
        };
        let path = self.path(key);
        if let Err(e) = write_private(
            &path,
            &serde_json::to_vec(&entry).expect("entry serializes"),
        ) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write cache entry");
        }
    }

    /// Prunes unless another run did within [`PRUNE_EVERY`]; `None` when it
    /// was not due or there is no cache directory yet.
    pub fn prune_if_due(&self, now: SystemTime) -> io::Result<Option<Pruned>> {
        let marker = self.dir.join(PRUNED_MARKER);
        let last = match std::fs::metadata(&marker).and_then(|m| m.modified()) {
            Ok(last) => Some(last),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if last.is_some_and(|last| age(now, last) < PRUNE_EVERY) {
            return Ok(None);
        }
        let pruned = match self.prune(now) {
            Ok(pruned) => pruned,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        File::options()
            .create(true)
            .append(true)
            .open(&marker)?
            .set_modified(now)?;
        Ok(Some(pruned))
    }

    /// Deletes expired entries, temporary files older than a minute and,
    /// oldest first, entries over the size limit; makes the directory
    /// private if an older version created it readable by others.
    pub fn prune(&self, now: SystemTime) -> io::Result<Pruned> {
        restrict_to_owner(&self.dir)?;
        let mut pruned = Pruned::default();
        let mut kept = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let meta = entry.metadata()?;
            if name == PRUNED_MARKER || !meta.is_file() {
                continue;
            }
            let modified = meta.modified()?;
            let temporary = name.to_string_lossy().starts_with(TEMP_PREFIX);
            let (limit, count) = if temporary {
                (TEMP_GRACE, &mut pruned.temporary)
            } else {
                (self.ttl, &mut pruned.expired)
            };
            if age(now, modified) >= limit {
                remove(&entry.path(), count)?;
            } else if !temporary {
                kept.push((modified, meta.len(), entry.path()));
            }
        }
        kept.sort();
        let mut total: u64 = kept.iter().map(|(_, len, _)| len).sum();
        for (_, len, path) in kept {
            if total <= self.max_bytes {
                break;
            }
            remove(&path, &mut pruned.over_size)?;
            total -= len;
        }
        Ok(pruned)
    }
}

fn age(now: SystemTime, then: SystemTime) -> Duration {
    now.duration_since(then).unwrap_or_default()
}

/// Removes `path` and counts it; a file another process removed first counts too.
fn remove(path: &Path, count: &mut usize) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => {
            *count += 1;
            Ok(())
        }
    }
}

/// The SHA-256 of `text`, in lowercase hex: a name for a file that must not
/// reveal the text and must stay the same across builds.
pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a file readable by its owner only (0600, in a 0700 directory it
/// creates if needed) through a temporary file and a rename, so a reader
/// never sees half a file.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    // tempfile creates the file 0600 under an unpredictable name.
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Takes group and other permissions off `dir`.
fn restrict_to_owner(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn returns_fresh_values_and_forgets_stale_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().to_path_buf(), 60, 1 << 20);
        cache.put("k", &"v".to_string(), 1000);
        assert_eq!(cache.get::<String>("k", 1059).as_deref(), Some("v"));
        assert_eq!(cache.get::<String>("k", 1060), None);
        assert_eq!(cache.get::<String>("other", 1000), None);
    }

    #[cfg(unix)]
    #[test]
    fn entries_are_private_and_do_not_contain_the_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache-1");
        let cache = DiskCache::new(cache_dir.clone(), 60, 1 << 20);
        cache.put("my card number is 4111", &"refund".to_string(), T0);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache_dir), 0o700);
        let files: Vec<PathBuf> = std::fs::read_dir(&cache_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "no temporary file left: {files:?}");
        assert_eq!(mode(&files[0]), 0o600);
        let stored = std::fs::read_to_string(&files[0]).unwrap();
        assert!(!stored.contains("4111"), "{stored}");
    }

    #[test]
    fn pruning_removes_expired_leftover_and_oldest_entries_over_the_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().to_path_buf(), 3600, 250);
        let file = |name: &str, bytes: usize, mtime: u64| {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![b'x'; bytes]).unwrap();
            File::options()
                .append(true)
                .open(&path)
                .unwrap()
                .set_modified(at(mtime))
                .unwrap();
        };
        let now = T0 + 10_000;
        file("expired.json", 10, now - 3600);
        file("oldest.json", 100, now - 300);
        file("older.json", 100, now - 200);
        file("newer.json", 100, now - 100);
        file(".tmp-left-by-kill", 10, now - 61);
        file(".tmp-being-written", 10, now - 1);
        let pruned = cache.prune(at(now)).unwrap();
        assert_eq!(
            pruned,
            Pruned {
                expired: 1,
                over_size: 1,
                temporary: 1
            }
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".tmp-being-written", "newer.json", "older.json"]);
    }

    #[test]
    fn pruning_runs_at_most_once_per_interval_across_processes() {
        let dir = tempfile::tempdir().unwrap();
        let missing = DiskCache::new(dir.path().join("not-yet"), 60, 1 << 20);
        assert_eq!(missing.prune_if_due(at(T0)).unwrap(), None);

        let cache = DiskCache::new(dir.path().to_path_buf(), 60, 1 << 20);
        cache.put("k", &1, T0);
        let now = SystemTime::now() + Duration::from_secs(120);
        assert_eq!(cache.prune_if_due(now).unwrap().map(|p| p.expired), Some(1));
        cache.put("k", &1, T0);
        // Another process, a minute later: not due, the entry stays.
        let next_process = DiskCache::new(dir.path().to_path_buf(), 60, 1 << 20);
        let later = now + Duration::from_secs(60);
        assert_eq!(next_process.prune_if_due(later).unwrap(), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        assert!(next_process
            .prune_if_due(now + PRUNE_EVERY)
            .unwrap()
            .is_some());
    }
}
