//! Ticket history to learn from or evaluate on: a CSV file (header row), a
//! JSON Lines file, or the closed tickets of the support-store database.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::{FormatConfig, MlPredictConfig};
use crate::fields::{self, FieldError, Fields};
use crate::schema::{Inputs, LoadScale, Schema};

/// Where history comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `.jsonl`, `.ndjson` or `.json` is JSON Lines; anything else CSV.
    /// Ratings may come in a separate feedback file (JSON Lines of
    /// `{"ticket_id", "rating"}`, as support-store and support-export read
    /// them): each ticket's mean rating becomes its `csat`.
    File {
        path: PathBuf,
        feedback: Option<PathBuf>,
    },
    /// A PostgreSQL URL: the `tickets` and `tickets_archive` tables.
    Database(String),
}

impl Source {
    /// How errors and reports name the source (never a password).
    pub fn origin(&self) -> String {
        match self {
            Source::File { path, .. } => path.display().to_string(),
            Source::Database(url) => format!("{} (tickets)", support_store::redact(url)),
        }
    }
}

/// The records of a source that are rows: those opened in `[since, before)`
/// (either end open). The others still count towards the load when a row
/// opened, so a model trained before a cut and evaluated after it sees the
/// load as the store counts it, and nothing of the evaluated period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub since: Option<jiff::Timestamp>,
    pub before: Option<jiff::Timestamp>,
}

impl Window {
    fn is_whole(&self) -> bool {
        self.since.is_none() && self.before.is_none()
    }

    /// Whether a record opened at `opened` (seconds) is a row; one whose
    /// opening is unknown is only in the whole history.
    fn holds(&self, opened: Option<i64>) -> bool {
        match opened {
            Some(t) => {
                self.since.is_none_or(|s| t >= s.as_second())
                    && self.before.is_none_or(|b| t < b.as_second())
            }
            None => self.is_whole(),
        }
    }

    /// How an origin names the window (empty for the whole history).
    fn describe(&self) -> String {
        let since = self.since.map(|t| format!(" since {t}"));
        let before = self.before.map(|t| format!(" before {t}"));
        match (since, before) {
            (None, None) => String::new(),
            (since, before) => format!(
                ", opened{}{}",
                since.unwrap_or_default(),
                before.unwrap_or_default()
            ),
        }
    }
}

/// Why history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{origin}:{line}: {message}")]
    Malformed {
        origin: String,
        line: u64,
        message: String,
    },
    #[error("{origin}:{line}: {error}")]
    Field {
        origin: String,
        line: u64,
        error: FieldError,
    },
    #[error("{origin}: no records to read")]
    Empty { origin: String },
    #[error("{origin}: the fields ({fields}) match no format of the configuration ({known}); name one with --fields, or add one to the configuration")]
    UnknownFormat {
        origin: String,
        fields: String,
        known: String,
    },
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Store(#[from] support_store::StoreError),
}

impl DataError {
    /// The process exit code: 5 when the database failed, else 2 (bad input file).
    pub fn exit_code(&self) -> u8 {
        match self {
            DataError::Store(e) => e.exit_code(),
            _ => support_cli::exit::USAGE,
        }
    }
}

/// One record of history and the line (row) it came from.
#[derive(Debug, Clone)]
pub struct Record {
    pub line: u64,
    pub fields: Map<String, Value>,
}

/// What a closed ticket teaches: each target when the record has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets {
    pub minutes: Option<f64>,
    pub breached: Option<bool>,
    pub csat: Option<f64>,
    pub group: Option<String>,
    pub agent: Option<String>,
}

