//! The life cycle of the models the tools learn (`support-store models`).
//!
//! A retrained model is promoted only when it beats the active one on the
//! same held-out data: the caller evaluates both with the tool's `evaluate`
//! and hands the two reports to [`promote`], which compares the tool's
//! [`Metric`]s and keeps the bytes in the store. [`rollback`] undoes the last
//! promotion; [`active_path`] writes the active model into a local cache and
//! gives its path, which the flows pass to the tool's `--model`.

use std::io;
use std::path::{Path, PathBuf};

use postgres::{Client, GenericClient, Transaction};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::StoreError;

/// The tools that read a learned model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ModelTool {
    /// `support-categorize --model` (and support-triage's `--model`).
    Categorize,
    /// `support-sentiment --model` (support-triage's `--sentiment-model`).
    Sentiment,
    /// `support-ml-predict --model`.
    MlPredict,
    /// `support-answer --index` (a folder).
    Answer,
}

impl ModelTool {
    /// The name stored in `models.tool`.
    pub fn name(self) -> &'static str {
        match self {
            ModelTool::Categorize => "categorize",
            ModelTool::Sentiment => "sentiment",
            ModelTool::MlPredict => "ml-predict",
            ModelTool::Answer => "answer",
        }
    }

    /// The tool stored as `name` in `models.tool`.
    pub fn named(name: &str) -> Option<ModelTool> {
        <ModelTool as clap::ValueEnum>::value_variants()
            .iter()
            .copied()
            .find(|t| t.name() == name)
    }

    /// What a candidate must not lose on, and must gain on at least one of,
    /// in the tool's `evaluate` report.
    pub fn gate(self) -> &'static [Metric] {
        use Better::{Higher, Lower};
        match self {
            ModelTool::Categorize | ModelTool::Sentiment => &[Metric {
                pointer: "/macro_f1",
                better: Higher,
                baseline: None,
            }],
            ModelTool::MlPredict => &[
                Metric {
                    pointer: "/resolution_minutes/model/mae",
                    better: Lower,
                    baseline: Some("/resolution_minutes/baseline/mae"),
                },
                Metric {
                    pointer: "/sla_breach/model/auc",
                    better: Higher,
                    baseline: Some("/sla_breach/baseline/auc"),
                },
            ],
            ModelTool::Answer => &[
                Metric {
                    pointer: "/recall_at_1",
                    better: Higher,
                    baseline: None,
                },
                Metric {
                    pointer: "/mrr",
                    better: Higher,
                    baseline: None,
                },
            ],
        }
    }
}

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// A number of an evaluation report, by its JSON pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Metric {
    pub pointer: &'static str,
    pub better: Better,
    /// The same number of the baseline the report carries beside the model's,
    /// for a tool whose embedded default cannot be evaluated.
    #[serde(skip)]
    pub baseline: Option<&'static str>,
}

/// Fields of the tools' reports that say which data was evaluated: two
/// reports that differ in one of them are not on the same held-out data.
const SAME_DATA: [&str; 4] = ["/data", "/count", "/records", "/examples"];

/// Why a model could not be registered, promoted, rolled back or fetched.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The command cannot be done as asked (a report that is not the tool's,
    /// reports on different data, no such version): nothing was changed.
    #[error("{0}")]
    Refused(String),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the model to {}: {source}\nhint: pass a writable --cache-dir", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl From<postgres::Error> for ModelsError {
    fn from(error: postgres::Error) -> Self {
        ModelsError::Store(StoreError::Database(error))
    }
}

impl ModelsError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ModelsError::Store(e) => e.exit_code(),
            ModelsError::Refused(_) | ModelsError::Read { .. } => support_cli::exit::USAGE,
            ModelsError::Write { .. } => support_cli::exit::OUTPUT,
        }
    }
}

/// A model file, or a folder of files (support-answer's index), as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    pub folder: bool,
    /// Sorted by name; one file named "" when not a folder.
    pub files: Vec<(String, Vec<u8>)>,
}

