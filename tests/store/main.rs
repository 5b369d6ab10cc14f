//! support-store against the real PostgreSQL server: every test in a database
//! of its own (support_store::testing::TestDb), dropped afterwards.

mod common;
mod due_maintain;
mod faults;
mod forms;
mod ingest;
mod migrate;
mod models;
mod review;
mod views;
