use std::io::BufRead;
use std::time::Instant;
use support_core::{Context, Ticket, Tool};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let maps: Vec<serde_json::Map<String, serde_json::Value>> = std::io::BufReader::new(std::fs::File::open(path).unwrap())
        .lines().take(20000).map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let p = support_priority::Prioritizer::default();
    let ctx = Context { now: "2026-11-24T09:00:00Z".parse().unwrap() };
    for round in 0..3 {
        let t = Instant::now();
        let mut n = 0usize;
        for m in &maps { let t = Ticket::from_map(m).unwrap(); let out = p.decide(&t, &ctx).unwrap(); n += out.reasons.len(); }
        let decide = t.elapsed();
        let t = Instant::now();
        for m in &maps { let t = Ticket::from_map(m).unwrap(); let out = p.decide(&t, &ctx).unwrap(); n += serde_json::to_vec(&serde_json::to_value(out).unwrap()).unwrap().len(); }
        let with_ser = t.elapsed();
        let t = Instant::now();
        for m in &maps { let t = Ticket::from_map(m).unwrap(); n += p.read_sentiment(&t).score as usize; }
        let sent = t.elapsed();
        eprintln!("round {round}: decide {:.2} µs, decide+ser {:.2} µs, read_sentiment {:.2} µs ({n})", decide.as_secs_f64()*1e6/maps.len() as f64, with_ser.as_secs_f64()*1e6/maps.len() as f64, sent.as_secs_f64()*1e6/maps.len() as f64);
    }
}
