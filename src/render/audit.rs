//! `audit` reports: JSON as is, and a human summary per cluster, failures
//! first, then key changes with the clusters they hit.

use std::io::{self, Write};

use colored::Colorize;

use super::human::Paint;
use super::text::{count, visible as v};
use crate::audit::AuditReport;
use crate::audit::classify::Phase;
use crate::finding::Verdict;
use crate::when::format_time;

pub fn json(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

fn when(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(|| "(no time)".to_string(), format_time)
}

fn phase(p: Phase) -> &'static str {
    match p {
        Phase::DryRun => " (DryRun)",
        Phase::Real => "",
    }
}

pub fn human(report: &AuditReport, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint::new(color);
    let window = match (report.window.since, report.window.until) {
        (None, None) => "all events".to_string(),
        (since, until) => format!("{} .. {}", when(since), until.map_or_else(|| "now".to_string(), format_time)),
    };
    writeln!(out, "CloudTrail audit of {} ({window})", v(&report.source.join(", ")))?;
    let e = &report.events;
    writeln!(
        out,
        "{} records read, {} in the window: {} Fargate launch calls, {} key changes, {} grant retirements.",
        e.read, e.in_window, e.fargate, e.lifecycle, e.retire_grant
    )?;
    for gap in &report.gaps {
        writeln!(out, "{} {}", p.apply("could not read:", |s| s.yellow().bold()), v(&gap.describe()))?;
    }
    for s in &report.files.skipped {
        writeln!(
            out,
            "{} {}: {} ({} events read before the problem)",
            p.apply("skipped:", |s| s.yellow()),
            v(&s.file),
            v(&s.reason),
            s.events_before
        )?;
    }
    writeln!(out)?;
    if report.clusters.is_empty() {
        writeln!(out, "No Fargate launch calls attributed to a cluster.")?;
    }
    for c in &report.clusters {
        writeln!(
            out,
            "{} {} (account {})",
            p.verdict(c.verdict),
            p.apply(&v(&c.cluster_name), |s| s.bold()),
            v(&c.cluster_account)
        )?;
        let last = c.last_successful_launch.map_or_else(|| "none in the window".to_string(), format_time);
        writeln!(
            out,
            "    {} DryRun and {} real calls succeeded, {} started, {} retired; last successful launch: {last}",
            c.dry_run_calls,
            c.real_calls,
            count(c.tasks_started, "task", "tasks"),
            count(c.grants_retired, "grant", "grants")
        )?;
        for f in &c.failures {
            writeln!(
                out,
                "  {} {}{} on key {} failed {}, {} .. {}: {}: {}",
                p.apply("✗", |s| s.red().bold()),
                v(&f.operation),
                phase(f.phase),
                v(f.key.as_deref().unwrap_or("(not named in the event)")),
                count(f.count, "time", "times"),
                when(f.first_seen),
                when(f.last_seen),
                v(&f.error_code),
                v(&f.message)
            )?;
        }
    }
    if report.unattributed.calls > 0 {
        writeln!(
            out,
            "\n{} had no aws:ecs:clusterName in their encryption context and are not attributed to a cluster.",
            count(report.unattributed.calls, "Fargate call", "Fargate calls")
        )?;
        for f in &report.unattributed.failures {
            writeln!(
                out,
                "  {} {}{} on key {} failed {}: {}: {}",
                p.apply("✗", |s| s.red().bold()),
                v(&f.operation),
                phase(f.phase),
                v(f.key.as_deref().unwrap_or("(not named in the event)")),
                count(f.count, "time", "times"),
                v(&f.error_code),
                v(&f.message)
            )?;
        }
    }
    let changes: Vec<_> = report.keys.iter().flat_map(|k| k.lifecycle.iter().map(move |l| (k, l))).collect();
    if !changes.is_empty() {
        writeln!(out, "\n{} (clusters from {}):", p.apply("Key changes", |s| s.bold()), report.cluster_mapping)?;
        for (k, l) in changes {
            let by = l.actor.as_deref().map(|a| format!(" by {a}")).unwrap_or_default();
            let detail = l.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            let failed = l.error.as_ref().map(|(c, _)| format!(" [failed: {c}]")).unwrap_or_default();
            let hits = if l.clusters.is_empty() { "no known cluster".to_string() } else { l.clusters.join(", ") };
            let line = format!("{} {}{detail}{by}{failed} -> {hits}", l.event_name, k.key);
            writeln!(out, "  {} {}", when(l.time), v(&line))?;
        }
    }
    let used: Vec<_> = report.keys.iter().filter(|k| k.last_fargate_use.is_some()).collect();
    if !used.is_empty() {
        writeln!(out, "\n{}", p.apply("Last use by Fargate:", |s| s.bold()))?;
        for k in used {
            writeln!(out, "  {} {} ({})", v(&k.key), when(k.last_fargate_use), v(&k.clusters_seen.join(", ")))?;
        }
    }
    let failing = report.clusters.iter().filter(|c| c.verdict == Verdict::Fail).count();
    let outcome = if report.verdict == Verdict::Fail {
        format!(
            "Fargate launches failed in {failing} of {} in the window",
            count(report.clusters.len(), "cluster", "clusters")
        )
    } else if report.verdict == Verdict::Unknown {
        "no failure seen, but the source could not be read in full: unknown".to_string()
    } else {
        "no failed Fargate launch call in the window".to_string()
    };
    writeln!(out, "\n{} {outcome} (exit {}).", p.verdict(report.verdict).trim_end(), report.exit_code)
}
