//! Hostile input through every stream tool: a deterministic stream of mutated
//! tickets (seeded generator, from examples/tickets.jsonl) and the properties
//! the runner promises on it, whatever a line holds:
//!
//! - the process ends with code 1 (some records failed), never 101 (panic) nor a signal;
//! - exactly one output line per non-blank input line, in order;
//! - every output line is a JSON object: the ticket (same `id` as its input,
//!   its fields passed through, the tool's key added) or an error record whose
//!   `line` is the input line number (blank lines counted) and whose `id` is
//!   the input's when the input is a JSON object with a string or number `id`;
//! - an error record from an earlier tool passes through exactly as it came;
//! - lines that are not objects (truncated, `[1,2]`, ...) become error records;
//! - a JSON array of mutants gives an array of the same length back.
//!
//! "JSON" here is RFC 8259: a lone surrogate escape (`"\ud800"`), a number
//! out of f64 range (`1e999`) and nesting deeper than serde_json's limit are
//! valid JSON, so the outputs are read with the lenient parser below, not
//! serde_json (which refuses all three).
//!
//! Each property is its own test so a failure names it; all of them share one
//! run of each binary over the stream. A failure lists every offending line
//! with its mutation kind, so a fix can be checked against all of them.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::{examples_dir, run, tool_args, Run};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::{json, Map, Value};

/// Every binary that reads a ticket stream, and the key it adds: the
/// registry's tools, support-ml-predict, and support-triage.
static STREAM_TOOLS: std::sync::LazyLock<Vec<(&str, &str)>> = std::sync::LazyLock::new(|| {
    let mut tools: Vec<(&str, &str)> = support_suite::TOOLS
        .iter()
        .map(|tool| (tool.binary, tool.key))
        .collect();
    tools.extend([
        ("support-ml-predict", "predictions"),
        ("support-triage", "escalation"),
    ]);
    tools
});

const SEED: u64 = 0x5eed_7e57_2026_1124;
/// Mutated lines in the stream, besides blank lines and the huge ones.
const MUTANTS: usize = 300;

/// The arguments of `tool`: `--now` and, for the tools that route, `--agents`.
fn args(tool: &str) -> Vec<String> {
    tool_args(tool)
}

// ---------------------------------------------------------------------------
// The generator

/// One input line (or array item) and what the output must be for it.
#[derive(Clone)]
struct Mutant {
    kind: &'static str,
    /// The line without its line ending.
    bytes: Vec<u8>,
    /// Not a JSON object at all: the output must be an error record.
    must_fail: bool,
    /// An error record of an earlier tool: the output must be exactly it.
    passthrough: bool,
    /// Valid JSON, so it can also be an item of a JSON array.
    in_array: bool,
}

impl Mutant {
    fn new(kind: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        let parsed = lenient::parse(&bytes).ok();
        Mutant {
            kind,
            in_array: parsed.is_some(),
            must_fail: !matches!(parsed, Some(Value::Object(_))),
            passthrough: false,
            bytes,
        }
    }

    /// The input as a JSON object, where it is one (RFC 8259, lenient).
    fn object(&self) -> Option<Map<String, Value>> {
        match lenient::parse(&self.bytes) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// The `id` an error record must carry: the input's `id` when the input
    /// is a JSON object and its `id` a string or a number.
    fn readable_id(&self) -> Option<Value> {
        self.object()?
            .get("id")
            .filter(|id| id.is_string() || id.is_number())
            .cloned()
    }

    fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes);
        let short: String = text.chars().take(140).collect();
        if short.len() < text.len() {
            format!("{short}… ({} bytes)", self.bytes.len())
        } else {
            short
        }
    }
}

struct Rng(Xoshiro256PlusPlus);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn base_tickets() -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(examples_dir().join("tickets.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str(l).unwrap() {
            Value::Object(map) => map,
            _ => panic!("examples/tickets.jsonl holds objects"),
        })
        .collect()
}

fn compact(map: &Map<String, Value>) -> String {
    serde_json::to_string(map).unwrap()
}

/// Serializes `map`, then puts `raw` (JSON text serde_json would not write)
/// where the string `"@@RAW@@"` is.
fn with_raw(map: &Map<String, Value>, raw: &str) -> String {
    let text = compact(map);
    assert!(text.contains("\"@@RAW@@\""));
    text.replacen("\"@@RAW@@\"", raw, 1)
}

/// Inserts `bytes` inside the string value of `field` (after its opening quote).
fn inside_value(map: &Map<String, Value>, field: &str, bytes: &[u8]) -> Vec<u8> {
    let mut map = map.clone();
    map.insert(field.into(), json!("@@IN@@ café"));
    let text = compact(&map);
    let at = text.find("@@IN@@").unwrap();
    let mut out = text.as_bytes()[..at].to_vec();
    out.extend_from_slice(bytes);
    out.extend_from_slice(&text.as_bytes()[at + "@@IN@@".len()..]);
    out
}

const LONE_SURROGATES: &[&str] = &[
    r"\ud800",
    r"\udfff",
    r"a\ud83d",
    r"\ud83d\u0041",
    r"\udc00\ud800",
];
const BIG_NUMBERS: &[&str] = &["1e999", "-1e999", "1E400", "123456789e999999999"];

