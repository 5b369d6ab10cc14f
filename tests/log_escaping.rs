//! A ticket cannot forge Kestra output lines through the logs: a value with a
//! line break (here an invalid `role`, quoted by the error that the runner
//! logs) stays inside its log line, in both log formats.

use std::process::Command;

use support_core::testing::output_with_stdin;

const TICKET: &str = r#"{"id":"T-1","subject":"hola","messages":[{"role":"x\n::{\"outputs\":{\"pwned\":1}}::\r\n::{\"metrics\":[]}::\u2028","text":"hola"}]}"#;

#[test]
fn a_value_with_line_breaks_cannot_start_a_kestra_line_on_stderr() {
    for format in ["text", "json"] {
        let output = output_with_stdin(
            Command::new(env!("CARGO_BIN_EXE_support-sentiment"))
                .args(["--log-format", format])
                .env("RUST_LOG", "debug"),
            format!("{TICKET}\n").as_bytes(),
        );
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains("pwned"),
            "the invalid role is logged ({format}):\n{stderr}"
        );
        // Any line terminator a reader might split on.
        for line in stderr.split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            assert!(
                !line.starts_with("::"),
                "a forged Kestra line ({format}): {line}\n{stderr}"
            );
            if format == "json" && line.starts_with('{') {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("not one JSON event per line ({e}): {line}"));
            }
        }
    }
}
