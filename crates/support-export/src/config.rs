//! The configuration: list lengths, the CSAT threshold and the report title.

use serde::Deserialize;

/// The embedded default (commented YAML), printed by `--print-config`.
pub const DEFAULT_CONFIG: &str = include_str!("../defaults/export.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/export.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    pub dashboard: DashboardConfig,
    pub csat: CsatConfig,
    pub report: ReportConfig,
}

impl Default for ExportConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    pub top_categories: usize,
    pub top_agents: usize,
    pub recent_feedback: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatConfig {
    /// A rating at or above this counts as satisfied.
    pub satisfied_from: u8,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    pub title: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_yaml_and_its_json_read_the_same() {
        let from_yaml: ExportConfig =
            support_core::config::parse_yaml("embedded", DEFAULT_CONFIG).unwrap();
        let from_json = ExportConfig::default();
        assert_eq!(format!("{from_yaml:?}"), format!("{from_json:?}"));
        assert_eq!(from_json.csat.satisfied_from, 4);
    }

    #[test]
    fn an_unknown_key_is_named() {
        let text = DEFAULT_CONFIG.replace("top_agents:", "top_agentz:");
        let err = support_core::config::parse_yaml::<ExportConfig>("my.yaml", &text).unwrap_err();
        assert!(err.to_string().contains("top_agentz"), "{err}");
    }
}
