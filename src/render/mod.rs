//! Renderers: one per output format, each a pure function from a [`Report`]
//! to any [`Write`]. They decide presentation only; verdicts come from the
//! report.

mod audit;
mod human;
mod json;

use std::io::{self, Write};

use clap::ValueEnum;

use crate::report::Report;

pub use human::render as human;
pub use json::render as json;

/// The `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Colored, one line per cluster, findings with their fix.
    Human,
    /// The versioned JSON contract of docs/output.md.
    Json,
}

/// Writes `report` in `format`. `color` only affects the human format.
pub fn render(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human(report, color, out),
        Format::Json => json(report, out),
    }
}

/// Writes an audit report in `format`.
pub fn render_audit(
    report: &crate::audit::AuditReport,
    format: Format,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => audit::human(report, color, out),
        Format::Json => audit::json(report, out),
    }
}
