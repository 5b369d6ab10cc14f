//! PostgreSQL as the system of record for triaged tickets.
//!
//! [`connect`] opens a connection with an error that says what to do when the
//! server is down; [`migrate`] brings a database to the schema in
//! `sql/migrations` (embedded at build time). The other modules are the
//! `support-store` subcommands, each a plain function over a
//! [`postgres::Client`].

pub mod agents;
pub mod due;
pub mod ingest;
pub mod lines;
pub mod maintain;
pub mod migrate;
pub mod review;
pub mod row;
pub mod testing;

use std::time::{Duration, Instant};

pub use migrate::{migrate, Migration, MigrationReport, MIGRATIONS};
pub use postgres::Client;

/// Exit code of `support-store` (and of any tool reading the store) when the
/// database cannot be reached or refuses the work.
pub const EXIT_DATABASE: u8 = support_core::cli::exit::DATABASE;

/// The default `--db` when neither the flag nor `DATABASE_URL` is given.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Why the store could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `--db` / `DATABASE_URL` does not parse.
    #[error("invalid database URL: {0}\nhint: use postgres://USER[:PASSWORD]@HOST:PORT/DATABASE")]
    Url(String),
    /// The server could not be reached, or refused the connection.
    #[error("cannot connect to PostgreSQL at {url}: {}\nhint: {hint}", describe(.source))]
    Connect {
        url: String,
        hint: &'static str,
        #[source]
        source: postgres::Error,
    },
    /// A migration file changed after it was applied, or the database is ahead of this binary.
    #[error("{0}")]
    Migration(String),
    /// A statement failed (including a connection lost in the middle).
    #[error("database error: {}", describe(.0))]
    Database(#[from] postgres::Error),
}

/// The server's message with its detail (constraint, column), or the driver's
/// message with its cause ("Connection refused").
fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return match db.detail() {
            Some(detail) => format!("{}: {} ({detail})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        };
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

/// Connects to `url` (a `postgres://` URL or a `key=value` string), waiting at
/// most 10 seconds unless the URL sets `connect_timeout`.
pub fn connect(url: &str) -> Result<Client, StoreError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e: postgres::Error| StoreError::Url(format!("{e} (in {})", redact(url))))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("support-store");
    }
    config
        .connect(postgres::NoTls)
        .map_err(|source| StoreError::Connect {
            url: display_config(&config),
            hint: connect_hint(&source),
            source,
        })
}

fn connect_hint(error: &postgres::Error) -> &'static str {
    match error.code() {
        Some(code) if *code == postgres::error::SqlState::INVALID_CATALOG_NAME => {
            "the database does not exist: create it (createdb NAME) or point --db / DATABASE_URL at another"
        }
        Some(code) if *code == postgres::error::SqlState::INVALID_PASSWORD
            || *code == postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            "check the user and password in --db / DATABASE_URL"
        }
        _ => "is the server running? Start it (e.g. `pg_ctlcluster 15 main start`) or fix --db / DATABASE_URL",
    }
}

/// `postgres://user@host:port/db`, never the password.
fn display_config(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db}")
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    match url.parse::<postgres::Config>() {
        Ok(config) => display_config(&config),
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}***{}", &url[..scheme + 3], &url[at..])
            }
            _ => url.to_owned(),
        },
    }
}

impl StoreError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            StoreError::Url(_) => support_core::cli::exit::USAGE,
            _ => EXIT_DATABASE,
        }
    }
}

/// Records one run of a command in `operation_metrics` (tool, duration,
/// success, records). Best effort: a failure to record is logged, never fatal.
pub fn record_operation(
    client: &mut Client,
    tool: &str,
    started: Instant,
    records: u64,
    error: Option<&str>,
) {
    let elapsed = started.elapsed();
    let duration_ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
    let started_at = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::try_from(elapsed).unwrap_or_default())
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string();
    let records = i32::try_from(records).unwrap_or(i32::MAX);
    if let Err(e) = client.execute(
        "INSERT INTO operation_metrics (tool, started_at, duration_ms, success, records, error)
         VALUES ($1, $2::text::timestamptz, $3, $4, $5, $6)",
        &[
            &tool,
            &started_at,
            &duration_ms,
            &error.is_none(),
            &records,
            &error,
        ],
    ) {
        tracing::warn!("cannot record the operation in operation_metrics: {e}");
    }
}
