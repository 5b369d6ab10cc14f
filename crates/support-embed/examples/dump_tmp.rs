use support_embed::{Embedder, Role};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut r = csv::Reader::from_path(&args[1]).unwrap();
    let h = r.headers().unwrap().clone();
    let col = h.iter().position(|c| c == "text").unwrap();
    let texts: Vec<String> = r.records().map(|x| x.unwrap()[col].to_string()).collect();
    let e = Embedder::open(None).unwrap();
    let t = std::time::Instant::now();
    let v = e
        .embed_each_cached(&texts, Role::Query, 128, &|n| {
            if n % 1024 == 0 {
                eprintln!("{n}")
            }
        })
        .unwrap();
    eprintln!("{} texts in {:.1}s", texts.len(), t.elapsed().as_secs_f64());
    let bytes: Vec<u8> = v.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&args[2], bytes).unwrap();
}
