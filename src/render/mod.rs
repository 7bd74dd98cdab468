//! Renderers: one per output format, each a pure function from a [`Report`]
//! to any [`Write`]. They decide presentation only; verdicts come from the
//! report.

mod asff;
mod audit;
mod github;
mod human;
mod json;
mod junit;
pub mod markdown;
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
    /// GitHub-flavoured Markdown: a pull-request comment or a job summary.
    Markdown,
    /// GitHub Actions workflow commands: annotations on the run (check only).
    Github,
    /// AWS Security Finding Format, for Security Hub's BatchImportFindings (check only).
    Asff,
}

/// What a listing shows (`--only`, `--compact`); never what a verdict is.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// List only clusters in these categories (empty: all).
    pub only: Vec<Category>,
    /// One line per cluster, findings only beneath failing ones.
    pub compact: bool,
    /// Wrap the human report's prose to this many columns (the terminal's
    /// width; `None` when not writing to a terminal). ARNs, commands and
    /// other unbroken words are never split.
    pub width: Option<usize>,
}

/// A category `--only` selects: a cluster's verdict, or a passing cluster
/// with a warning.
/// Ordered most urgent first: the human report lists clusters in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Category {
    Fail,
    Unknown,
    Warning,
    Pass,
}

impl Category {
    /// The category of cluster `c`.
    pub fn of(c: &crate::report::ClusterReport) -> Self {
        use crate::finding::{Severity, Verdict};
        match c.verdict {
            Verdict::Fail => Category::Fail,
            Verdict::Unknown => Category::Unknown,
            Verdict::Pass if c.findings.iter().any(|f| f.severity == Severity::Warning) => Category::Warning,
            Verdict::Pass => Category::Pass,
        }
    }
}

impl Listing {
    /// Whether the listing shows cluster `c`.
    pub fn shows_cluster(&self, c: &crate::report::ClusterReport) -> bool {
        self.only.is_empty() || self.only.contains(&Category::of(c))
    }
}

/// How to render beyond the format itself.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Escape codes in the human format.
    pub color: bool,
}

/// [`RenderOptions`] with what the listing shows.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub color: bool,
    pub listing: Listing,
}

/// Writes `report` in `format`.
pub fn render(report: &Report, format: Format, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human(report, options.color, out),
        Format::Json => json(report, out),
        Format::Junit => junit::render(report, out),
        Format::Prometheus => prometheus::render(report, out),
        Format::Markdown => markdown::render(report, &Listing::default(), out),
        Format::Github => github::render(report, &Listing::default(), out),
        Format::Asff => asff::render(report, out),
    }
}

/// Writes `report` in `format`, listing what `options.listing` selects.
pub fn render_listed(report: &Report, format: Format, options: &Options, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::render_listed(report, options.color, &options.listing, out),
        Format::Markdown => markdown::render(report, &options.listing, out),
        Format::Github => github::render(report, &options.listing, out),
        _ => render(report, format, RenderOptions { color: options.color }, out),
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
        Format::Markdown => markdown::whatif(report, out),
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
    /// GitHub-flavoured Markdown: the failures per cluster, with their key.
    Markdown,
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
        AuditFormat::Markdown => markdown::audit(report, out),
    }
}
