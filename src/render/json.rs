//! `--format json`: the report serialized as is, pretty-printed, with a
//! trailing newline. The field list is the contract in `docs/output.md`.

use std::io::{self, Write};

use crate::report::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
