//! support-export against the real PostgreSQL server: each test in a database
//! of its own (support_store::testing::TestDb, dropped afterwards), filled by
//! support-store's own migrate and ingest from the examples.

use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

use jiff::Timestamp;
use serde_json::Value;
use support_agents::Roster;
use support_export::{
    export_tickets, summarize, CsvCells, ExportConfig, FileSource, Filter, Output, Period,
    PgSource, ReadOptions, Source, Summary, TicketFormat, Window,
};
use support_store::ingest::{ingest, IngestOptions};
use support_store::testing::TestDb;

const NOW: &str = "2026-11-24T09:00:00Z";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A database holding the examples: tickets through `ingest`, the agents
/// file, and the ratings with their times (the `feedback` table's columns).
fn loaded() -> TestDb {
    let db = TestDb::migrated()
        .expect("PostgreSQL at 127.0.0.1:5432 (see the developers' guide to start it)");
    let mut client = db.connect().unwrap();
    let mut errors = Vec::new();
    let input = BufReader::new(File::open(example("history.jsonl")).unwrap());
    let options = IngestOptions {
        batch_size: 100,
        max_record_bytes: 16 << 20,
    };
    let summary = ingest(&mut client, input, &mut errors, &options, &|_| {}).unwrap();
    assert_eq!(summary.failed, 0, "{}", String::from_utf8_lossy(&errors));
    let roster = Roster::load(&example("agents.yaml")).unwrap();
    support_store::agents::load_agents(&mut client, &roster).unwrap();
    for line in fs::read_to_string(example("feedback.jsonl"))
        .unwrap()
        .lines()
    {
        let f: Value = serde_json::from_str(line).unwrap();
        client
            .execute(
                "INSERT INTO feedback (ticket_id, rating, comment, created_at) VALUES ($1, $2, $3, $4::text::timestamptz)",
                &[
                    &f["ticket_id"].as_str(),
                    &(f["rating"].as_i64().unwrap() as i16),
                    &f["comment"].as_str(),
                    &f["created_at"].as_str(),
                ],
            )
            .unwrap();
    }
    db
}

fn files() -> Source {
    Source::Files(FileSource {
        tickets: Some(example("history.jsonl")),
        feedback: Some(example("feedback.jsonl")),
        agents: Some(example("agents.yaml")),
        threads: 2,
        max_record_bytes: 16 << 20,
        errors: Box::new(io::sink()),
    })
}

fn postgres(db: &TestDb) -> Source {
    Source::Postgres(Box::new(PgSource::new(db.url())))
}

