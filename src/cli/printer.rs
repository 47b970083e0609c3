//! The one place keyform writes to stdout and stderr.
//!
//! **Everything a user sees goes through [`Printer`]; diagnostics are
//! rendered with miette from masked source text only.**

use crate::diag::{Diagnostic, Diagnostics, Label, Severity, SourceMap};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use std::fmt;
use std::io::Write as _;

/// Writes output and diagnostics.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub color: bool,
}

impl Printer {
    pub fn new(no_color: bool) -> Printer {
        use std::io::IsTerminal as _;
        let color = !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
        Printer { color }
    }

    /// A line on stdout.
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    /// Text on stdout, as is.
    pub fn out_raw(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{text}");
        let _ = stdout.flush();
    }

    /// A line on stderr.
    pub fn err(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }

    /// Emphasis (bold) when colour is on.
    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\u{1b}[1m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }

    /// Colours a plan line by its action symbol.
    pub fn plan_line(&self, line: &str) -> String {
        if !self.color {
            return line.to_string();
        }
        let trimmed = line.trim_start();
        let code = if trimmed.starts_with("-/+")
            || trimmed.starts_with('~')
            || trimmed.starts_with('⟳')
            || trimmed.starts_with('↺')
        {
            "33"
        } else if trimmed.starts_with('+') || trimmed.starts_with('←') {
            "32"
        } else if trimmed.starts_with('-') || trimmed.starts_with('!') {
            "31"
        } else {
            return line.to_string();
        };
        format!("\u{1b}[{code}m{line}\u{1b}[0m")
    }

    /// Renders every diagnostic to stderr, then a summary line. Identical diagnostics (one per
    /// instance of a resource with `count`) are shown once.
    pub fn diagnostics(&self, diagnostics: &Diagnostics, sources: &SourceMap) {
        let mut unique: Vec<&Diagnostic> = Vec::new();
        for diagnostic in diagnostics.iter() {
            if !unique.contains(&diagnostic) {
                unique.push(diagnostic);
            }
        }
        let errors = unique.iter().filter(|diagnostic| diagnostic.is_error()).count();
        let warnings = unique.len() - errors;
        for diagnostic in &unique {
            self.err(&self.render(diagnostic, sources));
        }
        if errors > 0 {
            let plural = if errors == 1 { "" } else { "s" };
            let extra = if warnings > 0 {
                format!(" and {warnings} warning(s)")
            } else {
                String::new()
            };
            self.err(&format!(
                "{errors} error{plural}{extra}; nothing was changed by the failing steps."
            ));
        }
    }

    /// One diagnostic as text.
    pub fn render(&self, diagnostic: &Diagnostic, sources: &SourceMap) -> String {
        let mut theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        // The header is `error[KF1004]: message`, as compilers print it; no severity icon.
        theme.characters.error = String::new();
        theme.characters.warning = String::new();
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_context_lines(1)
            .with_width(100);
        let report = Report::new(diagnostic, sources);
        let mut text = String::new();
        if handler.render_report(&mut text, &report).is_err() {
            return report.header;
        }
        text.trim_start().to_string()
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A diagnostic shaped for miette: labels in the primary file, the others as notes.
struct Report {
    header: String,
    severity: Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
}

impl Report {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> Report {
        let primary = diagnostic.labels.first().map(|label| label.span.file);
        let source = primary.and_then(|file| {
            let text = sources.masked_text(file)?;
            let name = sources.get(file)?.display_path.clone();
            Some(NamedSource::new(name, text))
        });
        let mut labels = Vec::new();
        let mut notes = diagnostic.notes.clone();
        for Label { span, message } in &diagnostic.labels {
            if Some(span.file) == primary && source.is_some() {
                let length = span.range.end.saturating_sub(span.range.start).max(1);
                labels.push(LabeledSpan::new(Some(message.clone()), span.range.start, length));
            } else if let Some(location) = sources.location(span) {
                notes.push(format!("{location}: {message}"));
            }
        }
        let mut help = diagnostic.help.clone();
        if !notes.is_empty() {
            let joined = notes.join("\n");
            help = Some(match help {
                Some(help) => format!("{help}\n{joined}"),
                None => joined,
            });
        }
        Report {
            header: format!(
                "{}[{}]: {}",
                severity_word(diagnostic.severity),
                diagnostic.code,
                diagnostic.message
            ),
            severity: diagnostic.severity,
            help,
            source,
            labels,
        }
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.header)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.header)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|source| source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}
