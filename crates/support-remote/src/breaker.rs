//! A circuit breaker whose state lives in a small file, so a tool started
//! every minute by a scheduler remembers that the service was down a minute
//! ago and does not hammer it.
//!
//! Closed: calls go through; `failure_threshold` failures in a row open it.
//! Open: calls are refused until `cooldown` has passed. Then one process gets
//! a trial call (half-open); its success closes the breaker, its failure
//! opens it for another cooldown.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cache::write_private;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BreakerState {
    /// Failures in a row since the last success.
    pub consecutive_failures: u32,
    /// Unix seconds until which calls are refused; 0 when closed.
    pub open_until: u64,
}

/// What the breaker allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Closed: call.
    Call,
    /// Cooldown over: one trial call decides.
    Trial,
    /// Open: do not call before this Unix second.
    RefusedUntil(u64),
}

#[derive(Debug, Clone, Copy)]
pub struct BreakerPolicy {
    pub failure_threshold: u32,
    pub cooldown: Duration,
}

impl BreakerState {
    pub fn permit(&self, now: u64) -> Permit {
        if self.open_until == 0 {
            Permit::Call
        } else if now < self.open_until {
            Permit::RefusedUntil(self.open_until)
        } else {
            Permit::Trial
        }
    }

    pub fn record_success(&mut self) {
        *self = BreakerState::default();
    }

    pub fn record_failure(&mut self, now: u64, policy: &BreakerPolicy) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let was_open = self.open_until != 0;
        if was_open || self.consecutive_failures >= policy.failure_threshold {
            self.open_until = now + policy.cooldown.as_secs().max(1);
        }
    }

    /// Half-open: claims the trial for this process by pushing `open_until`
    /// ahead, so processes starting meanwhile stay refused.
    pub fn claim_trial(&mut self, now: u64, policy: &BreakerPolicy) {
        self.open_until = now + policy.cooldown.as_secs().max(1);
    }
}

/// The breaker's state file: read at start, written (atomically) on change.
#[derive(Debug, Clone)]
pub struct BreakerFile {
    path: PathBuf,
}

impl BreakerFile {
    pub fn new(path: PathBuf) -> Self {
        BreakerFile { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A missing or unreadable file is a closed breaker: losing the state
    /// costs at most `failure_threshold` calls, never a wrong answer.
    pub fn load(&self) -> BreakerState {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn store(&self, state: &BreakerState) {
        if let Err(e) = write_private(
            &self.path,
            &serde_json::to_vec(state).expect("state serializes"),
        ) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot save circuit breaker state");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BreakerPolicy = BreakerPolicy {
        failure_threshold: 3,
        cooldown: Duration::from_secs(60),
    };

    #[test]
    fn opens_after_threshold_and_refuses_until_cooldown() {
        let mut s = BreakerState::default();
        s.record_failure(100, &POLICY);
        s.record_failure(101, &POLICY);
        assert_eq!(s.permit(102), Permit::Call);
        s.record_failure(102, &POLICY);
        assert_eq!(s.permit(103), Permit::RefusedUntil(162));
        assert_eq!(s.permit(162), Permit::Trial);
    }

    #[test]
    fn trial_failure_reopens_and_success_closes() {
        let mut s = BreakerState {
            consecutive_failures: 3,
            open_until: 100,
        };
        s.claim_trial(100, &POLICY);
        assert_eq!(
            s.permit(101),
            Permit::RefusedUntil(160),
            "others wait while one process tries"
        );
        s.record_failure(105, &POLICY);
        assert_eq!(s.permit(106), Permit::RefusedUntil(165));
        s.record_success();
        assert_eq!(s.permit(106), Permit::Call);
        assert_eq!(s.consecutive_failures, 0);
    }

    #[test]
    fn state_survives_between_processes_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = BreakerFile::new(dir.path().join("sub/breaker.json"));
        assert_eq!(file.load(), BreakerState::default());
        let state = BreakerState {
            consecutive_failures: 4,
            open_until: 999,
        };
        file.store(&state);
        assert_eq!(BreakerFile::new(file.path().to_path_buf()).load(), state);
        std::fs::write(file.path(), b"garbage").unwrap();
        assert_eq!(file.load(), BreakerState::default());
    }
}
