use std::io::BufRead;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let lines: Vec<String> = std::io::BufReader::new(std::fs::File::open(path).unwrap()).lines().take(20000).map(|l| l.unwrap()).collect();
    for _ in 0..8 {
        let t = Instant::now();
        let mut n = 0;
        for l in &lines {
            let v: serde_json::Value = serde_json::from_slice(l.as_bytes()).unwrap();
            let m = v.as_object().unwrap();
            let t = support_core::Ticket::from_map(m).unwrap();
            n += t.customer_texts().count();
            n += serde_json::to_vec(&v).unwrap().len();
        }
        eprintln!("parse+ticket+write {:.2} µs ({n})", t.elapsed().as_secs_f64() * 1e6 / lines.len() as f64);
    }
}
