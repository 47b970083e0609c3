//! The source files of a run and byte spans into them.
//!
//! **Source text handed to a renderer comes from [`SourceMap::masked_text`],
//! which overwrites every range registered as sensitive with `*`, byte for
//! byte, so spans stay valid and a secret literal never reaches a terminal.**

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span { file, range }
    }

    /// A span from an optional parser range (hcl-edit spans are optional).
    pub fn maybe(file: FileId, range: Option<Range<usize>>) -> Option<Span> {
        range.map(|range| Span { file, range })
    }
}

/// One loaded source file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as shown to the user (relative to where keyform runs when possible).
    pub display_path: String,
    pub path: PathBuf,
    text: String,
    masked: Mutex<Vec<Range<usize>>>,
}

impl SourceFile {
    /// The raw text. Only parsers read this; renderers use [`SourceMap::masked_text`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Line and column (both 1-based, column in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |index| index + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Every source file read during a run. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Arc<Mutex<Vec<Arc<SourceFile>>>>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&self, path: &Path, display_path: String, text: String) -> FileId {
        let mut files = lock(&self.files);
        let id = FileId(u32::try_from(files.len()).unwrap_or(u32::MAX));
        files.push(Arc::new(SourceFile {
            display_path,
            path: path.to_path_buf(),
            text,
            masked: Mutex::new(Vec::new()),
        }));
        id
    }

    /// The file behind an id.
    pub fn get(&self, id: FileId) -> Option<Arc<SourceFile>> {
        lock(&self.files).get(id.0 as usize).cloned()
    }

    /// Marks a byte range as sensitive: renderers will never show it.
    pub fn mask(&self, span: &Span) {
        if let Some(file) = self.get(span.file) {
            lock(&file.masked).push(span.range.clone());
        }
    }

    /// The text of a file with every sensitive range overwritten by `*`.
    pub fn masked_text(&self, id: FileId) -> Option<String> {
        let file = self.get(id)?;
        let mut bytes = file.text.clone().into_bytes();
        for range in lock(&file.masked).iter() {
            let end = range.end.min(bytes.len());
            for byte in bytes.iter_mut().take(end).skip(range.start) {
                if *byte != b'\n' {
                    *byte = b'*';
                }
            }
        }
        // Overwriting whole bytes of a multi-byte character leaves only `*`, which is valid UTF-8.
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `path:line:column` of a span's start.
    pub fn location(&self, span: &Span) -> Option<String> {
        let file = self.get(span.file)?;
        let (line, column) = file.line_column(span.range.start);
        Some(format!("{}:{line}:{column}", file.display_path))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_ranges_byte_for_byte() {
        let map = SourceMap::new();
        let id = map.add(Path::new("a.hcl"), "a.hcl".into(), "value = \"hunter2\"\n".into());
        map.mask(&Span::new(id, 9..16));
        assert_eq!(map.masked_text(id).as_deref(), Some("value = \"*******\"\n"));
        assert_eq!(map.location(&Span::new(id, 9..16)).as_deref(), Some("a.hcl:1:10"));
    }
}
