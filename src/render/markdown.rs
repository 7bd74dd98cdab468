//! `--format markdown`: GitHub-flavoured Markdown for a pull-request comment
//! or a job summary (`$GITHUB_STEP_SUMMARY`). The summary line; a table of
//! the failing and unknown clusters (cluster, account and Region, check,
//! cause, fix); the passing ones folded in a `<details>` block. Every cell
//! is escaped: a name or message cannot break the table or inject HTML.

use std::io::{self, Write};

use super::Listing;
use super::text::visible_lines;
use crate::finding::Verdict;
use crate::report::{ClusterReport, Report};

/// A table cell: HTML and Markdown specials escaped, control characters
/// shown, line breaks as `<br>`.
pub fn cell(s: &str) -> String {
    visible_lines(s)
        .map(|line| {
            line.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('|', "\\|")
                .replace('`', "\\`")
                .replace('*', "\\*")
                .replace('_', "\\_")
                .replace('[', "\\[")
                .replace(']', "\\]")
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ pass",
        Verdict::Unknown => "❔ unknown",
        Verdict::Fail => "❌ fail",
    }
}

fn place(c: &ClusterReport) -> String {
    match &c.account_id {
        Some(a) => cell(&format!("{a} / {}", c.region)),
        None => cell(&c.region),
    }
}

pub fn render(report: &Report, listing: &Listing, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let accounts = match report.accounts.len() {
        0 | 1 => String::new(),
        n => format!(" in {n} accounts"),
    };
    writeln!(
        out,
        "## ecs-key-preflight: {} — {} (exit {})",
        report.verdict.as_str().to_uppercase(),
        super::text::tally(s, &accounts),
        report.exit_code
    )?;
    writeln!(out)?;
    for gap in &report.gaps {
        writeln!(out, "- ❔ {}", cell(&gap.describe()))?;
    }
    let attention: Vec<&ClusterReport> =
        report.clusters.iter().filter(|c| c.verdict != Verdict::Pass && listing.shows_cluster(c)).collect();
    if !attention.is_empty() {
        writeln!(out, "| verdict | cluster | account / Region | check | cause | fix |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for c in attention {
            for f in c.findings.iter().filter(|f| f.verdict == c.verdict) {
                let fix = f.remediation.as_deref().map(|r| format!("<code>{}</code>", cell(r))).unwrap_or_default();
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {fix} |",
                    mark(f.verdict),
                    cell(&c.cluster_name),
                    place(c),
                    cell(f.check.id),
                    cell(&f.message)
                )?;
            }
        }
        writeln!(out)?;
    }
    let passing: Vec<&ClusterReport> =
        report.clusters.iter().filter(|c| c.verdict == Verdict::Pass && listing.shows_cluster(c)).collect();
    if !passing.is_empty() {
        let passing_count = super::text::count(passing.len(), "passing cluster", "passing clusters");
        writeln!(out, "<details><summary>{passing_count}</summary>")?;
        writeln!(out)?;
        for c in passing {
            writeln!(out, "- {} ({})", cell(&c.cluster_name), place(c))?;
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}

/// The what-if report as Markdown (for a comment on the Terraform pull request).
pub fn whatif(report: &crate::whatif::WhatIfReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "## ecs-key-preflight what-if: {} would newly fail, {} unknown after, {} already failing, {} unaffected (exit {})",
        s.newly_failing, s.unknown_after, s.already_failing, s.unaffected, report.exit_code
    )?;
    writeln!(out)?;
    for c in &report.changes {
        writeln!(out, "- {} ({})", cell(&serde_json::to_string(&c.change).unwrap_or_default()), cell(&c.source))?;
    }
    writeln!(out)?;
    let newly: Vec<_> = report.clusters.iter().filter(|c| c.newly_failing).collect();
    if !newly.is_empty() {
        writeln!(out, "| cluster | account / Region | running tasks | check | why |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for c in newly {
            for f in c.findings.iter().filter(|f| f.verdict == Verdict::Fail) {
                let place = cell(&format!("{} / {}", c.account_id.as_deref().unwrap_or("-"), c.region));
                writeln!(
                    out,
                    "| {} | {place} | {} | {} | {} |",
                    cell(&c.cluster_name),
                    c.running_tasks,
                    cell(f.check.id),
                    cell(&f.message)
                )?;
            }
        }
    }
    Ok(())
}

/// The audit report as Markdown.
pub fn audit(report: &crate::audit::AuditReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## ecs-key-preflight audit: {} (exit {})",
        report.verdict.as_str().to_uppercase(),
        report.exit_code
    )?;
    writeln!(out)?;
    let failing: Vec<_> = report.clusters.iter().filter(|c| !c.failures.is_empty()).collect();
    if !failing.is_empty() {
        writeln!(out, "| cluster | account | call | error | key | times | last seen |")?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for c in failing {
            for f in &c.failures {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    cell(&c.cluster_name),
                    cell(&c.cluster_account),
                    cell(&f.operation),
                    cell(&format!("{}: {}", f.error_code, f.message)),
                    cell(f.key.as_deref().unwrap_or("-")),
                    f.count,
                    f.last_seen.map(crate::when::format_time).unwrap_or_default()
                )?;
            }
        }
    }
    Ok(())
}
