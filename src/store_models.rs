//! `--store-models`: a tool takes the models promoted in the store
//! (`support-store models`) instead of its embedded defaults, so a flow
//! passes one flag and always runs what the retrain DAG promoted.

use std::path::PathBuf;
use std::process::ExitCode;

use support_store::models::{active_path, ModelTool};

/// The flag, for the binaries that read a learned model.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct StoreModelsArg {
    /// Use the active model of the store (DATABASE_URL; see `support-store models`) for every
    /// model this tool reads, fetched into $XDG_CACHE_HOME/support-suite/models; a model flag
    /// given explicitly wins, and a tool without an active model keeps its embedded default.
    /// SUPPORT_STORE_MODELS=1 turns it on for every tool a worker runs.
    #[arg(long, global = true, env = "SUPPORT_STORE_MODELS", value_parser = clap::builder::FalseyValueParser::new())]
    pub store_models: bool,
}

impl StoreModelsArg {
    /// For each of `wanted` (a tool and the path given on the command line):
    /// the given path, else the store's active model when the flag is on.
    /// An unreachable store is an error (exit 5), never a silent default.
    pub fn resolve<const N: usize>(
        &self,
        wanted: [(ModelTool, Option<PathBuf>); N],
    ) -> Result<[Option<PathBuf>; N], ExitCode> {
        if !self.store_models || wanted.iter().all(|(_, given)| given.is_some()) {
            return Ok(wanted.map(|(_, given)| given));
        }
        let fail = |message: &dyn std::fmt::Display, code: u8| {
            support_cli::print_error(format_args!("--store-models: {message}"));
            ExitCode::from(code)
        };
        let mut client =
            support_store::connect_current(&support_store::url_from_env(), Default::default())
                .map_err(|e| fail(&e, e.exit_code()))?;
        let cache = support_core::suite_cache_dir().join("models");
        let mut resolved = Vec::with_capacity(N);
        for (tool, given) in wanted {
            let path = match given {
                Some(path) => Some(path),
                None => {
                    active_path(&mut client, tool, &cache).map_err(|e| fail(&e, e.exit_code()))?
                }
            };
            tracing::info!(tool = tool.name(), model = ?path, "model");
            resolved.push(path);
        }
        Ok(resolved.try_into().expect("one path per tool"))
    }

    /// [`resolve`](Self::resolve) for a tool that reads one model, unless it
    /// is `training` (a new model learns; the active one is not read).
    pub fn resolve_one(
        &self,
        tool: ModelTool,
        given: Option<PathBuf>,
        training: bool,
    ) -> Result<Option<PathBuf>, ExitCode> {
        if training {
            return Ok(None);
        }
        self.resolve([(tool, given)]).map(|[path]| path)
    }
}
