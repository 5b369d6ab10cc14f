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

pub mod breaker;
pub mod cache;
#[cfg(any(test, feature = "test-server"))]
pub mod test_server;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::{BlockingRetryable, ExponentialBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use breaker::{BreakerFile, BreakerPolicy, BreakerState, Permit};
use cache::DiskCache;

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
    /// How long a cached answer is reused; 0 disables the cache.
    pub cache_ttl_secs: u64,
    /// Where breaker state and cache live; default `$XDG_STATE_HOME/support-triage`
    /// (or `~/.local/state/support-triage`).
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
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
    #[error("cannot connect: {0}")]
    Connection(String),
    #[error("invalid answer: {0}")]
    InvalidAnswer(String),
}

impl Unavailable {
    fn retryable(&self) -> bool {
        match self {
            Unavailable::Timeout { .. } | Unavailable::Connection(_) => true,
            Unavailable::Status { status } => *status == 429 || *status >= 500,
            Unavailable::CircuitOpen { .. } | Unavailable::InvalidAnswer(_) => false,
        }
    }
}

pub struct RemoteClassifier {
    url: String,
    settings: RemoteSettings,
    agent: ureq::Agent,
    labels: Vec<String>,
    allowed: BTreeSet<String>,
    breaker_file: BreakerFile,
    breaker: Mutex<BreakerState>,
    cache: Option<DiskCache>,
}

impl RemoteClassifier {
    /// A client for `url` that accepts only `labels` in answers.
    pub fn new(url: &str, settings: RemoteSettings, labels: Vec<String>) -> Self {
        let state_dir = settings.state_dir.clone().unwrap_or_else(default_state_dir);
        let service = service_key(url);
        let breaker_file = BreakerFile::new(state_dir.join(format!("breaker-{service}.json")));
        let breaker = Mutex::new(breaker_file.load());
        let cache = (settings.cache_ttl_secs > 0).then(|| {
            DiskCache::new(
                state_dir.join(format!("cache-{service}")),
                settings.cache_ttl_secs,
            )
        });
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(settings.timeout_ms)))
            .http_status_as_error(false)
            .build()
            .into();
        RemoteClassifier {
            url: url.to_string(),
            settings,
            agent,
            allowed: labels.iter().cloned().collect(),
            labels,
            breaker_file,
            breaker,
            cache,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
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
        .notify(|err, delay| tracing::info!(url = %self.url, error = %err, ?delay, "retrying remote classifier"))
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
                self.breaker_file.store(&state);
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
            self.breaker_file.store(&state);
        }
    }

    fn call_once(&self, request: &RemoteRequest<'_>) -> Result<RemoteAnswer, Unavailable> {
        let mut response = self
            .agent
            .post(&self.url)
            .send_json(request)
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Unavailable::Status { status });
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(transport_error)?;
        let answer: RemoteAnswer = serde_json::from_str(&body)
            .map_err(|e| Unavailable::InvalidAnswer(format!("not the response contract: {e}")))?;
        self.validate(&answer)?;
        Ok(answer)
    }

    fn validate(&self, answer: &RemoteAnswer) -> Result<(), Unavailable> {
        let known = |label: &str| self.allowed.contains(label);
        if !known(&answer.label) {
            return Err(Unavailable::InvalidAnswer(format!(
                "label `{}` is not one of the model's labels",
                answer.label
            )));
        }
        let in_range = |c: f64| c.is_finite() && (0.0..=1.0).contains(&c);
        if !in_range(answer.confidence) {
            return Err(Unavailable::InvalidAnswer(format!(
                "confidence {} is outside [0, 1]",
                answer.confidence
            )));
        }
        if let Some(bad) = answer
            .alternatives
            .iter()
            .find(|a| !known(&a.label) || !in_range(a.confidence))
        {
            return Err(Unavailable::InvalidAnswer(format!(
                "alternative `{}` ({}) is invalid",
                bad.label, bad.confidence
            )));
        }
        Ok(())
    }
}

fn transport_error(e: ureq::Error) -> Unavailable {
    match e {
        ureq::Error::Timeout(_) => Unavailable::Timeout { attempts: 1 },
        ureq::Error::StatusCode(status) => Unavailable::Status { status },
        ureq::Error::Io(io)
            if io.kind() == std::io::ErrorKind::TimedOut
                || io.kind() == std::io::ErrorKind::WouldBlock =>
        {
            Unavailable::Timeout { attempts: 1 }
        }
        other => Unavailable::Connection(other.to_string()),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("support-triage")
}

/// A short stable name for a service URL, for its state files.
fn service_key(url: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    url.hash(&mut h);
    format!("{:016x}", h.finish())
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
    fn garbage_and_unknown_labels_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(vec![
            Behavior::Garbage,
            Behavior::Answer(r#"{"label":"astrology","confidence":0.9}"#.into()),
            Behavior::Answer(r#"{"label":"order","confidence":1.7}"#.into()),
        ]);
        let client = RemoteClassifier::new(&server.url, settings(dir.path()), labels());
        for expected in [
            "not the response contract",
            "not one of the model's labels",
            "outside [0, 1]",
        ] {
            let err = client.classify(None, "x", None).unwrap_err();
            assert!(
                matches!(&err, Unavailable::InvalidAnswer(m) if m.contains(expected)),
                "{err}"
            );
        }
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
