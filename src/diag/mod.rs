//! keyform's diagnostics: a stable code, a message, labelled source spans and help.
//!
//! This module owns the [`Diagnostic`] type every layer reports user-caused errors
//! with, the [`SourceMap`] that lets a span name a file, line and column, and the
//! list of stable codes. It renders nothing to a terminal: the CLI turns
//! diagnostics into miette reports. **A diagnostic never holds secret material:
//! labels and messages are written by keyform, and any source text shown to a
//! user goes through [`SourceMap::masked_text`].**

mod codes;
mod source;

pub use codes::Code;
pub use source::{FileId, SourceFile, SourceMap, Span};

use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A span with a short text that explains what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem found in the user's input or at a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// Extra lines of context (a resource address, a provider's error code).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with the given code and message.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// A warning with the given code and message.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds a labelled span.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a labelled span when one is known.
    pub fn with_optional_label(self, span: Option<Span>, message: impl Into<String>) -> Self {
        match span {
            Some(span) => self.with_label(span, message),
            None => self,
        }
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Diagnostics collected over a run, so a user fixes a file in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }

    /// `Err(self)` when any error was collected, else the value.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.has_errors() { Err(self) } else { Ok(value) }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics(vec![diagnostic])
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Diagnostics(iter.into_iter().collect())
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Returns the candidate closest to `word`, when one is close enough to suggest.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|left, right| left.0.total_cmp(&right.0))
        .map(|(_, candidate)| candidate)
}

/// `OWNER has no block `NAME``, with a did-you-mean over the blocks `offered` (OWNER: `aws_kms_key`,
/// `a rotation block`, `provider "aws"`).
pub fn unknown_block(owner: &str, name: &str, span: Option<Span>, offered: &[&str]) -> Diagnostic {
    let help = match did_you_mean(name, offered.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None if offered.is_empty() => format!("{owner} takes no nested blocks"),
        None => format!("{owner} takes the blocks: {}", offered.join(", ")),
    };
    Diagnostic::error(Code::UnknownBlock, format!("{owner} has no block `{name}`"))
        .with_optional_label(span, "unknown block")
        .with_help(help)
}

/// `OWNER has no attribute `NAME``, with a did-you-mean over the attributes `offered`.
pub fn unknown_attribute(owner: &str, name: &str, span: Option<Span>, offered: &[&str]) -> Diagnostic {
    let help = match did_you_mean(name, offered.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("{owner} takes: {}", offered.join(", ")),
    };
    Diagnostic::error(Code::UnknownAttribute, format!("{owner} has no attribute `{name}`"))
        .with_optional_label(span, "unknown attribute")
        .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(did_you_mean("resorce", ["resource", "variable"]), Some("resource"));
        assert_eq!(did_you_mean("zzz", ["resource", "variable"]), None);
    }
}
