//! YAML configuration: embedded defaults, replaced by a file, with errors that
//! name the file, the line and the key.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

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

/// The file at `path` when one is given, else the embedded default
/// (`T::default()`, which each tool builds from [`embedded_json`]).
pub fn load<T: DeserializeOwned + Default>(path: Option<&Path>) -> Result<T, ConfigError> {
    match path {
        None => Ok(T::default()),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            parse_yaml(&path.display().to_string(), &text)
        }
    }
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
        let err = load::<Conf>(Some(Path::new("/nonexistent/x.yaml"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.yaml"));
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
