use std::io::BufRead;
use support_core::{Context, Ticket, Tool};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let mode = std::env::args().nth(2).unwrap_or_default();
    let maps: Vec<serde_json::Map<String, serde_json::Value>> = std::io::BufReader::new(std::fs::File::open(path).unwrap())
        .lines().take(2000).map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let p = support_priority::Prioritizer::default();
    let ctx = Context { now: "2026-11-24T09:00:00Z".parse().unwrap() };
    let mut n = 0usize;
    for m in &maps {
        let t = Ticket::from_map(m).unwrap();
        if mode == "base" { n += t.customer_texts().count(); continue; }
        let out = p.decide(&t, &ctx).unwrap();
        n += serde_json::to_vec(&serde_json::to_value(out).unwrap()).unwrap().len();
    }
    println!("{n}");
}
