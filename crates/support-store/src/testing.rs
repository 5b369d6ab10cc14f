//! A throwaway database for tests (of this crate and of those reading the
//! store): created with a unique name on the server, migrated, dropped when
//! the value goes out of scope.
//!
//! The server is `SUPPORT_TEST_DATABASE_URL` (any database on it), by default
//! `postgres://postgres@127.0.0.1:5432/postgres`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use postgres::Client;

use crate::{connect, StoreError, DEFAULT_URL};

/// A database of its own for one test.
pub struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    /// Creates an empty database with a unique name.
    pub fn empty() -> Result<TestDb, StoreError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url =
            std::env::var("SUPPORT_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "support_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        connect(&admin_url)?.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let mut config: postgres::Config = admin_url
            .parse()
            .map_err(|e: postgres::Error| StoreError::Url(e.to_string()))?;
        config.dbname(&name);
        let url = url_of(&config);
        Ok(TestDb {
            admin_url,
            name,
            url,
        })
    }

    /// Creates a database with every migration applied.
    pub fn migrated() -> Result<TestDb, StoreError> {
        let db = TestDb::empty()?;
        crate::migrate(&mut db.connect()?)?;
        Ok(db)
    }

    /// A `key=value` connection string for the database (for `--db`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn connect(&self) -> Result<Client, StoreError> {
        connect(&self.url)
    }
}

/// The configuration as a `key=value` string, password included (tests only).
fn url_of(config: &postgres::Config) -> String {
    let mut parts = Vec::new();
    if let Some(postgres::config::Host::Tcp(host)) = config.get_hosts().first() {
        parts.push(format!("host={host}"));
    }
    if let Some(port) = config.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(password) = config.get_password() {
        parts.push(format!("password='{}'", String::from_utf8_lossy(password)));
    }
    if let Some(db) = config.get_dbname() {
        parts.push(format!("dbname={db}"));
    }
    parts.join(" ")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let dropped = connect(&self.admin_url).and_then(|mut admin| {
            admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .map_err(StoreError::from)
        });
        if let Err(e) = dropped {
            eprintln!("warning: cannot drop test database {}: {e}", self.name);
        }
    }
}
