//! Renderers: one per output format, each a pure function from a [`Report`]
//! to any [`Write`]. They decide presentation only; verdicts come from the
//! report.

mod audit;
mod human;
mod json;
mod junit;
mod prometheus;
pub mod text;

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
    /// JUnit XML: one test case per cluster (check only).
    Junit,
    /// Prometheus text format: verdicts and key forecasts (check only).
    Prometheus,
}

/// How to render beyond the format itself.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Escape codes in the human format.
    pub color: bool,
    /// The grant quota the run assumed, reported by the Prometheus format.
    pub grant_quota: u64,
}

/// Writes `report` in `format`.
pub fn render(report: &Report, format: Format, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human(report, options.color, out),
        Format::Json => json(report, out),
        Format::Junit => junit::render(report, out),
        Format::Prometheus => prometheus::render(report, options.grant_quota, out),
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
        // The audit report is JSON for every machine format.
        Format::Json | Format::Junit | Format::Prometheus => audit::json(report, out),
    }
}
