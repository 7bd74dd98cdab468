//! Renderers: one per output format, each a pure function from a [`Report`]
//! to any [`Write`]. They decide presentation only; verdicts come from the
//! report.

mod audit;
mod human;
mod json;
mod junit;
mod prometheus;
pub mod text;
mod whatif;

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
}

/// Writes `report` in `format`.
pub fn render(report: &Report, format: Format, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human(report, options.color, out),
        Format::Json => json(report, out),
        Format::Junit => junit::render(report, out),
        Format::Prometheus => prometheus::render(report, out),
    }
}

/// Writes a what-if report in `format` (human or JSON).
pub fn render_whatif(
    report: &crate::whatif::WhatIfReport,
    format: Format,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Json => whatif::json(report, out),
        _ => whatif::human(report, color, out),
    }
}

/// The `audit --format` values: only the formats an audit report has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Failures per cluster, then key changes with the clusters they hit.
    Human,
    /// The versioned JSON contract of docs/audit.md.
    Json,
}

/// Writes an audit report in `format`.
pub fn render_audit(
    report: &crate::audit::AuditReport,
    format: AuditFormat,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        AuditFormat::Human => audit::human(report, color, out),
        AuditFormat::Json => audit::json(report, out),
    }
}
