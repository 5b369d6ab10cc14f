//! YAML configuration: embedded defaults, overlaid by a file that names only
//! what it changes, with errors that name the file, the line and the key.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}{location}: {key}{message}")]
    Invalid {
        origin: String,
        location: String,
        key: String,
        message: String,
    },
}

/// Parses YAML into `T`. `origin` names the source in errors (a file path, or
/// "embedded default").
pub fn parse_yaml<T: DeserializeOwned>(origin: &str, text: &str) -> Result<T, ConfigError> {
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let location = inner
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        let key = if path.is_empty() || path == "." {
            String::new()
        } else {
            format!("key `{path}`: ")
        };
        ConfigError::Invalid {
            origin: origin.to_string(),
            location,
            key,
            message: bare_message(&inner.to_string(), &path),
        }
    })
}

/// serde_yaml's message repeats the key path and position, which the error
/// already gives in front: keep only what went wrong.
fn bare_message(message: &str, path: &str) -> String {
    let message = message
        .strip_prefix(&format!("{path}: "))
        .unwrap_or(message);
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_string(),
        _ => message.to_string(),
    }
}

/// Parses a tool's embedded default configuration from its JSON form, which
/// the tool's build script makes from the embedded YAML (crate `support-build`):
/// this runs at every start, and JSON parses many times faster than YAML. Its
/// validity is checked by each tool's tests, so failure here is a build
/// defect, not a user error.
pub fn embedded_json<T: DeserializeOwned>(json: &str) -> T {
    // Tracking the key path costs an allocation per key: only for the message.
    serde_json::from_str(json).unwrap_or_else(|_| {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let e = serde_path_to_error::deserialize::<_, T>(&mut deserializer)
            .err()
            .expect("the same JSON fails again");
        panic!(
            "embedded config is invalid: key `{}`: {}",
            e.path(),
            e.inner()
        )
    })
}

/// A tool's embedded default configuration: the commented YAML a user reads
/// (`--print-config`), and its JSON form made by the build script, which is
/// what runs parse (many times faster than YAML).
#[derive(Debug, Clone, Copy)]
pub struct Embedded<'a> {
    pub yaml: &'a str,
    pub json: &'a str,
}

/// The configuration: the file at `path` overlaid on the embedded default
/// when a file is given, else the embedded default (`T::default()`, which
/// each tool builds from [`embedded_json`]).
pub fn load<T: DeserializeOwned + Default>(
    path: Option<&Path>,
    embedded: Embedded<'_>,
) -> Result<T, ConfigError> {
    match path {
        None => Ok(T::default()),
        Some(path) => {
            let text = read(path)?;
            overlay(&path.display().to_string(), &text, embedded.json)
        }
    }
}

/// The effective configuration as YAML: the embedded YAML (with its comments)
/// without a file, else the file overlaid on it. Checked against `T`, so what
/// is printed is what the tool would run with.
pub fn effective_yaml<T: DeserializeOwned>(
    path: Option<&Path>,
    embedded: Embedded<'_>,
) -> Result<String, ConfigError> {
    let Some(path) = path else {
        return Ok(embedded.yaml.to_string());
    };
    let origin = path.display().to_string();
    let text = read(path)?;
    let merged = merged(&origin, &text, embedded.json)?;
    typed::<T>(&origin, &text, merged.clone())?;
    Ok(serde_yaml_ng::to_string(&merged).expect("a YAML value prints"))
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// `text` (from `origin`) merged onto the default `base_json` (an embedded
/// default's JSON form), read as `T`: maps are merged key by key, anything
/// else (lists included) is replaced, so a file names only what it changes.
pub fn overlay<T: DeserializeOwned>(
    origin: &str,
    text: &str,
    base_json: &str,
) -> Result<T, ConfigError> {
    typed(origin, text, merged(origin, text, base_json)?)
}

fn merged(origin: &str, text: &str, base_json: &str) -> Result<Value, ConfigError> {
    let over: Value = parse_yaml(origin, text)?;
    let mut base: Value =
        serde_json::from_str(base_json).expect("the embedded default's JSON form is valid");
    // An empty file (or one of comments only) changes nothing.
    if !over.is_null() {
        merge(&mut base, over);
    }
    Ok(base)
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, over) => *slot = over,
    }
}

