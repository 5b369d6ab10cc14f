//! Client for a team's own classification service (`--ml-url`).
//!
//! Contract (`schemas/remote-request.schema.json`, `schemas/remote-response.schema.json`):
//! POST JSON `{"id", "text", "language", "labels"}`, answer `{"label", "confidence",
//! "alternatives", "model"}`. Calls have a timeout and are retried with
//! exponential backoff and jitter; a circuit breaker persisted on disk stops
//! calls to a service that is down, across short-lived processes; answers are
//! validated against the allowed labels and cached on disk with a TTL. Every
//! failure comes back as a [`Unavailable`] reason, so the caller falls back to
//! its local model and says why.
//!
//! A bearer token comes from the environment ([`TOKEN_ENV`]), not the command
//! line; the URL is shown (logs, reasons, outputs) only through
//! [`redact::redact_url`], which hides passwords and secret-looking parameters.

pub mod breaker;
pub mod cache;
pub mod redact;
#[cfg(any(test, feature = "test-server"))]
pub mod test_server;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::{BlockingRetryable, ExponentialBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use breaker::{BreakerFile, BreakerPolicy, BreakerState, Permit};
use cache::DiskCache;
use redact::redact_url;

/// The environment variable holding a token sent as `Authorization: Bearer
/// <token>`, so the secret is not in the command line or the URL.
pub const TOKEN_ENV: &str = "SUPPORT_ML_TOKEN";

/// Answers larger than this are refused.
const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// How to reach and protect the remote service (the `remote:` section of a config).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteSettings {
    /// Per-attempt timeout.
    pub timeout_ms: u64,
    /// Retries after the first attempt, for timeouts, connection errors, 429 and 5xx.
    pub retries: usize,
    /// First backoff delay; doubles each retry, with jitter, up to `backoff_max_ms`.
    pub backoff_initial_ms: u64,
    pub backoff_max_ms: u64,
    /// Failures in a row that open the circuit.
    pub breaker_failures: u32,
    /// How long an open circuit refuses calls before one trial.
    pub breaker_cooldown_secs: u64,
    /// How long a cached answer is reused, and kept on disk; 0 disables the cache.
    pub cache_ttl_secs: u64,
    /// The cache's size limit in MiB; the oldest answers go first.
    #[serde(default = "default_cache_max_mb")]
    pub cache_max_mb: u64,
    /// Where breaker state and cache live. By default the breaker state is in
    /// `$XDG_STATE_HOME/support-triage` (or `~/.local/state/support-triage`)
    /// and the cache in `$XDG_CACHE_HOME/support-triage` (or
    /// `~/.cache/support-triage`); without those variables and `HOME`, the
    /// breaker state lives in memory and nothing is cached.
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
}

fn default_cache_max_mb() -> u64 {
    64
}

/// What is sent to the service.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "RemoteRequest")]
pub struct RemoteRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// The ticket text (subject and description).
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<&'a str>,
    /// The labels the answer must choose from.
    pub labels: &'a [String],
}

/// What the service must answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "RemoteResponse")]
pub struct RemoteAnswer {
    /// One of the request's `labels`.
    pub label: String,
    /// In [0, 1].
    pub confidence: f64,
    /// Other labels with their confidence, best first.
    #[serde(default)]
    pub alternatives: Vec<RemoteAlternative>,
    /// The service's model name or version, quoted in reasons.
    #[serde(default)]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemoteAlternative {
    pub label: String,
    pub confidence: f64,
}

/// Where an accepted answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSource {
    Service,
    Cache,
}

/// Why the service's answer could not be used; the caller falls back and quotes this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("circuit breaker open after repeated failures; next try after {retry_at} (Unix time)")]
    CircuitOpen { retry_at: u64 },
    #[error("timed out after {attempts} attempt(s)")]
    Timeout { attempts: usize },
    #[error("service answered HTTP {status}")]
    Status { status: u16 },
    /// `url` is redacted.
    #[error("cannot connect to {url}: {reason}")]
    Connection { url: String, reason: String },
    /// The service answered, but not with an answer of the contract; `url` is redacted.
    #[error("the classifier at {url} answered {problem}; the contract is schemas/remote-response.schema.json")]
    InvalidAnswer { url: String, problem: String },
}