impl ModelFiles {
    /// Reads a model file, or the files of a folder (which holds no folders).
    pub fn read(path: &Path) -> Result<Self, ModelsError> {
        let read_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ModelsError::Read { path, source }
        };
        if !path.is_dir() {
            let bytes = std::fs::read(path).map_err(read_error(path))?;
            return Ok(ModelFiles {
                folder: false,
                files: vec![(String::new(), bytes)],
            });
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(read_error(path))? {
            let entry = entry.map_err(read_error(path))?;
            let file = entry.path();
            let name = entry.file_name().into_string().map_err(|name| {
                ModelsError::Refused(format!(
                    "{}: the file name {name:?} is not UTF-8",
                    path.display()
                ))
            })?;
            if !file.is_file() {
                return Err(ModelsError::Refused(format!(
                    "{} holds {name}, which is not a file: a model folder holds only files",
                    path.display()
                )));
            }
            files.push((name, std::fs::read(&file).map_err(read_error(&file))?));
        }
        if files.is_empty() {
            return Err(ModelsError::Refused(format!(
                "{} is an empty folder, not a model",
                path.display()
            )));
        }
        files.sort();
        Ok(ModelFiles {
            folder: true,
            files,
        })
    }

    /// Hex SHA-256: of the bytes for a file (as `sha256sum` gives it), of
    /// each file's name, length and bytes in name order for a folder.
    pub fn sha256(&self) -> String {
        let digest = if self.folder {
            let mut hasher = Sha256::new();
            for (name, bytes) in &self.files {
                hasher.update((name.len() as u64).to_le_bytes());
                hasher.update(name.as_bytes());
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(bytes);
            }
            hasher.finalize()
        } else {
            Sha256::digest(&self.files[0].1)
        };
        crate::hex(&digest)
    }

    fn bytes(&self) -> usize {
        self.files.iter().map(|(_, bytes)| bytes.len()).sum()
    }
}

/// Hex SHA-256 of a file: how the held-out data of a promotion is recorded.
pub fn file_sha256(path: &Path) -> Result<String, ModelsError> {
    let bytes = std::fs::read(path).map_err(|source| ModelsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(crate::hex(&Sha256::digest(bytes)))
}

/// A retrained model offered for promotion.
pub struct Candidate {
    pub tool: ModelTool,
    pub files: ModelFiles,
    /// The tool's `evaluate` report of the candidate on the held-out data.
    pub report: Value,
    pub against: Against,
    pub training_data: Option<String>,
    pub eval_data: Option<String>,
}

/// One metric of the two reports.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Change {
    pub metric: &'static str,
    pub better: Better,
    pub active: f64,
    pub candidate: f64,
    /// Candidate minus active.
    pub change: f64,
}

/// A model as `list` and the reports name it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ModelRef {
    pub version: i32,
    pub sha256: String,
}

/// What `support-store models promote` decided.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Promotion {
    pub tool: ModelTool,
    pub promoted: bool,
    /// The candidate's version when promoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    pub sha256: String,
    /// The model that was active before (`null`: the embedded default).
    pub replaced: Option<ModelRef>,
    /// The gate's metrics, active against candidate (empty when forced).
    pub changes: Vec<Change>,
    pub reason: String,
}

/// What a candidate is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// The tool's `evaluate` report of the active model (or of the embedded
    /// default when none is active) on the same held-out data.
    Active(Value),
    /// The baseline the candidate's own report carries beside the model's
    /// (support-ml-predict: the per-category-and-priority medians and breach
    /// rates), when no model is active and the default cannot be evaluated.
    Baseline,
    /// Nothing: a person vouches for the model (`--force`).
    Nothing,
}

