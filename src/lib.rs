//! Placeholder until all tool crates exist.