impl Unavailable {
    fn retryable(&self) -> bool {
        match self {
            Unavailable::Timeout { .. } | Unavailable::Connection { .. } => true,
            Unavailable::Status { status } => *status == 429 || *status >= 500,
            Unavailable::CircuitOpen { .. } | Unavailable::InvalidAnswer { .. } => false,
        }
    }
}

pub struct RemoteClassifier {
    /// The service URL as given, credentials included: only for the requests.
    endpoint: String,
    /// `endpoint` with its credentials redacted, for logs, reasons and outputs.
    shown_url: String,
    token: Option<String>,
    settings: RemoteSettings,
    agent: ureq::Agent,
    labels: Vec<String>,
    allowed: BTreeSet<String>,
    /// `None` when there is no directory for it: the state lives in memory.
    breaker_file: Option<BreakerFile>,
    breaker: Mutex<BreakerState>,
    cache: Option<DiskCache>,
}

impl RemoteClassifier {
    /// A client for `url` that accepts only `labels` in answers, sending the
    /// token in [`TOKEN_ENV`] if set.
    pub fn new(url: &str, settings: RemoteSettings, labels: Vec<String>) -> Self {
        let token = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty());
        Self::with_token(url, settings, labels, token)
    }

    /// A client for `url` that sends `token` as a bearer token.
    pub fn with_token(
        url: &str,
        settings: RemoteSettings,
        labels: Vec<String>,
        token: Option<String>,
    ) -> Self {
        let home = std::env::var_os("HOME");
        let dir = |xdg: &str, under_home: &str| {
            settings
                .state_dir
                .clone()
                .or_else(|| default_dir(std::env::var_os(xdg), home.clone(), under_home))
        };
        let service = service_key(url);
        let state_dir = dir("XDG_STATE_HOME", ".local/state");
        if let Some(d) = &state_dir {
            remove_legacy_caches(d);
        }
        let breaker_file =
            state_dir.map(|d| BreakerFile::new(d.join(format!("breaker-{service}.json"))));
        if breaker_file.is_none() {
            tracing::warn!("neither XDG_STATE_HOME nor HOME is set: the remote classifier's circuit breaker remembers failures only within this run; set `state_dir` in the `remote:` configuration");
        }
        let breaker = Mutex::new(
            breaker_file
                .as_ref()
                .map(BreakerFile::load)
                .unwrap_or_default(),
        );
        let cache = if settings.cache_ttl_secs == 0 {
            None
        } else if let Some(d) = dir("XDG_CACHE_HOME", ".cache") {
            Some(DiskCache::new(
                d.join(format!("answers-{service}")),
                settings.cache_ttl_secs,
                settings.cache_max_mb.saturating_mul(1 << 20),
            ))
        } else {
            tracing::warn!("neither XDG_CACHE_HOME nor HOME is set: remote answers are not cached; set `state_dir` in the `remote:` configuration");
            None
        };
        if let Some(cache) = &cache {
            match cache.prune_if_due(SystemTime::now()) {
                Ok(Some(pruned)) => {
                    tracing::debug!(dir = %cache.dir().display(), ?pruned, "pruned the remote answer cache")
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot prune the remote answer cache; check the directory's permissions")
                }
            }
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(settings.timeout_ms)))
            .http_status_as_error(false)
            .build()
            .into();
        RemoteClassifier {
            endpoint: url.to_string(),
            shown_url: redact_url(url),
            token,
            settings,
            agent,
            allowed: labels.iter().cloned().collect(),
            labels,
            breaker_file,
            breaker,
            cache,
        }
    }

    /// The service URL with its credentials redacted: the only form to log or output.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    fn policy(&self) -> BreakerPolicy {
        BreakerPolicy {
            failure_threshold: self.settings.breaker_failures.max(1),
            cooldown: Duration::from_secs(self.settings.breaker_cooldown_secs),
        }
    }

    /// Asks the service (or the cache) for a label.
    pub fn classify(
        &self,
        id: Option<&str>,
        text: &str,
        language: Option<&str>,
    ) -> Result<(RemoteAnswer, AnswerSource), Unavailable> {
        let cache_key = format!(
            "{}\n{}\n{}",
            language.unwrap_or(""),
            self.labels.join(","),
            text
        );
        let now = unix_now();
        if let Some(answer) = self
            .cache
            .as_ref()
            .and_then(|c| c.get::<RemoteAnswer>(&cache_key, now))
        {
            if self.validate(&answer).is_ok() {
                return Ok((answer, AnswerSource::Cache));
            }
        }
        self.admit(now)?;
        let request = RemoteRequest {
            id,
            text,
            language,
            labels: &self.labels,
        };
        let mut attempts = 0usize;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.settings.backoff_initial_ms))
            .with_max_delay(Duration::from_millis(self.settings.backoff_max_ms))
            .with_max_times(self.settings.retries)
            .with_jitter();
        let result = (|| {
            attempts += 1;
            self.call_once(&request)
        })
        .retry(backoff)
        .when(Unavailable::retryable)
        .notify(|err, delay| tracing::info!(url = %self.shown_url, error = %err, ?delay, "retrying remote classifier"))
        .call()
        .map_err(|e| match e {
            Unavailable::Timeout { .. } => Unavailable::Timeout { attempts },
            other => other,
        });
        self.settle(&result, unix_now());
        let answer = result?;
        if let Some(cache) = &self.cache {
            cache.put(&cache_key, &answer, unix_now());
        }
        Ok((answer, AnswerSource::Service))
    }

    /// Consults the breaker; claims the trial call when the cooldown is over.
    fn admit(&self, now: u64) -> Result<(), Unavailable> {
        let mut state = self.breaker.lock().expect("breaker lock");
        match state.permit(now) {
            Permit::Call => Ok(()),
            Permit::RefusedUntil(retry_at) => Err(Unavailable::CircuitOpen { retry_at }),
            Permit::Trial => {
                state.claim_trial(now, &self.policy());
                self.save(&state);
                Ok(())
            }
        }
    }

    /// Records the outcome in the breaker and saves it when it changed.
    fn settle(&self, result: &Result<RemoteAnswer, Unavailable>, now: u64) {
        let mut state = self.breaker.lock().expect("breaker lock");
        let before = *state;
        match result {
            Ok(_) => state.record_success(),
            // A bad answer is the service's fault as much as a timeout.
            Err(_) => state.record_failure(now, &self.policy()),
        }
        if *state != before {
            self.save(&state);
        }
    }

    fn save(&self, state: &BreakerState) {
        if let Some(file) = &self.breaker_file {
            file.store(state);
        }
    }

    fn call_once(&self, request: &RemoteRequest<'_>) -> Result<RemoteAnswer, Unavailable> {
        let mut call = self.agent.post(&self.endpoint);
        if let Some(token) = &self.token {
            call = call.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = call
            .send_json(request)
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Unavailable::Status { status });
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| self.transport_error(e))?;
        let answer = self.parse(&body)?;
        self.validate(&answer)?;
        Ok(answer)
    }

    /// The answer in a 200 body, or what is wrong with the body.
    fn parse(&self, body: &[u8]) -> Result<RemoteAnswer, Unavailable> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.invalid("200 with an empty body".into()));
        }
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| self.invalid(format!("200 with a body that is not JSON: {e}")))?;
        serde_path_to_error::deserialize(json).map_err(|e| {
            let at = match e.path().to_string() {
                root if root == "." => String::new(),
                path => format!(" at `{path}`"),
            };
            self.invalid(format!(
                "JSON that is not a response{at}: {}",
                e.into_inner()
            ))
        })
    }

    fn validate(&self, answer: &RemoteAnswer) -> Result<(), Unavailable> {
        let known = |label: &str| self.allowed.contains(label);
        if !known(&answer.label) {
            return Err(self.invalid(format!(
                "label `{}`, which is not one of the model's labels",
                answer.label
            )));
        }
        let in_range = |c: f64| c.is_finite() && (0.0..=1.0).contains(&c);
        if !in_range(answer.confidence) {
            return Err(self.invalid(format!("confidence {}, outside [0, 1]", answer.confidence)));
        }
        if let Some(bad) = answer
            .alternatives
            .iter()
            .find(|a| !known(&a.label) || !in_range(a.confidence))
        {
            return Err(self.invalid(format!(
                "alternative `{}` ({}), not one of the model's labels with a confidence in [0, 1]",
                bad.label, bad.confidence
            )));
        }
        Ok(())
    }

    fn invalid(&self, problem: String) -> Unavailable {
        Unavailable::InvalidAnswer {
            url: self.shown_url.clone(),
            problem,
        }
    }

    fn transport_error(&self, e: ureq::Error) -> Unavailable {
        let connection = |reason: String| Unavailable::Connection {
            url: self.shown_url.clone(),
            reason,
        };
        match e {
            ureq::Error::Timeout(_) => Unavailable::Timeout { attempts: 1 },
            ureq::Error::StatusCode(status) => Unavailable::Status { status },
            ureq::Error::Io(io)
                if io.kind() == std::io::ErrorKind::TimedOut
                    || io.kind() == std::io::ErrorKind::WouldBlock =>
            {
                Unavailable::Timeout { attempts: 1 }
            }
            ureq::Error::BodyExceedsLimit(limit) => {
                self.invalid(format!("with a body over the limit of {limit} bytes"))
            }
            ureq::Error::Protocol(e) => self.invalid(format!("something that is not HTTP ({e})")),
            // Their messages would quote the URL, credentials included.
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => connection(
                "not a valid http:// or https:// URL; check --ml-url (or SUPPORT_ML_URL)".into(),
            ),
            other => connection(other.to_string()),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `$XDG_…/support-triage` (`xdg`, if absolute, as the XDG specification
/// asks), else `$HOME/<under_home>/support-triage`; never a shared directory
/// such as /tmp, where other users could read or plant files.
fn default_dir(xdg: Option<OsString>, home: Option<OsString>, under_home: &str) -> Option<PathBuf> {
    let base = xdg
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(under_home))
        })?;
    Some(base.join("support-triage"))
}

