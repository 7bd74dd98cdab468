//! Reading CloudTrail events from files, offline: CloudTrail log files
//! (`{"Records": [...]}`), gzip-compressed or not, whole directory trees as
//! CloudTrail writes them to S3, JSON lines with one event per line, or
//! standard input (`-`). Records are streamed one at a time to a callback,
//! never loaded whole, so an input of any size runs in constant memory.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
    /// Events read from the file before the problem (they are kept).
    pub events_before: u64,
}

/// What reading a source found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    pub files_read: u64,
    pub events: u64,
    pub skipped: Vec<Skipped>,
    /// Records larger than [`MAX_RECORD_BYTES`]: each cut its file short.
    pub oversized_records: u64,
}

impl ReadStats {
    /// Whether the whole source was read: every file, every record.
    pub fn complete(&self) -> bool {
        self.skipped.is_empty() && self.oversized_records == 0
    }
}

/// The largest CloudTrail record read (1 MiB). CloudTrail events are far
/// smaller; a larger one is hostile or corrupt, and reading it whole would
/// let one file take the process's memory.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

/// The source could not be read at all (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {reason}")]
pub struct SourceError {
    pub path: String,
    pub reason: String,
}

fn source_error(path: &Path, reason: impl ToString) -> SourceError {
    SourceError { path: path.display().to_string(), reason: reason.to_string() }
}

/// Streams every record under `path` ("-" for stdin) to `sink`.
///
/// Only regular files and directories are read (a FIFO with no writer
/// would block forever). In a directory, links to files are read once
/// each (by their real path), and links to directories are **not
/// followed**: a link back up the tree cannot loop, nor count a file twice.
pub fn read(path: &Path, sink: &mut dyn FnMut(Value)) -> Result<ReadStats, SourceError> {
    let mut stats = ReadStats::default();
    if path == Path::new("-") {
        read_one("<stdin>", Box::new(io::stdin().lock()), sink, &mut stats);
        return Ok(stats);
    }
    let meta = std::fs::metadata(path).map_err(|e| source_error(path, e))?;
    let files = if meta.is_dir() {
        let mut files = Vec::new();
        let mut seen = std::collections::HashSet::new();
        walk(path, &mut files, &mut seen, &mut stats).map_err(|e| source_error(path, e))?;
        files
    } else if meta.is_file() {
        vec![path.to_path_buf()]
    } else {
        return Err(source_error(path, "not a regular file or a directory"));
    };
    for file in files {
        let name = file.display().to_string();
        match File::open(&file) {
            Ok(f) => read_one(&name, Box::new(f), sink, &mut stats),
            Err(e) => stats.skipped.push(Skipped { file: name, reason: e.to_string(), events_before: 0 }),
        }
    }
    Ok(stats)
}

/// Every regular file below `dir`, sorted, each once, leaving out CloudTrail
/// digest files (integrity records, not events). What is not read is
/// recorded as skipped, with the reason.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<PathBuf>,
    stats: &mut ReadStats,
) -> io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with("CloudTrail-Digest") {
            continue;
        }
        let skip = |stats: &mut ReadStats, reason: &str| {
            stats.skipped.push(Skipped { file: path.display().to_string(), reason: reason.into(), events_before: 0 })
        };
        // DirEntry::file_type does not follow links; metadata does.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, out, seen, stats)?;
            continue;
        }
        let meta = if kind.is_symlink() { std::fs::metadata(&path) } else { entry.metadata() };
        match meta {
            Ok(m) if m.is_dir() => skip(stats, "a link to a directory: not followed"),
            Ok(m) if m.is_file() => {
                let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if seen.insert(real) {
                    out.push(path);
                }
            }
            Ok(_) => skip(stats, "not a regular file"),
            Err(e) => skip(stats, &e.to_string()),
        }
    }
    Ok(())
}

