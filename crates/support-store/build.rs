//! Embeds sql/migrations/NNNN_name.sql into the library, in order, so the
//! binary migrates from any directory.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(u32, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".sql"))
        .map(|name| {
            let version = name
                .split_once('_')
                .and_then(|(number, _)| number.parse().ok())
                .unwrap_or_else(|| panic!("sql/migrations/{name}: name it NNNN_what.sql"));
            (version, name)
        })
        .collect();
    files.sort();
    for pair in files.windows(2) {
        assert_ne!(
            pair[0].0, pair[1].0,
            "two migrations numbered {}",
            pair[0].0
        );
    }
    let mut code = String::from("&[\n");
    for (version, name) in &files {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            code,
            "    Migration {{ version: {version}, name: {name:?}, sql: include_str!({:?}) }},",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("]\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("migrations.rs");
    fs::write(out, code).expect("write migrations.rs");
}