/// Older versions kept the cache, ticket texts included and readable by other
/// users, in `cache-<16 hex digits>` directories beside the breaker state,
/// with files `<16 hex digits>.json` (and `.tmp<pid>` while written); those
/// files go, then the directory if nothing else is in it.
fn remove_legacy_caches(state_dir: &std::path::Path) {
    let hex16 = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return;
    };
    for dir in entries.flatten() {
        let name = dir.file_name();
        if !name
            .to_str()
            .and_then(|n| n.strip_prefix("cache-"))
            .is_some_and(hex16)
        {
            continue;
        }
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        let mut result = Ok(());
        for file in files.flatten() {
            let name = file.file_name();
            let legacy =
                name.to_str()
                    .and_then(|n| n.split_once('.'))
                    .is_some_and(|(stem, extension)| {
                        hex16(stem) && (extension == "json" || extension.starts_with("tmp"))
                    });
            if legacy {
                result = result.and(std::fs::remove_file(file.path()));
            }
        }
        match result {
            Ok(()) => {
                let _ = std::fs::remove_dir(dir.path());
                tracing::info!(dir = %dir.path().display(), "removed the cache of an older version");
            }
            Err(e) => {
                tracing::warn!(dir = %dir.path().display(), error = %e, "cannot remove the cache of an older version, which holds ticket texts; delete it")
            }
        }
    }
}