fn figures(
    source: &mut Source,
    window: Window,
    filter: &Filter,
    now: Timestamp,
    config: &ExportConfig,
) -> Summary {
    let (mut summary, read) = summarize(source, window, filter, now, config).unwrap();
    assert_eq!(read.failed, 0);
    summary.source = String::new();
    summary
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[test]
fn both_sources_give_the_same_figures() {
    let db = loaded();
    let now: Timestamp = NOW.parse().unwrap();
    let config = ExportConfig::default();
    let filters = [
        Filter::default(),
        Filter {
            statuses: strings(&["closed"]),
            ..Filter::default()
        },
        Filter {
            categories: strings(&["order", "account"]),
            ..Filter::default()
        },
        Filter {
            priorities: strings(&["high"]),
            ..Filter::default()
        },
    ];
    for period in ["24h", "7d", "30d"] {
        let window = period.parse::<Period>().unwrap().ending_at(now);
        for filter in &filters {
            let from_files = figures(&mut files(), window, filter, now, &config);
            let from_db = figures(&mut postgres(&db), window, filter, now, &config);
            assert_eq!(
                from_files.dashboard, from_db.dashboard,
                "{period} {filter:?}"
            );
            assert_eq!(from_files.kpis, from_db.kpis, "{period} {filter:?}");
            assert_eq!(
                from_files.conversations, from_db.conversations,
                "{period} {filter:?}"
            );
        }
    }
    // Not vacuous: the month has every kind of figure.
    let month = figures(
        &mut postgres(&db),
        "30d".parse::<Period>().unwrap().ending_at(now),
        &Filter::default(),
        now,
        &config,
    );
    assert!(month.dashboard.metrics.chatbot_resolved > 0);
    assert!(month.kpis.csat.ratings > 0 && month.conversations.overall.conversations > 0);
    assert!(
        month.dashboard.top_agents.iter().all(|a| a.name.is_some()),
        "names from the agents table"
    );
}

/// Rows of an export, by id.
fn exported(source: &mut Source, filter: &Filter, format: TicketFormat) -> Vec<Value> {
    let (bytes, read) = export_tickets(source, filter, format, CsvCells::Raw, Vec::new()).unwrap();
    assert_eq!(read.failed, 0);
    let mut rows: Vec<Value> = match format {
        TicketFormat::Jsonl => String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        TicketFormat::Json => serde_json::from_slice::<Vec<Value>>(&bytes).unwrap(),
        TicketFormat::Csv => {
            let mut reader = csv::Reader::from_reader(&bytes[..]);
            let header = reader.headers().unwrap().clone();
            reader
                .records()
                .map(|r| {
                    let r = r.unwrap();
                    header
                        .iter()
                        .zip(r.iter())
                        .map(|(k, v)| (k.to_string(), Value::from(v)))
                        .collect()
                })
                .collect()
        }
    };
    rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    rows
}

#[test]
fn both_sources_export_the_same_rows() {
    let db = loaded();
    let now: Timestamp = NOW.parse().unwrap();
    let filter = Filter {
        window: Some("30d".parse::<Period>().unwrap().ending_at(now)),
        priorities: strings(&["medium", "high", "critical"]),
        ..Filter::default()
    };
    for format in [TicketFormat::Csv, TicketFormat::Jsonl, TicketFormat::Json] {
        let from_files = exported(&mut files(), &filter, format);
        let from_db = exported(&mut postgres(&db), &filter, format);
        assert!(from_files.len() > 100, "{}", from_files.len());
        assert_eq!(from_files, from_db, "{format:?}");
    }
}

#[test]
fn the_sql_views_define_the_same_figures() {
    let db = loaded();
    let mut client = db.connect().unwrap();
    // now() is fixed for a transaction: the views and the export see one clock.
    let mut tx = client.transaction().unwrap();
    let now: std::time::SystemTime = tx.query_one("SELECT now()", &[]).unwrap().get(0);
    let totals = tx
        .query_one("SELECT * FROM v_dashboard_totals", &[])
        .unwrap();
    let sla = tx.query("SELECT * FROM v_sla_compliance", &[]).unwrap();
    let agents = tx
        .query("SELECT agent_id, tickets, resolved, avg_first_response_minutes, avg_resolution_minutes, csat_avg FROM v_agent_performance WHERE tickets > 0 ORDER BY agent_id", &[])
        .unwrap();
    tx.commit().unwrap();

    let now = Timestamp::try_from(now).unwrap();
    let everything = Window {
        since: "2026-01-01T00:00:00Z".parse().unwrap(),
        until: "2027-01-01T00:00:00Z".parse().unwrap(),
    };
    let mut config = ExportConfig::default();
    config.dashboard.top_agents = 1000;
    let summary = figures(
        &mut postgres(&db),
        everything,
        &Filter::default(),
        now,
        &config,
    );
    let m = &summary.dashboard.metrics;
    assert_eq!(
        m.total_tickets as i64,
        totals.get::<_, i64>("total_tickets")
    );
    assert_eq!(
        m.chatbot_resolved as i64,
        totals.get::<_, i64>("chatbot_resolved")
    );
    assert_eq!(m.pending as i64, totals.get::<_, i64>("pending"));
    assert_eq!(
        m.critical_urgent as i64,
        totals.get::<_, i64>("critical_urgent")
    );
    assert_eq!(
        m.avg_first_response_minutes,
        totals.get("avg_first_response_minutes")
    );
    assert_eq!(
        m.chatbot_resolution_rate,
        totals.get::<_, f64>("chatbot_resolution_rate")
    );

    assert!(!sla.is_empty());
    for row in &sla {
        let priority: String = row.get("priority");
        let ours = summary
            .kpis
            .sla_compliance
            .iter()
            .find(|s| s.priority == priority)
            .unwrap();
        assert_eq!(
            ours.tickets as i64,
            row.get::<_, i64>("tickets"),
            "{priority}"
        );
        assert_eq!(
            ours.first_response_met as i64,
            row.get::<_, i64>("first_response_met"),
            "{priority}"
        );
        assert_eq!(
            ours.first_response_decided as i64,
            row.get::<_, i64>("first_response_decided"),
            "{priority}"
        );
        assert_eq!(
            ours.first_response_rate,
            row.get::<_, Option<f64>>("first_response_rate"),
            "{priority}"
        );
        assert_eq!(
            ours.resolution_met as i64,
            row.get::<_, i64>("resolution_met"),
            "{priority}"
        );
        assert_eq!(
            ours.resolution_decided as i64,
            row.get::<_, i64>("resolution_decided"),
            "{priority}"
        );
        assert_eq!(
            ours.resolution_rate,
            row.get::<_, Option<f64>>("resolution_rate"),
            "{priority}"
        );
    }

    let mut ours = summary.dashboard.top_agents.clone();
    ours.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
    assert_eq!(ours.len(), agents.len());
    for (a, row) in ours.iter().zip(&agents) {
        assert_eq!(a.agent_id, row.get::<_, String>(0));
        assert_eq!(a.tickets as i64, row.get::<_, i64>(1), "{}", a.agent_id);
        assert_eq!(a.resolved as i64, row.get::<_, i64>(2), "{}", a.agent_id);
        assert_eq!(a.avg_first_response_minutes, row.get(3), "{}", a.agent_id);
        assert_eq!(a.avg_resolution_minutes, row.get(4), "{}", a.agent_id);
        assert_eq!(a.csat_avg, row.get(5), "{}", a.agent_id);
    }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_support-export"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// Runs the binary and checks that it succeeded, showing its stderr when not.
fn run_ok(args: &[&str]) -> std::process::Output {
    let output = run(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn the_binary_reads_the_database() {
    let db = loaded();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("closed.csv");
    run_ok(&[
        "tickets",
        "--db",
        db.url(),
        "--status",
        "closed",
        "--output",
        out.to_str().unwrap(),
    ]);
    let stored: i64 = db
        .connect()
        .unwrap()
        .query_one("SELECT count(*) FROM tickets WHERE status = 'closed'", &[])
        .unwrap()
        .get(0);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as i64, stored);
    let created: Vec<&str> = records.iter().map(|r| r.get(10).unwrap()).collect();
    assert!(created.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    let output = run_ok(&[
        "report",
        "--format",
        "md",
        "--db",
        db.url(),
        "--now",
        NOW,
        "--period",
        "30d",
    ]);
    let md = String::from_utf8(output.stdout).unwrap();
    assert!(
        md.contains("PostgreSQL postgres://"),
        "the source, without a password: {md:.300}"
    );
}

#[test]
fn a_server_that_is_down_fails_clearly_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tickets.csv");
    // Port 1: nothing listens there.
    let url = "postgres://postgres:secret@127.0.0.1:1/support?connect_timeout=5";
    for command in ["tickets", "dashboard"] {
        let output = run(&[command, "--db", url, "--output", out.to_str().unwrap()]);
        assert_eq!(
            output.status.code(),
            Some(i32::from(support_store::EXIT_DATABASE)),
            "{command}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(
                "cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/support"
            ),
            "{stderr}"
        );
        assert!(
            stderr.contains("hint:") && !stderr.contains("secret"),
            "{stderr}"
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file, no temporary file"
        );
    }
    // To stdout: nothing at all, not even the CSV header or a JSON array's `[`.
    for format in ["csv", "json"] {
        let output = run(&["tickets", "--format", format, "--db", url]);
        assert_eq!(
            output.status.code(),
            Some(i32::from(support_store::EXIT_DATABASE))
        );
        assert!(
            output.stdout.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

/// A server that accepts the connection and never answers: the export gives
/// up after --connect-timeout, names the server and the timeout, and leaves
/// no file.
#[test]
fn a_server_that_never_answers_times_out() {
    // The kernel completes the handshake for a listener that never accepts.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://postgres:secret@127.0.0.1:{port}/support");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tickets.csv");
    let started = std::time::Instant::now();
    let output = run(&[
        "tickets",
        "--db",
        &url,
        "--connect-timeout",
        "1s",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert_eq!(
        output.status.code(),
        Some(i32::from(support_store::EXIT_DATABASE))
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:{port}/support: no answer within 1s (--connect-timeout)"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no file");
}

/// DATABASE_URL is read when stdin is not piped (here /dev/null, as under a
/// scheduler), and the summary names the database.
#[test]
fn database_url_is_read_when_stdin_is_not_piped() {
    let db = loaded();
    let output = Command::new(env!("CARGO_BIN_EXE_support-export"))
        .args(["kpis", "--now", NOW, "--period", "30d"])
        .env("DATABASE_URL", db.url())
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let summary: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    let source = summary["summary"]["source"].as_str().unwrap();
    assert!(source.starts_with("PostgreSQL postgres://"), "{stderr}");
    let kpis: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(kpis["tickets"], summary["summary"]["tickets"]);
}

/// A query the server refuses (here a column renamed under the export) is
/// reported in the server's words with its SQLSTATE, not as a server that
/// cannot be reached.
#[test]
fn a_query_the_server_refuses_is_reported_as_such() {
    let db = TestDb::migrated().expect("PostgreSQL at 127.0.0.1:5432");
    db.connect()
        .unwrap()
        .batch_execute("ALTER TABLE tickets RENAME COLUMN queue TO queue_name")
        .unwrap();
    let output = run(&["tickets", "--db", db.url()]);
    assert_eq!(
        output.status.code(),
        Some(i32::from(support_store::EXIT_DATABASE))
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "PostgreSQL refused the work: ERROR: column t.queue does not exist [SQLSTATE 42703]"
        ),
        "{stderr}"
    );
    for wrong in [
        "cannot connect",
        "lost the connection",
        "could not be reached",
    ] {
        assert!(!stderr.contains(wrong), "{stderr}");
    }
    assert!(output.stdout.is_empty());
}

#[test]
fn a_database_without_the_schema_is_named_with_what_to_do() {
    let db = TestDb::empty().expect("PostgreSQL at 127.0.0.1:5432");
    let output = run(&["kpis", "--db", db.url()]);
    assert_eq!(
        output.status.code(),
        Some(i32::from(support_store::EXIT_DATABASE))
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("support-store migrate"), "{stderr}");
}

#[test]
fn a_connection_lost_mid_export_fails_and_leaves_no_file() {
    let db = TestDb::migrated().expect("PostgreSQL at 127.0.0.1:5432");
    let mut admin = db.connect().unwrap();
    // Enough rows that the server is still sending when the connection dies.
    admin
        .batch_execute(
            "INSERT INTO tickets (id, status, created_at, body, ticket)
             SELECT 'X-' || g, 'open', '2026-11-01'::timestamptz + g * interval '1 second', repeat('x', 2000), '{}'
             FROM generate_series(1, 20000) g",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tickets.jsonl");
    let mut output = Output::create(Some(&path)).unwrap();
    let mut writer = support_export::RowWriter::new(TicketFormat::Jsonl, &mut output);
    let mut source = postgres(&db);
    let mut rows = 0;
    let result = source.read(
        ReadOptions { filter: &Filter::default(), activity: false, metrics_only: false, progress: false },
        &mut |row| {
            rows += 1;
            if rows == 1 {
                admin
                    .execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                        &[],
                    )
                    .unwrap();
            }
            writer.write(&row).map_err(support_export::ExportError::output("the export"))
        },
    );
    let error = result.expect_err("the export cannot finish");
    assert_eq!(error.exit_code(), support_store::EXIT_DATABASE, "{error}");
    assert!(rows < 20_000, "stopped early: {rows} rows");
    drop(writer);
    drop(output);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file"
    );
}

/// The knowledge base's feedback loop: an automatic answer rated 1 shows in
/// the report with what the customer asked; one rated well does not.
#[test]
fn the_report_shows_knowledge_base_articles_that_failed() {
    let db = loaded();
    let mut client = db.connect().unwrap();
    let answered = |id: &str, article: &str, text: &str| {
        serde_json::json!({"id": id, "subject": "Reembolso", "description": text,
            "created_at": "2026-11-23T10:00:00Z", "status": "open",
            "answer": {"articles": [{"id": article, "title": "t", "score": 0.9, "similarity": 0.9}],
                       "reply": {"article_id": article, "language": "es", "text": "Hola"},
                       "auto_reply": true, "confidence": 0.9, "reasons": []}})
        .to_string()
    };
    let input = format!(
        "{}\n{}\n",
        answered(
            "KB-1",
            "kb-refund-status",
            "Llevo tres semanas esperando <el> reembolso"
        ),
        answered("KB-2", "kb-password-reset", "Olvidé la contraseña"),
    );
    let options = IngestOptions {
        batch_size: 100,
        max_record_bytes: 16 << 20,
    };
    let mut errors = Vec::new();
    ingest(
        &mut client,
        io::Cursor::new(input.into_bytes()),
        &mut errors,
        &options,
        &|_| {},
    )
    .unwrap();
    client
        .batch_execute("INSERT INTO feedback (ticket_id, rating) VALUES ('KB-1', 1), ('KB-2', 5)")
        .unwrap();
    for format in ["md", "html"] {
        let output = run_ok(&["report", "--format", format, "--db", db.url(), "--now", NOW]);
        let report = String::from_utf8(output.stdout).unwrap();
        assert!(report.contains("Knowledge base"), "{format}");
        assert!(report.contains("kb-refund-status"), "{format}");
        assert!(
            !report.contains("kb-password-reset"),
            "{format}: rated 5, not failed"
        );
        let asked = if format == "html" {
            "&lt;el&gt; reembolso"
        } else {
            "\\<el\\> reembolso"
        };
        assert!(
            report.contains(asked),
            "{format}: the customer's words, escaped"
        );
    }
}

#[test]
fn corrections_export_as_the_training_csv_each_tool_reads() {
    let db = loaded();
    let mut client = db.connect().unwrap();
    let corrected = client
        .execute(
            "UPDATE triage_results SET true_label = 'refund'
             WHERE tool = 'category' AND ticket_id IN
               (SELECT ticket_id FROM triage_results WHERE tool = 'category' ORDER BY ticket_id LIMIT 3)",
            &[],
        )
        .unwrap();
    assert_eq!(corrected, 3, "the examples carry category results");
    // One sentiment correction, on the last ticket: its own export.
    let sentiment_subject: String = client
        .query_one(
            "UPDATE triage_results r SET true_label = 'positive' FROM tickets t
             WHERE t.id = r.ticket_id AND r.tool = 'sentiment' AND r.ticket_id =
               (SELECT max(ticket_id) FROM triage_results WHERE tool = 'sentiment')
             RETURNING t.subject",
            &[],
        )
        .unwrap()
        .get(0);
    let first_subject: String = client
        .query_one(
            "SELECT t.subject FROM tickets t JOIN triage_results r ON r.ticket_id = t.id
             WHERE r.tool = 'category' AND r.true_label IS NOT NULL ORDER BY t.id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corrections.csv");
    run_ok(&[
        "corrections",
        "--db",
        db.url(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["text", "label"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| &r[1] == "refund"));
    assert!(rows[0][0].starts_with(&first_subject), "{:?}", rows[0]);
    run_ok(&[
        "corrections",
        "--tool",
        "sentiment",
        "--db",
        db.url(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_path(&out)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(&rows[0][1], "positive");
    assert!(rows[0][0].starts_with(&sentiment_subject), "{:?}", rows[0]);

    // Files hold no corrections: the message says where they are.
    let output = run(&[
        "corrections",
        "--input",
        example("history.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--db"));
}
