//! Reading records from the three input forms every tool accepts: one JSON
//! object (pretty or not), a JSON array, or JSON Lines.
//!
//! Every form is streamed record by record with the same per-record limit:
//! a record over the limit is skipped unread and given as a `too_large`
//! error, so memory stays bounded whatever arrives. Arrays are split into
//! their elements by a scan of the text, never parsed whole. Every tool that
//! reads tickets reads them through [`Records`]: the stream tools (through
//! the runner), `support-store ingest` and `support-export`.

use std::io::{self, BufRead, Chain, Cursor, Read};

use serde::de::IgnoredAny;

use support_core::error::{ErrorKind, RecordError};

/// Records per batch and bytes per batch, whichever comes first.
pub(crate) const BATCH_RECORDS: usize = 1024;
pub(crate) const BATCH_BYTES: usize = 4 << 20;

/// The shape of the input, which the output keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One JSON value per line (also a single one-line object).
    Lines,
    /// A JSON array of records.
    Array,
    /// One object spread over several lines (pretty-printed).
    Document,
}

/// One record as read: where it was, and its bytes or why it cannot be read.
#[derive(Debug)]
pub struct RawRecord {
    /// 1-based line of the input (JSON Lines, counting blank lines; the first
    /// line of a document), or 1-based index in a JSON array.
    pub number: u64,
    /// The record's bytes, or the error that takes its place (over the
    /// limit, or a JSON array broken off around it).
    pub content: Result<Vec<u8>, RecordError>,
}

impl RawRecord {
    /// The record's bytes, or the error record's error.
    pub fn bytes(&self) -> Result<&[u8], RecordError> {
        self.content.as_deref().map_err(Clone::clone)
    }
}

/// The records of an input, in order, in whichever form it came.
pub struct Records<R> {
    input: Chain<Cursor<Vec<u8>>, R>,
    form: Form,
    max_record_bytes: usize,
    /// Lines read so far (JSON Lines) or elements started (array).
    count: u64,
    /// A record read while detecting the form, given out first.
    ready: Option<RawRecord>,
    done: bool,
}

impl<R: BufRead> Records<R> {
    /// Detects the form from the start of `input` (after a UTF-8 byte-order
    /// mark and blank space) and gets ready to read records of at most
    /// `max_record_bytes`. Only an I/O error fails.
    pub fn new(mut input: R, max_record_bytes: usize) -> io::Result<Self> {
        let (blank_lines, first) = skip_blank_start(&mut input)?;
        let mut start = Start {
            form: Form::Lines,
            count: 0,
            ready: None,
            done: first.is_none(),
            replay: Vec::new(),
        };
        match first {
            None => {}
            Some(b'[') => {
                input.consume(1);
                start.form = Form::Array;
            }
            Some(_) => {
                // Lines are numbered as they stand in the input, blank ones
                // included; an array's elements from 1.
                start.count = blank_lines;
                start.detect_document(&mut input, max_record_bytes)?;
            }
        }
        Ok(Records {
            input: Cursor::new(start.replay).chain(input),
            form: start.form,
            max_record_bytes,
            count: start.count,
            ready: start.ready,
            done: start.done,
        })
    }

    /// The form of the input.
    pub fn form(&self) -> Form {
        self.form
    }

    /// The next record, `None` at the end of the input.
    pub fn next_record(&mut self) -> io::Result<Option<RawRecord>> {
        if let Some(record) = self.ready.take() {
            return Ok(Some(record));
        }
        if self.done {
            return Ok(None);
        }
        match self.form {
            Form::Lines => self.next_line(),
            Form::Array => self.next_element(),
            Form::Document => Ok(None),
        }
    }

