//! Running a tool's process in tests, as a shell pipe would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `command` with `stdin` fed from a thread (a big input cannot deadlock
/// against a full stdout pipe) and collects its output. A tool that exits
/// before reading all of its input (a server that is down, say) is not an
/// error of the test: the closed pipe is ignored.
pub fn output_with_stdin(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().expect("wait for the process");
    feeder.join().expect("stdin feeder");
    output
}

/// The map of a JSON object (`json!({...})`), as `Ticket::from_map` reads it.
pub fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not a JSON object: {other}"),
    }
}

/// A tool that adds `{"echo": {"subject": ...}}`: a real stage without any
/// tool's dependencies, for tests of the runner and of hostile input.
pub struct Echo;

/// [`Echo`]'s result.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Echoed(pub serde_json::Value);

impl crate::ToolResult for Echoed {
    const KEY: &'static str = "echo";
}

impl crate::Tool for Echo {
    type Output = Echoed;

    fn decide(
        &self,
        ticket: &crate::Ticket<'_>,
        _: &crate::Context,
    ) -> Result<Echoed, crate::RecordError> {
        Ok(Echoed(serde_json::json!({ "subject": ticket.subject })))
    }
}
