//! `--format prometheus`: the Prometheus text exposition format, for a cron
//! job that writes it where node_exporter's textfile collector (or any
//! scraper of the format) picks it up. Verdicts per cluster, and the
//! forecasts per key: seconds until deletion, until imported key material
//! expires, and grants against the quota.

use std::io::{self, Write};

use crate::finding::Verdict;
use crate::report::{KeyReport, Report};

/// A label value: control characters shown escaped first (so a scraped
/// value never carries raw escape sequences to whoever views it), then the
/// format's own escapes (backslash, quote, newline) over the result.
fn escape(v: &str) -> String {
    super::text::visible(v).replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn verdict_value(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Unknown => 2,
    }
}

/// One per-key gauge `ecs_key_preflight_key_<name>`: a sample for every key
/// `value` gives a number for.
fn key_gauge(
    out: &mut dyn Write,
    report: &Report,
    name: &str,
    help: &str,
    value: impl Fn(&KeyReport) -> Option<i64>,
) -> io::Result<()> {
    writeln!(out, "# HELP ecs_key_preflight_key_{name} {help}")?;
    writeln!(out, "# TYPE ecs_key_preflight_key_{name} gauge")?;
    for k in &report.keys {
        if let Some(v) = value(k) {
            writeln!(out, "ecs_key_preflight_key_{name}{{{}}} {v}", key_labels(k))?;
        }
    }
    Ok(())
}