/// Compares the candidate's report with what it must beat: promoted when no
/// gate metric is worse and one is better. Refuses reports that are not the
/// tool's or not on the same data.
pub fn judge(
    tool: ModelTool,
    candidate: &Value,
    against: &Against,
) -> Result<(bool, Vec<Change>), ModelsError> {
    if let Against::Active(active) = against {
        for field in SAME_DATA {
            let (a, c) = (active.pointer(field), candidate.pointer(field));
            if a != c {
                return Err(ModelsError::Refused(format!(
                    "the two reports are not on the same held-out data: {field} is {} for the active model and {} for the candidate\n\
                     hint: evaluate both models on the same file",
                    a.map_or("absent".into(), Value::to_string),
                    c.map_or("absent".into(), Value::to_string),
                )));
            }
        }
    }
    let number = |report: &Value, which: &str, pointer: &str| {
        report.pointer(pointer).and_then(Value::as_f64).ok_or_else(|| {
            ModelsError::Refused(format!(
                "the {which} report has no number at {pointer}: give the JSON of `support-{} evaluate`",
                tool.name()
            ))
        })
    };
    let mut changes = Vec::new();
    for metric in tool.gate() {
        let active = match against {
            Against::Active(active) => number(active, "active model's", metric.pointer)?,
            Against::Baseline => {
                let Some(baseline) = metric.baseline else {
                    return Err(ModelsError::Refused(format!(
                        "support-{} evaluate reports no baseline: evaluate the active model (or the embedded default) \
                         on the same data and give its report with --active-report",
                        tool.name()
                    )));
                };
                number(candidate, "candidate's", baseline)?
            }
            Against::Nothing => return Ok((true, Vec::new())),
        };
        let candidate = number(candidate, "candidate's", metric.pointer)?;
        changes.push(Change {
            metric: metric.pointer,
            better: metric.better,
            active,
            candidate,
            // Rounded off the float noise of the subtraction (0.3187, not 0.31870000000000004).
            change: ((candidate - active) * 1e9).round() / 1e9,
        });
    }
    let gain = |c: &Change| match c.better {
        Better::Higher => c.change,
        Better::Lower => -c.change,
    };
    let beats = changes.iter().all(|c| gain(c) >= 0.0) && changes.iter().any(|c| gain(c) > 0.0);
    Ok((beats, changes))
}

/// Serializes the changes of one tool's models with every other command's.
fn lock(tx: &mut Transaction<'_>) -> Result<(), postgres::Error> {
    tx.batch_execute("LOCK TABLE models IN SHARE ROW EXCLUSIVE MODE")
}

/// A stored model as the commands handle it.
struct Stored {
    id: i64,
    model: ModelRef,
    folder: bool,
}

/// The columns [`Stored::of`] reads, in its order.
const STORED: &str = "id, version, sha256, kind = 'folder'";

impl Stored {
    fn of(row: &postgres::Row) -> Stored {
        Stored {
            id: row.get(0),
            model: ModelRef {
                version: row.get(1),
                sha256: row.get(2),
            },
            folder: row.get(3),
        }
    }
}

fn active_model(
    client: &mut impl GenericClient,
    tool: ModelTool,
) -> Result<Option<Stored>, postgres::Error> {
    let query = format!("SELECT {STORED} FROM models WHERE tool = $1 AND active");
    Ok(client
        .query_opt(&query, &[&tool.name()])?
        .as_ref()
        .map(Stored::of))
}

/// Stores `candidate` as the tool's active model when it beats the active
/// one on the same data (always when no active report is given).
pub fn promote(client: &mut Client, candidate: &Candidate) -> Result<Promotion, ModelsError> {
    let tool = candidate.tool;
    let sha256 = candidate.files.sha256();
    let (beats, changes) = judge(tool, &candidate.report, &candidate.against)?;
    let mut tx = client.transaction()?;
    lock(&mut tx)?;
    let replaced = active_model(&mut tx, tool)?;
    let refuse = |reason: String| Promotion {
        tool,
        promoted: false,
        version: None,
        sha256: sha256.clone(),
        replaced: replaced.as_ref().map(|r| r.model.clone()),
        changes: changes.clone(),
        reason,
    };
    if replaced.as_ref().is_some_and(|r| r.model.sha256 == sha256) {
        return Ok(refuse("the candidate is the active model".into()));
    }
    if candidate.against == Against::Baseline && replaced.is_some() {
        return Err(ModelsError::Refused(format!(
            "{} has an active model: compare with it (--active-report), not with the baseline",
            tool.name()
        )));
    }
    if !beats {
        return Ok(refuse(
            "the candidate does not beat the active model on the held-out data: kept the active one".into(),
        ));
    }
    if let Some(replaced) = &replaced {
        tx.execute(
            "UPDATE models SET active = false WHERE id = $1",
            &[&replaced.id],
        )?;
    }
    let row = tx.query_one(
        "INSERT INTO models (tool, version, sha256, kind, training_data, eval_data, metrics, replaced_metrics, active)
         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, true FROM models WHERE tool = $1
         RETURNING id, version",
        &[
            &tool.name(),
            &sha256,
            &if candidate.files.folder { "folder" } else { "file" },
            &candidate.training_data,
            &candidate.eval_data,
            &candidate.report.to_string(),
            &match &candidate.against {
                Against::Active(report) => Some(report.to_string()),
                Against::Baseline | Against::Nothing => None,
            },
        ],
    )?;
    let (id, version): (i64, i32) = (row.get(0), row.get(1));
    for (name, bytes) in &candidate.files.files {
        tx.execute(
            "INSERT INTO model_files (model_id, name, content) VALUES ($1, $2, $3)",
            &[&id, name, bytes],
        )?;
    }
    tx.commit()?;
    let reason = match candidate.against {
        Against::Active(_) => "the candidate beats the active model on the held-out data",
        Against::Baseline => "no model was active: the candidate beats the baseline of its report",
        Against::Nothing => "promoted without comparing (--force)",
    }
    .into();
    Ok(Promotion {
        tool,
        promoted: true,
        version: Some(version),
        sha256,
        replaced: replaced.map(|r| r.model),
        changes,
        reason,
    })
}

