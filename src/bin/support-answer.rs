use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use support_answer::index::KbIndex;
use support_answer::reply::{self, ReplyOutputs};
use support_answer::{evaluate, kb, AnswerConfig, Answerer, EMBEDDED_CONFIG};
use support_cli::{self, CommonArgs};
use support_embed::Embedder;
use support_store::models::ModelTool;
use support_suite::store_models::StoreModelsArg;

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  scripts/setup-models.sh        # once: installs the embedding model
  support-answer index --kb examples/kb/articles.jsonl --out kb.index
  echo '{"id":"T-1","description":"Olvidé mi contraseña"}' \
    | support-answer --index kb.index
  support-answer evaluate --index kb.index --data examples/kb/queries.csv \
    --target-precision 0.95
  support-answer evaluate --index kb.index --leave-one-out
  support-triage --index kb.index < examples/tickets.jsonl > triaged.jsonl
  support-answer reply --input triaged.jsonl --rest rest.jsonl \
    --mails mails.jsonl > answered.jsonl"#;

/// Adds `answer` to each ticket: the knowledge-base articles that answer it (semantic and
/// lexical search, fused), the best one's reply in the ticket's language with its
/// placeholders filled, and `auto_reply` when it is confident enough to send unreviewed.
#[derive(Parser)]
#[command(name = "support-answer", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Index from `support-answer index`.
    #[arg(long, value_name = "DIR", global = true)]
    index: Option<PathBuf>,
    #[command(flatten)]
    store_models: StoreModelsArg,
    /// Folder of the embedding model (default: $SUPPORT_EMBEDDER, else where
    /// scripts/setup-models.sh installs it).
    #[arg(long, value_name = "DIR", global = true)]
    embedder: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Build an index from articles: JSON Lines (id, title, body, questions, language, url,
    /// tags, reply) or a folder of Markdown files with optional YAML front matter.
    Index {
        /// Articles: a JSON Lines file or a folder of .md files.
        #[arg(long, value_name = "FILE|DIR", required_unless_present = "db")]
        kb: Option<PathBuf>,
        /// Read the articles from the store's `kb_entries` instead (PostgreSQL URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL", conflicts_with = "kb")]
        db: Option<String>,
        /// Folder to write the index to.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// The bot's replies: reads answered tickets (after support-answer or support-triage
    /// --index) and writes on stdout those the bot may answer unreviewed, marked answered by
    /// the bot (status resolved, resolved_by bot, the reply appended to messages). The others
    /// go to --rest unchanged. An engine sends `answer.reply.text` to `customer.email` and
    /// stores what this prints. Counts on stderr as {"summary": ...}.
    Reply {
        /// Answered tickets (default: stdin).
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Where the tickets the bot does not answer go (JSON Lines), unchanged: for routing.
        #[arg(long, value_name = "FILE")]
        rest: Option<PathBuf>,
        /// Error records of unreadable lines (default: in --rest, else stderr).
        #[arg(long, value_name = "FILE")]
        errors: Option<PathBuf>,
        /// Also write the mail of each answered ticket (JSON Lines: ticket_id, to, subject,
        /// text, language, article_id), in the order of stdout.
        #[arg(long, value_name = "FILE")]
        mails: Option<PathBuf>,
    },
    /// Retrieval quality on labelled queries (CSV with `text` and `article_id`): recall@1,
    /// recall@5, MRR, and auto_reply's precision and coverage by threshold.
    Evaluate {
        #[arg(long, value_name = "FILE", required_unless_present = "leave_one_out")]
        data: Option<PathBuf>,
        /// Ask the index's own questions instead, each left out of the index while it is
        /// asked: a check of a KB (and of `--config` settings) without labelled queries.
        #[arg(long, conflicts_with = "data")]
        leave_one_out: bool,
        /// Precision the printed `threshold_for_target` must reach.
        #[arg(long, value_name = "P", default_value_t = 0.95)]
        target_precision: f64,
    },
}

fn main() -> ExitCode {
    // Before any thread starts: each record worker embeds its own tickets,
    // and `index` its own chunks of articles.
    support_embed::one_thread_per_call();
    let cli = Cli::parse();
    cli.common.init_logging();
    match &cli.command {
        Some(Command::Index { kb, db, out }) => {
            let articles = match (kb, db) {
                (Some(path), _) => kb::read(path).map_err(support_cli::usage_error),
                (None, Some(url)) => store_articles(url),
                (None, None) => unreachable!("clap requires --kb or --db"),
            };
            match articles {
                Ok(articles) => build_index(&cli, articles, out),
                Err(code) => code,
            }
        }
        None if cli.common.print_config => cli.common.print_config::<AnswerConfig>(EMBEDDED_CONFIG),
        None => match answerer(&cli) {
            Ok(answerer) => support_cli::run_stdio(&cli.common, &answerer),
            Err(code) => code,
        },
        Some(Command::Reply {
            input,
            rest,
            errors,
            mails,
        }) => reply(
            &cli,
            input.as_deref(),
            [rest, errors, mails].map(Option::as_deref),
        ),
        Some(Command::Evaluate {
            data,
            leave_one_out: _,
            target_precision,
        }) => {
            let answerer = match answerer(&cli) {
                Ok(a) => a,
                Err(code) => return code,
            };
            // Without --data, --leave-one-out (clap requires one of them).
            let queries = match data.as_deref().map(evaluate::read_queries).transpose() {
                Ok(q) => q,
                Err(e) => return support_cli::usage_error(format_args!("{e:#}")),
            };
            let progress = progress_bar(
                queries
                    .as_ref()
                    .map_or_else(|| answerer.index().questions().count(), Vec::len),
                "evaluating {bar:40} {pos}/{len} queries, {elapsed}",
            );
            let advance = |i: usize| progress.set_position(i as u64);
            let report = match &queries {
                Some(queries) => {
                    evaluate::evaluate(&answerer, queries, *target_precision, &advance)
                }
                None => Ok(evaluate::evaluate_leave_one_out(
                    &answerer,
                    *target_precision,
                    &advance,
                )),
            };
            progress.finish_and_clear();
            match report {
                Ok(report) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&report).expect("reports serialize")
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    support_cli::print_error(&e.message);
                    ExitCode::from(support_cli::exit::INPUT)
                }
            }
        }
    }
}

