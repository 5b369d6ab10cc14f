//! The memory a long ticket costs the whole chain is a small multiple of its
//! size (README: "Limits"). Measured as the growth of the process's peak
//! resident memory while one record goes through the chain, so it counts
//! everything every tool allocates, not only what one test thinks of.
//! Linux only: it resets and reads the peak through /proc, and samples the
//! resident size while the record is processed.
//!
//! One test in this binary, so no other test allocates at the same time.

use std::sync::atomic::{AtomicBool, Ordering};

use support_core::apply_to_record;
use support_core::{Context, Record};
use support_suite::chain::{pipeline, Resources, TriageConfig};

/// Words of real tickets in both languages, so every tool finds cues and
/// the categorizer many distinct features.
const WORDS: &[&str] = &[
    "no",
    "puedo",
    "acceder",
    "a",
    "mi",
    "cuenta",
    "desde",
    "ayer",
    "factura",
    "duplicada",
    "reembolso",
    "quiero",
    "hablar",
    "con",
    "una",
    "persona",
    "el",
    "servicio",
    "está",
    "caído",
    "the",
    "app",
    "crashes",
    "every",
    "time",
    "I",
    "open",
    "it",
    "please",
    "refund",
    "my",
    "order",
    "never",
    "arrived",
    "charged",
    "twice",
    "password",
    "reset",
    "doesn't",
    "work",
    "urgent",
    "angry",
    "thanks",
    "great",
    "terrible",
    "support",
    "waiting",
    "days",
    "card",
    "blocked",
    "transfer",
    "pending",
    "cancel",
    "subscription",
    "delivery",
    "late",
    "¡gracias!",
    "😡",
    ":(",
    "NADIE",
    "RESPONDE",
    "lawyer",
    "abogado",
    "contraseña",
    "envío",
];

/// About `bytes` of ticket-like text: sentences of pseudo-random words.
fn text(bytes: usize, seed: u64) -> String {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::with_capacity(bytes + 64);
    while out.len() < bytes {
        let n = 4 + next() % 12;
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
        }
        out.push_str(match next() % 4 {
            0 => ". ",
            1 => "!\n",
            2 => "? ",
            _ => ", ",
        });
    }
    out
}

fn status(key: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("{key} not in /proc/self/status"));
    let kb: usize = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

#[test]
#[cfg(target_os = "linux")]
fn a_long_ticket_costs_a_small_multiple_of_its_size() {
    let config: TriageConfig = support_core::config::parse_yaml("empty", "{}").unwrap();
    let chain = pipeline(config, &Resources::default()).unwrap();
    let ctx = Context {
        now: "2026-11-24T09:00:00Z".parse().unwrap(),
    };
    let run = |json: &[u8]| {
        let record = Record::parse(json).unwrap();
        apply_to_record(&chain, &record, &ctx).unwrap().len()
    };
    // Compiles every lexicon and loads the model before anything is measured.
    for language in ["es", "en"] {
        let warm = serde_json::json!({"subject": "hola", "language": language,
            "description": text(20_000, 7), "customer": {"tier": "vip"}});
        run(warm.to_string().as_bytes());
    }

    const SIZE: usize = 8 << 20;
    let one_field = serde_json::json!({
        "id": "long-description",
        "subject": "No puedo acceder",
        "description": text(SIZE, 42),
        "customer": {"tier": "premium"},
        "created_at": "2026-11-20T09:00:00Z",
        "messages": [{"role": "bot", "content": text(SIZE / 8, 5)}],
    });
    let messages: Vec<serde_json::Value> = (0..SIZE / 2_000)
        .map(|i| {
            let role = ["user", "agent", "user", "bot"][i % 4];
            serde_json::json!({"role": role, "content": text(2_000, i as u64 + 1)})
        })
        .collect();
    let transcript = serde_json::json!({
        "id": "long-transcript",
        "description": "Sigue sin funcionar",
        "messages": messages,
    });

    for ticket in [one_field, transcript] {
        let json = ticket.to_string().into_bytes();
        drop(ticket);
        // Resets the peak to the memory in use now.
        if std::fs::write("/proc/self/clear_refs", "5").is_err() {
            eprintln!("cannot reset the peak resident memory here; not measured");
            return;
        }
        let before = status("VmRSS:");
        // The allocator hands freed pages back with madvise, which the
        // kernel's peak does not always see: sample the resident size too.
        let done = AtomicBool::new(false);
        let (out, sampled) = std::thread::scope(|s| {
            let sampler = s.spawn(|| {
                let mut peak = 0;
                while !done.load(Ordering::Relaxed) {
                    peak = peak.max(status("VmRSS:"));
                    std::thread::sleep(std::time::Duration::from_micros(500));
                }
                peak
            });
            let out = run(&json);
            done.store(true, Ordering::Relaxed);
            (out, sampler.join().unwrap())
        });
        let growth = status("VmHWM:").max(sampled).saturating_sub(before);
        assert!(out > json.len(), "the text passes through");
        // The record's text and the output are a few times its size; the
        // analysis of at most ANALYSED_TEXT_BYTES is a constant. Before the
        // limit, this record cost 90 times its size.
        let bound = 4 * json.len() + (48 << 20);
        assert!(
            growth < bound,
            "a record of {} bytes grew the peak by {} bytes ({:.1}x), over {bound}",
            json.len(),
            growth,
            growth as f64 / json.len() as f64
        );
        eprintln!(
            "record of {} bytes: peak grew {} bytes ({:.2}x)",
            json.len(),
            growth,
            growth as f64 / json.len() as f64
        );
    }
}