const PREVIOUS_ERRORS: &[&str] = &[
    r#"{"error":{"kind":"invalid_json","message":"expected value at line 1 column 1","line":3,"id":"X"}}"#,
    r#"{"error":{"kind":"invalid_field","message":"expected an RFC 3339 time","field":"created_at","line":17,"id":"T-9"}}"#,
    r#"{"error":{"kind":"no_text","message":"no subject, description, body or user message to read","line":12}}"#,
    r#"{"error":{"kind":"too_large","message":"record is 99999999 bytes, over the limit","line":2,"id":1042}}"#,
];

/// One mutant of `base` of the given kind.
fn mutate(kind: &'static str, base: &Map<String, Value>, rng: &mut Rng) -> Mutant {
    let mut t = base.clone();
    let m = |bytes: Vec<u8>| Mutant::new(kind, bytes);
    match kind {
        "good" => m(compact(&t).into()),
        "truncated" => {
            let text = compact(&t).into_bytes();
            let cut = 1 + rng.below(text.len() - 1);
            m(text[..cut].to_vec())
        }
        "subject_number" => {
            t.insert("subject".into(), json!(rng.below(100_000)));
            m(compact(&t).into())
        }
        "tier_array" => {
            t["customer"]["tier"] = json!(["vip", "free"]);
            m(compact(&t).into())
        }
        "customer_wrong_type" => {
            t.insert("customer".into(), json!(*rng.pick(&["vip", "7"])));
            m(compact(&t).into())
        }
        "created_at_garbage" => {
            let garbage = rng
                .pick(&[
                    json!("yesterday at noon"),
                    json!("2026-13-45T99:99:99Z"),
                    json!(1_700_000_000),
                    json!({"at": "now"}),
                    json!(""),
                ])
                .clone();
            t.insert("created_at".into(), garbage);
            m(compact(&t).into())
        }
        "messages_wrong" => {
            let wrong = rng
                .pick(&[
                    json!("nope"),
                    json!([{"role": "alien", "content": "hola"}]),
                    json!([{"role": "user", "content": 5}]),
                ])
                .clone();
            t.insert("messages".into(), wrong);
            m(compact(&t).into())
        }
        "id_not_scalar" => {
            t.insert("id".into(), json!({"x": 1}));
            m(compact(&t).into())
        }
        "invalid_utf8" => {
            let field = *rng.pick(&["description", "subject", "notes"]);
            let bytes = *rng.pick::<&[u8]>(&[b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"a\x80b"]);
            m(inside_value(&t, field, bytes))
        }
        "surrogate_known" => {
            let field = *rng.pick(&["subject", "description"]);
            let escape = rng.pick(LONE_SURROGATES);
            m(inside_value(&t, field, escape.as_bytes()))
        }
        "surrogate_customer" => {
            t["customer"]["tier"] = json!("@@RAW@@");
            let escape = rng.pick(LONE_SURROGATES);
            m(with_raw(&t, &format!("\"vip{escape}\"")).into())
        }
        "surrogate_unknown" => {
            t.insert("note".into(), json!("@@RAW@@"));
            let escape = rng.pick(LONE_SURROGATES);
            m(with_raw(&t, &format!("[\"x{escape}y\",{{\"k\":\"{escape}\"}}]")).into())
        }
        "surrogate_key" => {
            let text = compact(&t);
            m(format!("{{\"\\udc00\":1,{}", &text[1..]).into_bytes())
        }
        "big_number_unknown" => {
            t.insert("score".into(), json!("@@RAW@@"));
            m(with_raw(&t, rng.pick::<&str>(BIG_NUMBERS)).into())
        }
        "big_number_known" => {
            let field = *rng.pick(&["created_at", "subject", "channel"]);
            t.insert(field.into(), json!("@@RAW@@"));
            m(with_raw(&t, rng.pick::<&str>(BIG_NUMBERS)).into())
        }
        "nul" => {
            t.insert("subject".into(), json!("ayuda\u{0}urgente"));
            t.insert("raw".into(), json!("\u{0}\u{0}"));
            m(compact(&t).into())
        }
        "duplicate_keys" => {
            let text = compact(&t);
            m(format!(
                "{{\"id\":\"DUP-FIRST\",\"subject\":\"first\",\"x\":1,{},\"x\":2}}",
                &text[1..text.len() - 1]
            )
            .into_bytes())
        }
        "duplicate_customer_keys" => {
            t["customer"] = json!("@@RAW@@");
            m(with_raw(
                &t,
                r#"{"id":"C-1","tier":"free","id":"C-2","tier":"vip","tier":"premium"}"#,
            )
            .into())
        }
        "deep_unknown" => {
            t.insert("nested".into(), json!("@@RAW@@"));
            let raw = if rng.chance(50) {
                format!("{}1{}", "[".repeat(200), "]".repeat(200))
            } else {
                format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200))
            };
            m(with_raw(&t, &raw).into())
        }
        "deep_whole" => m(format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200)).into_bytes()),
        "previous_error" => {
            let mut mutant = m(rng.pick(PREVIOUS_ERRORS).as_bytes().to_vec());
            mutant.passthrough = true;
            mutant
        }
        "not_an_object" => m(rng
            .pick(&["[1,2]", "42", "\"text\"", "null", "true", "[]"])
            .as_bytes()
            .to_vec()),
        "garbage" => m(rng
            .pick(&["{not json", "}", "{\"a\":1}}", "{\"a\" 1}", "\u{7f}\u{1}"])
            .as_bytes()
            .to_vec()),
        "huge_unknown" => {
            let letters: String = (0..3 << 20)
                .map(|i| (b'a' + (i % 26) as u8) as char)
                .collect();
            t.insert("attachment".into(), json!(letters));
            m(compact(&t).into())
        }
        "huge_description" => {
            let text = t
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("ayuda")
                .to_string();
            let huge = format!("{text} ").repeat((512 << 10) / (text.len() + 1));
            t.insert("description".into(), json!(huge));
            m(compact(&t).into())
        }
        other => panic!("unknown kind {other}"),
    }
}

