//! When a ticket needs nothing more: one definition for every tool, the
//! store and the exports.
//!
//! Tickets say it in their own words, Spanish or English (`cerrado`,
//! `solved`); each such word means one of two finished statuses, which the
//! store files the ticket under and its SQL views count.

/// Who resolves a ticket without an agent: its `resolved_by`, and the role of
/// its messages.
pub const BOT: &str = "bot";

/// A finished ticket's status, as the store files it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Answered: the customer's problem is solved.
    Resolved,
    /// Closed, answered or not.
    Closed,
}

impl Finished {
    pub fn name(self) -> &'static str {
        match self {
            Finished::Resolved => "resolved",
            Finished::Closed => "closed",
        }
    }
}

/// The statuses meaning a ticket is finished, in the words tickets use, and
/// which finished status each is. Priority's default `closed_statuses` lists
/// these words (a test keeps them the same).
pub const FINISHED_STATUSES: [(&str, Finished); 6] = [
    ("resolved", Finished::Resolved),
    ("solved", Finished::Resolved),
    ("closed", Finished::Closed),
    ("resuelto", Finished::Resolved),
    ("solucionado", Finished::Resolved),
    ("cerrado", Finished::Closed),
];

/// The finished status `status` names (case and surrounding spaces aside),
/// or `None` for an open ticket's status.
pub fn finished(status: &str) -> Option<Finished> {
    let status = status.trim();
    FINISHED_STATUSES
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(status))
        .map(|&(_, finished)| finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_and_english_words_name_the_two_finished_statuses() {
        assert_eq!(finished(" Cerrado "), Some(Finished::Closed));
        assert_eq!(finished("SOLVED"), Some(Finished::Resolved));
        assert_eq!(finished("resolved").map(Finished::name), Some("resolved"));
        assert_eq!(finished("pending"), None);
        assert_eq!(finished("abierto"), None);
    }
}