/// Reads the merged value as `T`; an error names the key and, found in the
/// user's `text`, its line and column.
fn typed<T: DeserializeOwned>(origin: &str, text: &str, merged: Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(merged).map_err(|e| {
        let path = e.path().clone();
        let message = e.into_inner().to_string();
        let mut keys: Vec<Key> = path
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(Key::Name(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(Key::Index(*index)),
                _ => None,
            })
            .collect();
        // Where the path stops at the map holding an unknown key, the key is
        // only in the message.
        if let Some(unknown) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            if !matches!(keys.last(), Some(Key::Name(last)) if last == unknown) {
                keys.push(Key::Name(unknown.to_string()));
            }
        }
        let path = path.to_string();
        ConfigError::Invalid {
            origin: origin.to_string(),
            location: locate(text, &keys)
                .map(|(line, column)| format!(":{line}:{column}"))
                .unwrap_or_default(),
            key: if path.is_empty() || path == "." {
                String::new()
            } else {
                format!("key `{path}`: ")
            },
            message: bare_message(&message, &path),
        }
    })
}

enum Key {
    Name(String),
    Index(usize),
}

/// Where a key path is written in a block-style YAML text (1-based line and
/// column), for error messages: the value read from the merged document has
/// no positions of its own. `None` when the text does not spell it out
/// plainly (flow style, anchors), and the error names the key alone.
fn locate(text: &str, keys: &[Key]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut line, mut column): (usize, isize) = (0, -1);
    let mut found = None;
    for key in keys {
        let (at, col) = match key {
            Key::Name(name) => find_key(&lines, line, column, name)?,
            Key::Index(index) => find_item(&lines, line, column, *index)?,
        };
        (line, column) = (at, col as isize);
        found = Some((at + 1, col + 1));
    }
    found
}

