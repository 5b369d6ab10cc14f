//! Used by the tools' build scripts: their embedded default configuration is
//! YAML (commented, printed by `--print-config`), but parsing that YAML cost
//! most of a tool's start-up. The build converts it once to JSON, which the
//! tool parses many times faster (see `support_core::config::embedded_json`).
//!
//! The conversion is checked to be lossless, so the JSON reads exactly as the
//! YAML does: duplicate keys, tags, non-string keys and numbers JSON cannot
//! hold fail the build instead of being changed silently.

use std::path::Path;

use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;

/// For a build script: converts `yaml_path` (relative to the crate) to JSON
/// in `$OUT_DIR`, named after the YAML file (`defaults/tags.yaml` →
/// `$OUT_DIR/tags.json`). Panics, failing the build, if the YAML is invalid.
pub fn embed_default_config(yaml_path: &str) {
    println!("cargo::rerun-if-changed={yaml_path}");
    let text = std::fs::read_to_string(yaml_path)
        .unwrap_or_else(|e| panic!("cannot read {yaml_path}: {e}"));
    let json = yaml_to_json(&text).unwrap_or_else(|e| panic!("{yaml_path}: {e}"));
    let stem = Path::new(yaml_path)
        .file_stem()
        .expect("the config path names a file");
    let out_dir = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let out = Path::new(&out_dir).join(stem).with_extension("json");
    std::fs::write(&out, json).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// The YAML document as compact JSON with the same keys (in the same order)
/// and values.
pub fn yaml_to_json(yaml: &str) -> Result<String, String> {
    // Parsing to a `Value` refuses duplicate keys: a default must not have any.
    let value: Yaml = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    let json = convert(value, "")?;
    let text = json.to_string();
    // Floats go through text: make sure each one reads back as the same number.
    let reread: Json = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if reread != json {
        return Err("a number does not survive the conversion to JSON".to_string());
    }
    Ok(text)
}

/// Converts `value`, found at `path` (for errors).
fn convert(value: Yaml, path: &str) -> Result<Json, String> {
    Ok(match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                let f = n.as_f64().expect("a YAML number is an integer or a float");
                serde_json::Number::from_f64(f)
                    .map(Json::Number)
                    .ok_or_else(|| format!("`{path}`: {f} cannot be written in JSON"))?
            }
        }
        Yaml::String(s) => Json::String(s),
        Yaml::Sequence(items) => Json::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| convert(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(entries) => {
            let mut object = serde_json::Map::with_capacity(entries.len());
            for (key, item) in entries {
                let Yaml::String(key) = key else {
                    return Err(format!("`{path}`: key {key:?} is not a string"));
                };
                let item = convert(item, &format!("{path}.{key}"))?;
                object.insert(key, item);
            }
            Json::Object(object)
        }
        Yaml::Tagged(tagged) => {
            return Err(format!("`{path}`: tag {} is not supported", tagged.tag))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_values_keeping_key_order() {
        let yaml = "# comment\nz: [1, -2, 0.25, true, null, \"x\"]\na: {b: cancel*, c: []}\n";
        assert_eq!(
            yaml_to_json(yaml).unwrap(),
            r#"{"z":[1,-2,0.25,true,null,"x"],"a":{"b":"cancel*","c":[]}}"#
        );
    }

    #[test]
    fn refuses_what_json_would_read_differently() {
        for (yaml, expected) in [
            ("a: 1\na: 2\n", "duplicate"),
            ("a: {404: x}\n", "`.a`: key"),
            ("a: [!Tag x]\n", "`.a[0]`: tag"),
            ("a: .inf\n", "cannot be written"),
        ] {
            let err = yaml_to_json(yaml).unwrap_err();
            assert!(err.contains(expected), "{yaml:?}: {err}");
        }
    }
}
