//! `Record::parse` on arbitrary bytes: never panics, and a record it accepts
//! writes back as valid JSON (`to_json`) with the same keys, and reads as a
//! map (`to_map`, which the runner uses for tickets with repeated keys).
//! Any JSON value the bytes hold is written by `json_out` (the writer of the
//! tools' results) byte for byte as serde_json writes it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use support_core::Record;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let mut ours = Vec::new();
        support_core::json_out::write(&value, &mut ours).expect("a Value always writes");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            serde_json::to_string(&value).expect("a Value always serializes"),
            "json_out differs from serde_json"
        );
    }
    let Ok(record) = Record::parse(data) else {
        return;
    };
    let keys: Vec<String> = record.iter().map(|(k, _)| k.to_string()).collect();
    let _ = record.get("id");
    let json = record.to_json();
    // RFC 8259 validity: IgnoredAny accepts lone surrogate escapes and numbers
    // out of f64 range, as the input may hold them.
    if let Err(e) = serde_json::from_slice::<IgnoredAny>(&json) {
        panic!(
            "to_json wrote invalid JSON ({e}): {}",
            String::from_utf8_lossy(&json)
        );
    }
    // Written back, it is the same record: same keys in the same order.
    let again = Record::parse(&json).expect("to_json output parses as a record");
    let keys_again: Vec<String> = again.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(keys, keys_again, "to_json changed the keys");
    let _ = record.to_map();
});
