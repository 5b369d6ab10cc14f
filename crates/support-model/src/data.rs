//! Labelled examples from CSV (with a header row) or JSON Lines files.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use crate::error::DataError;
use crate::train::Example;

/// Reads `(text, label)` examples from `path`, taking the text and the label
/// from the named CSV columns or JSON fields. Files ending in `.jsonl`,
/// `.ndjson` or `.json` are read as JSON Lines (one object per line, blank
/// lines skipped); anything else as CSV with a header row. A label must be
/// non-empty; a text may be empty.
pub fn load_examples(
    path: &Path,
    text_column: &str,
    label_column: &str,
) -> Result<Vec<Example>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json_lines = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson" | "json")
    );
    let examples = if json_lines {
        read_json_lines(path, BufReader::new(file), text_column, label_column)?
    } else {
        read_csv(path, file, text_column, label_column)?
    };
    if examples.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(examples)
}

fn read_csv(
    path: &Path,
    file: File,
    text_column: &str,
    label_column: &str,
) -> Result<Vec<Example>, DataError> {
    let malformed = |error: csv::Error| DataError::Malformed {
        path: path.to_path_buf(),
        line: error.position().map_or(0, |p| p.line()),
        message: error.to_string(),
    };
    let mut reader = csv::Reader::from_reader(file);
    let headers = reader.headers().map_err(malformed)?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                available: headers.iter().collect::<Vec<_>>().join(", "),
            })
    };
    let (text_at, label_at) = (column(text_column)?, column(label_column)?);
    let mut examples = Vec::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        let line = record.position().map_or(0, |p| p.line());
        let label = record.get(label_at).unwrap_or("").trim();
        if label.is_empty() {
            return Err(DataError::EmptyField {
                path: path.to_path_buf(),
                line,
                field: label_column.to_string(),
            });
        }
        let text = record.get(text_at).unwrap_or("");
        examples.push(Example {
            text: text.to_string(),
            label: label.to_string(),
        });
    }
    Ok(examples)
}

fn read_json_lines(
    path: &Path,
    reader: impl BufRead,
    text_field: &str,
    label_field: &str,
) -> Result<Vec<Example>, DataError> {
    let mut examples = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_number = index as u64 + 1;
        let malformed = |message: String| DataError::Malformed {
            path: path.to_path_buf(),
            line: line_number,
            message,
        };
        let line = line.map_err(|e| malformed(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(&line).map_err(|e| malformed(format!("invalid JSON: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| malformed("expected a JSON object".into()))?;
        let text = match object.get(text_field) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            Some(_) => return Err(malformed(format!("field {text_field:?} is not a string"))),
        };
        // Labels may be written as numbers or booleans (e.g. sentiment 0/1/2).
        let label = match object.get(label_field) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            Some(Value::Null) | None => String::new(),
            Some(_) => {
                return Err(malformed(format!(
                    "field {label_field:?} is not a string or number"
                )))
            }
        };
        if label.is_empty() {
            return Err(DataError::EmptyField {
                path: path.to_path_buf(),
                line: line_number,
                field: label_field.to_string(),
            });
        }
        examples.push(Example { text, label });
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Writes `content` to a file unique to this test process.
    fn file(name: &str, content: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("support-model-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn reads_csv_columns_by_name() {
        let path = file("ok.csv", "id,text,label\n1,\"Hola, quiero un reembolso\",refund\n2,where is my parcel,delivery\n");
        let examples = load_examples(&path, "text", "label").unwrap();
        assert_eq!(examples.len(), 2);
        assert_eq!(
            examples[0],
            Example {
                text: "Hola, quiero un reembolso".into(),
                label: "refund".into()
            }
        );
    }

    #[test]
    fn csv_errors_name_file_line_and_column() {
        let path = file("cols.csv", "text,intent\nhello,greet\n");
        let error = load_examples(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("cols.csv")
                && error.contains("\"label\"")
                && error.contains("text, intent"),
            "{error}"
        );

        let path = file("empty-label.csv", "text,label\nhello,greet\nbye,\n");
        let error = load_examples(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("empty-label.csv:3:") && error.contains("\"label\""),
            "{error}"
        );

        let path = file(
            "ragged.csv",
            "text,label\nhello,greet\nbye,farewell,extra\n",
        );
        let error = load_examples(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(error.contains("ragged.csv:3:"), "{error}");

        let missing = std::env::temp_dir().join("support-model-no-such-file.csv");
        let error = load_examples(&missing, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no-such-file.csv"), "{error}");
    }

    #[test]
    fn reads_json_lines_with_numeric_labels() {
        let path = file(
            "ok.jsonl",
            "{\"body\": \"me encanta\", \"stars\": 5}\n\n{\"body\": \"awful\", \"stars\": 1}\n",
        );
        let examples = load_examples(&path, "body", "stars").unwrap();
        assert_eq!(
            examples
                .iter()
                .map(|e| e.label.as_str())
                .collect::<Vec<_>>(),
            ["5", "1"]
        );
        assert_eq!(examples[0].text, "me encanta");
    }

    #[test]
    fn json_lines_errors_name_file_line_and_field() {
        let path = file(
            "bad.jsonl",
            "{\"text\": \"ok\", \"label\": \"a\"}\n{not json}\n",
        );
        let error = load_examples(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("bad.jsonl:2:") && error.contains("invalid JSON"),
            "{error}"
        );

        let path = file(
            "nolabel.jsonl",
            "{\"text\": \"ok\", \"label\": \"a\"}\n{\"text\": \"x\"}\n",
        );
        let error = load_examples(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("nolabel.jsonl:2:") && error.contains("\"label\""),
            "{error}"
        );

        let path = file("list.jsonl", "{\"text\": [\"x\"], \"label\": \"a\"}\n");
        let error = load_examples(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("list.jsonl:1:") && error.contains("\"text\" is not a string"),
            "{error}"
        );
    }

    #[test]
    fn a_file_without_examples_is_an_error() {
        let path = file("header-only.csv", "text,label\n");
        assert!(matches!(
            load_examples(&path, "text", "label"),
            Err(DataError::Empty { .. })
        ));
    }
}
