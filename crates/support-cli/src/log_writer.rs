//! The writer behind the logs: one event, one line.
//!
//! Logged values come from tickets, and a value with a line break would start
//! a line of its own on stderr. Kestra reads any line matching
//! `^::(\{.*})::$` on either stream as task outputs or metrics, so a ticket
//! could forge them; only `--kestra` may write such lines. Each event is
//! therefore written with its control characters (C0, DEL, C1) and the
//! Unicode line and paragraph separators escaped, JSON style (`\n`, `\r`,
//! `\t`, `\u001b`), keeping only the event's final line break. The escapes are
//! valid inside JSON strings, so JSON-format events stay JSON.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Wraps a [`MakeWriter`] so that every event it writes is one line.
pub(crate) struct OneLine<M> {
    inner: M,
    /// The formatter colours the text with ANSI sequences, so ESC passes
    /// (tracing-subscriber escapes ESC in logged values itself).
    ansi: bool,
}

impl<M> OneLine<M> {
    pub(crate) fn new(inner: M, ansi: bool) -> Self {
        OneLine { inner, ansi }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = EventWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter {
            event: Vec::new(),
            inner: self.inner.make_writer(),
            ansi: self.ansi,
        }
    }
}

/// Collects one event and writes it, escaped, when dropped.
pub(crate) struct EventWriter<W: Write> {
    event: Vec<u8>,
    inner: W,
    ansi: bool,
}

impl<W: Write> Write for EventWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.event.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for EventWriter<W> {
    fn drop(&mut self) {
        if self.event.is_empty() {
            return;
        }
        let line = one_line(&String::from_utf8_lossy(&self.event), self.ansi);
        // Nowhere left to report a failure to write the logs.
        let _ = self
            .inner
            .write_all(line.as_bytes())
            .and_then(|()| self.inner.flush());
    }
}

/// `event` on one line ending with a line break.
fn one_line(event: &str, ansi: bool) -> String {
    let body = event.strip_suffix('\n').unwrap_or(event);
    let mut line = String::with_capacity(event.len() + 1);
    for c in body.chars() {
        push_escaped(c, ansi, &mut line);
    }
    line.push('\n');
    line
}

/// A message printed on stderr beside the logs (`error: ...`): the line
/// breaks it was written with are kept, each line after the first indented
/// by two spaces, and every other control character escaped. No line of it
/// can therefore begin with `::`, whatever values it quotes.
pub(crate) fn message(level: &str, message: &str) -> String {
    let mut text = String::with_capacity(level.len() + message.len() + 3);
    text.push_str(level);
    text.push_str(": ");
    for c in message.trim_end_matches('\n').chars() {
        match c {
            '\n' => text.push_str("\n  "),
            c => push_escaped(c, false, &mut text),
        }
    }
    text.push('\n');
    text
}

fn push_escaped(c: char, keep_esc: bool, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x1b' if keep_esc => out.push(c),
        c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    const FORGED: &str = "x\n::{\"outputs\":{\"pwned\":1}}::\r\u{85}\u{2028}\u{1b}[2J\u{7}";

    #[test]
    fn a_message_keeps_its_lines_indented_so_none_can_start_a_kestra_line() {
        let text = message(
            "error",
            "refused x\n::{\"outputs\":{}}::\r\nhint: check it\n",
        );
        assert_eq!(
            text,
            "error: refused x\n  ::{\"outputs\":{}}::\\r\n  hint: check it\n"
        );
        assert!(text.lines().all(|line| !line.starts_with("::")));
    }

    #[test]
    fn control_characters_are_escaped_and_only_the_final_line_break_stays() {
        assert_eq!(
            one_line(&format!("WARN role={FORGED} done\n"), false),
            "WARN role=x\\n::{\"outputs\":{\"pwned\":1}}::\\r\\u0085\\u2028\\u001b[2J\\u0007 done\n"
        );
        assert_eq!(one_line("no final break", false), "no final break\n");
        assert_eq!(
            one_line("\u{1b}[33mWARN\u{1b}[0m a\tb\n", true),
            "\u{1b}[33mWARN\u{1b}[0m a\\tb\n",
            "the formatter's colours pass"
        );
    }

    /// A log sink for the test, shared with the subscriber.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn logged(json: bool) -> String {
        let sink = Sink::default();
        let make = {
            let sink = sink.clone();
            OneLine::new(move || sink.clone(), false)
        };
        let builder = tracing_subscriber::fmt().with_ansi(false).with_writer(make);
        let log = || {
            tracing::warn!(role = %FORGED, debug = ?FORGED, "invalid role {FORGED}");
            tracing::warn!("second");
        };
        if json {
            tracing::subscriber::with_default(builder.json().finish(), log);
        } else {
            tracing::subscriber::with_default(builder.finish(), log);
        }
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_logged_value_cannot_start_a_line_in_either_format() {
        for json in [false, true] {
            let logs = logged(json);
            let lines: Vec<&str> = logs
                .split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
                .collect();
            assert_eq!(lines.len(), 3, "two events, each one line: {logs:?}");
            assert!(lines.iter().all(|l| !l.starts_with("::")), "{logs}");
            assert!(lines[0].contains("pwned"), "{logs}");
            if json {
                let event: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
                assert_eq!(
                    event["fields"]["role"], FORGED,
                    "JSON keeps the value exactly"
                );
            }
        }
    }
}