/// The kinds mixed into the stream at random (the huge ones are added apart).
const KINDS: &[&str] = &[
    "good",
    "good",
    "truncated",
    "subject_number",
    "tier_array",
    "customer_wrong_type",
    "created_at_garbage",
    "messages_wrong",
    "id_not_scalar",
    "invalid_utf8",
    "surrogate_known",
    "surrogate_customer",
    "surrogate_unknown",
    "surrogate_key",
    "big_number_unknown",
    "big_number_known",
    "nul",
    "duplicate_keys",
    "duplicate_customer_keys",
    "deep_unknown",
    "deep_whole",
    "previous_error",
    "not_an_object",
    "garbage",
];

/// One line of the stream: blank, or a mutant; and its line ending.
struct Line {
    mutant: Option<Mutant>,
    bytes: Vec<u8>,
    crlf: bool,
}

struct Stream {
    lines: Vec<Line>,
    bytes: Vec<u8>,
}

impl Stream {
    /// The non-blank lines, with their 1-based line numbers (blank lines counted).
    fn records(&self) -> Vec<(u64, &Mutant)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.mutant.as_ref().map(|m| (i as u64 + 1, m)))
            .collect()
    }
}

fn generate() -> Stream {
    let bases = base_tickets();
    let mut rng = Rng(Xoshiro256PlusPlus::seed_from_u64(SEED));
    let mut mutants: Vec<Mutant> = Vec::new();
    // Every kind at least once, then at random; the first record is a good
    // ticket so the stream reads as JSON Lines from the start.
    mutants.push(mutate("good", &bases[0], &mut rng));
    for kind in KINDS {
        let base = rng.pick(&bases).clone();
        mutants.push(mutate(kind, &base, &mut rng));
    }
    while mutants.len() < MUTANTS {
        let kind = *rng.pick(KINDS);
        let base = rng.pick(&bases).clone();
        mutants.push(mutate(kind, &base, &mut rng));
    }
    // Multi-MB strings: twice in an unknown field, once as the text (half a
    // MB: every tool reads it, and the debug binaries take seconds per MB).
    for kind in ["huge_unknown", "huge_unknown", "huge_description"] {
        let at = 2 + rng.below(mutants.len() - 2);
        let base = rng.pick(&bases).clone();
        mutants.insert(at, mutate(kind, &base, &mut rng));
    }
    // A byte-order mark and blank lines at the start, blank lines in the
    // middle, CRLF line endings here and there.
    let mut lines = vec![
        Line {
            mutant: None,
            bytes: b"\xEF\xBB\xBF".to_vec(),
            crlf: false,
        },
        Line {
            mutant: None,
            bytes: Vec::new(),
            crlf: true,
        },
        Line {
            mutant: None,
            bytes: b"   \t".to_vec(),
            crlf: false,
        },
    ];
    for mutant in mutants {
        if rng.chance(6) {
            let blank = *rng.pick::<&[u8]>(&[b"", b"  ", b"\t", b"\r"]);
            lines.push(Line {
                mutant: None,
                bytes: blank.to_vec(),
                crlf: rng.chance(30),
            });
        }
        lines.push(Line {
            bytes: mutant.bytes.clone(),
            mutant: Some(mutant),
            crlf: rng.chance(15),
        });
    }
    let mut bytes = Vec::new();
    for line in &lines {
        bytes.extend_from_slice(&line.bytes);
        bytes.extend_from_slice(if line.crlf { b"\r\n" } else { b"\n" });
    }
    Stream { lines, bytes }
}

fn stream() -> &'static Stream {
    static STREAM: OnceLock<Stream> = OnceLock::new();
    STREAM.get_or_init(generate)
}