/// Lines of content (not blank, not comments) from `start`, with their indent,
/// until the block of the parent at `parent_column` ends.
fn block<'a>(
    lines: &'a [&'a str],
    start: usize,
    parent_column: isize,
) -> impl Iterator<Item = (usize, usize, &'a str)> + 'a {
    lines
        .iter()
        .enumerate()
        .skip(start)
        .map(|(at, line)| {
            let content = line.trim_start();
            (at, line.len() - content.len(), content)
        })
        .filter(|(_, _, content)| !content.is_empty() && !content.starts_with('#'))
        .take_while(move |&(at, indent, _)| at == start || indent as isize > parent_column)
}

fn find_key(lines: &[&str], start: usize, parent: isize, name: &str) -> Option<(usize, usize)> {
    block(lines, start, parent).find_map(|(at, indent, content)| {
        // Keys may follow list dashes on the same line: `- key: value`.
        let key_text = content.trim_start_matches(['-', ' ']);
        let column = indent + content.len() - key_text.len();
        let spelled = [
            format!("{name}:"),
            format!("\"{name}\":"),
            format!("'{name}':"),
        ];
        (column as isize > parent && spelled.iter().any(|s| key_text.starts_with(s.as_str())))
            .then_some((at, column))
    })
}

fn find_item(lines: &[&str], start: usize, parent: isize, index: usize) -> Option<(usize, usize)> {
    let mut items = block(lines, start, parent)
        .filter(|&(_, indent, content)| indent as isize > parent && content.starts_with('-'));
    let (first, column, _) = items.next()?;
    std::iter::once((first, column))
        .chain(
            items
                .filter(|&(_, indent, _)| indent == column)
                .map(|(at, indent, _)| (at, indent)),
        )
        .nth(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sla {
        minutes: u32,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Conf {
        levels: Vec<Sla>,
    }

    #[test]
    fn error_names_origin_line_and_key() {
        let text = "levels:\n  - minutes: 10\n  - minutes: soon\n";
        let err = parse_yaml::<Conf>("my.yaml", text).unwrap_err().to_string();
        assert!(err.starts_with("my.yaml:3:"), "{err}");
        assert!(err.contains("levels[1].minutes"), "{err}");
        assert_eq!(
            err.matches("levels[1].minutes").count(),
            1,
            "the key is named once: {err}"
        );
        assert!(
            !err.contains(" at line "),
            "the position is given once: {err}"
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let text = "levels: []\nlevles: []\n";
        let err = parse_yaml::<Conf>("c.yaml", text).unwrap_err().to_string();
        assert!(err.contains("levles"), "{err}");
        assert!(err.starts_with("c.yaml:2:"), "{err}");
    }

    #[test]
    fn missing_file_says_so() {
        let err = load::<Conf>(
            Some(Path::new("/nonexistent/x.yaml")),
            Embedded {
                yaml: "levels: []",
                json: r#"{"levels":[]}"#,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.yaml"));
    }

    const DEFAULT: &str =
        "levels:\n  - minutes: 10\n  - minutes: 20\nnames:\n  low: 1\n  high: 3\n";
    const DEFAULT_JSON: &str =
        r#"{"levels":[{"minutes":10},{"minutes":20}],"names":{"low":1,"high":3}}"#;
    const EMBEDDED: Embedded = Embedded {
        yaml: DEFAULT,
        json: DEFAULT_JSON,
    };

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Named {
        levels: Vec<Sla>,
        names: std::collections::BTreeMap<String, u32>,
    }

    #[test]
    fn a_file_names_only_what_it_changes() {
        let named: Named = overlay(
            "mine.yaml",
            "names:\n  high: 5\n  urgent: 9\n",
            DEFAULT_JSON,
        )
        .unwrap();
        assert_eq!(named.levels.len(), 2, "untouched keys keep the default");
        assert_eq!(named.names["low"], 1, "maps merge key by key");
        assert_eq!((named.names["high"], named.names["urgent"]), (5, 9));
        let named: Named = overlay("mine.yaml", "levels:\n  - minutes: 5\n", DEFAULT_JSON).unwrap();
        assert_eq!(named.levels.len(), 1, "lists are replaced");
        let named: Named = overlay("empty.yaml", "# nothing yet\n", DEFAULT_JSON).unwrap();
        assert_eq!(named.names.len(), 2);
    }

    #[test]
    fn overlay_errors_name_the_line_of_the_users_file() {
        let text = "# mine\nnames:\n  high: 5\nlevels:\n  - minutes: 1\n  - minutes: soon\n";
        let err = overlay::<Named>("mine.yaml", text, DEFAULT_JSON)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mine.yaml:6:5: key `levels[1].minutes`"),
            "{err}"
        );
        let err = overlay::<Named>("mine.yaml", "names:\n  high: 5\nnmaes: {}\n", DEFAULT_JSON)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mine.yaml:3:1:") && err.contains("nmaes"),
            "{err}"
        );
        let err = overlay::<Named>("mine.yaml", "levels: [\n", DEFAULT_JSON)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mine.yaml:"),
            "syntax errors keep their position: {err}"
        );
    }

    #[test]
    fn effective_yaml_prints_the_merge_or_the_commented_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.yaml");
        std::fs::write(&path, "names:\n  high: 5\n").unwrap();
        let printed = effective_yaml::<Named>(Some(&path), EMBEDDED).unwrap();
        let named: Named = parse_yaml("printed", &printed).unwrap();
        assert_eq!((named.names["low"], named.names["high"]), (1, 5));
        assert_eq!(effective_yaml::<Named>(None, EMBEDDED).unwrap(), DEFAULT);
    }

    #[test]
    fn embedded_json_reads_the_typed_config() {
        let conf: Conf = embedded_json(r#"{"levels":[{"minutes":10}]}"#);
        assert_eq!(conf.levels[0].minutes, 10);
    }

    #[test]
    #[should_panic(expected = "key `levels[0].minutes`")]
    fn a_defective_embedded_config_names_the_key() {
        let _: Conf = embedded_json(r#"{"levels":[{"minutes":"soon"}]}"#);
    }
}
