//! `what-if` reports: JSON as is, and for a terminal the clusters and
//! services that would newly fail first (with the tasks they run and why),
//! then those already failing, then a count of the unaffected.

use std::io::{self, Write};

use colored::Colorize;

use super::human::Paint;
use super::text::visible as v;
use crate::finding::Verdict;
use crate::whatif::{Change, WhatIfReport};
use crate::when::format_time;

pub fn json(report: &WhatIfReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

fn describe(c: &crate::whatif::ChangeReport) -> String {
    let key = |k: &str| match &c.key_arn {
        Some(arn) if arn != k => format!("{k} ({arn})"),
        _ => k.to_string(),
    };
    match &c.change {
        Change::DisableKey { key: k } => format!("disable key {}", key(k)),
        Change::ScheduleKeyDeletion { key: k, pending_window_days } => {
            let when = c.deletion_date.map(|d| format!(", deleted on {}", format_time(d))).unwrap_or_default();
            format!("schedule key {} for deletion in {pending_window_days} days{when}", key(k))
        }
        Change::PutKeyPolicy { key: k, .. } => format!("put a new key policy on {}", key(k)),
        Change::SetClusterKey { cluster, usage, key: k } => format!(
            "point cluster {cluster}'s {} at key {} (its running services keep their pinned key until redeployed)",
            usage.describe(),
            key(k)
        ),
        Change::KeyUnknown { key: k, why } => format!("key {}: {why}", key(k)),
        Change::ClusterKeyUnknown { cluster, why, .. } => format!("cluster {cluster}: {why}"),
        Change::SetClusterPlannedKey { cluster, usage, key: k, .. } => format!(
            "point cluster {cluster}'s {} at the key the plan creates ({k}), judged from its planned attributes",
            usage.describe()
        ),
    }
}

pub fn human(report: &WhatIfReport, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint::new(color);
    if report.changes.is_empty() {
        writeln!(out, "Nothing relevant changes: the plan touches no KMS key or ECS cluster key in scope.")?;
    }
    for c in &report.changes {
        let unused = if c.key_arn.is_none()
            && !matches!(c.change, Change::ClusterKeyUnknown { .. } | Change::SetClusterPlannedKey { .. })
        {
            " [no cluster in scope uses it]"
        } else {
            ""
        };
        writeln!(out, "{} {}{unused} ({})", p.apply("what if:", |s| s.bold()), v(&describe(c)), v(&c.source))?;
    }
    let newly: Vec<_> = report.clusters.iter().filter(|c| c.newly_failing).collect();
    writeln!(out)?;
    if newly.is_empty() {
        writeln!(out, "{}", p.apply("No cluster or service would newly fail.", |s| s.green()))?;
    } else {
        writeln!(out, "{}", p.apply(&format!("Would newly fail ({}):", newly.len()), |s| s.red().bold()))?;
    }
    for c in &newly {
        let tasks = if c.running_tasks > 0 {
            let (tasks, keep) = if c.running_tasks == 1 { ("task", "keeps") } else { ("tasks", "keep") };
            format!(
                ": {} running {tasks} {keep} running, but no new, replacement or scale-out task would start",
                c.running_tasks
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {} {} ({}){tasks}",
            p.verdict(Verdict::Fail),
            p.apply(&v(&c.cluster_name), |s| s.bold()),
            v(&c.region)
        )?;
        for s in &c.services_newly_failing {
            writeln!(out, "      service {} would newly fail", v(s))?;
        }
        for f in c.findings.iter().filter(|f| f.verdict == Verdict::Fail) {
            writeln!(out, "      [{}] {}", f.check, v(&f.message))?;
        }
    }
    let unknown: Vec<_> =
        report.clusters.iter().filter(|c| !c.newly_failing && c.verdict == Verdict::Unknown).collect();
    if !unknown.is_empty() {
        writeln!(
            out,
            "{}",
            p.apply(&format!("Could not be judged after the change ({}):", unknown.len()), |s| s.yellow().bold())
        )?;
        for c in unknown {
            writeln!(out, "  {} {} ({})", p.verdict(Verdict::Unknown), v(&c.cluster_name), v(&c.region))?;
            for f in c.findings.iter().filter(|f| f.verdict == Verdict::Unknown) {
                writeln!(out, "      [{}] {}", f.check, v(&f.message))?;
            }
        }
    }
    let already: Vec<&str> = report
        .clusters
        .iter()
        .filter(|c| c.verdict_before == Verdict::Fail && !c.newly_failing)
        .map(|c| c.cluster_name.as_str())
        .collect();
    if !already.is_empty() {
        writeln!(out, "Already failing ({}): {}", already.len(), v(&already.join(", ")))?;
    }
    let s = &report.summary;
    writeln!(out, "Unaffected: {}.", super::text::count(s.unaffected, "cluster", "clusters"))?;
    writeln!(out)?;
    writeln!(
        out,
        "{} {}: {} would newly fail, {} already failing, {} unknown after, {} unaffected (exit {}). Nothing was changed in AWS.",
        p.verdict(if s.newly_failing > 0 {
            Verdict::Fail
        } else if s.unknown_after > 0 {
            Verdict::Unknown
        } else {
            Verdict::Pass
        })
        .trim_end(),
        super::text::count(s.clusters, "cluster", "clusters"),
        s.newly_failing,
        s.already_failing,
        s.unknown_after,
        s.unaffected,
        report.exit_code
    )
}