/// One run of each tool over the stream, shared by the tests.
fn line_runs() -> &'static Vec<(&'static str, &'static str, Run)> {
    static RUNS: OnceLock<Vec<(&'static str, &'static str, Run)>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let stream = stream();
        STREAM_TOOLS
            .iter()
            .map(|&(tool, key)| {
                let args = args(tool);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                (tool, key, run(tool, &args, &stream.bytes))
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------
// Checking

/// Collected property violations; fails the test listing them all.
#[derive(Default)]
struct Violations {
    list: Vec<String>,
    by_kind: BTreeMap<String, usize>,
}

impl Violations {
    fn add(&mut self, tool: &str, at: &str, mutant: Option<&Mutant>, what: impl AsRef<str>) {
        let kind = mutant.map_or("-", |m| m.kind);
        *self.by_kind.entry(format!("{tool} / {kind}")).or_default() += 1;
        let input = mutant.map(|m| format!("\n      input: {}", m.excerpt()));
        self.list.push(format!(
            "{tool} {at} [{kind}]: {}{}",
            what.as_ref(),
            input.unwrap_or_default()
        ));
    }

    fn assert_none(self, property: &str) {
        if self.list.is_empty() {
            return;
        }
        let shown: Vec<&String> = self.list.iter().take(60).collect();
        let counts: Vec<String> = self
            .by_kind
            .iter()
            .map(|(k, n)| format!("  {k}: {n}"))
            .collect();
        panic!(
            "{property}: {} violations\nby tool / mutation kind:\n{}\nfirst ones:\n  {}",
            self.list.len(),
            counts.join("\n"),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
}

/// The output lines of a run, when there is exactly one per record, else a violation.
fn aligned<'r>(
    tool: &str,
    run: &'r Run,
    records: usize,
    violations: &mut Violations,
) -> Option<Vec<&'r [u8]>> {
    let out: Vec<&[u8]> = run
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    if out.len() == records {
        Some(out)
    } else {
        violations.add(
            tool,
            "stdout",
            None,
            format!(
                "{} output lines for {records} records (exit {}), so the lines cannot be matched; stderr: {}",
                out.len(),
                run.code,
                run.stderr.chars().take(600).collect::<String>()
            ),
        );
        None
    }
}

/// The error inside an error record `{"error": {...}}`, if `out` is one.
fn error_of(out: &Value) -> Option<&Map<String, Value>> {
    let obj = out.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    obj.get("error")?
        .as_object()
        .filter(|e| e.get("kind").is_some_and(Value::is_string))
}

/// What must hold for one output item given its input item numbered `number`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    IsObject,
    Line,
    Id,
    TicketId,
    Passthrough,
    MustFail,
    FieldsKept,
}

fn check_item(
    tool: &str,
    key: &str,
    number: u64,
    mutant: &Mutant,
    out: &[u8],
    check: Check,
    v: &mut Violations,
) {
    let at = format!("record at line/item {number}");
    let out_value = match lenient::parse(out) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) | Err(_) => {
            if check == Check::IsObject {
                let text = String::from_utf8_lossy(out);
                v.add(
                    tool,
                    &at,
                    Some(mutant),
                    format!(
                        "output is not a JSON object: {}",
                        text.chars().take(200).collect::<String>()
                    ),
                );
            }
            return;
        }
    };
    let error = error_of(&out_value);
    match check {
        Check::IsObject => {}
        Check::Passthrough => {
            if mutant.passthrough {
                let input = lenient::parse(&mutant.bytes).unwrap();
                if out_value != input {
                    v.add(
                        tool,
                        &at,
                        Some(mutant),
                        format!("the earlier error record came out as {out_value}"),
                    );
                }
            }
        }
        Check::MustFail => {
            if mutant.must_fail && error.is_none() {
                v.add(
                    tool,
                    &at,
                    Some(mutant),
                    "not a JSON object, yet no error record",
                );
            }
        }
        Check::Line => {
            let Some(error) = error.filter(|_| !mutant.passthrough) else {
                return;
            };
            if error.get("line") != Some(&json!(number)) {
                v.add(
                    tool,
                    &at,
                    Some(mutant),
                    format!(
                        "error record ({}) says line {:?}, the input is at {number}",
                        error["kind"],
                        error.get("line")
                    ),
                );
            }
        }
        Check::Id => {
            let Some(error) = error.filter(|_| !mutant.passthrough) else {
                return;
            };
            if let Some(id) = mutant.readable_id() {
                if error.get("id").map(id_text) != Some(id_text(&id)) {
                    v.add(
                        tool,
                        &at,
                        Some(mutant),
                        format!(
                            "error record ({}) has id {:?}, the input's id is {id}",
                            error["kind"],
                            error.get("id")
                        ),
                    );
                }
            }
        }
        Check::TicketId => {
            if error.is_some() {
                return;
            }
            if mutant.passthrough || mutant.must_fail {
                return; // the properties of their own tests
            }
            let obj = out_value.as_object().unwrap();
            if let Some(id) = mutant.readable_id() {
                if obj.get("id") != Some(&id) {
                    v.add(
                        tool,
                        &at,
                        Some(mutant),
                        format!("ticket has id {:?}, its input {id}", obj.get("id")),
                    );
                }
            }
            if !obj.contains_key(key) {
                v.add(
                    tool,
                    &at,
                    Some(mutant),
                    format!("ticket came out without `{key}`"),
                );
            }
        }
        Check::FieldsKept => {
            if error.is_some() || mutant.passthrough {
                return;
            }
            let (Some(input), Some(obj)) = (mutant.object(), out_value.as_object()) else {
                return;
            };
            for (field, value) in &input {
                if STREAM_TOOLS.iter().any(|(_, k)| k == field) {
                    continue;
                }
                if obj.get(field) != Some(value) {
                    let shown = obj
                        .get(field)
                        .map(|v| v.to_string().chars().take(120).collect::<String>());
                    v.add(
                        tool,
                        &at,
                        Some(mutant),
                        format!("field `{field}` changed on the way: {shown:?}"),
                    );
                }
            }
        }
    }
}

