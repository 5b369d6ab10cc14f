// TEMPORARY scratch benchmark (to be deleted).
use std::time::Instant;
use support_core::{Context, Stage, Ticket};
use support_route::{agents::Roster, RouteConfig, Router};
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
    let roster = Roster::load(std::path::Path::new("/work/main/examples/agents.yaml")).unwrap();
    let router = Router::new(RouteConfig::default(), Some(roster)).unwrap();
    let plain = Router::new(RouteConfig::default(), None).unwrap();
    let ctx = Context {
        now: "2026-11-24T09:00:00Z".parse().unwrap(),
    };
    best("from_map", n, || {
        for m in &maps {
            let tk = Ticket::from_map(m).unwrap();
            std::hint::black_box(tk.customer_texts().count());
        }
    });
    best("route no agents", n, || {
        for m in &maps {
            let tk = Ticket::from_map(m).unwrap();
            std::hint::black_box(plain.route(&tk, &ctx));
        }
    });
    best("route", n, || {
        for m in &maps {
            let tk = Ticket::from_map(m).unwrap();
            std::hint::black_box(router.route(&tk, &ctx));
        }
    });
    best("clone+ser", n, || {
        for m in &maps {
            let m = m.clone();
            std::hint::black_box(serde_json::to_vec(&m).unwrap());
        }
    });
    best("clone+apply+ser", n, || {
        for m in &maps {
            let mut m = m.clone();
            router.apply(&mut m, &ctx).unwrap();
            std::hint::black_box(serde_json::to_vec(&m).unwrap());
        }
    });
}