/// What `support-store models rollback` did.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Rollback {
    pub tool: ModelTool,
    /// The model that was active (`null`: the embedded default).
    pub from: Option<ModelRef>,
    /// The model active now (`null`: the tools use their embedded default).
    pub to: Option<ModelRef>,
}

/// Undoes the tool's last promotion (the model promoted before it, not
/// itself rolled back, becomes active again; none left: the embedded
/// default), or with `to` makes that version active.
pub fn rollback(
    client: &mut Client,
    tool: ModelTool,
    to: Option<i32>,
) -> Result<Rollback, ModelsError> {
    let mut tx = client.transaction()?;
    lock(&mut tx)?;
    let from = active_model(&mut tx, tool)?;
    let target = match to {
        Some(version) => {
            let query = format!("SELECT {STORED} FROM models WHERE tool = $1 AND version = $2");
            let Some(row) = tx.query_opt(&query, &[&tool.name(), &version])? else {
                return Err(ModelsError::Refused(format!(
                    "{} has no version {version}\nhint: `support-store models list --tool {}` lists them",
                    tool.name(),
                    tool.name()
                )));
            };
            Some(Stored::of(&row))
        }
        None => {
            let Some(from) = &from else {
                return Err(ModelsError::Refused(format!(
                    "{} has no active model to roll back: the tools use their embedded default",
                    tool.name()
                )));
            };
            let query = format!(
                "SELECT {STORED} FROM models
                 WHERE tool = $1 AND id <> $2 AND rolled_back_at IS NULL
                   AND promoted_at <= (SELECT promoted_at FROM models WHERE id = $2)
                 ORDER BY promoted_at DESC, version DESC LIMIT 1"
            );
            tx.query_opt(&query, &[&tool.name(), &from.id])?
                .as_ref()
                .map(Stored::of)
        }
    };
    if let Some(from) = &from {
        if target.as_ref().is_some_and(|t| t.id == from.id) {
            return Ok(Rollback {
                tool,
                from: Some(from.model.clone()),
                to: Some(from.model.clone()),
            });
        }
        // Undone by a rollback, not superseded by a promotion: a later rollback skips it.
        tx.execute(
            "UPDATE models SET active = false, rolled_back_at = now() WHERE id = $1",
            &[&from.id],
        )?;
    }
    if let Some(target) = &target {
        let chosen = to.is_some();
        tx.execute(
            "UPDATE models SET active = true, rolled_back_at = NULL,
                    promoted_at = CASE WHEN $2 THEN now() ELSE promoted_at END
             WHERE id = $1",
            &[&target.id, &chosen],
        )?;
    }
    tx.commit()?;
    Ok(Rollback {
        tool,
        from: from.map(|f| f.model),
        to: target.map(|t| t.model),
    })
}

/// One stored model, as `list` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Listed {
    pub tool: String,
    pub version: i32,
    /// The model the pipelines use now.
    pub active: bool,
    pub sha256: String,
    /// `file`, or `folder` (support-answer's index).
    pub kind: String,
    pub bytes: i64,
    /// RFC 3339, as PostgreSQL writes it.
    pub created_at: String,
    pub promoted_at: String,
    pub rolled_back_at: Option<String>,
    pub training_data: Option<String>,
    pub eval_data: Option<String>,
    /// The gate's metrics of its evaluation report, by JSON pointer.
    pub metrics: serde_json::Map<String, Value>,
}

