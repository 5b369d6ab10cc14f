//! Engine glue: what a run tells Kestra.

use support_runner::Summary;

/// The `--kestra` lines: a run's counts as Kestra task outputs and metrics.
/// Kestra reads single-line `::{...}::` from both streams of a script task;
/// they go to stderr so that stdout, usually the task's output file, stays JSON.
pub fn kestra_lines(tool: &str, summary: &Summary) -> String {
    let counts = [("records", summary.records), ("failed", summary.failed)];
    let outputs = serde_json::json!({ "outputs": serde_json::Map::from_iter(
        counts.map(|(name, value)| (name.to_owned(), value.into()))
    ) });
    let metrics = serde_json::json!({ "metrics": counts.map(|(name, value)| serde_json::json!(
        { "name": name, "type": "counter", "value": value, "tags": { "tool": tool } }
    )) });
    format!("::{outputs}::\n::{metrics}::\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kestra_lines_are_two_single_line_json_objects_kestra_matches() {
        let summary = Summary {
            records: 24,
            failed: 2,
            output_closed: false,
        };
        let text = kestra_lines("support-triage", &summary);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        // Kestra's pattern is ^::(\{.*})::$ on one line.
        let parsed: Vec<serde_json::Value> = lines
            .iter()
            .map(|line| {
                let inner = line.strip_prefix("::").and_then(|l| l.strip_suffix("::"));
                serde_json::from_str(inner.expect("framed by ::")).expect("JSON")
            })
            .collect();
        assert_eq!(
            parsed[0],
            serde_json::json!({"outputs": {"records": 24, "failed": 2}})
        );
        let metrics = parsed[1]["metrics"].as_array().expect("a list");
        assert_eq!(metrics.len(), 2);
        assert_eq!(metrics[1]["name"], "failed");
        assert_eq!(metrics[1]["value"], 2);
        assert_eq!(metrics[1]["type"], "counter");
        assert_eq!(metrics[1]["tags"]["tool"], "support-triage");
    }
}