/// Error records carry the id as text or as the input's number.
fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks `check` on every record of every tool's run over the stream.
fn check_stream(property: &str, check: Check) {
    let records = stream().records();
    let mut v = Violations::default();
    for (tool, key, run) in line_runs() {
        let Some(out) = aligned(tool, run, records.len(), &mut v) else {
            continue;
        };
        for ((number, mutant), out) in records.iter().zip(out) {
            check_item(tool, key, *number, mutant, out, check, &mut v);
        }
    }
    v.assert_none(property);
}

// ---------------------------------------------------------------------------
// The properties, on JSON Lines

#[test]
fn the_stream_is_what_it_claims_to_be() {
    let s = stream();
    let records = s.records();
    assert!(records.len() > MUTANTS, "{}", records.len());
    let kinds: std::collections::BTreeSet<&str> = records.iter().map(|(_, m)| m.kind).collect();
    for kind in KINDS.iter().chain(&["huge_unknown", "huge_description"]) {
        assert!(kinds.contains(kind), "no {kind} in the stream");
    }
    assert!(s.bytes.starts_with(b"\xEF\xBB\xBF\n\r\n   \t\n"));
    assert!(s.lines.iter().skip(4).any(|l| l.mutant.is_none()));
    assert!(s.lines.iter().any(|l| l.crlf && l.mutant.is_some()));
    assert!(records.iter().any(|(_, m)| m.passthrough));
    // The generator is deterministic: same seed, same bytes.
    assert_eq!(generate().bytes, s.bytes);
}

#[test]
fn no_tool_crashes_and_each_exits_1() {
    let mut v = Violations::default();
    for (tool, _, run) in line_runs() {
        if run.code < 0 {
            v.add(tool, "process", None, "killed by a signal");
        } else if run.code != 1 {
            v.add(
                tool,
                "process",
                None,
                format!("exit code {}, expected 1 (some records failed)", run.code),
            );
        }
        if run.stderr.contains("panicked") || run.stderr.contains("RUST_BACKTRACE") {
            let panic_line = run
                .stderr
                .lines()
                .skip_while(|l| !l.contains("panicked"))
                .take(3)
                .collect::<Vec<_>>()
                .join(" | ");
            v.add(tool, "process", None, format!("panicked: {panic_line}"));
        }
    }
    v.assert_none("no crash, exit code 1");
}

#[test]
fn one_output_line_per_non_blank_input_line() {
    let records = stream().records().len();
    let mut v = Violations::default();
    for (tool, _, run) in line_runs() {
        aligned(tool, run, records, &mut v);
    }
    v.assert_none("one output line per non-blank input line");
}

#[test]
fn every_output_line_is_a_json_object() {
    check_stream("every output line is a JSON object", Check::IsObject);
}

#[test]
fn error_records_name_the_input_line_counting_blank_lines() {
    check_stream(
        "error records: `line` is the input line, blank lines (and a BOM line) counted",
        Check::Line,
    );
}

#[test]
fn error_records_carry_the_input_id_where_readable() {
    check_stream(
        "error records: `id` is the input's where the input is a JSON object with a string or number `id`",
        Check::Id,
    );
}

#[test]
fn tickets_keep_their_id_and_get_the_tool_key() {
    check_stream(
        "tickets keep their id and get the tool's key",
        Check::TicketId,
    );
}

#[test]
fn ticket_fields_pass_through_unchanged() {
    check_stream(
        "every input field of a ticket comes out with the same value",
        Check::FieldsKept,
    );
}

#[test]
fn an_earlier_error_record_passes_through_unchanged() {
    check_stream(
        "an error record of an earlier tool passes through unchanged",
        Check::Passthrough,
    );
}

#[test]
fn lines_that_are_not_objects_become_error_records() {
    check_stream(
        "truncated lines and non-objects become error records",
        Check::MustFail,
    );
}

// ---------------------------------------------------------------------------
// The JSON array form

#[test]
fn an_array_of_mutants_gives_an_array_of_the_same_length() {
    let items: Vec<Mutant> = {
        let mut seen = std::collections::BTreeSet::new();
        let mut items: Vec<Mutant> = stream()
            .records()
            .into_iter()
            .map(|(_, m)| m)
            .filter(|m| m.in_array && m.bytes.len() < 100_000)
            .filter(|m| seen.insert(m.kind) || seen.len() > 20 && m.bytes.len() < 2_000)
            .take(60)
            .cloned()
            .collect();
        items.push(Mutant::new("not_an_object", "42"));
        items
    };
    assert!(items.iter().any(|m| m.passthrough));
    let mut array = b"[\n".to_vec();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            array.extend_from_slice(b",\n");
        }
        array.extend_from_slice(&item.bytes);
    }
    array.extend_from_slice(b"\n]\n");

    let mut v = Violations::default();
    for &(tool, key) in STREAM_TOOLS.iter() {
        let args = args(tool);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(tool, &args, &array);
        if r.code != 1 || r.stderr.contains("panicked") {
            v.add(
                tool,
                "array run",
                None,
                format!(
                    "exit code {}, expected 1; stderr: {}",
                    r.code,
                    r.stderr.chars().take(600).collect::<String>()
                ),
            );
        }
        let out = match lenient::parse(&r.stdout) {
            Ok(Value::Array(out)) => out,
            _ => {
                v.add(tool, "array run", None, "stdout is not a JSON array");
                continue;
            }
        };
        if out.len() != items.len() {
            v.add(
                tool,
                "array run",
                None,
                format!("{} items out for {} in", out.len(), items.len()),
            );
            continue;
        }
        for (i, (item, out)) in items.iter().zip(&out).enumerate() {
            let text = serde_json::to_vec(out).unwrap();
            for check in [
                Check::IsObject,
                Check::Line,
                Check::Id,
                Check::TicketId,
                Check::Passthrough,
                Check::MustFail,
            ] {
                // The lenient parse turned lone surrogates into U+FFFD; the
                // re-serialized item is what serde_json reads back.
                check_item(tool, key, i as u64 + 1, item, &text, check, &mut v);
            }
        }
    }
    v.assert_none("a JSON array gives an array of the same length, item by item");
}

