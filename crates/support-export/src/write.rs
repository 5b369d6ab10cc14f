//! Writing: ticket rows as CSV, JSON Lines or a JSON array, and the output
//! itself, a file replaced atomically (never left half-written) or stdout.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use tempfile::NamedTempFile;

use crate::error::ExportError;
use crate::row::{TicketRow, COLUMNS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TicketFormat {
    /// A header row of the `tickets` columns, then one row per ticket.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
}

/// Writes rows in one format; [`RowWriter::finish`] closes the document.
pub struct RowWriter<W: Write> {
    format: TicketFormat,
    out: RowSink<W>,
    rows: u64,
}

enum RowSink<W: Write> {
    /// Boxed: the CSV writer carries its buffer and state inline.
    Csv(Box<csv::Writer<W>>),
    Plain(W),
}

impl<W: Write> RowWriter<W> {
    pub fn new(format: TicketFormat, mut out: W) -> io::Result<RowWriter<W>> {
        let out = match format {
            TicketFormat::Csv => {
                // The header is written even when no row follows.
                let mut csv = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(out);
                csv.write_record(COLUMNS)?;
                RowSink::Csv(Box::new(csv))
            }
            TicketFormat::Json => {
                out.write_all(b"[")?;
                RowSink::Plain(out)
            }
            TicketFormat::Jsonl => RowSink::Plain(out),
        };
        Ok(RowWriter {
            format,
            out,
            rows: 0,
        })
    }

    pub fn write(&mut self, row: &TicketRow) -> io::Result<()> {
        match &mut self.out {
            RowSink::Csv(csv) => csv.serialize(&row.columns).map_err(csv_error)?,
            RowSink::Plain(out) => {
                if self.format == TicketFormat::Json {
                    out.write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
                }
                serde_json::to_writer(&mut *out, &row.columns)?;
                if self.format == TicketFormat::Jsonl {
                    out.write_all(b"\n")?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Ends the document and gives back the writer, flushed.
    pub fn finish(self) -> io::Result<W> {
        let mut out = match self.out {
            RowSink::Csv(csv) => csv.into_inner().map_err(|e| e.into_error())?,
            RowSink::Plain(mut out) => {
                if self.format == TicketFormat::Json {
                    out.write_all(if self.rows == 0 { b"]\n" } else { b"\n]\n" })?;
                }
                out
            }
        };
        out.flush()?;
        Ok(out)
    }
}

fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Where a command writes: stdout, or a file that appears only when
/// complete (a temporary file in the same directory, renamed at the end).
pub struct Output {
    target: Target,
    name: String,
}

enum Target {
    Stdout(BufWriter<io::Stdout>),
    File {
        temp: BufWriter<NamedTempFile>,
        path: PathBuf,
    },
}

impl Output {
    pub fn create(path: Option<&Path>) -> Result<Output, ExportError> {
        let Some(path) = path else {
            return Ok(Output {
                target: Target::Stdout(BufWriter::with_capacity(256 << 10, io::stdout())),
                name: "stdout".into(),
            });
        };
        let name = format!("output file {}", path.display());
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".support-export-")
            .tempfile_in(dir)
            .map_err(ExportError::output(name.clone()))?;
        Ok(Output {
            target: Target::File {
                temp: BufWriter::with_capacity(256 << 10, temp),
                path: path.to_path_buf(),
            },
            name,
        })
    }

    /// For error messages: `stdout` or `output file PATH`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Flushes, and puts the file in place. Dropping an `Output` instead
    /// removes the temporary file: a failed command leaves no output file.
    pub fn commit(self) -> Result<(), ExportError> {
        let Output { target, name } = self;
        match target {
            Target::Stdout(mut out) => out.flush().map_err(ExportError::output(name)),
            Target::File { temp, path } => {
                let temp = temp.into_inner().map_err(|e| ExportError::Output {
                    what: name.clone(),
                    source: e.into_error(),
                })?;
                temp.as_file()
                    .sync_all()
                    .map_err(ExportError::output(name.clone()))?;
                let file = temp.persist(&path).map_err(|e| ExportError::Output {
                    what: name.clone(),
                    source: e.error,
                })?;
                // A temporary file is private (0600); an export is an ordinary file.
                set_ordinary_permissions(&file, &path);
                Ok(())
            }
        }
    }
}

#[cfg(unix)]
fn set_ordinary_permissions(file: &fs::File, path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = file.set_permissions(fs::Permissions::from_mode(0o644)) {
        tracing::warn!(path = %path.display(), "cannot set permissions: {e}");
    }
}

#[cfg(not(unix))]
fn set_ordinary_permissions(_: &fs::File, _: &Path) {}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Stdout(out) => out.write(buf),
            Target::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout(out) => out.write_all(buf),
            Target::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout(out) => out.flush(),
            Target::File { temp, .. } => temp.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::tests::row_from;
    use serde_json::json;

    fn rows() -> Vec<TicketRow> {
        vec![
            row_from(json!({"id": "A", "subject": "Hola, \"amigo\"\nadiós", "created_at": "2026-11-24T08:00:00Z",
                            "sentiment": {"label": "negative", "score": -0.447}})).unwrap(),
            row_from(json!({"id": "B", "status": "resolved"})).unwrap(),
        ]
    }

    fn written(format: TicketFormat, rows: &[TicketRow]) -> String {
        let mut writer = RowWriter::new(format, Vec::new()).unwrap();
        for row in rows {
            writer.write(row).unwrap();
        }
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn csv_has_the_columns_and_round_trips() {
        let text = written(TicketFormat::Csv, &rows());
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            COLUMNS
        );
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(&records[0][1], "Hola, \"amigo\"\nadiós");
        assert_eq!(&records[0][10], "2026-11-24T08:00:00Z");
        assert_eq!(&records[0][15], "false");
        assert_eq!(&records[0][25], "-0.447");
        assert_eq!(&records[1][9], "resolved");
        assert_eq!(&records[1][10], "", "a missing time is an empty cell");
        // No rows: the header alone.
        assert_eq!(
            written(TicketFormat::Csv, &[]),
            format!("{}\n", COLUMNS.join(","))
        );
    }

    #[test]
    fn json_forms_parse_back() {
        let lines = written(TicketFormat::Jsonl, &rows());
        let parsed: Vec<serde_json::Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1]["status"], "resolved");
        let array: Vec<serde_json::Value> =
            serde_json::from_str(&written(TicketFormat::Json, &rows())).unwrap();
        assert_eq!(array, parsed);
        assert_eq!(written(TicketFormat::Json, &[]).trim(), "[]");
    }

    #[test]
    fn a_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut output = Output::create(Some(&path)).unwrap();
        output.write_all(b"partial").unwrap();
        drop(output);
        assert!(!path.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temporary file left"
        );
        let mut output = Output::create(Some(&path)).unwrap();
        output.write_all(b"whole").unwrap();
        output.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "whole");
    }
}
