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
}

/// The source could not be read at all (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct SourceError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Streams every record under `path` ("-" for stdin) to `sink`.
pub fn read(path: &Path, sink: &mut dyn FnMut(Value)) -> Result<ReadStats, SourceError> {
    let mut stats = ReadStats::default();
    if path == Path::new("-") {
        read_one("<stdin>", Box::new(io::stdin().lock()), sink, &mut stats);
        return Ok(stats);
    }
    let meta = std::fs::metadata(path).map_err(|source| SourceError { path: path.display().to_string(), source })?;
    let files = if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files).map_err(|source| SourceError { path: path.display().to_string(), source })?;
        files
    } else {
        vec![path.to_path_buf()]
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

/// Every file below `dir`, sorted, leaving out CloudTrail digest files
/// (integrity records, not events).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        if entry.file_name().is_some_and(|n| n.to_string_lossy().starts_with("CloudTrail-Digest")) {
            continue;
        }
        if entry.is_dir() {
            walk(&entry, out)?;
        } else {
            out.push(entry);
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
    let mut count = 0u64;
    let result = stream(BufReader::new(reader), &mut |v| {
        count += 1;
        sink(v)
    });
    stats.events += count;
    match result {
        Ok(()) => stats.files_read += 1,
        Err(reason) => {
            tracing::warn!(file = name, "skipped: {reason}");
            stats.skipped.push(Skipped { file: name.to_string(), reason, events_before: count });
        }
    }
}

/// Parses a stream of top-level JSON values: each is a CloudTrail log file
/// object (its `Records` streamed one by one) or a single event (JSON lines).
fn stream(reader: impl Read, sink: &mut dyn FnMut(Value)) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    loop {
        if de.end().is_ok() {
            return Ok(());
        }
        TopLevel { sink }.deserialize(&mut de).map_err(|e| describe(&e))?;
    }
}

fn describe(e: &serde_json::Error) -> String {
    if e.is_io() { format!("read error: {e}") } else { format!("not CloudTrail JSON: {e}") }
}

struct TopLevel<'a> {
    sink: &'a mut dyn FnMut(Value),
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
                map.next_value_seed(Records { sink: &mut *self.sink })?;
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
        while let Some(record) = seq.next_element::<Value>()? {
            (self.sink)(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> (Vec<Value>, Result<(), String>) {
        let mut out = Vec::new();
        let r = stream(text.as_bytes(), &mut |v| out.push(v));
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
