//! `--format asff`: the AWS Security Finding Format, ready for
//! `aws securityhub batch-import-findings --findings file://…` (the tool
//! stays read-only: it writes the file). One finding per (cluster, check),
//! with the cluster and its key as resources, a compliance status (FAILED,
//! WARNING, NOT_AVAILABLE for unknown, PASSED) and a stable `Id`, so that a
//! second import updates the findings rather than duplicating them.
//! Required attributes: Security Hub User Guide, "Required top-level ASFF
//! attributes".

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::text::visible;
use crate::finding::{Finding, Severity, Verdict};
use crate::inventory::Arn;
use crate::report::{ClusterReport, Report};

/// At most this many characters per field, as the format allows.
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;
const RECOMMENDATION_MAX: usize = 512;

fn cut(s: &str, max: usize) -> String {
    let s = visible(s);
    if s.chars().count() <= max { s.into_owned() } else { s.chars().take(max - 1).collect::<String>() + "…" }
}

fn status(findings: &[&Finding]) -> (&'static str, &'static str) {
    let verdict = findings.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Pass);
    let warned = findings.iter().any(|f| f.severity > Severity::Info);
    match verdict {
        Verdict::Fail => ("FAILED", "HIGH"),
        Verdict::Unknown => ("NOT_AVAILABLE", "MEDIUM"),
        Verdict::Pass if warned => ("WARNING", "LOW"),
        Verdict::Pass => ("PASSED", "INFORMATIONAL"),
    }
}

fn resources(c: &ClusterReport, findings: &[&Finding], region: &str, partition: &str) -> Vec<Value> {
    let mut out = vec![json!({
        "Type": "AwsEcsCluster",
        "Id": visible(c.cluster_arn.as_deref().unwrap_or(&c.cluster_name)),
        "Partition": partition,
        "Region": region,
        "Details": {"AwsEcsCluster": {"ClusterName": visible(&c.cluster_name)}}
    })];
    let mut keys: Vec<String> = findings
        .iter()
        .filter_map(|f| {
            let usage = c.key_usages.iter().find(|u| Some(u.usage) == f.usage)?;
            usage.key_arn.clone().or_else(|| usage.configured_key.clone())
        })
        .collect();
    keys.sort();
    keys.dedup();
    out.extend(
        keys.into_iter()
            .map(|k| json!({"Type": "AwsKmsKey", "Id": visible(&k), "Partition": partition, "Region": region})),
    );
    out
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let at = report.collected_at.to_string();
    let mut findings = Vec::new();
    for c in &report.clusters {
        let account = c.account_id.clone().unwrap_or_default();
        let arn = c.cluster_arn.as_deref().and_then(Arn::parse);
        let partition = arn.as_ref().map(|a| a.partition.to_string()).filter(|p| !p.is_empty()).unwrap_or("aws".into());
        let mut by_check: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &c.findings {
            by_check.entry(f.check.id).or_default().push(f);
        }
        for (check, fs) in by_check {
            let (compliance, severity) = status(&fs);
            let worst = fs.iter().max_by_key(|f| (f.verdict, f.severity)).copied();
            let Some(worst) = worst else { continue };
            let description: Vec<String> = fs.iter().map(|f| f.message.to_string()).collect();
            let mut finding = json!({
                "SchemaVersion": "2018-10-08",
                // Stable: the same cluster and check give the same Id, so a
                // later import updates the finding.
                "Id": visible(&format!("ecs-key-preflight/{}/{}/{}/{check}", account, c.region, c.cluster_name)),
                "ProductArn": format!("arn:{partition}:securityhub:{}:{account}:product/{account}/default", c.region),
                "GeneratorId": format!("ecs-key-preflight/{check}"),
                "AwsAccountId": account,
                "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
                "CreatedAt": at,
                "UpdatedAt": at,
                "Severity": {"Label": severity},
                "Title": cut(&format!("[{check}] {}: {}", c.cluster_name, worst.check.title), TITLE_MAX),
                "Description": cut(&description.join(" "), DESCRIPTION_MAX),
                "Resources": resources(c, &fs, &c.region, &partition),
                "Compliance": {"Status": compliance},
                "ProductFields": {
                    "ecs-key-preflight/check": check,
                    "ecs-key-preflight/verdict": worst.verdict.as_str()
                },
                "RecordState": "ACTIVE"
            });
            if let Some(fix) = &worst.remediation {
                finding["Remediation"] = json!({"Recommendation": {"Text": cut(fix, RECOMMENDATION_MAX)}});
            }
            findings.push(finding);
        }
    }
    serde_json::to_writer_pretty(&mut *out, &findings)?;
    writeln!(out)
}
