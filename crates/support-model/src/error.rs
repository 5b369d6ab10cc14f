use std::path::PathBuf;

/// A model file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("not a support-model file (bad magic bytes)")]
    NotAModel,
    #[error("model file format version {found} is not supported (this build reads versions 1 to {supported}); retrain or use a matching build")]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("model file is truncated (needed {needed} more bytes at offset {offset})")]
    Truncated { offset: usize, needed: usize },
    #[error("model file is corrupt or truncated (checksum mismatch)")]
    ChecksumMismatch,
    #[error("model file is corrupt: {0}")]
    Invalid(String),
}

/// Training could not start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrainError {
    #[error("no training examples")]
    NoExamples,
    #[error("training needs at least two distinct labels, found only {0:?}")]
    SingleLabel(String),
    #[error("an example has an empty label")]
    EmptyLabel,
    #[error("invalid training options: {0}")]
    InvalidOptions(String),
}

/// A labelled data file that cannot be read. Messages name the file, and the
/// line and column or field when there is one.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no column {column:?} in the header (columns: {available})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: String,
    },
    #[error("{path}:{line}: {message}")]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}:{line}: {field:?} is missing or empty")]
    EmptyField {
        path: PathBuf,
        line: u64,
        field: String,
    },
    #[error("{path}: no examples")]
    Empty { path: PathBuf },
}
