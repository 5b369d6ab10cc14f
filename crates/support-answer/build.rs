//! Converts the embedded default configuration to JSON (see `DEFAULT_CONFIG_JSON`).

fn main() {
    support_build::embed_default_config("defaults/answer.yaml");
}
