use std::time::Instant;
fn main() {
    let bytes = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let model = support_model::Model::from_bytes(&bytes).unwrap();
    let texts: Vec<String> = std::fs::read_to_string("/tmp/lines.txt").unwrap().lines().map(String::from).collect();
    for round in 0..3 {
        let t = Instant::now();
        for x in &texts { std::hint::black_box(support_text::tokenize(x)); }
        let tok = t.elapsed().as_secs_f64() * 1e6 / texts.len() as f64;
        let t = Instant::now();
        for x in &texts { std::hint::black_box(model.predict(x)); }
        let pred = t.elapsed().as_secs_f64() * 1e6 / texts.len() as f64;
        let t = Instant::now();
        for x in &texts { std::hint::black_box(model.explain(x, "card_arrival", 3)); }
        let ex = t.elapsed().as_secs_f64() * 1e6 / texts.len() as f64;
        println!("round {round}: tokenize {tok:.2} µs, predict {pred:.2} µs, explain {ex:.2} µs");
    }
}