/// A short stable name for a service URL, for its state files.
fn service_key(url: &str) -> String {
    cache::sha256_hex(url)[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_server::{Behavior, TestServer};

    fn labels() -> Vec<String> {
        ["refund", "order"].map(String::from).to_vec()
    }

    fn settings(dir: &std::path::Path) -> RemoteSettings {
        RemoteSettings {
            timeout_ms: 300,
            retries: 2,
            backoff_initial_ms: 10,
            backoff_max_ms: 40,
            breaker_failures: 3,
            breaker_cooldown_secs: 60,
            cache_ttl_secs: 0,
            cache_max_mb: 64,
            state_dir: Some(dir.to_path_buf()),
        }
    }

    const GOOD: &str = r#"{"label":"refund","confidence":0.91,"alternatives":[{"label":"order","confidence":0.05}],"model":"m1"}"#;

    #[test]
    fn good_answer_is_accepted_and_request_follows_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Answer(GOOD.into())]);
        let client = RemoteClassifier::new(&server.url, settings(dir.path()), labels());
        let (answer, source) = client
            .classify(Some("T-1"), "quiero mi dinero", Some("es"))
            .unwrap();
        assert_eq!(answer.label, "refund");
        assert_eq!(source, AnswerSource::Service);
        let sent: serde_json::Value = serde_json::from_str(&server.bodies()[0]).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"id": "T-1", "text": "quiero mi dinero", "language": "es", "labels": ["refund", "order"]})
        );
    }

    #[test]
    fn server_errors_are_retried_then_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![
            Behavior::Status(503),
            Behavior::Status(500),
            Behavior::Answer(GOOD.into()),
        ]);
        let client = RemoteClassifier::new(&server.url, settings(dir.path()), labels());
        assert!(client.classify(None, "x", None).is_ok());
        assert_eq!(server.hits(), 3);
    }

    #[test]
    fn client_errors_are_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Status(400)]);
        let client = RemoteClassifier::new(&server.url, settings(dir.path()), labels());
        assert_eq!(
            client.classify(None, "x", None).unwrap_err(),
            Unavailable::Status { status: 400 }
        );
        assert_eq!(server.hits(), 1);
    }

    #[test]
    fn a_stalled_service_times_out_after_the_retries() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Stall(Duration::from_secs(3), GOOD.into())]);
        let client = RemoteClassifier::new(&server.url, settings(dir.path()), labels());
        assert_eq!(
            client.classify(None, "x", None).unwrap_err(),
            Unavailable::Timeout { attempts: 3 }
        );
    }

    #[test]
    fn a_bad_answer_says_what_was_wrong_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![
            Behavior::Garbage,
            Behavior::Answer(String::new()),
            Behavior::Answer(r#"{"confidence":0.9}"#.into()),
            Behavior::Answer(r#"{"label":"order","confidence":0.9,"alternatives":[{"label":"refund","confidence":"high"}]}"#.into()),
            Behavior::Answer(r#"{"label":"astrology","confidence":0.9}"#.into()),
            Behavior::Answer(r#"{"label":"order","confidence":1.7}"#.into()),
            Behavior::Answer(format!(r#"{{"label":"{}"}}"#, "x".repeat(1 << 20))),
            Behavior::NotHttp("SSH-2.0-OpenSSH_9.6\r\n\r\n".into()),
        ]);
        let mut s = settings(dir.path());
        s.breaker_failures = 100;
        let client = RemoteClassifier::new(&server.url, s, labels());
        for expected in [
            "answered 200 with a body that is not JSON: expected value at line 1 column 1",
            "answered 200 with an empty body",
            "answered JSON that is not a response: missing field `label`",
            "answered JSON that is not a response at `alternatives[0].confidence`: invalid type: string \"high\", expected f64",
            "answered label `astrology`, which is not one of the model's labels",
            "answered confidence 1.7, outside [0, 1]",
            "answered with a body over the limit of 1048576 bytes",
            "answered something that is not HTTP",
        ] {
            let err = client.classify(None, "x", None).unwrap_err();
            let message = err.to_string();
            assert!(
                matches!(err, Unavailable::InvalidAnswer { .. }),
                "{message}"
            );
            assert!(
                message.starts_with(&format!("the classifier at {} {expected}", server.url)),
                "{message}"
            );
            assert!(message.ends_with("the contract is schemas/remote-response.schema.json"));
        }
        assert_eq!(server.hits(), 8, "bad answers are not retried");
    }

    #[test]
    fn the_token_is_sent_as_a_bearer_header() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Answer(GOOD.into())]);
        let client = RemoteClassifier::with_token(
            &server.url,
            settings(dir.path()),
            labels(),
            Some("t0k3n".into()),
        );
        client.classify(None, "x", None).unwrap();
        let request = &server.requests()[0];
        assert!(
            request
                .headers
                .contains(&"authorization: Bearer t0k3n".to_string()),
            "{:?}",
            request.headers
        );
    }

    #[test]
    fn credentials_in_the_url_never_show_in_errors_or_logs() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Status(503), Behavior::Garbage]);
        let secret_url =
            |base: &str| base.replace("http://", "http://bot:hunter2@") + "?model=v2&token=s3cret";
        let logs = std::sync::Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = {
            let logs = logs.clone();
            move || LogBuffer(logs.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(writer)
            .finish();
        let mut s = settings(dir.path());
        s.breaker_failures = 100;
        let errors = tracing::subscriber::with_default(subscriber, || {
            let answering = RemoteClassifier::new(&secret_url(&server.url), s.clone(), labels());
            // Port 1 refuses the connection.
            let refusing =
                RemoteClassifier::new(&secret_url("http://127.0.0.1:1/classify"), s, labels());
            assert_eq!(
                answering.url(),
                format!(
                    "{}?model=v2&token=***",
                    server.url.replace("http://", "http://bot:***@")
                )
            );
            [
                answering.classify(None, "x", None).unwrap_err(),
                refusing.classify(None, "x", None).unwrap_err(),
            ]
        });
        assert!(
            matches!(errors[1], Unavailable::Connection { .. }),
            "{}",
            errors[1]
        );
        let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("retrying remote classifier"), "{logs}");
        let shown = format!("{logs}{}{}", errors[0], errors[1]);
        assert!(shown.contains("token=***"), "{shown}");
        for secret in ["hunter2", "s3cret"] {
            assert!(!shown.contains(secret), "{secret} shows in:\n{shown}");
        }
    }

    struct LogBuffer(std::sync::Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for LogBuffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_cache_of_an_older_version_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("cache-00c0ffee00c0ffee");
        std::fs::create_dir(&legacy).unwrap();
        std::fs::write(legacy.join("0123456789abcdef.json"), "ticket text").unwrap();
        std::fs::write(legacy.join("0123456789abcdef.tmp4242"), "ticket text").unwrap();
        // Not a cache of this tool: left alone.
        let other = dir.path().join("cache-images");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("0123456789abcdef.json"), "keep").unwrap();
        let server = TestServer::start(vec![Behavior::Answer(GOOD.into())]);
        let mut s = settings(dir.path());
        s.cache_ttl_secs = 60;
        let client = RemoteClassifier::new(&server.url, s, labels());
        assert!(!legacy.exists());
        client.classify(None, "x", None).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left[0].starts_with("answers-"), "{left:?}");
        assert_eq!(left[1], "cache-images");
    }

    #[test]
    fn state_never_falls_back_to_a_shared_directory() {
        let dir = |xdg: Option<&str>, home: Option<&str>| {
            default_dir(xdg.map(Into::into), home.map(Into::into), ".cache")
        };
        assert_eq!(dir(None, None), None);
        assert_eq!(dir(Some("relative"), None), None);
        assert_eq!(
            dir(Some("/x/cache"), Some("/home/a")),
            Some(PathBuf::from("/x/cache/support-triage"))
        );
        assert_eq!(
            dir(Some(""), Some("/home/a")),
            Some(PathBuf::from("/home/a/.cache/support-triage"))
        );
    }

    #[test]
    fn breaker_opens_and_a_new_process_does_not_call() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Status(500)]);
        let mut s = settings(dir.path());
        s.retries = 0;
        let client = RemoteClassifier::new(&server.url, s.clone(), labels());
        for _ in 0..3 {
            assert_eq!(
                client.classify(None, "x", None).unwrap_err(),
                Unavailable::Status { status: 500 }
            );
        }
        assert!(matches!(
            client.classify(None, "x", None),
            Err(Unavailable::CircuitOpen { .. })
        ));
        // A fresh client, as the next scheduled process would build, reads the open state.
        let next_process = RemoteClassifier::new(&server.url, s, labels());
        assert!(matches!(
            next_process.classify(None, "x", None),
            Err(Unavailable::CircuitOpen { .. })
        ));
        assert_eq!(server.hits(), 3, "no call while the circuit is open");
    }

    #[test]
    fn after_cooldown_one_trial_closes_the_breaker() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Status(500), Behavior::Answer(GOOD.into())]);
        let mut s = settings(dir.path());
        s.retries = 0;
        s.breaker_failures = 1;
        s.breaker_cooldown_secs = 1;
        let client = RemoteClassifier::new(&server.url, s, labels());
        assert!(client.classify(None, "x", None).is_err());
        assert!(matches!(
            client.classify(None, "x", None),
            Err(Unavailable::CircuitOpen { .. })
        ));
        std::thread::sleep(Duration::from_millis(2100));
        assert!(
            client.classify(None, "x", None).is_ok(),
            "the trial call goes through"
        );
        assert!(client.classify(None, "y", None).is_ok(), "closed again");
    }

    #[test]
    fn cached_answers_skip_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![Behavior::Answer(GOOD.into()), Behavior::Status(500)]);
        let mut s = settings(dir.path());
        s.cache_ttl_secs = 3600;
        let client = RemoteClassifier::new(&server.url, s, labels());
        assert_eq!(
            client.classify(None, "same text", None).unwrap().1,
            AnswerSource::Service
        );
        assert_eq!(
            client.classify(None, "same text", None).unwrap().1,
            AnswerSource::Cache
        );
        assert_eq!(server.hits(), 1);
    }
}
