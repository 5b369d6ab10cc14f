// TEMPORARY scratch benchmark (to be deleted).
use std::time::Instant;
use support_core::{Context, Stage, Ticket};
use support_tags::Tagger;
fn best(name: &str, n: usize, mut f: impl FnMut()) {
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{name:<20} {:.2}us", best / n as f64 * 1e6);
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let maps: Vec<serde_json::Map<String, serde_json::Value>> = text
        .lines()
        .take(20000)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let n = maps.len();
    let tagger = Tagger::default();
    let ctx = Context {
        now: jiff::Timestamp::UNIX_EPOCH,
    };
    best("from_map", n, || {
        for m in &maps {
            let tk = Ticket::from_map(m).unwrap();
            std::hint::black_box(tk.customer_texts().count());
        }
    });
    best("tokenize", n, || {
        for m in &maps {
            let tk = Ticket::from_map(m).unwrap();
            for f in tk.customer_texts() {
                std::hint::black_box(support_text::tokenize(f.text));
            }
        }
    });
    best("tag", n, || {
        for m in &maps {
            let tk = Ticket::from_map(m).unwrap();
            std::hint::black_box(tagger.tag(&tk));
        }
    });
    let outs: Vec<_> = maps
        .iter()
        .map(|m| tagger.tag(&Ticket::from_map(m).unwrap()))
        .collect();
    best("to_value", n, || {
        for o in &outs {
            std::hint::black_box(serde_json::to_value(o).unwrap());
        }
    });
    best("to_vec(out)", n, || {
        for o in &outs {
            std::hint::black_box(serde_json::to_vec(o).unwrap());
        }
    });
    println!(
        "out bytes {}",
        outs.iter()
            .map(|o| serde_json::to_vec(o).unwrap().len())
            .sum::<usize>()
            / n
    );
    best("clone+ser", n, || {
        for m in &maps {
            let m = m.clone();
            std::hint::black_box(serde_json::to_vec(&m).unwrap());
        }
    });
    best("clone+apply+ser", n, || {
        for m in &maps {
            let mut m = m.clone();
            tagger.apply(&mut m, &ctx).unwrap();
            std::hint::black_box(serde_json::to_vec(&m).unwrap());
        }
    });
}
