//! The file fence: how the tool reads the files it is given and writes the
//! files it is asked for.
//!
//! Inputs are read only when they are regular files: a FIFO with no writer
//! would block forever, a device could be endless. Outputs are written to a
//! temporary file beside the target and renamed over it only when the run
//! succeeded, so a failed run never leaves an empty or half-written report
//! where a good one was; and an output may not be one of the run's inputs,
//! or another of its outputs.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Reads a whole input file, refusing anything that is not a regular file.
pub fn read_regular(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// Where `path` really is, for comparing paths: the canonical path of an
/// existing file, else of its directory joined with its name.
pub fn identity(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Refuses a set of paths in which an output is an input or another output.
/// `paths` are (flag, path, is_output).
pub fn check_distinct(paths: &[(&str, &Path, bool)]) -> Result<(), String> {
    for (i, (flag_a, a, out_a)) in paths.iter().enumerate() {
        for (flag_b, b, out_b) in &paths[i + 1..] {
            if (*out_a || *out_b) && identity(a) == identity(b) {
                return Err(format!(
                    "{flag_a} and {flag_b} name the same file ({}): refusing to write over it",
                    a.display()
                ));
            }
        }
    }
    Ok(())
}

/// An output file being written: a temporary file beside the target,
/// renamed over it by [`Output::commit`]; dropped without a commit, it is
/// removed and the target is left as it was.
pub struct Output {
    target: PathBuf,
    file: BufWriter<tempfile::NamedTempFile>,
}

impl Output {
    /// Creates the temporary file now, so that an unwritable path fails
    /// before any work is done.
    pub fn create(target: &Path) -> io::Result<Output> {
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)?;
        Ok(Output { target: target.to_path_buf(), file: BufWriter::new(tmp) })
    }

    /// Flushes and renames the file into place.
    pub fn commit(self) -> io::Result<()> {
        let tmp = self.file.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Opens `path` for reading (stdin for `-` is the caller's business).
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_replaces_the_target_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        std::fs::write(&target, "good").unwrap();
        {
            let mut out = Output::create(&target).unwrap();
            out.write_all(b"half").unwrap();
            // dropped without commit: the run failed
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "good");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
        let mut out = Output::create(&target).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[test]
    fn same_file_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inv = dir.path().join("i.json");
        std::fs::write(&inv, "{}").unwrap();
        let again = dir.path().join(".").join("i.json");
        let err = check_distinct(&[("--inventory", &inv, false), ("--output", &again, true)]).unwrap_err();
        assert!(err.contains("--inventory and --output name the same file"), "{err}");
        let other = dir.path().join("o.json");
        assert!(check_distinct(&[("--inventory", &inv, false), ("--output", &other, true)]).is_ok());
        // Two inputs may be the same file.
        assert!(check_distinct(&[("--inventory", &inv, false), ("--config", &inv, false)]).is_ok());
    }
}