/// `support-answer reply`; `outputs` are the --rest, --errors and --mails files.
fn reply(cli: &Cli, input: Option<&Path>, outputs: [Option<&Path>; 3]) -> ExitCode {
    let input = match support_cli::open_input(input) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let [mut rest_file, mut errors_file, mut mails_file] =
        match outputs.map(support_cli::create_output) {
            [Ok(rest), Ok(errors), Ok(mails)] => [rest, errors, mails],
            [Err(code), ..] | [_, Err(code), _] | [.., Err(code)] => return code,
        };
    let (mut stdout, mut stderr, mut nowhere) = (
        BufWriter::new(io::stdout().lock()),
        io::stderr().lock(),
        io::sink(),
    );
    // Error records: to --errors, else in place among the rest, else on stderr.
    let (rest_out, errors_out): (&mut dyn Write, Option<&mut dyn Write>) =
        match (rest_file.as_mut(), errors_file.as_mut()) {
            (Some(rest), Some(errors)) => (rest, Some(errors)),
            (Some(rest), None) => (rest, None),
            (None, Some(errors)) => (&mut nowhere, Some(errors)),
            (None, None) => (&mut nowhere, Some(&mut stderr)),
        };
    let outputs = ReplyOutputs {
        answered: &mut stdout,
        rest: rest_out,
        errors: errors_out,
        mails: mails_file.as_mut().map(|f| f as &mut dyn Write),
    };
    let split = reply::split(
        input,
        outputs,
        cli.common.context().now,
        cli.common.max_record_bytes,
    );
    let flushed = [
        stdout.flush(),
        rest_file.as_mut().map_or(Ok(()), Write::flush),
        errors_file.as_mut().map_or(Ok(()), Write::flush),
        mails_file.as_mut().map_or(Ok(()), Write::flush),
    ];
    match split {
        Ok(summary) => {
            if let Some(e) = flushed.into_iter().find_map(Result::err) {
                support_cli::print_error(format_args!("cannot write output: {e}"));
                return ExitCode::from(support_cli::exit::OUTPUT);
            }
            eprintln!("{}", serde_json::json!({ "summary": summary }));
            if summary.failed > 0 {
                ExitCode::from(support_cli::exit::RECORDS_FAILED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            support_cli::print_error(format_args!("{e}"));
            ExitCode::from(support_cli::exit::OUTPUT)
        }
    }
}

/// The configured answerer, or the exit code of what is missing.
fn answerer(cli: &Cli) -> Result<Answerer, ExitCode> {
    let config: AnswerConfig = cli
        .common
        .load_config(EMBEDDED_CONFIG)
        .map_err(support_cli::usage_error)?;
    let index = cli
        .store_models
        .resolve_one(ModelTool::Answer, cli.index.clone(), false)?;
    let Some(dir) = index else {
        return Err(support_cli::usage_error(
            "--index DIR is required: build one with `support-answer index --kb FILE --out DIR` \
             (or promote one: `support-store models promote --tool answer`, then --store-models)",
        ));
    };
    let index = KbIndex::load(&dir).map_err(support_cli::usage_error)?;
    let embedder = open_embedder(cli.embedder.as_deref())?;
    Answerer::new(config, index, std::sync::Arc::new(embedder))
        .map_err(|e| support_cli::usage_error(format_args!("{e:#}")))
}

fn open_embedder(dir: Option<&Path>) -> Result<Embedder, ExitCode> {
    Embedder::open(dir).map_err(support_cli::usage_error)
}

/// The articles of the store's `kb_entries`.
fn store_articles(url: &str) -> Result<Vec<kb::Article>, ExitCode> {
    let database_error = |e: support_store::StoreError| {
        support_cli::print_error(&e);
        ExitCode::from(e.exit_code())
    };
    let mut client = support_store::connect(url).map_err(database_error)?;
    let jsonl = support_store::kb::kb_articles_jsonl(&mut client).map_err(database_error)?;
    let articles =
        kb::parse_jsonl(Path::new("kb_entries"), &jsonl).map_err(support_cli::usage_error)?;
    if articles.is_empty() {
        return Err(support_cli::usage_error(
            "kb_entries holds no articles: insert some, or index a file with --kb",
        ));
    }
    Ok(articles)
}

fn build_index(cli: &Cli, articles: Vec<kb::Article>, out: &Path) -> ExitCode {
    let started = Instant::now();
    let config: AnswerConfig = match cli.common.load_config(EMBEDDED_CONFIG) {
        Ok(config) => config,
        Err(e) => return support_cli::usage_error(e),
    };
    let embedder = match open_embedder(cli.embedder.as_deref()) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let count = articles.len();
    let progress = progress_bar(0, "embedding {bar:40} {pos}/{len} texts, {elapsed}");
    let built = KbIndex::build(
        articles,
        &embedder,
        config.passage_tokens,
        &|done, total| {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        },
    );
    progress.finish_and_clear();
    let index = match built {
        Ok(i) => i,
        Err(e) => return support_cli::usage_error(e),
    };
    if let Err(e) = index.save(out) {
        support_cli::print_error(e);
        return ExitCode::from(support_cli::exit::OUTPUT);
    }
    let summary = serde_json::json!({
        "index": out.display().to_string(),
        "articles": count,
        "texts": index.texts(),
        "passage_tokens": index.passage_tokens,
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    println!("{summary}");
    ExitCode::SUCCESS
}

/// Drawn only when stderr is a terminal (indicatif hides it otherwise).
fn progress_bar(len: usize, template: &str) -> ProgressBar {
    ProgressBar::new(len as u64)
        .with_style(ProgressStyle::with_template(template).expect("a valid template"))
}