/// The stored models, newest first, of one tool or of all.
pub fn list(client: &mut Client, tool: Option<ModelTool>) -> Result<Vec<Listed>, ModelsError> {
    let rows = client.query(
        "SELECT json_build_object(
                    'tool', m.tool, 'version', m.version, 'active', m.active, 'sha256', m.sha256,
                    'kind', m.kind,
                    'bytes', (SELECT coalesce(sum(octet_length(content)), 0) FROM model_files f WHERE f.model_id = m.id),
                    'created_at', m.created_at, 'promoted_at', m.promoted_at,
                    'rolled_back_at', m.rolled_back_at, 'training_data', m.training_data,
                    'eval_data', m.eval_data, 'metrics', m.metrics)::text
         FROM models m WHERE $1::text IS NULL OR m.tool = $1
         ORDER BY m.tool, m.version DESC",
        &[&tool.map(ModelTool::name)],
    )?;
    rows.iter()
        .map(|row| {
            let mut model: Listed = serde_json::from_str(row.get(0)).map_err(|e| {
                ModelsError::Refused(format!("the store gave a model it cannot read: {e}"))
            })?;
            let gate = ModelTool::named(&model.tool).map_or(&[][..], ModelTool::gate);
            let report = Value::Object(std::mem::take(&mut model.metrics));
            model.metrics = gate
                .iter()
                .filter_map(|m| Some((m.pointer.to_string(), report.pointer(m.pointer)?.clone())))
                .collect();
            Ok(model)
        })
        .collect()
}

