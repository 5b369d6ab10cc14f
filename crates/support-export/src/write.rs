//! Writing: ticket rows as CSV, JSON Lines or a JSON array, and the output
//! itself, a file replaced atomically (never left half-written) or stdout.

use std::borrow::Cow;
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

/// How `--format csv` writes text cells that a spreadsheet would run as a
/// formula (OWASP's CSV injection): those beginning with `=`, `+`, `-`, `@`, a
/// tab or a carriage return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CsvCells {
    /// With a leading apostrophe, which spreadsheets show as text (also in a
    /// text column holding something like `-5`). Numbers (`sentiment_score`)
    /// and booleans are written as they are.
    #[default]
    Neutralized,
    /// As they are, for programs reading the file.
    Raw,
}

/// Writes rows in one format; [`RowWriter::finish`] closes the document.
/// Nothing is written before the first row (or the end): a command failing
/// before any row leaves its output empty, without a CSV header or `[`.
pub struct RowWriter<W: Write> {
    format: TicketFormat,
    cells: CsvCells,
    out: RowSink<W>,
    rows: u64,
}

enum RowSink<W: Write> {
    /// Boxed: the CSV writer carries its buffer and state inline.
    Csv(Box<csv::Writer<W>>),
    Plain(W),
}

impl<W: Write> RowWriter<W> {
    pub fn new(format: TicketFormat, out: W) -> RowWriter<W> {
        let out = match format {
            TicketFormat::Csv => RowSink::Csv(Box::new(
                csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(out),
            )),
            TicketFormat::Json | TicketFormat::Jsonl => RowSink::Plain(out),
        };
        RowWriter {
            format,
            cells: CsvCells::default(),
            out,
            rows: 0,
        }
    }

    /// How CSV text cells that look like formulas are written (default: neutralized).
    pub fn csv_cells(self, cells: CsvCells) -> RowWriter<W> {
        RowWriter { cells, ..self }
    }

    /// The CSV header or the JSON array's `[`, before the first row.
    fn open(&mut self) -> io::Result<()> {
        match &mut self.out {
            RowSink::Csv(csv) => csv.write_record(COLUMNS).map_err(csv_error),
            RowSink::Plain(out) if self.format == TicketFormat::Json => out.write_all(b"["),
            RowSink::Plain(_) => Ok(()),
        }
    }

    pub fn write(&mut self, row: &TicketRow) -> io::Result<()> {
        if self.rows == 0 {
            self.open()?;
        }
        match &mut self.out {
            RowSink::Csv(csv) => {
                let serde_json::Value::Object(columns) = serde_json::to_value(&row.columns)? else {
                    unreachable!("the columns serialize as an object")
                };
                for value in columns.values() {
                    csv.write_field(cell(value, self.cells).as_bytes())
                        .map_err(csv_error)?;
                }
                csv.write_record(None::<&[u8]>).map_err(csv_error)?;
            }
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
    pub fn finish(mut self) -> io::Result<W> {
        if self.rows == 0 {
            self.open()?;
        }
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

/// A CSV cell: the text as it is, or neutralized; numbers, booleans and
/// times as their JSON text; nothing for null.
fn cell(value: &serde_json::Value, cells: CsvCells) -> Cow<'_, str> {
    match value {
        serde_json::Value::Null => Cow::Borrowed(""),
        serde_json::Value::String(text) if cells == CsvCells::Neutralized => neutralize(text),
        serde_json::Value::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(other.to_string()),
    }
}

/// `text` with a leading apostrophe when a spreadsheet would read it as a formula.
fn neutralize(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
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
        _interrupt: partial::Registered,
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
        let mut builder = tempfile::Builder::new();
        builder.prefix(".support-export-");
        // The file ends up as any file the user creates: 0666 less the umask
        // (a temporary file is otherwise 0600).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder
            .tempfile_in(dir)
            .map_err(ExportError::output(name.clone()))?;
        let interrupt = partial::register(temp.path());
        Ok(Output {
            target: Target::File {
                temp: BufWriter::with_capacity(256 << 10, temp),
                path: path.to_path_buf(),
                _interrupt: interrupt,
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
            Target::File {
                temp,
                path,
                _interrupt,
            } => {
                let temp = temp.into_inner().map_err(|e| ExportError::Output {
                    what: name.clone(),
                    source: e.into_error(),
                })?;
                temp.as_file()
                    .sync_all()
                    .map_err(ExportError::output(name.clone()))?;
                temp.persist(&path).map_err(|e| ExportError::Output {
                    what: name.clone(),
                    source: e.error,
                })?;
                Ok(())
            }
        }
    }
}

/// Temporary output files removed when the process is interrupted (SIGINT,
/// SIGTERM, SIGHUP), which runs no destructor: a killed export leaves no
/// `.support-export-*` file behind. The process then dies of the signal.
mod partial {
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, Once, PoisonError};

    static PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    /// Removes its path from the list when dropped (the file is in place or gone).
    pub struct Registered(PathBuf);

    impl Drop for Registered {
        fn drop(&mut self) {
            let mut paths = PATHS.lock().unwrap_or_else(PoisonError::into_inner);
            paths.retain(|path| *path != self.0);
        }
    }

    pub fn register(path: &Path) -> Registered {
        static HANDLER: Once = Once::new();
        HANDLER.call_once(start_handler);
        let mut paths = PATHS.lock().unwrap_or_else(PoisonError::into_inner);
        paths.push(path.to_path_buf());
        Registered(path.to_path_buf())
    }

    #[cfg(unix)]
    fn start_handler() {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(signals) => signals,
            Err(e) => {
                tracing::warn!("cannot watch for signals; an interrupted export may leave its temporary file: {e}");
                return;
            }
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let paths = PATHS.lock().unwrap_or_else(PoisonError::into_inner);
                for path in paths.iter() {
                    let _ = std::fs::remove_file(path);
                }
                // Dies of the signal, as without the handler (exit status 128 + signal).
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
    }

    #[cfg(not(unix))]
    fn start_handler() {}
}

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
    use std::fs;

    fn rows() -> Vec<TicketRow> {
        vec![
            row_from(json!({"id": "A", "subject": "Hola, \"amigo\"\nadiós", "created_at": "2026-11-24T08:00:00Z",
                            "sentiment": {"label": "negative", "score": -0.447}})).unwrap(),
            row_from(json!({"id": "B", "status": "resolved"})).unwrap(),
        ]
    }

    fn written(format: TicketFormat, rows: &[TicketRow]) -> String {
        let mut writer = RowWriter::new(format, Vec::new());
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
