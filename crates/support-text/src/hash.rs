//! The hash of words the matchers look up, once or more per token of every
//! ticket: FNV-1a over the bytes (fast on short words) with a final mix, so
//! the high bits a hash table reads vary too. Fixed, with no random keys:
//! the same word hashes alike everywhere.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The hash of `bytes`.
pub(crate) fn word_hash(bytes: &[u8]) -> u64 {
    let mut hasher = WordHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// A map keyed by words, hashed with [`WordHasher`].
pub type WordMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// A map keyed by word hashes already computed ([`crate::Token::word_hash`]):
/// hashing them again would only cost time.
pub type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<KeyIsHash>>;

/// The hasher of [`HashedMap`]: a key is its own hash.
#[derive(Default)]
pub struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, _: &[u8]) {
        unreachable!("the keys are u64 hashes")
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// FNV-1a, finished with the splitmix64 mix.
pub struct WordHasher(u64);

impl Default for WordHasher {
    fn default() -> Self {
        WordHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_hash_alike_and_apart() {
        assert_eq!(word_hash(b"pedido"), word_hash(b"pedido"));
        assert_ne!(word_hash(b"pedido"), word_hash(b"pedida"));
        let mut map: WordMap<&str, u8> = WordMap::default();
        map.insert("hola", 1);
        assert_eq!(map.get("hola"), Some(&1));
        assert_eq!(map.get("adios"), None);
    }
}
