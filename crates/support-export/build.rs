//! Converts the embedded default configuration to JSON (see `config::DEFAULT_CONFIG_JSON`).

fn main() {
    support_build::embed_default_config("defaults/export.yaml");
}