    /// The next records, up to 1,024 or 4 MiB; empty at the end.
    pub fn next_batch(&mut self) -> io::Result<Vec<RawRecord>> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while batch.len() < BATCH_RECORDS && bytes < BATCH_BYTES {
            let Some(record) = self.next_record()? else {
                break;
            };
            bytes += record.content.as_ref().map_or(0, Vec::len);
            batch.push(record);
        }
        Ok(batch)
    }

    fn next_line(&mut self) -> io::Result<Option<RawRecord>> {
        loop {
            let mut buf = Vec::new();
            let Some(read) = read_line(&mut self.input, &mut buf, self.max_record_bytes)? else {
                self.done = true;
                return Ok(None);
            };
            self.count += 1;
            let content = match read {
                LineRead::TooLarge(len) => return Ok(Some(too_large(self.count, len))),
                LineRead::Complete if buf.iter().all(u8::is_ascii_whitespace) => continue,
                LineRead::Complete => Ok(buf),
            };
            return Ok(Some(RawRecord {
                number: self.count,
                content,
            }));
        }
    }

    /// The next element of the array, or `None` after its closing `]`. A
    /// broken array gives one error record saying where it broke, then ends.
    fn next_element(&mut self) -> io::Result<Option<RawRecord>> {
        let Some(mut byte) = self.skip_whitespace()? else {
            return Ok(Some(
                self.broken("the array is not closed: it needs a `]` at the end"),
            ));
        };
        if byte == b']' && self.count == 0 {
            self.input.consume(1);
            return self.finish_array();
        }
        if self.count > 0 {
            match byte {
                b']' => {
                    self.input.consume(1);
                    return self.finish_array();
                }
                b',' => self.input.consume(1),
                other => {
                    let found = char::from(other).escape_default().to_string();
                    return Ok(Some(self.broken(&format!(
                        "expected `,` or `]` after element {}, found `{found}`",
                        self.count
                    ))));
                }
            }
            byte = match self.skip_whitespace()? {
                Some(b) if !matches!(b, b']' | b',') => b,
                _ => {
                    return Ok(Some(self.broken(&format!(
                        "expected an element after the `,` that follows element {}",
                        self.count
                    ))))
                }
            };
        }
        if matches!(byte, b',' | b'}' | b']' | b':') {
            return Ok(Some(self.broken("expected an element after `[`")));
        }
        self.count += 1;
        let (text, len, complete) = self.scan_value()?;
        if !complete {
            // Cut short by the end of the input: this element's parse says so.
            self.done = true;
        }
        Ok(Some(if len > self.max_record_bytes {
            too_large(self.count, len)
        } else {
            RawRecord {
                number: self.count,
                content: Ok(text),
            }
        }))
    }

    /// After the closing `]` only blank space may follow.
    fn finish_array(&mut self) -> io::Result<Option<RawRecord>> {
        self.done = true;
        match self.skip_whitespace()? {
            None => Ok(None),
            Some(_) => {
                self.count += 1;
                Ok(Some(RawRecord {
                    number: self.count,
                    content: Err(RecordError::new(
                        ErrorKind::InvalidJson,
                        "text after the array's closing `]`; give one array, or JSON Lines",
                    )),
                }))
            }
        }
    }

    /// Reads one JSON value's text: an object or array up to its matching
    /// close, a string up to its quote, a number or literal up to the next
    /// delimiter. Keeps at most the limit; gives the text, its full length,
    /// and whether it ended before the input did.
    fn scan_value(&mut self) -> io::Result<(Vec<u8>, usize, bool)> {
        let mut text = Vec::new();
        let mut len = 0usize;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escape = false;
        let mut started = false;
        loop {
            let buf = fill(&mut self.input)?;
            if buf.is_empty() {
                return Ok((text, len, false));
            }
            let mut end = None;
            for (i, &byte) in buf.iter().enumerate() {
                if in_string {
                    match (escape, byte) {
                        (true, _) => escape = false,
                        (false, b'\\') => escape = true,
                        (false, b'"') => {
                            in_string = false;
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                match byte {
                    b'"' => in_string = true,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n' if depth == 0 && started => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
                started = true;
            }
            let take = end.unwrap_or(buf.len());
            if len + take <= self.max_record_bytes {
                text.extend_from_slice(&buf[..take]);
            } else {
                text = Vec::new();
            }
            len += take;
            self.input.consume(take);
            if end.is_some() {
                return Ok((text, len, true));
            }
        }
    }

    /// Skips blank space; peeks the next byte, `None` at the end.
    fn skip_whitespace(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = fill(&mut self.input)?;
            let Some(&first) = buf.first() else {
                return Ok(None);
            };
            let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            if blank == 0 {
                return Ok(Some(first));
            }
            self.input.consume(blank);
        }
    }

    /// The error record of an array that breaks off here; nothing after it is read.
    fn broken(&mut self, why: &str) -> RawRecord {
        self.done = true;
        self.count += 1;
        RawRecord {
            number: self.count,
            content: Err(RecordError::new(
                ErrorKind::InvalidJson,
                format!("the JSON array breaks off: {why}; the elements before it were read"),
            )),
        }
    }
}

/// The error record of a record over the limit, which was skipped unread.
fn too_large(number: u64, len: usize) -> RawRecord {
    RawRecord {
        number,
        content: Err(RecordError::new(
            ErrorKind::TooLarge,
            format!("record is {len} bytes, over the limit; raise --max-record-bytes to accept it"),
        )),
    }
}

/// What the start of the input told: its form, and what was read to tell.
struct Start {
    form: Form,
    count: u64,
    ready: Option<RawRecord>,
    done: bool,
    /// Text read while detecting that is to be read again as lines.
    replay: Vec<u8>,
}

impl Start {
    /// A single object may be pretty-printed over many lines; JSON Lines has
    /// one complete value per line. The first line tells them apart: it is
    /// complete in JSON Lines, and ends early ("EOF while parsing") in a
    /// pretty object. Such an input is read whole (up to the limit) and
    /// taken as one document if it is one; otherwise the text read is read
    /// again as lines, so no record is lost.
    fn detect_document(&mut self, input: &mut impl BufRead, max: usize) -> io::Result<()> {
        let mut text = Vec::new();
        match read_line(input, &mut text, max)? {
            None => self.done = true,
            Some(LineRead::TooLarge(len)) => {
                self.count += 1;
                self.ready = Some(too_large(self.count, len));
            }
            Some(LineRead::Complete)
                if !serde_json::from_slice::<IgnoredAny>(&text)
                    .is_err_and(|e| e.classify() == serde_json::error::Category::Eof) =>
            {
                self.count += 1;
                self.ready = Some(RawRecord {
                    number: self.count,
                    content: Ok(text),
                });
            }
            Some(LineRead::Complete) => {
                text.push(b'\n');
                let limit = max.saturating_sub(text.len()) as u64 + 1;
                input.take(limit).read_to_end(&mut text)?;
                if text.len() <= max && serde_json::from_slice::<IgnoredAny>(&text).is_ok() {
                    self.form = Form::Document;
                    self.ready = Some(RawRecord {
                        number: self.count + 1,
                        content: Ok(text),
                    });
                    self.done = true;
                } else {
                    self.replay = text;
                }
            }
        }
        Ok(())
    }
}

/// `fill_buf`, tried again when a signal interrupts it.
fn fill(input: &mut impl BufRead) -> io::Result<&[u8]> {
    loop {
        match input.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    input.fill_buf()
}

/// Skips a UTF-8 byte-order mark and blank space; gives the number of line
/// ends skipped (so line numbers stay true) and peeks the first byte.
fn skip_blank_start(input: &mut impl BufRead) -> io::Result<(u64, Option<u8>)> {
    let mut lines = 0;
    let mut at_start = true;
    loop {
        let buf = fill(input)?;
        if buf.is_empty() {
            return Ok((lines, None));
        }
        let skip = if at_start && buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            buf.iter().take_while(|b| b.is_ascii_whitespace()).count()
        };
        at_start = false;
        if skip == 0 {
            return Ok((lines, Some(buf[0])));
        }
        lines += memchr::memchr_iter(b'\n', &buf[..skip]).count() as u64;
        input.consume(skip);
    }
}

enum LineRead {
    Complete,
    /// The line was longer than the limit; holds its full length.
    TooLarge(usize),
}

/// Reads one line into `buf` (without the newline and a CR before it),
/// keeping at most `max` bytes; the rest of an oversized line is skipped,
/// never held.
fn read_line(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<LineRead>> {
    let mut total = 0usize;
    let mut seen_any = false;
    loop {
        let available = fill(input)?;
        if available.is_empty() {
            return Ok(seen_any.then(|| finish_line(buf, total, max)));
        }
        seen_any = true;
        let (chunk, found_newline) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        let chunk_len = chunk.len();
        if total + chunk_len <= max {
            buf.extend_from_slice(chunk);
        } else {
            *buf = Vec::new();
        }
        total += chunk_len;
        input.consume(chunk_len + usize::from(found_newline));
        if found_newline {
            return Ok(Some(finish_line(buf, total, max)));
        }
    }
}

fn finish_line(buf: &mut Vec<u8>, total: usize, max: usize) -> LineRead {
    if total > max {
        *buf = Vec::new();
        LineRead::TooLarge(total)
    } else {
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        LineRead::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (number, text or error kind) of every record.
    fn read_all(input: &[u8], max: usize) -> (Form, Vec<(u64, String)>) {
        let mut records = Records::new(input, max).unwrap();
        let mut out = Vec::new();
        while let Some(record) = records.next_record().unwrap() {
            let shown = match record.content {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(err) => format!("{:?}", err.kind),
            };
            out.push((record.number, shown));
        }
        (records.form(), out)
    }

    fn texts(records: &[(u64, String)]) -> Vec<&str> {
        records.iter().map(|(_, text)| text.as_str()).collect()
    }

    #[test]
    fn lines_count_blank_lines_at_the_start_and_between() {
        let (form, records) = read_all(b"\n\r\n{\"a\":1}\n\n{\"b\":2}\r\n", 100);
        assert_eq!(form, Form::Lines);
        assert_eq!(
            records,
            [(3, "{\"a\":1}".to_string()), (5, "{\"b\":2}".to_string())]
        );
    }

    #[test]
    fn a_pretty_object_after_a_byte_order_mark_is_one_document() {
        let (form, records) = read_all(b"\xEF\xBB\xBF\n{\n  \"a\": [1,\n 2]\n}\n", 100);
        assert_eq!(form, Form::Document);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].0, 2);
    }

    #[test]
    fn a_cut_first_line_is_read_again_as_lines() {
        let (form, records) = read_all(b"{\"a\": \"cut\n{\"b\":2}\n", 100);
        assert_eq!(form, Form::Lines);
        assert_eq!(texts(&records), ["{\"a\": \"cut", "{\"b\":2}"]);
    }

    #[test]
    fn arrays_are_split_into_elements_of_any_type_and_nesting() {
        let input = br#" [ {"a":"x,]}\"y"} ,[1,[2]],"s\\",-1.5e999 ,null,{"b":{}}]  "#;
        let (form, records) = read_all(input, 100);
        assert_eq!(form, Form::Array);
        assert_eq!(
            texts(&records),
            [
                r#"{"a":"x,]}\"y"}"#,
                "[1,[2]]",
                r#""s\\""#,
                "-1.5e999",
                "null",
                r#"{"b":{}}"#
            ]
        );
        let numbers: Vec<u64> = records.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
        assert_eq!(read_all(b"[ ]", 100).1, []);
    }

    #[test]
    fn an_array_after_a_byte_order_mark_and_blank_lines_is_numbered_from_one() {
        let (form, records) = read_all(b"\xEF\xBB\xBF\n \n\r\n[{\"a\":1},\n{\"b\":2}]", 100);
        assert_eq!(form, Form::Array);
        assert_eq!(
            records,
            [(1, "{\"a\":1}".to_string()), (2, "{\"b\":2}".to_string())]
        );
    }

    #[test]
    fn an_element_over_the_limit_is_skipped_and_the_array_goes_on() {
        let input = format!("[{{\"a\":\"{}\"}},{{\"b\":1}}]", "x".repeat(500));
        let (_, records) = read_all(input.as_bytes(), 100);
        assert_eq!(texts(&records), ["TooLarge", "{\"b\":1}"]);
    }

    #[test]
    fn a_broken_array_keeps_what_came_before_and_says_where_it_broke() {
        for (input, expected) in [
            (
                &b"[{\"a\":1},{\"b\":2}"[..],
                vec!["{\"a\":1}", "{\"b\":2}", "InvalidJson"],
            ),
            (b"[{\"a\":1} {\"b\":2}]", vec!["{\"a\":1}", "InvalidJson"]),
            (b"[{\"a\":1},]", vec!["{\"a\":1}", "InvalidJson"]),
            (b"[,1]", vec!["InvalidJson"]),
            (b"[{\"a\":1}] x", vec!["{\"a\":1}", "InvalidJson"]),
            (b"[{\"a\":\"cut", vec!["{\"a\":\"cut"]),
        ] {
            let (_, records) = read_all(input, 100);
            assert_eq!(
                texts(&records),
                expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn batches_keep_every_record_in_order() {
        let input: String = (0..3000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
        let mut records = Records::new(input.as_bytes(), 100).unwrap();
        let mut numbers = Vec::new();
        loop {
            let batch = records.next_batch().unwrap();
            if batch.is_empty() {
                break;
            }
            assert!(batch.len() <= BATCH_RECORDS);
            numbers.extend(batch.iter().map(|r| r.number));
        }
        assert_eq!(numbers, (1..=3000).collect::<Vec<u64>>());
    }
}