fn read_one(name: &str, reader: Box<dyn Read + '_>, sink: &mut dyn FnMut(Value), stats: &mut ReadStats) {
    let mut reader = BufReader::new(reader);
    // gzip by its magic number, whatever the file is called.
    let gzip = matches!(reader.fill_buf(), Ok([0x1f, 0x8b, ..]));
    let reader: Box<dyn Read> =
        if gzip { Box::new(flate2::bufread::MultiGzDecoder::new(reader)) } else { Box::new(reader) };
    let budget = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let capped = Capped { inner: BufReader::new(reader), used: budget.clone() };
    let mut count = 0u64;
    let result = stream(capped, &budget, &mut |v| {
        count += 1;
        sink(v)
    });
    stats.events += count;
    match result {
        Ok(()) => stats.files_read += 1,
        Err(reason) => {
            if reason.contains(OVERSIZED) {
                stats.oversized_records += 1;
            }
            tracing::warn!(file = %crate::render::text::visible(name), "skipped: {}", crate::render::text::visible(&reason));
            stats.skipped.push(Skipped { file: name.to_string(), reason, events_before: count });
        }
    }
}

const OVERSIZED: &str = "a record is larger than 1 MiB";

/// A reader that fails once more than [`MAX_RECORD_BYTES`] have been read
/// since `used` was last reset (at the start of each record), so that one
/// record can never take more memory than that.
struct Capped<R> {
    inner: R,
    used: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = MAX_RECORD_BYTES.saturating_sub(self.used.get());
        if left == 0 {
            return Err(io::Error::other(format!(
                "{OVERSIZED} (the limit for one record): the rest of the file was not read"
            )));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.used.set(self.used.get() + n as u64);
        Ok(n)
    }
}

/// Parses a stream of top-level JSON values: each is a CloudTrail log file
/// object (its `Records` streamed one by one) or a single event (JSON lines).
fn stream(reader: impl Read, budget: &Budget, sink: &mut dyn FnMut(Value)) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    loop {
        budget.set(0);
        if de.end().is_ok() {
            return Ok(());
        }
        TopLevel { sink, budget }.deserialize(&mut de).map_err(|e| describe(&e))?;
    }
}

/// Bytes read since the current record started (see [`Capped`]).
type Budget = std::rc::Rc<std::cell::Cell<u64>>;

fn describe(e: &serde_json::Error) -> String {
    match e.io_error_kind() {
        Some(_) if e.to_string().contains(OVERSIZED) => e.to_string(),
        Some(_) => format!("read error: {e}"),
        None => format!("not CloudTrail JSON: {e}"),
    }
}

struct TopLevel<'a> {
    sink: &'a mut dyn FnMut(Value),
    budget: &'a Budget,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail log file ({\"Records\": [...]}) or one event object per line")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut other = serde_json::Map::new();
        let mut had_records = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                had_records = true;
                map.next_value_seed(Records { sink: &mut *self.sink, budget: self.budget })?;
            } else {
                other.insert(key, map.next_value()?);
            }
        }
        if !had_records {
            (self.sink)(Value::Object(other));
        }
        Ok(())
    }
}

struct Records<'a> {
    sink: &'a mut dyn FnMut(Value),
    budget: &'a Budget,
}

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        loop {
            // Each record gets the whole budget.
            self.budget.set(0);
            match seq.next_element::<Value>()? {
                Some(record) => (self.sink)(record),
                None => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> (Vec<Value>, Result<(), String>) {
        let mut out = Vec::new();
        let r = stream(text.as_bytes(), &Budget::default(), &mut |v| out.push(v));
        (out, r)
    }

    #[test]
    fn shapes_table() {
        // (input, events, ok)
        let cases: &[(&str, usize, bool)] = &[
            (r#"{"Records":[{"a":1},{"a":2}]}"#, 2, true),
            // Records need not come first.
            (r#"{"x":1,"Records":[{"a":1}]}"#, 1, true),
            // JSON lines: each line an event.
            ("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", 3, true),
            // Several log objects back to back.
            (r#"{"Records":[{"a":1}]} {"Records":[{"a":2}]}"#, 2, true),
            ("", 0, true),
            ("   \n", 0, true),
            ("[1,2]", 0, false),
            (r#"{"Records":[{"a":1},"#, 1, false),
            ("not json", 0, false),
        ];
        for (input, n, ok) in cases {
            let (events, result) = collect(input);
            assert_eq!(events.len(), *n, "{input}");
            assert_eq!(result.is_ok(), *ok, "{input}: {result:?}");
        }
    }

    #[test]
    fn malformed_reason_names_the_problem() {
        let (_, result) = collect("[1]");
        assert!(result.unwrap_err().starts_with("not CloudTrail JSON"));
    }
}