impl FormatConfig {
    /// Reads the targets of a record.
    pub fn targets(&self, record: &impl Fields) -> Result<Targets, FieldError> {
        let created = fields::time(record, &self.created_at)?;
        let resolved = fields::time(record, &self.resolved_at)?;
        let minutes = match fields::number(record, &self.resolution_minutes)? {
            Some(m) => Some(m),
            None => match (created, resolved) {
                (Some(c), Some(r)) => Some(r.duration_since(c).as_secs_f64() / 60.0),
                _ => None,
            },
        };
        if minutes.is_some_and(|m| m < 0.0) {
            let field = fields::path_of(record, &self.resolution_minutes)
                .or_else(|| fields::path_of(record, &self.resolved_at))
                .unwrap_or("resolved_at");
            return Err(FieldError::new(
                field,
                "the ticket was resolved before it was created",
            ));
        }
        let breached = match fields::boolean(record, &self.sla_met)? {
            Some(met) => Some(!met),
            None => match (fields::time(record, &self.sla_due)?, resolved) {
                (Some(due), Some(r)) => Some(r > due),
                _ => None,
            },
        };
        let csat = fields::number(record, &self.csat)?;
        if let Some(rating) = csat {
            if !(1.0..=5.0).contains(&rating) {
                let field = fields::path_of(record, &self.csat).unwrap_or("csat");
                return Err(FieldError::new(
                    field,
                    format!("a rating is from 1 to 5, found {rating}"),
                ));
            }
        }
        let agent = fields::text(record, &self.agent)?.filter(|a| !self.not_agents.contains(a));
        Ok(Targets {
            minutes,
            breached,
            csat,
            group: fields::text(record, &self.group)?,
            agent,
        })
    }
}

/// One record's inputs and targets.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub inputs: Inputs,
    pub targets: Targets,
}

/// History read with one schema and one format's targets.
#[derive(Debug, Clone)]
pub struct History {
    pub origin: String,
    pub schema: Schema,
    pub rows: Vec<Row>,
}

impl History {
    /// Reads `source`. The format is `format` when given, else the model's
    /// (`schema`) when evaluating, else detected from the fields. Training
    /// reads the format's own schema; evaluating reads the model's.
    ///
    /// `load_context`: more tickets, not in `source`, that count towards the
    /// load when each record opened (the rest of the history when `source`
    /// is a sample of it, as the store would count them).
    pub fn load(
        source: &Source,
        window: Window,
        config: &MlPredictConfig,
        format: Option<&str>,
        schema: Option<&Schema>,
        load_context: Option<&Source>,
    ) -> Result<History, DataError> {
        let origin = source.origin() + &window.describe();
        let (records, keys) = read_records(source)?;
        if records.is_empty() {
            return Err(DataError::Empty { origin });
        }
        let name = match (format, schema) {
            (Some(name), _) => name.to_string(),
            (None, Some(schema)) => schema.format.clone(),
            (None, None) => detect(config, &keys).ok_or_else(|| DataError::UnknownFormat {
                origin: origin.clone(),
                fields: keys.join(", "),
                known: config
                    .formats
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })?,
        };
        let format = config.format(&name).map_err(DataError::Format)?;
        let mut schema = schema.cloned().unwrap_or_else(|| format.schema(&name));
        let mut rows = Vec::with_capacity(records.len());
        let mut spans = Vec::with_capacity(records.len());
        // The records outside the window: load, not rows.
        let mut outside = Vec::new();
        for record in &records {
            let error = || field_error(&origin, record);
            let targets = format.targets(&record.fields).map_err(error())?;
            let span = format
                .span(&record.fields, targets.minutes)
                .map_err(error())?;
            if !window.holds(span.0) {
                outside.push(span);
                continue;
            }
            let inputs = schema.read_fields(&record.fields).map_err(error())?;
            spans.push(span);
            rows.push(Row {
                line: record.line,
                inputs,
                targets,
            });
        }
        if rows.is_empty() {
            return Err(DataError::Empty { origin });
        }
        // Training learns the load's scale when the format asks for it;
        // evaluating reads the load on the model's scale.
        let learn_load = schema.load.is_none() && format.load_features;
        if learn_load || schema.load.is_some() {
            let mut context = match load_context {
                Some(source) => {
                    let origin = source.origin();
                    read_records(source)?
                        .0
                        .iter()
                        .map(|record| {
                            let error = || field_error(&origin, record);
                            let minutes = format.targets(&record.fields).map_err(error())?.minutes;
                            format.span(&record.fields, minutes).map_err(error())
                        })
                        .collect::<Result<Vec<Span>, DataError>>()?
                }
                None => Vec::new(),
            };
            context.extend(outside);
            let (average, relative) = relative_loads(&spans, &context);
            if learn_load && average.iter().all(|&a| a > 0.0) {
                let known: Vec<[f64; 2]> = relative.iter().flatten().copied().collect();
                schema.load = Some(LoadScale::fit(average, &known));
            }
            if let Some(scale) = &schema.load {
                for (row, load) in rows.iter_mut().zip(relative) {
                    row.inputs.0.extend(scale.bands(load));
                }
            }
        }
        Ok(History {
            origin,
            schema,
            rows,
        })
    }
}

