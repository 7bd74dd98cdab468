//! `--format prometheus`: the Prometheus text exposition format, for a cron
//! job that writes it where node_exporter's textfile collector (or any
//! scraper of the format) picks it up. Verdicts per cluster, and the
//! forecasts per key: seconds until deletion, until imported key material
//! expires, and grants against the quota.

use std::io::{self, Write};

use crate::finding::Verdict;
use crate::report::Report;

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn verdict_value(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Unknown => 2,
    }
}

pub fn render(report: &Report, grant_quota: u64, out: &mut dyn Write) -> io::Result<()> {
    let now = report.collected_at.as_second();
    writeln!(out, "# HELP ecs_key_preflight_run_exit_code Exit code of the run: 0 pass, 1 fail, 2 unknown.")?;
    writeln!(out, "# TYPE ecs_key_preflight_run_exit_code gauge")?;
    writeln!(out, "ecs_key_preflight_run_exit_code {}", report.exit_code)?;
    writeln!(out, "# HELP ecs_key_preflight_collected_timestamp_seconds When the facts were collected.")?;
    writeln!(out, "# TYPE ecs_key_preflight_collected_timestamp_seconds gauge")?;
    writeln!(out, "ecs_key_preflight_collected_timestamp_seconds {now}")?;

    writeln!(out, "# HELP ecs_key_preflight_cluster_verdict Would new tasks start: 0 pass, 1 fail, 2 unknown.")?;
    writeln!(out, "# TYPE ecs_key_preflight_cluster_verdict gauge")?;
    for c in &report.clusters {
        writeln!(
            out,
            "ecs_key_preflight_cluster_verdict{{cluster=\"{}\",region=\"{}\"}} {}",
            escape(&c.cluster_name),
            escape(&c.region),
            verdict_value(c.verdict)
        )?;
    }
    writeln!(out, "# HELP ecs_key_preflight_findings Findings by cluster, check and severity.")?;
    writeln!(out, "# TYPE ecs_key_preflight_findings gauge")?;
    for c in &report.clusters {
        let mut counts = std::collections::BTreeMap::new();
        for f in &c.findings {
            *counts.entry((f.check, f.severity.as_str())).or_insert(0u64) += 1;
        }
        for ((check, severity), n) in counts {
            writeln!(
                out,
                "ecs_key_preflight_findings{{cluster=\"{}\",region=\"{}\",check=\"{check}\",severity=\"{severity}\"}} {n}",
                escape(&c.cluster_name),
                escape(&c.region)
            )?;
        }
    }
    writeln!(out, "# HELP ecs_key_preflight_key_usable Whether the key is Enabled (or Updating): 1 yes, 0 no.")?;
    writeln!(out, "# TYPE ecs_key_preflight_key_usable gauge")?;
    for k in &report.keys {
        let usable = matches!(k.key_state.as_deref(), Some("Enabled" | "Updating"));
        writeln!(out, "ecs_key_preflight_key_usable{{key=\"{}\"}} {}", escape(&k.key_arn), u8::from(usable))?;
    }
    writeln!(out, "# HELP ecs_key_preflight_key_deletion_seconds Seconds until a key pending deletion is deleted.")?;
    writeln!(out, "# TYPE ecs_key_preflight_key_deletion_seconds gauge")?;
    for k in &report.keys {
        if let Some(d) = k.deletion_date {
            writeln!(
                out,
                "ecs_key_preflight_key_deletion_seconds{{key=\"{}\"}} {}",
                escape(&k.key_arn),
                d.as_second() - now
            )?;
        }
    }
    writeln!(out, "# HELP ecs_key_preflight_key_material_expiry_seconds Seconds until imported key material expires.")?;
    writeln!(out, "# TYPE ecs_key_preflight_key_material_expiry_seconds gauge")?;
    for k in &report.keys {
        if let Some(v) = k.valid_to {
            writeln!(
                out,
                "ecs_key_preflight_key_material_expiry_seconds{{key=\"{}\"}} {}",
                escape(&k.key_arn),
                v.as_second() - now
            )?;
        }
    }
    writeln!(out, "# HELP ecs_key_preflight_key_grants Grants on the key (one per running Fargate task).")?;
    writeln!(out, "# TYPE ecs_key_preflight_key_grants gauge")?;
    for k in &report.keys {
        if let Some(g) = k.grants {
            writeln!(out, "ecs_key_preflight_key_grants{{key=\"{}\"}} {g}", escape(&k.key_arn))?;
        }
    }
    writeln!(
        out,
        "# HELP ecs_key_preflight_key_grants_quota The grants-per-key quota the run assumed (--grant-quota)."
    )?;
    writeln!(out, "# TYPE ecs_key_preflight_key_grants_quota gauge")?;
    writeln!(out, "ecs_key_preflight_key_grants_quota {grant_quota}")
}
