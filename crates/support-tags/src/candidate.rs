//! A tag candidate with its strongest evidence, merged per tag name.

use support_core::round3;

use crate::{Source, SourceKind, Tag};

/// A tag with the text of its reason, before deduplication.
pub(crate) struct Candidate {
    pub(crate) tag: Tag,
    pub(crate) detail: String,
    /// Other evidence for the same tag, merged into this one.
    pub(crate) also: Vec<String>,
}

impl Candidate {
    pub(crate) fn derived(
        name: String,
        confidence: f64,
        kind: SourceKind,
        rule: String,
        field: &str,
        detail: String,
    ) -> Candidate {
        Candidate {
            tag: Tag {
                name,
                confidence: round3(confidence),
                source: Source {
                    kind,
                    rule,
                    words: Vec::new(),
                    field: field.to_string(),
                },
            },
            detail,
            also: Vec::new(),
        }
    }

    /// Takes in other evidence for the same tag: the stronger source stays,
    /// the words of both are kept, and the weaker is named in the reason.
    pub(crate) fn absorb(&mut self, mut other: Candidate) {
        if other.tag.confidence > self.tag.confidence {
            std::mem::swap(self, &mut other);
        }
        for word in other.tag.source.words {
            if !self.tag.source.words.contains(&word) {
                self.tag.source.words.push(word);
            }
        }
        self.also.push(other.detail);
        self.also.extend(other.also);
    }

    /// "name: detail; also ...". The confidence is the tag's own field.
    pub(crate) fn reason(&self) -> String {
        let extra: usize = self.also.iter().map(|a| a.len() + 7).sum();
        let mut reason = String::with_capacity(self.tag.name.len() + 2 + self.detail.len() + extra);
        reason.push_str(&self.tag.name);
        reason.push_str(": ");
        reason.push_str(&self.detail);
        for other in &self.also {
            reason.push_str("; also ");
            reason.push_str(other);
        }
        reason
    }
}

/// One candidate per tag name, most confident first (then by name, so the
/// order is stable).
pub(crate) fn dedupe(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        match kept.iter_mut().find(|k| k.tag.name == candidate.tag.name) {
            Some(existing) => existing.absorb(candidate),
            None => kept.push(candidate),
        }
    }
    kept.sort_by(|a, b| {
        b.tag
            .confidence
            .total_cmp(&a.tag.confidence)
            .then_with(|| a.tag.name.cmp(&b.tag.name))
    });
    kept
}
