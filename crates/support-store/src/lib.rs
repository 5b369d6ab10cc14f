//! PostgreSQL as the system of record for triaged tickets.
//!
//! [`connect`] opens a connection with an error that says what to do when the
//! server is down or does not answer in time ([`Timeouts`]); [`migrate`] brings a database to the schema in
//! `sql/migrations` (embedded at build time). The other modules are the
//! `support-store` subcommands, each a plain function over a
//! [`postgres::Client`].

pub mod agents;
pub mod due;
pub mod ingest;
pub mod kb;
pub mod lines;
pub mod maintain;
pub mod migrate;
pub mod models;
pub mod review;
pub mod row;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use migrate::{migrate, Migration, MigrationReport, MIGRATIONS};
pub use postgres::Client;

/// Exit code of `support-store` (and of any tool reading the store) when the
/// database cannot be reached or refuses the work.
pub const EXIT_DATABASE: u8 = support_cli::exit::DATABASE;

/// The default `--db` when neither the flag nor `DATABASE_URL` is given.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Lowercase hex of `bytes` (a SHA-256 as `sha256sum` prints it).
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// `DATABASE_URL`, else [`DEFAULT_URL`]: the store of a tool that reads it
/// without a URL on its command line.
pub fn url_from_env() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

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
    /// The server accepted the connection but did not answer in time.
    #[error(
        "cannot connect to PostgreSQL at {url}: no answer within {timeout:?} (--connect-timeout)\n\
         hint: check that --db / DATABASE_URL names a PostgreSQL server and that it is not overloaded, \
         or allow more time with --connect-timeout"
    )]
    ConnectTimeout { url: String, timeout: Duration },
    /// A migration file changed after it was applied, or the database is ahead of this binary.
    #[error("{0}")]
    Migration(String),
    /// A statement failed: the server refused it (its message and SQLSTATE),
    /// or the connection was lost in the middle.
    #[error("{}", database_message(.0))]
    Database(#[from] postgres::Error),
}

/// A refusal as the server words it, with what to do for the common causes;
/// a lost connection as such.
fn database_message(error: &postgres::Error) -> String {
    use postgres::error::SqlState;
    let Some(db) = error.as_db_error() else {
        return format!(
            "lost the connection to PostgreSQL: {}\n\
             hint: the server went away or the network failed; run the same command again once it is back",
            describe(error)
        );
    };
    let code = db.code();
    let hint = if *code == SqlState::QUERY_CANCELED {
        "\nhint: a statement ran longer than the statement timeout (--statement-timeout, default \
         5m): allow more time, or find what blocks it in pg_stat_activity"
    } else if *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
    {
        "\nhint: other sessions kept writing the same rows; run the same command again"
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        "\nhint: grant the user of --db / DATABASE_URL the rights on the store's tables"
    } else {
        ""
    };
    format!(
        "PostgreSQL refused the work: {} [SQLSTATE {}]{hint}",
        describe(error),
        code.code()
    )
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

/// How long to wait for the server. `None` takes the URL's setting
/// (`connect_timeout`, `options=-c statement_timeout=...`), else the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting, up to the server's first answer (10 s by default); zero waits forever.
    pub connect: Option<Duration>,
    /// Each statement, enforced by the server (5 minutes by default); zero means none.
    pub statement: Option<Duration>,
}

/// The defaults of [`Timeouts`], as `--help` and the README give them.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);

/// A network that stops answering in the middle of a run is given up after
/// about this long: TCP keepalive probes start after half of it without
/// traffic, and unacknowledged data (TCP_USER_TIMEOUT) counts the whole.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(60);

/// `--connect-timeout` and `--statement-timeout`, for every command that reads or writes the store.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct TimeoutArgs {
    /// Give up when the server has not answered within this long (e.g. 10s, 1m; 0s waits forever).
    /// Default: the URL's connect_timeout, else 10s.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_timeout)]
    pub connect_timeout: Option<Duration>,
    /// The server cancels any statement running longer than this (e.g. 30s, 10m; 0s: no limit).
    /// Default: the URL's options, else 5m.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_timeout)]
    pub statement_timeout: Option<Duration>,
}

impl TimeoutArgs {
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: self.connect_timeout,
            statement: self.statement_timeout,
        }
    }
}

/// `30m`, `2h`, `90d`, `1w`, `1h 30m`, `500ms`: days are 24 hours; never negative.
pub fn parse_duration(text: &str) -> Result<jiff::SignedDuration, String> {
    let span: jiff::Span = text
        .parse()
        .map_err(|e| format!("{e} (write e.g. 30m, 2h, 90d)"))?;
    let duration = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| e.to_string())?;
    if duration.is_negative() {
        return Err("the duration is negative".into());
    }
    Ok(duration)
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_duration(text).and_then(|d| Duration::try_from(d).map_err(|e| e.to_string()))
}

/// Connects to `url` with the default [`Timeouts`].
pub fn connect(url: &str) -> Result<Client, StoreError> {
    connect_with(url, Timeouts::default())
}

/// [`connect_with`], refusing a database that lacks this binary's
/// migrations (with the command that applies them).
pub fn connect_current(url: &str, timeouts: Timeouts) -> Result<Client, StoreError> {
    let mut client = connect_with(url, timeouts)?;
    migrate::ensure_current(&mut client)?;
    Ok(client)
}

/// Connects to `url` (a `postgres://` URL or a `key=value` string).
pub fn connect_with(url: &str, timeouts: Timeouts) -> Result<Client, StoreError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e: postgres::Error| StoreError::Url(format!("{e} (in {})", redact(url))))?;
    let connect_timeout = timeouts
        .connect
        .or(config.get_connect_timeout().copied())
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    if !connect_timeout.is_zero() {
        config.connect_timeout(connect_timeout);
    }
    let url_statement_timeout = config
        .get_options()
        .is_some_and(|options| options.contains("statement_timeout"));
    let statement_timeout = match timeouts.statement {
        Some(timeout) => Some(timeout),
        None if url_statement_timeout => None,
        None => Some(DEFAULT_STATEMENT_TIMEOUT),
    };
    if let Some(timeout) = statement_timeout {
        // Options given later win: the flag over the URL's.
        let options = format!(
            "{} -c statement_timeout={}",
            config.get_options().unwrap_or(""),
            timeout.as_millis()
        );
        config.options(options.trim_start());
    }
    config
        .keepalives(true)
        .keepalives_idle(NETWORK_TIMEOUT / 2)
        .keepalives_interval(NETWORK_TIMEOUT / 6)
        .keepalives_retries(3)
        .tcp_user_timeout(NETWORK_TIMEOUT);
    if config.get_application_name().is_none() {
        config.application_name("support-store");
    }
    let server = display_config(&config);
    let connect_error = |source: postgres::Error| StoreError::Connect {
        url: server.clone(),
        hint: connect_hint(&source),
        source,
    };
    if connect_timeout.is_zero() {
        return config.connect(postgres::NoTls).map_err(connect_error);
    }
    // The driver's connect_timeout covers the TCP connect only; a server that
    // accepts and never answers the startup message would hold it forever. The
    // attempt runs on its own thread, left behind when it does not answer in time.
    let (sender, receiver) = mpsc::sync_channel(1);
    std::thread::spawn(move || {
        let _ = sender.send(config.connect(postgres::NoTls));
    });
    match receiver.recv_timeout(connect_timeout) {
        Ok(connected) => connected.map_err(connect_error),
        Err(_) => Err(StoreError::ConnectTimeout {
            url: server,
            timeout: connect_timeout,
        }),
    }
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
            StoreError::Url(_) => support_cli::exit::USAGE,
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