// ---------------------------------------------------------------------------
// Regressions at the library level: each failure the stream or the fuzzers
// found, as the smallest input, through `Record` and `runner::run` directly.

mod regressions {
    use serde_json::{json, Value};
    use support_core::testing::Echo;
    use support_core::{Context, Record};
    use support_runner::{run, RunOptions};

    use super::{common, lenient};

    /// The run's output and whether it was an input error.
    fn run_echo(input: &[u8]) -> Result<Vec<u8>, String> {
        let opts = RunOptions {
            ctx: Context {
                now: common::NOW.parse().unwrap(),
            },
            max_record_bytes: 1 << 20,
            threads: 2,
        };
        let mut out = Vec::new();
        run(&Echo, &opts, input, &mut out, None).map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn lines(out: &[u8]) -> Vec<Value> {
        out.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| lenient::parse(l).expect("an output line is JSON"))
            .collect()
    }

    /// Fuzz `record` and the stream (every tool exited 101): a string with a
    /// lone surrogate escape is accepted by `Record::parse` (serde_json's
    /// RawValue does not check surrogates) and `to_json` panicked re-escaping
    /// it ("the record holds valid JSON: lone leading surrogate in hex
    /// escape", record.rs `write_compact`), outside the runner's catch_unwind.
    #[test]
    fn a_lone_surrogate_escape_writes_back_as_json() {
        for json in [
            r#"{"id":"S","note":"x\ud800y"}"#,
            r#"{"id":"S","note":["\udfff"]}"#,
            r#"{"\udc00":1,"subject":"a"}"#,
            r#"{"id":"S","subject":"ayuda\ud83d"}"#,
        ] {
            if let Ok(record) = Record::parse(json.as_bytes()) {
                let out = record.to_json();
                assert!(lenient::parse(&out).is_ok(), "{json} wrote {out:?}");
            }
        }
    }

    /// The same through the runner: the stream goes on, one line per record.
    #[test]
    fn a_lone_surrogate_in_any_field_gives_one_line_and_the_stream_goes_on() {
        let input = concat!(
            r#"{"id":"A","subject":"hola","note":"x\ud800y"}"#,
            "\n",
            r#"{"id":"B","subject":"caf\udc00"}"#,
            "\n",
            r#"{"id":"C","subject":"hola"}"#,
            "\n"
        );
        let out = lines(&run_echo(input.as_bytes()).unwrap());
        assert_eq!(out.len(), 3, "{out:?}");
        for (v, id) in out.iter().zip(["A", "B", "C"]) {
            let got = v.get("id").or_else(|| v["error"].get("id"));
            assert_eq!(got, Some(&json!(id)), "{v}");
        }
        assert_eq!(out[2]["echo"]["subject"], "hola");
    }

    /// A number out of f64 range is valid JSON and passes through as written;
    /// with a key repeated inside `customer` the runner read the ticket
    /// through `Record::to_map`, which panicked on `1e999` (caught: the ticket
    /// became a `failed` "internal error" record).
    #[test]
    fn a_number_out_of_range_passes_through_even_with_a_repeated_customer_key() {
        for input in [
            r#"{"id":"N","subject":"hola","score":1e999}"#,
            r#"{"id":"N","subject":"hola","customer":{"tier":"x","tier":"vip"},"score":1e999}"#,
            r#"{"id":"N","subject":"hola","customer":{"tier":"vip","tier":"vip","n":-1e999}}"#,
        ] {
            let out = lines(&run_echo(input.as_bytes()).unwrap());
            assert_eq!(out.len(), 1);
            assert_eq!(out[0]["echo"]["subject"], "hola", "{input} gave {}", out[0]);
        }
    }

    /// Fuzz `record`, crash-6225fe94ea91fa543437d80b8c5351f78b6df1e4: on the
    /// code before the streaming reader, `Record::to_map` panicked ("the
    /// record holds valid JSON": number out of range) on a record
    /// `Record::parse` had accepted. Now it reads what it can (the fields
    /// serde_json cannot hold are left out of the map).
    #[test]
    fn a_record_with_a_number_out_of_range_reads_as_a_map() {
        let json = br#"{"id":7,"score":1e999,"low":-1E400,"n":123456789012345678901234567890,"f":-0.0e-0}"#;
        let record = Record::parse(json).expect("valid JSON (RFC 8259)");
        // The map is the typed view's source; the output is `to_json`, which
        // keeps every field as written.
        let map = record.to_map();
        assert_eq!(map["id"], 7);
        let out = record.to_json();
        let back = lenient::parse(&out).expect("to_json writes JSON");
        assert_eq!(back, lenient::parse(json).unwrap());
    }

