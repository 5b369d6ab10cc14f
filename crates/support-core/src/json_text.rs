//! Scanning JSON text without building it into values: where a string ends,
//! how deep it nests, and writing it compact or pretty. Values stay text so a
//! number such as `1e999` or a lone surrogate escape, which a parse into
//! `serde_json::Value` refuses, passes through as it was written.

use crate::json_out::write_str;

/// serde_json refuses input nested this deep; raw values are not parsed
/// into, so the record checks the nesting itself to refuse the same input.
pub(crate) const MAX_NESTING: usize = 128;

/// Whether arrays and objects nest `MAX_NESTING` deep or more anywhere in
/// `json`, which sits `depth` levels deep; serde_json refuses such input.
pub(crate) fn nested_too_deep(json: &[u8], mut depth: usize) -> bool {
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => i = string_end(json, i).0,
            b'[' | b'{' => {
                depth += 1;
                if depth >= MAX_NESTING {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

/// Index of the quote closing the string that opens at `start` (or the end
/// of `json` when it is cut short), and whether the string has escapes.
pub(crate) fn string_end(json: &[u8], start: usize) -> (usize, bool) {
    let mut escaped = false;
    let mut i = start + 1;
    while let Some(at) = memchr::memchr2(b'"', b'\\', json.get(i..).unwrap_or_default()) {
        i += at;
        if json[i] == b'"' {
            return (i, escaped);
        }
        escaped = true;
        i += 2;
    }
    (json.len(), escaped)
}

/// The top-level `id` (a string or a number) of an object's JSON text, found
/// by a scan that needs only the text up to it: the error record of a ticket
/// cut short, nested too deep or holding a key no Rust string can hold still
/// names the ticket.
pub fn top_level_id(json: &[u8]) -> Option<String> {
    let start = json.iter().position(|b| !b.is_ascii_whitespace())?;
    if json[start] != b'{' {
        return None;
    }
    let skip_blank = |mut i: usize| {
        while json.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let (mut depth, mut expect_key, mut i) = (0usize, false, start);
    while i < json.len() {
        match json[i] {
            b'"' => {
                let end = string_end(json, i).0;
                if depth == 1 && expect_key {
                    if json.get(i..=end) == Some(&b"\"id\""[..]) {
                        let value = skip_blank(end + 1);
                        if json.get(value) != Some(&b':') {
                            return None;
                        }
                        let value = skip_blank(value + 1);
                        let value_end = match json.get(value) {
                            Some(b'"') => string_end(json, value).0 + 1,
                            _ => {
                                value
                                    + json[value..]
                                        .iter()
                                        .take_while(|b| !b",}] \t\r\n".contains(b))
                                        .count()
                            }
                        };
                        return match serde_json::from_slice(json.get(value..value_end)?).ok()? {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        };
                    }
                    expect_key = false;
                }
                i = end;
            }
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Copies valid JSON without the whitespace between tokens; strings with
/// escapes are re-escaped as serde_json writes them. A string that does not
/// decode (a lone surrogate such as `"\ud800"`) is copied as it was written:
/// it is valid JSON text, only not a Rust string.
pub(crate) fn write_compact(json: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => {
                let (end, escaped) = string_end(json, i);
                let quoted = &json[i..=end.min(json.len() - 1)];
                match escaped.then(|| serde_json::from_slice::<String>(quoted)) {
                    Some(Ok(text)) => write_str(&text, out),
                    Some(Err(_)) | None => out.extend_from_slice(quoted),
                }
                i = end + 1;
            }
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
}

/// Writes compact JSON text indented as `serde_json::to_writer_pretty`
/// does (two spaces, `"key": value`, `[]` and `{}` when empty), starting
/// `level` levels deep. Nothing is parsed, so every value survives as written.
pub fn write_pretty(compact: &[u8], level: usize, out: &mut Vec<u8>) {
    let newline = |out: &mut Vec<u8>, level: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * level, b' ');
    };
    let mut level = level;
    let mut i = 0;
    while i < compact.len() {
        match compact[i] {
            b'"' => {
                let end = string_end(compact, i).0.min(compact.len() - 1);
                out.extend_from_slice(&compact[i..=end]);
                i = end;
            }
            open @ (b'[' | b'{') => {
                out.push(open);
                if matches!(compact.get(i + 1), Some(b']' | b'}')) {
                    out.push(compact[i + 1]);
                    i += 1;
                } else {
                    level += 1;
                    newline(out, level);
                }
            }
            close @ (b']' | b'}') => {
                level = level.saturating_sub(1);
                newline(out, level);
                out.push(close);
            }
            b',' => {
                out.push(b',');
                newline(out, level);
            }
            b':' => out.extend_from_slice(b": "),
            byte => out.push(byte),
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pretty(compact: &str) -> String {
        let mut out = Vec::new();
        write_pretty(compact.as_bytes(), 0, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pretty_text_matches_serde_json_pretty() {
        let value =
            json!({"a": [1, {"b": null, "c": "x,y:{}"}], "e": {}, "f": [], "g": "q\"[", "h": [[]]});
        let compact = serde_json::to_string(&value).unwrap();
        assert_eq!(
            pretty(&compact),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }

    #[test]
    fn values_a_parse_refuses_survive_compacting_and_indenting() {
        let mut compact = Vec::new();
        write_compact(br#"{ "n" : 1e999 , "s" : "\ud800 \u00e9" }"#, &mut compact);
        assert_eq!(compact, br#"{"n":1e999,"s":"\ud800 \u00e9"}"#);
        assert_eq!(
            pretty(std::str::from_utf8(&compact).unwrap()),
            "{\n  \"n\": 1e999,\n  \"s\": \"\\ud800 \\u00e9\"\n}"
        );
    }

    #[test]
    fn the_id_is_found_in_text_that_does_not_parse() {
        for (json, id) in [
            (&br#"{"id":"X","subject":"#[..], Some("X")),
            (
                br#" { "a" : {"id": 1}, "\udc00": 2, "id" : 42 , "x": [[["#,
                Some("42"),
            ),
            (br#"{"list":["id", "x"],"id":"a\"b"}"#, Some("a\"b")),
            (br#"{"meta":{"id":"inner"}}"#, None),
            (br#"["id", 1]"#, None),
            (br#"{"id":[1]}"#, None),
            (br#"{"id""#, None),
        ] {
            assert_eq!(
                top_level_id(json).as_deref(),
                id,
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn cut_short_text_never_panics() {
        for text in [&b"\"abc"[..], b"\"a\\", b"{\"a\":[", b"]]}", b"\""] {
            let mut out = Vec::new();
            write_compact(text, &mut out);
            write_pretty(text, 0, &mut out);
            nested_too_deep(text, 0);
            top_level_id(text);
        }
    }
}