/// The labels of a key's series: the ARN, the account and Region it is in
/// (from the ARN), its first alias, and what it is used for (`used_for`, comma-separated and
/// sorted), so that an alert can leave out ECS Exec keys, whose state
/// breaks exec sessions but not launches.
fn key_labels(k: &KeyReport) -> String {
    let mut parts = k.key_arn.splitn(6, ':');
    let (region, account) = (parts.nth(3).unwrap_or_default(), parts.next().unwrap_or_default());
    let used_for: Vec<&str> = k.used_for.iter().map(|r| r.as_str()).collect();
    // The first alias (sorted) names the key for people; empty when none.
    let alias = k.aliases.first().map(String::as_str).unwrap_or_default();
    format!(
        "key=\"{}\",alias=\"{}\",account=\"{}\",region=\"{}\",used_for=\"{}\"",
        escape(&k.key_arn),
        escape(alias),
        escape(account),
        escape(region),
        used_for.join(",")
    )
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let grant_quota = report.grant_quota;
    let now = report.collected_at.as_second();
    writeln!(out, "# HELP ecs_key_preflight_run_exit_code Exit code of the run: 0 pass, 1 fail, 2 unknown.")?;
    writeln!(out, "# TYPE ecs_key_preflight_run_exit_code gauge")?;
    writeln!(out, "ecs_key_preflight_run_exit_code {}", report.exit_code)?;
    writeln!(out, "# HELP ecs_key_preflight_collected_timestamp_seconds When the facts were collected.")?;
    writeln!(out, "# TYPE ecs_key_preflight_collected_timestamp_seconds gauge")?;
    writeln!(out, "ecs_key_preflight_collected_timestamp_seconds {now}")?;

    writeln!(
        out,
        "# HELP ecs_key_preflight_clusters_checked Clusters the run checked (alert on 0: a run that checked nothing)."
    )?;
    writeln!(out, "# TYPE ecs_key_preflight_clusters_checked gauge")?;
    writeln!(out, "ecs_key_preflight_clusters_checked {}", report.summary.clusters)?;
    writeln!(out, "# HELP ecs_key_preflight_suppressed_findings Findings a suppression left out of the verdicts.")?;
    writeln!(out, "# TYPE ecs_key_preflight_suppressed_findings gauge")?;
    writeln!(out, "ecs_key_preflight_suppressed_findings {}", report.summary.suppressed)?;

    writeln!(out, "# HELP ecs_key_preflight_cluster_verdict Would new tasks start: 0 pass, 1 fail, 2 unknown.")?;
    writeln!(out, "# TYPE ecs_key_preflight_cluster_verdict gauge")?;
    for c in &report.clusters {
        writeln!(
            out,
            "ecs_key_preflight_cluster_verdict{{account=\"{}\",cluster=\"{}\",region=\"{}\"}} {}",
            escape(c.account_id.as_deref().unwrap_or_default()),
            escape(&c.cluster_name),
            escape(&c.region),
            verdict_value(c.verdict)
        )?;
    }
    writeln!(
        out,
        "# HELP ecs_key_preflight_account_read Whether the account could be read: 1 yes, 0 no (account-unreadable)."
    )?;
    writeln!(out, "# TYPE ecs_key_preflight_account_read gauge")?;
    for a in &report.accounts {
        writeln!(
            out,
            "ecs_key_preflight_account_read{{account=\"{}\",name=\"{}\"}} {}",
            escape(&a.account_id),
            escape(a.name.as_deref().unwrap_or_default()),
            u8::from(a.status == "read")
        )?;
    }
    writeln!(
        out,
        "# HELP ecs_key_preflight_cluster_key Which key each cluster uses for what (always 1): join key series to clusters on `key`."
    )?;
    writeln!(out, "# TYPE ecs_key_preflight_cluster_key gauge")?;
    for c in &report.clusters {
        for u in c.key_usages.iter() {
            let Some(key) = u.key_arn.as_deref().or(u.configured_key.as_deref()) else { continue };
            writeln!(
                out,
                "ecs_key_preflight_cluster_key{{account=\"{}\",cluster=\"{}\",region=\"{}\",usage=\"{}\",key=\"{}\"}} 1",
                escape(c.account_id.as_deref().unwrap_or_default()),
                escape(&c.cluster_name),
                escape(&c.region),
                u.usage.as_str(),
                escape(key)
            )?;
        }
    }
    writeln!(
        out,
        "# HELP ecs_key_preflight_findings Findings by cluster, check and severity; suppressed=\"true\" for those a suppression accepted."
    )?;
    writeln!(out, "# TYPE ecs_key_preflight_findings gauge")?;
    for c in &report.clusters {
        // Suppressed findings are exported too, labelled: an accepted risk
        // stays visible to monitoring instead of vanishing.
        let mut counts = std::collections::BTreeMap::new();
        for f in &c.findings {
            *counts.entry((f.check.id, f.severity.as_str(), false)).or_insert(0u64) += 1;
        }
        for sf in &c.suppressed {
            *counts.entry((sf.finding.check.id, sf.finding.severity.as_str(), true)).or_insert(0u64) += 1;
        }
        for ((check, severity, suppressed), n) in counts {
            writeln!(
                out,
                "ecs_key_preflight_findings{{account=\"{}\",cluster=\"{}\",region=\"{}\",check=\"{check}\",severity=\"{severity}\",suppressed=\"{suppressed}\"}} {n}",
                escape(c.account_id.as_deref().unwrap_or_default()),
                escape(&c.cluster_name),
                escape(&c.region)
            )?;
        }
    }
    key_gauge(out, report, "usable", "Whether the key is Enabled (or Updating): 1 yes, 0 no.", |k| {
        k.usable.map(i64::from)
    })?;
    key_gauge(out, report, "deletion_seconds", "Seconds until a key pending deletion is deleted.", |k| {
        k.deletion_date.map(|d| d.as_second() - now)
    })?;
    key_gauge(out, report, "material_expiry_seconds", "Seconds until imported key material expires.", |k| {
        k.valid_to.map(|v| v.as_second() - now)
    })?;
    key_gauge(out, report, "grants", "Grants on the key (one per running Fargate task).", |k| {
        k.grants.and_then(|g| i64::try_from(g).ok())
    })?;
    writeln!(
        out,
        "# HELP ecs_key_preflight_key_grants_quota The grants-per-key quota the run assumed (--grant-quota)."
    )?;
    writeln!(out, "# TYPE ecs_key_preflight_key_grants_quota gauge")?;
    writeln!(out, "ecs_key_preflight_key_grants_quota {grant_quota}")
}