    /// An error record carries the id of a JSON object whose `id` can be
    /// read, whatever else in it is refused: here nesting past the limit in
    /// another field, and a key that is a lone surrogate.
    #[test]
    fn the_error_record_of_a_readable_object_carries_its_id() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let input = format!(
            "{{\"id\":\"D\",\"subject\":\"d\",\"x\":{deep}}}\n{}\n",
            r#"{"\udc00":1,"id":"K","subject":"k"}"#
        );
        let out = lines(&run_echo(input.as_bytes()).unwrap());
        assert_eq!(out.len(), 2);
        for (v, id) in out.iter().zip(["D", "K"]) {
            let got = v.get("id").or_else(|| v["error"].get("id"));
            assert_eq!(got, Some(&json!(id)), "{v}");
        }
    }

    /// Blank lines before the first record count in `line` like any other.
    #[test]
    fn leading_blank_lines_count_in_error_line_numbers() {
        for (input, line) in [
            (&b"\n\n{not json\n"[..], 3),
            (b"\xEF\xBB\xBF\n  \r\n{\"subject\":\"a\"}\n{}\n", 4),
            (b"\r\n\t\n{\"subject\":\"a\"}\n\n[1]\n", 5),
        ] {
            let out = lines(&run_echo(input).unwrap());
            let errors: Vec<&Value> = out.iter().filter(|v| v.get("error").is_some()).collect();
            assert_eq!(errors.len(), 1, "{out:?}");
            assert_eq!(
                errors[0]["error"]["line"],
                line,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// An error record of an earlier tool is passed on as it came, not
    /// turned into a `no_text` error of this one.
    #[test]
    fn an_earlier_error_record_passes_through_the_runner_unchanged() {
        let earlier = r#"{"error":{"kind":"invalid_json","message":"expected value at line 1 column 1","field":"subject","line":3,"id":"X"}}"#;
        let input = format!("{{\"subject\":\"a\"}}\n{earlier}\n{{\"subject\":\"b\"}}\n");
        let out = lines(&run_echo(input.as_bytes()).unwrap());
        assert_eq!(out.len(), 3);
        assert_eq!(out[1], lenient::parse(earlier.as_bytes()).unwrap());
        let array = format!("[{{\"subject\":\"a\"}},{earlier}]");
        let out = lenient::parse(&run_echo(array.as_bytes()).unwrap()).unwrap();
        assert_eq!(out[1], lenient::parse(earlier.as_bytes()).unwrap());
    }

    /// One item nested too deep is that item's error, not the whole array's
    /// (the runner refused any array holding 128 levels anywhere).
    #[test]
    fn an_array_with_one_deep_item_gives_an_array_of_the_same_length() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let input = format!(
            r#"[{{"id":"A","subject":"a"}},{{"id":"D","subject":"d","x":{deep}}},{{"id":"C","subject":"c"}}]"#
        );
        let out = run_echo(input.as_bytes()).expect("the array is valid JSON");
        let out = lenient::parse(&out).unwrap();
        let items = out.as_array().expect("an array");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["echo"]["subject"], "a");
        assert_eq!(items[2]["echo"]["subject"], "c");
    }
}

// ---------------------------------------------------------------------------
// The lenient reader of outputs

/// An RFC 8259 JSON reader that, unlike serde_json, accepts what RFC 8259
/// accepts: lone surrogate escapes (read as U+FFFD), numbers out of f64 range
/// (kept as the string "number:<text>"), and any nesting depth up to 10,000.
/// A repeated key keeps its first place and its last value, as the runner does.
mod lenient {
    use serde_json::{Map, Number, Value};