/// When a ticket opened and was resolved (seconds), each when known.
type Span = (Option<i64>, Option<i64>);

/// Names the record of `origin` whose field is wrong.
fn field_error<'a>(
    origin: &'a str,
    record: &'a Record,
) -> impl FnOnce(FieldError) -> DataError + 'a {
    move |error| DataError::Field {
        origin: origin.to_string(),
        line: record.line,
        error,
    }
}

impl FormatConfig {
    /// When a record opened, and when it was resolved given its resolution
    /// time.
    fn span(&self, record: &impl Fields, minutes: Option<f64>) -> Result<Span, FieldError> {
        let opened = fields::time(record, &self.created_at)?.map(|t| t.as_second());
        Ok((
            opened,
            opened.zip(minutes).map(|(o, m)| o + (m * 60.0) as i64),
        ))
    }
}

/// Per record opened at a known time: the tickets of the history and of
/// `context` open at that moment (opened before it, not resolved by then)
/// and those opened in the 24 hours before, each divided by its average over
/// the records; and those averages.
fn relative_loads(records: &[Span], context: &[Span]) -> ([f64; 2], Vec<Option<[f64; 2]>>) {
    const DAY: i64 = 24 * 60 * 60;
    let all = || records.iter().chain(context);
    let mut starts: Vec<i64> = all().filter_map(|s| s.0).collect();
    let mut ends: Vec<i64> = all().filter_map(|s| s.1).collect();
    starts.sort_unstable();
    ends.sort_unstable();
    let counts: Vec<Option<[f64; 2]>> = records
        .iter()
        .map(|&(opened, _)| {
            let t = opened?;
            let opened_before = starts.partition_point(|&s| s < t);
            let resolved_by = ends.partition_point(|&e| e <= t);
            let last_day = opened_before - starts.partition_point(|&s| s < t - DAY);
            Some([
                opened_before.saturating_sub(resolved_by) as f64,
                last_day as f64,
            ])
        })
        .collect();
    let known: Vec<&[f64; 2]> = counts.iter().flatten().collect();
    let average =
        [0, 1].map(|k| known.iter().map(|c| c[k]).sum::<f64>() / known.len().max(1) as f64);
    let relative = counts
        .into_iter()
        .map(|c| {
            c.map(|c| {
                [0, 1].map(|k| {
                    if average[k] > 0.0 {
                        c[k] / average[k]
                    } else {
                        1.0
                    }
                })
            })
        })
        .collect();
    (average, relative)
}

/// The first format (by name) whose `detect` fields are all present.
fn detect(config: &MlPredictConfig, keys: &[String]) -> Option<String> {
    config
        .formats
        .iter()
        .find(|(_, format)| format.detect.iter().all(|d| keys.contains(d)))
        .map(|(name, _)| name.clone())
}

/// The records and the field names seen: the CSV header, or the first record's keys.
fn read_records(source: &Source) -> Result<(Vec<Record>, Vec<String>), DataError> {
    let records = match source {
        Source::File { path, feedback } => {
            let file = File::open(path).map_err(|error| DataError::Io {
                path: path.clone(),
                error,
            })?;
            let json_lines = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("jsonl" | "ndjson" | "json")
            );
            let (mut records, keys) = if json_lines {
                let records = read_json_lines(path, BufReader::new(file))?;
                let keys = first_keys(&records);
                (records, keys)
            } else {
                read_csv(path, file)?
            };
            if let Some(feedback) = feedback {
                join_ratings(&mut records, feedback)?;
            }
            return Ok((records, keys));
        }
        Source::Database(url) => read_database(url)?,
    };
    let keys = first_keys(&records);
    Ok((records, keys))
}

fn first_keys(records: &[Record]) -> Vec<String> {
    records
        .first()
        .map(|r| r.fields.keys().cloned().collect())
        .unwrap_or_default()
}

