//! Why a command failed as a whole, and its exit code.

use std::io;

use support_cli::exit;
use support_store::StoreError;

/// The exit codes of `support-export`, for `--help` and the README.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done
  1  some input lines could not be read as tickets; each has an error record
     {\"error\": {kind, message, line, field, id}} on stderr (or in --errors FILE), the rest was used
  2  bad command line, configuration, feedback or agents file; nothing was written
  3  the input could not be read at all
  4  the output could not be written (no partial --output file is left)
  5  the database could not be reached or did not answer within --connect-timeout, the
     connection was lost, or the server refused the query (its message and SQLSTATE);
     nothing is written to stdout before the first row, and no partial --output file is left
A closed output (e.g. `| head -1`) stops the export quietly with code 0.";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Bad flag value, configuration or auxiliary file.
    #[error("{0}")]
    Usage(String),
    /// The tickets could not be read at all.
    #[error("cannot read {what}: {source}")]
    Input { what: String, source: io::Error },
    #[error("cannot write {what}: {source}")]
    Output { what: String, source: io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ExportError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ExportError::Usage(_) => exit::USAGE,
            ExportError::Input { .. } => exit::INPUT,
            ExportError::Output { .. } => exit::OUTPUT,
            ExportError::Store(e) => e.exit_code(),
        }
    }

    /// The reader of our output went away (`| head`): not a failure.
    pub fn is_closed_output(&self) -> bool {
        matches!(self, ExportError::Output { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }

    /// Maps a write error on `what` (`stdout`, `output file PATH`).
    pub fn output(what: impl Into<String>) -> impl FnOnce(io::Error) -> ExportError {
        let what = what.into();
        move |source| ExportError::Output { what, source }
    }
}

impl From<postgres::Error> for ExportError {
    fn from(error: postgres::Error) -> Self {
        ExportError::Store(StoreError::Database(error))
    }
}