    pub fn parse(bytes: &[u8]) -> Result<Value, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        let mut p = Parser {
            s: text.as_bytes(),
            text,
            i: 0,
            depth: 0,
        };
        p.ws();
        let value = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing characters at byte {}", p.i));
        }
        Ok(value)
    }

    struct Parser<'a> {
        s: &'a [u8],
        text: &'a str,
        i: usize,
        depth: usize,
    }

    impl Parser<'_> {
        fn err<T>(&self, what: &str) -> Result<T, String> {
            Err(format!("{what} at byte {}", self.i))
        }

        fn ws(&mut self) {
            while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }

        fn eat(&mut self, b: u8) -> Result<(), String> {
            if self.s.get(self.i) == Some(&b) {
                self.i += 1;
                Ok(())
            } else {
                self.err(&format!("expected `{}`", b as char))
            }
        }

        fn value(&mut self) -> Result<Value, String> {
            match self.s.get(self.i) {
                Some(b'{') => self.object(),
                Some(b'[') => self.array(),
                Some(b'"') => self.string().map(Value::String),
                Some(b't') => self.literal("true", Value::Bool(true)),
                Some(b'f') => self.literal("false", Value::Bool(false)),
                Some(b'n') => self.literal("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => self.err("expected a value"),
            }
        }

        fn nest(&mut self) -> Result<(), String> {
            self.depth += 1;
            if self.depth > 10_000 {
                return self.err("nested too deep for the test's reader");
            }
            self.i += 1;
            self.ws();
            Ok(())
        }

        fn object(&mut self) -> Result<Value, String> {
            self.nest()?;
            let mut map = Map::new();
            if self.s.get(self.i) == Some(&b'}') {
                self.i += 1;
                self.depth -= 1;
                return Ok(Value::Object(map));
            }
            loop {
                self.ws();
                if self.s.get(self.i) != Some(&b'"') {
                    return self.err("expected a key");
                }
                let key = self.string()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                let value = self.value()?;
                map.insert(key, value);
                self.ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        self.depth -= 1;
                        return Ok(Value::Object(map));
                    }
                    _ => return self.err("expected `,` or `}`"),
                }
            }
        }

        fn array(&mut self) -> Result<Value, String> {
            self.nest()?;
            let mut items = Vec::new();
            if self.s.get(self.i) == Some(&b']') {
                self.i += 1;
                self.depth -= 1;
                return Ok(Value::Array(items));
            }
            loop {
                self.ws();
                items.push(self.value()?);
                self.ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        self.depth -= 1;
                        return Ok(Value::Array(items));
                    }
                    _ => return self.err("expected `,` or `]`"),
                }
            }
        }

        fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(value)
            } else {
                self.err("invalid literal")
            }
        }

        fn digits(&mut self) -> usize {
            let start = self.i;
            while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            self.i - start
        }

        fn number(&mut self) -> Result<Value, String> {
            let start = self.i;
            if self.s[self.i] == b'-' {
                self.i += 1;
            }
            match self.s.get(self.i) {
                Some(b'0') => self.i += 1,
                Some(b'1'..=b'9') => {
                    self.digits();
                }
                _ => return self.err("invalid number"),
            }
            if self.s.get(self.i) == Some(&b'.') {
                self.i += 1;
                if self.digits() == 0 {
                    return self.err("invalid number");
                }
            }
            if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if self.digits() == 0 {
                    return self.err("invalid number");
                }
            }
            let text = &self.text[start..self.i];
            Ok(match text.parse::<Number>() {
                Ok(n) => Value::Number(n),
                Err(_) => Value::String(format!("number:{text}")),
            })
        }

        fn hex4(&mut self) -> Result<u16, String> {
            let hex = self.text.get(self.i..self.i + 4).unwrap_or("");
            let n = u16::from_str_radix(hex, 16).or_else(|_| self.err("invalid \\u escape"))?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return self.err("invalid \\u escape");
            }
            self.i += 4;
            Ok(n)
        }

        fn string(&mut self) -> Result<String, String> {
            self.i += 1; // the opening quote
            let mut out = String::new();
            loop {
                let start = self.i;
                while !matches!(self.s.get(self.i), None | Some(b'"' | b'\\' | 0..=0x1f)) {
                    self.i += 1;
                }
                out.push_str(&self.text[start..self.i]);
                match self.s.get(self.i) {
                    Some(b'"') => {
                        self.i += 1;
                        return Ok(out);
                    }
                    Some(b'\\') => {
                        self.i += 1;
                        let Some(&c) = self.s.get(self.i) else {
                            return self.err("unfinished escape");
                        };
                        self.i += 1;
                        match c {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let unit = self.hex4()?;
                                out.push(self.code_point(unit)?);
                            }
                            _ => return self.err("invalid escape"),
                        }
                    }
                    Some(_) => return self.err("control character in a string"),
                    None => return self.err("unterminated string"),
                }
            }
        }

        /// The character of a `\u` escape, joining a surrogate pair; a lone
        /// surrogate reads as U+FFFD.
        fn code_point(&mut self, unit: u16) -> Result<char, String> {
            match unit {
                0xD800..=0xDBFF => {
                    if self.s[self.i..].starts_with(b"\\u") {
                        let save = self.i;
                        self.i += 2;
                        let low = self.hex4()?;
                        if (0xDC00..=0xDFFF).contains(&low) {
                            let c = 0x10000
                                + ((u32::from(unit) - 0xD800) << 10)
                                + (u32::from(low) - 0xDC00);
                            return Ok(char::from_u32(c).unwrap());
                        }
                        self.i = save; // the next escape is read on its own
                    }
                    Ok('\u{FFFD}')
                }
                0xDC00..=0xDFFF => Ok('\u{FFFD}'),
                _ => Ok(char::from_u32(u32::from(unit)).unwrap()),
            }
        }
    }

    #[test]
    fn reads_what_rfc_8259_allows_and_serde_json_refuses() {
        let v = parse(br#"{"a":"x\ud800y","b":1e999,"a":[1,"\ud83d\ude00"]}"#).unwrap();
        assert_eq!(v["a"][1], "😀");
        assert_eq!(v["b"], "number:1e999");
        assert_eq!(v.as_object().unwrap().keys().next().unwrap(), "a");
        assert_eq!(parse(br#""\ud800\u0041""#).unwrap(), "\u{FFFD}A");
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        assert!(parse(deep.as_bytes()).is_ok());
        for bad in [
            &b"{\"a\":1"[..],
            b"{\"a\" 1}",
            b"[1,]",
            b"\"\xff\"",
            b"01",
            b"1.",
            b"\"a\nb\"",
            b"{} x",
            b"",
        ] {
            assert!(
                parse(bad).is_err(),
                "accepted {}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
