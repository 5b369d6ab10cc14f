//! Numbered migrations, applied in order, each recorded with its SHA-256.
//!
//! A hand-written runner (about a hundred lines) rather than `refinery`: the
//! files are embedded by `build.rs`, `sha2` is already in the tree through the
//! driver's SCRAM authentication, and the error for a changed file can say
//! exactly what to do.

use postgres::Client;
use sha2::{Digest, Sha256};

use crate::StoreError;

/// One `sql/migrations/NNNN_name.sql` file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    /// The file name, e.g. `0001_initial.sql`.
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// Hex SHA-256 of the file's bytes.
    pub fn checksum(&self) -> String {
        crate::hex(&Sha256::digest(self.sql.as_bytes()))
    }
}

/// The migrations of `sql/migrations`, in version order.
pub static MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    /// File names applied now, in order.
    pub applied: Vec<String>,
    /// How many were already applied.
    pub already_applied: usize,
    /// The schema version after the run.
    pub version: i32,
}

/// Arbitrary key for the advisory lock that serializes concurrent `migrate` runs.
const LOCK_KEY: i64 = 0x5350_5354_4f52_4531;

/// Applies the embedded migrations that the database lacks.
pub fn migrate(client: &mut Client) -> Result<MigrationReport, StoreError> {
    migrate_with(client, MIGRATIONS)
}

/// Applies `migrations` (in version order) that the database lacks, each in its
/// own transaction with its record in `schema_migrations`. Refuses, before
/// applying anything, when an applied migration's file changed or the database
/// has a version this binary does not know.
pub fn migrate_with(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<MigrationReport, StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])?;
    let result = apply_pending(client, migrations);
    // Released by the server anyway when the session ends (e.g. after an error).
    let unlock = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
    let report = result?;
    unlock?;
    Ok(report)
}

fn apply_pending(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<MigrationReport, StoreError> {
    client.batch_execute(
        "SET client_min_messages = warning;
         CREATE TABLE IF NOT EXISTS schema_migrations (
             version    int PRIMARY KEY,
             name       text NOT NULL,
             checksum   text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );
         RESET client_min_messages;",
    )?;
    let applied = applied_versions(client)?;
    check_applied(&applied, migrations)?;
    let mut report = MigrationReport {
        applied: Vec::new(),
        already_applied: applied.len(),
        version: applied.iter().map(|a| a.version).max().unwrap_or(0),
    };
    for migration in migrations {
        if applied.iter().any(|a| a.version == migration.version) {
            continue;
        }
        let mut tx = client.transaction()?;
        tx.batch_execute(migration.sql).map_err(|e| {
            StoreError::Migration(format!(
                "migration {} failed, nothing of it was applied: {}",
                migration.name,
                crate::describe(&e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[&migration.version, &migration.name, &migration.checksum()],
        )?;
        tx.commit()?;
        tracing::info!(migration = migration.name, "applied");
        report.applied.push(migration.name.to_owned());
        report.version = migration.version;
    }
    Ok(report)
}

struct Applied {
    version: i32,
    name: String,
    checksum: String,
}

fn applied_versions(client: &mut Client) -> Result<Vec<Applied>, StoreError> {
    Ok(client
        .query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|row| Applied {
            version: row.get(0),
            name: row.get(1),
            checksum: row.get(2),
        })
        .collect())
}

fn check_applied(applied: &[Applied], migrations: &[Migration]) -> Result<(), StoreError> {
    for done in applied {
        match migrations.iter().find(|m| m.version == done.version) {
            None => {
                return Err(StoreError::Migration(format!(
                    "the database has migration {} ({}), which this support-store does not know: \
                     use the support-store built from the same sources as the database's schema",
                    done.version, done.name
                )))
            }
            Some(file) if file.checksum() != done.checksum => {
                return Err(StoreError::Migration(format!(
                    "migration {} changed after it was applied to this database \
                     (checksum recorded {}, file now {}).\n\
                     hint: an applied migration must never change: restore sql/migrations/{} as it \
                     was applied (git log -p sql/migrations) and put the change in a new file \
                     sql/migrations/{:04}_<what>.sql",
                    file.name,
                    &done.checksum[..12],
                    &file.checksum()[..12],
                    file.name,
                    migrations.iter().map(|m| m.version).max().unwrap_or(0) + 1
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Fails unless every embedded migration has been applied: the check the
/// other subcommands make before touching tables.
pub fn ensure_current(client: &mut Client) -> Result<(), StoreError> {
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    let recorded: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
        .get(0);
    let version: i32 = if recorded {
        client
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )?
            .get(0)
    } else {
        0
    };
    if version < latest {
        return Err(StoreError::Migration(format!(
            "the database schema is at version {version}, this support-store needs {latest}\n\
             hint: run `support-store migrate` (same --db) first"
        )));
    }
    Ok(())
}
