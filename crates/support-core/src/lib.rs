//! The ticket contract and the stdin/stdout runner every support tool shares.
//!
//! A tool is a [`Tool`]: a plain function from a [`Ticket`] and a [`Context`]
//! to a result stored under the tool's own key. [`cli::run_tool`] wires it to
//! stdin and stdout with the shared flags, error records and exit codes.

pub mod cli;
pub mod config;
pub mod error;
pub mod input;
pub mod json_text;
mod log_writer;
pub mod record;
pub mod results;
pub mod runner;
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod ticket;

pub use error::{ErrorKind, RecordError};
pub use record::Record;
pub use results::ToolResult;
pub use runner::{Context, Pipeline, Stage, Tool};
pub use ticket::{FieldName, Role, TextField, Ticket};

/// Rounds a score for output: three decimals are what a person reads, and
/// stable digits keep outputs comparable across runs.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
