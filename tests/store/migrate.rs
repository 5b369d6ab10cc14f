use support_store::migrate::migrate_with;
use support_store::testing::TestDb;
use support_store::{migrate, Migration, StoreError, MIGRATIONS};

use crate::common::{count, stderr, stdout_lines, store};

#[test]
fn migrating_twice_applies_nothing_the_second_time() {
    let db = TestDb::empty().unwrap();
    let first = store(&db, &["migrate"], "");
    assert!(first.status.success(), "{}", stderr(&first));
    let report = &stdout_lines(&first)[0];
    assert_eq!(
        report["applied"].as_array().unwrap().len(),
        MIGRATIONS.len()
    );
    assert_eq!(report["already_applied"], 0);

    let second = store(&db, &["migrate"], "");
    assert!(second.status.success(), "{}", stderr(&second));
    let report = &stdout_lines(&second)[0];
    assert_eq!(report["applied"].as_array().unwrap().len(), 0);
    assert_eq!(report["already_applied"], MIGRATIONS.len());

    let mut client = db.connect().unwrap();
    let recorded: Vec<(i32, String)> = client
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected: Vec<(i32, String)> = MIGRATIONS
        .iter()
        .map(|m| (m.version, m.checksum()))
        .collect();
    assert_eq!(recorded, expected);
}

#[test]
fn concurrent_migrations_apply_each_file_once() {
    let db = TestDb::empty().unwrap();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let mut client = db.connect().unwrap();
            std::thread::spawn(move || migrate(&mut client).map(|r| r.applied.len()))
        })
        .collect();
    let applied: usize = runs.into_iter().map(|r| r.join().unwrap().unwrap()).sum();
    assert_eq!(applied, MIGRATIONS.len());
    assert_eq!(
        count(
            &mut db.connect().unwrap(),
            "SELECT count(*) FROM schema_migrations"
        ),
        MIGRATIONS.len() as i64
    );
}

#[test]
fn a_migration_changed_after_it_was_applied_is_refused_before_anything_runs() {
    let db = TestDb::migrated().unwrap();
    let mut client = db.connect().unwrap();
    let mut changed: Vec<Migration> = MIGRATIONS.to_vec();
    changed[0].sql = "CREATE TABLE sneaked_in (id int);";
    changed.push(Migration {
        version: 9999,
        name: "9999_later.sql",
        sql: "CREATE TABLE later (id int);",
    });
    let err = migrate_with(&mut client, &changed).unwrap_err();
    assert!(matches!(err, StoreError::Migration(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(changed[0].name), "{message}");
    assert!(
        message.contains("changed after it was applied"),
        "{message}"
    );
    assert!(message.contains("new file"), "says what to do: {message}");
    assert_eq!(err.exit_code(), support_store::EXIT_DATABASE);
    // Nothing ran: neither the changed file nor the pending one.
    let tables = count(
        &mut client,
        "SELECT count(*) FROM pg_tables WHERE tablename IN ('sneaked_in', 'later')",
    );
    assert_eq!(tables, 0);
}

#[test]
fn a_database_ahead_of_the_binary_is_refused() {
    let db = TestDb::migrated().unwrap();
    let mut client = db.connect().unwrap();
    let err = migrate_with(&mut client, &[]).unwrap_err();
    assert!(err.to_string().contains("does not know"), "{err}");
}

#[test]
fn a_failing_migration_leaves_nothing_behind() {
    let db = TestDb::empty().unwrap();
    let mut client = db.connect().unwrap();
    let broken = [Migration {
        version: 1,
        name: "0001_broken.sql",
        sql: "CREATE TABLE half (id int); SELECT * FROM no_such_table;",
    }];
    let err = migrate_with(&mut client, &broken).unwrap_err();
    assert!(err.to_string().contains("0001_broken.sql"), "{err}");
    assert!(err.to_string().contains("no_such_table"), "{err}");
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM schema_migrations"),
        0
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'half'"
        ),
        0
    );
}

#[test]
fn commands_on_an_unmigrated_database_say_to_migrate() {
    let db = TestDb::empty().unwrap();
    for args in [&["ingest"][..], &["due"], &["maintain"]] {
        let out = store(&db, args, "");
        assert_eq!(out.status.code(), Some(5), "{args:?}");
        assert!(
            stderr(&out).contains("support-store migrate"),
            "{}",
            stderr(&out)
        );
    }
}