/// Adds each ticket's mean rating from a feedback file as `csat`, unless
/// the record has one.
fn join_ratings(records: &mut [Record], path: &Path) -> Result<(), DataError> {
    let file = File::open(path).map_err(|error| DataError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let origin = path.display().to_string();
    let paths = |name: &str| vec![name.to_string()];
    let mut ratings: std::collections::HashMap<String, (f64, f64)> = Default::default();
    for record in read_json_lines(path, BufReader::new(file))? {
        let field_error = |error| DataError::Field {
            origin: origin.clone(),
            line: record.line,
            error,
        };
        let ticket = fields::text(&record.fields, &paths("ticket_id")).map_err(field_error)?;
        let rating = fields::number(&record.fields, &paths("rating")).map_err(field_error)?;
        match (ticket, rating) {
            (Some(ticket), Some(rating)) if (1.0..=5.0).contains(&rating) => {
                let entry = ratings.entry(ticket).or_default();
                entry.0 += rating;
                entry.1 += 1.0;
            }
            (Some(_), Some(rating)) => {
                return Err(field_error(FieldError::new(
                    "rating",
                    format!("a rating is from 1 to 5, found {rating}"),
                )))
            }
            (None, _) => return Err(field_error(FieldError::new("ticket_id", "missing"))),
            (_, None) => return Err(field_error(FieldError::new("rating", "missing"))),
        }
    }
    for record in records {
        let id = fields::text(&record.fields, &paths("id")).ok().flatten();
        if let Some((sum, count)) = id.and_then(|id| ratings.get(&id)) {
            record
                .fields
                .entry("csat")
                .or_insert_with(|| Value::from(sum / count));
        }
    }
    Ok(())
}

/// Every row as an object of its non-empty cells (text).
fn read_csv(path: &Path, file: File) -> Result<(Vec<Record>, Vec<String>), DataError> {
    let origin = path.display().to_string();
    let malformed = |error: csv::Error| DataError::Malformed {
        origin: origin.clone(),
        line: error.position().map_or(0, |p| p.line()),
        message: error.to_string(),
    };
    let mut reader = csv::Reader::from_reader(BufReader::new(file));
    let header: Vec<String> = reader
        .headers()
        .map_err(malformed)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut records = Vec::new();
    for row in reader.records() {
        let row = row.map_err(malformed)?;
        let fields = header
            .iter()
            .zip(row.iter())
            .filter(|(_, cell)| !cell.trim().is_empty())
            .map(|(key, cell)| (key.clone(), Value::String(cell.to_string())))
            .collect();
        records.push(Record {
            line: row.position().map_or(0, |p| p.line()),
            fields,
        });
    }
    Ok((records, header))
}

fn read_json_lines(path: &Path, reader: impl BufRead) -> Result<Vec<Record>, DataError> {
    let origin = path.display().to_string();
    let mut records = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_number = index as u64 + 1;
        let malformed = |message: String| DataError::Malformed {
            origin: origin.clone(),
            line: line_number,
            message,
        };
        let line = line.map_err(|e| malformed(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(Value::Object(fields)) => records.push(Record {
                line: line_number,
                fields,
            }),
            Ok(_) => return Err(malformed("expected a JSON object".into())),
            Err(e) => return Err(malformed(format!("invalid JSON: {e}"))),
        }
    }
    Ok(records)
}

/// Closed tickets of the store (live and archived), one object each, with
/// the column names the `ticket` format reads, and the mean feedback rating
/// as `csat`. The database builds the JSON, so times come as RFC 3339.
const CLOSED_TICKETS: &str = "
    SELECT jsonb_build_object(
        'id', t.id, 'channel', t.channel, 'language', t.language,
        'customer_tier', t.customer_tier, 'sentiment_label', t.sentiment_label,
        'category', t.category,
        'subcategory', t.subcategory, 'priority', t.priority, 'queue', t.queue,
        'assigned_to', t.assigned_to, 'resolved_by', t.resolved_by,
        'created_at', t.created_at, 'resolved_at', t.resolved_at,
        'sla_resolution_due', t.sla_resolution_due,
        'csat', (SELECT avg(f.rating)::float8 FROM feedback f WHERE f.ticket_id = t.id)
    )::text
    FROM (
        SELECT id, channel, language, customer_tier, sentiment_label, category, subcategory,
               priority, queue, assigned_to, resolved_by, created_at, resolved_at,
               sla_resolution_due, status
        FROM tickets
        UNION ALL
        SELECT id, channel, language, customer_tier, sentiment_label, category, subcategory,
               priority, queue, assigned_to, resolved_by, created_at, resolved_at,
               sla_resolution_due, status
        FROM tickets_archive
    ) t
    WHERE t.status IN ('resolved', 'closed') AND t.resolved_at IS NOT NULL
    ORDER BY t.created_at, t.id";

fn read_database(url: &str) -> Result<Vec<Record>, DataError> {
    let mut client = support_store::connect(url)?;
    let rows = client
        .query(CLOSED_TICKETS, &[])
        .map_err(support_store::StoreError::from)?;
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let text: String = row.get(0);
            match serde_json::from_str(&text) {
                Ok(Value::Object(fields)) => Ok(Record {
                    line: index as u64 + 1,
                    fields,
                }),
                _ => Err(DataError::Malformed {
                    origin: format!("{} (tickets)", support_store::redact(url)),
                    line: index as u64 + 1,
                    message: "the database gave a row that is not a JSON object".into(),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, content: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("support-ml-predict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    const ITSM: &str = "number,opened_at,resolved_at,contact_type,location,category,subcategory,u_symptom,impact,urgency,priority,assignment_group,assigned_to,made_sla,resolution_minutes
INC1,2016-02-29 01:16,2016-02-29 11:29,Phone,Location 143,Category 55,Subcategory 170,Symptom 72,2 - Medium,2 - Medium,3 - Moderate,Group 56,,true,613
INC2,2016-02-29 04:40,,Phone,Location 165,Category 40,Subcategory 215,,2 - Medium,2 - Medium,3 - Moderate,Group 24,Resolver 89,false,
";

    #[test]
    fn detects_the_incident_log_and_reads_only_open_time_inputs() {
        let config = MlPredictConfig::default();
        let path = file("itsm.csv", ITSM);
        let history = History::load(
            &Source::File {
                path,
                feedback: None,
            },
            Window::default(),
            &config,
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(history.schema.format, "itsm");
        assert_eq!(history.rows.len(), 2);
        let first = &history.rows[0];
        assert_eq!(first.line, 2);
        assert_eq!(first.inputs.0[2], "Category 55");
        assert!(!first.inputs.0.iter().any(|v| v.starts_with("Group")));
        assert_eq!(first.targets.minutes, Some(613.0));
        assert_eq!(first.targets.breached, Some(false));
        assert_eq!(first.targets.group.as_deref(), Some("Group 56"));
        assert_eq!(first.targets.agent, None);
        let second = &history.rows[1];
        assert_eq!(second.targets.minutes, None);
        assert_eq!(second.targets.breached, Some(true));
        assert_eq!(second.inputs.0[4], crate::schema::MISSING);
        // The load comes last: its bands, learned from this history.
        let names = history.schema.names();
        assert_eq!(
            names[names.len() - 2..],
            ["open_tickets", "opened_last_day"]
        );
        assert_eq!(first.inputs.0.len(), names.len());
        assert!(history.schema.load.is_some());
    }

    #[test]
    fn a_load_context_record_that_cannot_be_read_is_named() {
        let config = MlPredictConfig::default();
        let source = |path| Source::File {
            path,
            feedback: None,
        };
        let history = source(file("itsm-data.csv", ITSM));
        let bad = ITSM.replace("2016-02-29 04:40", "yesterday");
        let context = source(file("itsm-context.csv", &bad));
        let err = History::load(
            &history,
            Window::default(),
            &config,
            None,
            None,
            Some(&context),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("itsm-context.csv") && err.contains("opened_at"),
            "{err}"
        );
    }

    #[test]
    fn the_load_counts_tickets_open_and_opened_in_the_day_before() {
        const HOUR: i64 = 3600;
        // A opens at 0 and is resolved at 5 h; B opens at 1 h, never resolved;
        // C opens at 6 h; D opens at 30 h.
        let spans = [
            (Some(0), Some(5 * HOUR)),
            (Some(HOUR), None),
            (Some(6 * HOUR), None),
            (Some(30 * HOUR), None),
            (None, None),
        ];
        let (average, relative) = relative_loads(&spans, &[]);
        // Open then: A 0, B 1 (A), C 1 (B; A is resolved), D 2 (B, C).
        // Opened in the day before: A 0, B 1, C 2, D 1 (C; A and B are older).
        assert_eq!(average, [1.0, 1.0]);
        let expected = [[0.0, 0.0], [1.0, 1.0], [1.0, 2.0], [2.0, 1.0]];
        for (got, want) in relative.iter().zip(expected) {
            assert_eq!(*got, Some(want));
        }
        assert_eq!(relative[4], None, "no opening time, no load");
        // Tickets of the context count, but get no load of their own: E,
        // opened at 2 h and never resolved. Open then: A 0, B 1, C 2, D 3
        // (average 1.5); opened in the day before: A 0, B 1, C 3, D 1 (1.25).
        let (average, with_context) = relative_loads(&spans, &[(Some(2 * HOUR), None)]);
        assert_eq!(average, [1.5, 1.25]);
        let expected = [[0.0, 0.0], [1.0 / 1.5, 0.8], [2.0 / 1.5, 2.4], [2.0, 0.8]];
        for (got, want) in with_context.iter().zip(expected) {
            assert_eq!(*got, Some(want));
        }
        assert_eq!(with_context.len(), 5);
    }

    #[test]
    fn a_sample_of_a_history_reads_its_load_on_the_same_scale() {
        // Every hour a ticket opens and is resolved 5 hours later; every
        // other one of them is a sample of half the history.
        let spans: Vec<Span> = (0..400)
            .map(|h| (Some(h * 3600), Some(h * 3600 + 5 * 3600)))
            .collect();
        let half: Vec<Span> = spans.iter().step_by(2).copied().collect();
        let (_, whole) = relative_loads(&spans, &[]);
        let (_, sample) = relative_loads(&half, &[]);
        let late = |r: &[Option<[f64; 2]>]| r[r.len() - 1].unwrap();
        for k in 0..2 {
            assert!(
                (late(&whole)[k] - late(&sample)[k]).abs() < 0.2,
                "{whole:?}"
            );
        }
    }

    #[test]
    fn reads_tickets_in_our_format_with_derived_targets() {
        let config = MlPredictConfig::default();
        let path = file(
            "tickets.jsonl",
            r#"{"id":"A","subject":"x","channel":"email","category":{"name":"billing"},"priority":{"level":"high","sla":{"resolution":{"due":"2026-01-01T12:00:00Z"}}},"created_at":"2026-01-01T10:00:00Z","resolved_at":"2026-01-01T13:30:00Z","assigned_to":"ana","feedback":{"rating":4},"route":{"queue":"billing"}}

{"id":"B","subject":"y","channel":"chat","category":"refund","priority":"low","created_at":"2026-01-02T10:00:00Z","resolved_by":"bot"}
"#,
        );
        let feedback = file(
            "feedback.jsonl",
            "{\"ticket_id\":\"B\",\"rating\":2}\n{\"ticket_id\":\"B\",\"rating\":3}\n{\"ticket_id\":\"A\",\"rating\":1}\n",
        );
        let source = Source::File {
            path,
            feedback: Some(feedback),
        };
        let history = History::load(&source, Window::default(), &config, None, None, None).unwrap();
        assert_eq!(history.schema.format, "ticket");
        let a = &history.rows[0].targets;
        assert_eq!(a.minutes, Some(210.0));
        assert_eq!(a.breached, Some(true));
        assert_eq!(a.csat, Some(4.0), "the ticket's own rating comes first");
        assert_eq!(a.group.as_deref(), Some("billing"));
        assert_eq!(a.agent.as_deref(), Some("ana"));
        let b = &history.rows[1];
        assert_eq!(b.line, 3);
        assert_eq!(b.targets.agent, None, "the bot is not an agent");
        assert_eq!(
            b.targets.csat,
            Some(2.5),
            "the mean of the feedback file's ratings"
        );
        assert_eq!(b.inputs.0[1], "refund");
    }

    #[test]
    fn a_window_keeps_the_tickets_opened_in_it_and_counts_the_rest_as_load() {
        let config = MlPredictConfig::default();
        let ticket = |id: &str, opened: &str, resolved: &str| {
            format!(
                r#"{{"id":"{id}","category":"billing","priority":"high","created_at":"{opened}","resolved_at":"{resolved}"}}"#
            )
        };
        let a = ticket("A", "2026-01-01T10:00:00Z", "2026-01-01T13:30:00Z");
        let b = ticket("B", "2026-01-01T11:00:00Z", "2026-01-01T11:30:00Z");
        let c = ticket("C", "2026-01-01T13:00:00Z", "2026-01-01T14:00:00Z");
        let d = ticket("D", "2026-01-01T15:00:00Z", "2026-01-01T16:00:00Z");
        let source = |name: &str, lines: &[&str]| Source::File {
            path: file(name, &(lines.join("\n") + "\n")),
            feedback: None,
        };
        let all = source("window-all.jsonl", &[&a, &b, &c, &d]);
        let cut: jiff::Timestamp = "2026-01-01T11:00:00Z".parse().unwrap();
        let load = |source: &Source, window: Window, schema, context: Option<&Source>| {
            History::load(source, window, &config, None, schema, context)
        };
        let trained = load(&all, Window::default(), None, None).unwrap();
        let schema = Some(&trained.schema);
        let since = Window {
            since: Some(cut),
            before: None,
        };
        let evaluated = load(&all, since, schema, None).unwrap();
        assert_eq!(
            evaluated.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [2, 3, 4]
        );
        assert!(
            evaluated
                .origin
                .ends_with(", opened since 2026-01-01T11:00:00Z"),
            "{}",
            evaluated.origin
        );
        // A, opened before the cut, still weighs on B and C's load: as if it
        // were given as the load context of a file of B and C.
        let bcd = source("window-bcd.jsonl", &[&b, &c, &d]);
        let context = source("window-a.jsonl", &[&a]);
        let split = load(&bcd, Window::default(), schema, Some(&context)).unwrap();
        assert_eq!(split.rows.len(), 3);
        for (windowed, given) in evaluated.rows.iter().zip(&split.rows) {
            assert_eq!(windowed.inputs, given.inputs);
        }
        let alone = load(&bcd, Window::default(), schema, None).unwrap();
        assert!(
            alone
                .rows
                .iter()
                .zip(&split.rows)
                .any(|(x, y)| x.inputs != y.inputs),
            "A's load must show"
        );
        let before = Window {
            since: None,
            before: Some(cut),
        };
        assert_eq!(load(&all, before, None, None).unwrap().rows.len(), 1);
        let nothing = Window {
            since: Some(cut),
            before: Some(cut),
        };
        let err = load(&all, nothing, None, None).unwrap_err().to_string();
        assert!(
            err.contains("opened since") && err.contains("no records"),
            "{err}"
        );
    }

    /// The error of loading `path` as a history file.
    fn load_error(path: &Path, config: &MlPredictConfig) -> String {
        let source = Source::File {
            path: path.to_path_buf(),
            feedback: None,
        };
        History::load(&source, Window::default(), config, None, None, None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let config = MlPredictConfig::default();
        let bad_rating = file(
            "bad.jsonl",
            "{\"created_at\":\"2026-01-01T10:00:00Z\",\"category\":\"a\",\"csat\":9}\n",
        );
        let err = load_error(&bad_rating, &config);
        assert!(
            err.contains("bad.jsonl:1:") && err.contains("`csat`"),
            "{err}"
        );
        let unknown = file("other.csv", "when,what\n1,2\n");
        let err = load_error(&unknown, &config);
        assert!(
            err.contains("--fields") && err.contains("when, what"),
            "{err}"
        );
        let backwards = file(
            "backwards.jsonl",
            "{\"created_at\":\"2026-01-02T10:00:00Z\",\"resolved_at\":\"2026-01-01T10:00:00Z\",\"category\":\"a\"}\n",
        );
        let err = load_error(&backwards, &config);
        assert!(
            err.contains("`resolved_at`") && err.contains("before"),
            "{err}"
        );
    }
}