/// The tool's active model as a local path (a file, or a folder for
/// answer) under `cache`, written there on first use and checked against its
/// SHA-256; `None` when no model is active (the tool's embedded default).
pub fn active_path(
    client: &mut Client,
    tool: ModelTool,
    cache: &Path,
) -> Result<Option<PathBuf>, ModelsError> {
    let Some(Stored {
        id,
        model: ModelRef { version, sha256 },
        folder,
    }) = active_model(client, tool)?
    else {
        return Ok(None);
    };
    let name = format!(
        "{}-v{version}-{}{}",
        tool.name(),
        &sha256[..16],
        if folder { "" } else { ".model" }
    );
    let path = cache.join(name);
    if ModelFiles::read(&path).is_ok_and(|files| files.folder == folder && files.sha256() == sha256)
    {
        return Ok(Some(path));
    }
    let files = ModelFiles {
        folder,
        files: client
            .query(
                "SELECT name, content FROM model_files WHERE model_id = $1 ORDER BY name",
                &[&id],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect(),
    };
    if files.files.is_empty() || files.sha256() != sha256 {
        return Err(ModelsError::Refused(format!(
            "the stored files of {} version {version} do not match its SHA-256 {sha256}: the store is damaged\n\
             hint: roll back (`support-store models rollback --tool {}`) or promote a new model",
            tool.name(),
            tool.name()
        )));
    }
    write_atomically(&files, &path)?;
    tracing::info!(path = %path.display(), bytes = files.bytes(), "fetched the active model");
    Ok(Some(path))
}

/// Writes the files beside `path` and renames them into place, so a reader
/// never sees half a model.
fn write_atomically(files: &ModelFiles, path: &Path) -> Result<(), ModelsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let write_error = |source| ModelsError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_error)?;
    if files.folder {
        let staging = tempfile::Builder::new()
            .prefix(".fetching-")
            .tempdir_in(dir)
            .map_err(write_error)?;
        for (name, bytes) in &files.files {
            std::fs::write(staging.path().join(name), bytes).map_err(write_error)?;
        }
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(write_error)?;
        }
        std::fs::rename(staging.path(), path).map_err(write_error)?;
        // Renamed away: nothing left for the guard to remove.
        let _ = staging.keep();
    } else {
        let mut staging = tempfile::Builder::new()
            .prefix(".fetching-")
            .tempfile_in(dir)
            .map_err(write_error)?;
        io::Write::write_all(&mut staging, &files.files[0].1).map_err(write_error)?;
        staging.persist(path).map_err(|e| write_error(e.error))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_candidate_beats_the_active_model_only_when_better_on_one_metric_and_worse_on_none() {
        let report = |mae: f64, auc: f64| {
            json!({"data": "dev.csv", "records": 100,
                   "resolution_minutes": {"model": {"mae": mae}, "baseline": {"mae": 120.0}},
                   "sla_breach": {"model": {"auc": auc}, "baseline": {"auc": 0.7}}})
        };
        let active = Against::Active(report(100.0, 0.80));
        let judged = |c: Value| judge(ModelTool::MlPredict, &c, &active).unwrap().0;
        assert!(judged(report(90.0, 0.80)));
        assert!(judged(report(100.0, 0.81)));
        assert!(!judged(report(100.0, 0.80)), "equal is not better");
        assert!(!judged(report(90.0, 0.79)), "worse on one metric");
        let (_, changes) = judge(ModelTool::MlPredict, &report(90.0, 0.85), &active).unwrap();
        assert_eq!(changes[0].change, -10.0);
        assert!((changes[1].change - 0.05).abs() < 1e-12);
        // Against the baseline of its own report: MAE 120 and AUC 0.7.
        let (beats, changes) = judge(
            ModelTool::MlPredict,
            &report(110.0, 0.75),
            &Against::Baseline,
        )
        .unwrap();
        assert!(beats);
        assert_eq!((changes[0].active, changes[1].active), (120.0, 0.7));
        assert!(
            !judge(
                ModelTool::MlPredict,
                &report(130.0, 0.75),
                &Against::Baseline
            )
            .unwrap()
            .0
        );
    }

    #[test]
    fn reports_on_different_data_or_of_another_tool_are_refused() {
        let active = Against::Active(json!({"count": 120, "macro_f1": 0.8}));
        let other_data = json!({"count": 118, "macro_f1": 0.9});
        let error = judge(ModelTool::Categorize, &other_data, &active).unwrap_err();
        assert!(error.to_string().contains("same held-out data"), "{error}");
        let answer_report = json!({"count": 120, "recall_at_1": 0.9});
        let error = judge(ModelTool::Categorize, &answer_report, &active).unwrap_err();
        assert!(error.to_string().contains("/macro_f1"), "{error}");
        let error = judge(ModelTool::Categorize, &other_data, &Against::Baseline).unwrap_err();
        assert!(error.to_string().contains("--active-report"), "{error}");
    }

    #[test]
    fn a_folder_hashes_its_names_and_bytes_and_a_file_as_sha256sum_does() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"xy").unwrap();
        std::fs::write(dir.path().join("b"), b"z").unwrap();
        let folder = ModelFiles::read(dir.path()).unwrap();
        assert!(folder.folder);
        std::fs::rename(dir.path().join("b"), dir.path().join("c")).unwrap();
        assert_ne!(
            ModelFiles::read(dir.path()).unwrap().sha256(),
            folder.sha256()
        );
        let file = ModelFiles::read(&dir.path().join("a")).unwrap();
        // printf xy | sha256sum
        assert_eq!(
            file.sha256(),
            "769a4e6d0003189c7e96c5d9b7e810a0d11c3a12832527ec94b0f86d277f51ca"
        );
    }

    /// Random reports built from the keys the gates read: `judge` answers
    /// every pair (promoted, kept or refused) and never panics.
    #[test]
    fn any_pair_of_reports_is_judged_without_panicking() {
        const KEYS: [&str; 12] = [
            "macro_f1",
            "count",
            "data",
            "records",
            "examples",
            "resolution_minutes",
            "model",
            "baseline",
            "mae",
            "sla_breach",
            "auc",
            "recall_at_1",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        fn value(next: &mut dyn FnMut() -> u64, depth: u32) -> Value {
            match next() % if depth == 0 { 5 } else { 7 } {
                0 => Value::Null,
                1 => json!(next().is_multiple_of(2)),
                2 => json!((next() % 2001) as f64 / 1000.0 - 1.0),
                3 => json!(f64::MAX),
                4 => json!(KEYS[(next() % 12) as usize]),
                5 => Value::Array((0..next() % 3).map(|_| value(next, depth - 1)).collect()),
                _ => Value::Object(
                    (0..1 + next() % 4)
                        .map(|_| {
                            (
                                KEYS[(next() % 12) as usize].to_string(),
                                value(next, depth - 1),
                            )
                        })
                        .collect(),
                ),
            }
        }
        let tools = [
            ModelTool::Categorize,
            ModelTool::Sentiment,
            ModelTool::MlPredict,
            ModelTool::Answer,
        ];
        let mut judged = [0usize; 2];
        for round in 0..20_000 {
            let (candidate, active) = (value(&mut next, 4), value(&mut next, 4));
            let tool = tools[round % 4];
            for against in [Against::Active(active), Against::Baseline, Against::Nothing] {
                judged[usize::from(judge(tool, &candidate, &against).is_ok())] += 1;
            }
        }
        assert!(judged[0] > 0 && judged[1] > 0, "{judged:?}");
    }
}
