//! `check --alarms` end to end: trails, CloudWatch Logs metric filters and
//! CloudWatch alarms created in the emulator (by tests/emulator/seed_alarms.py,
//! with boto3), read back by the real binary. One Region per set-up.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::Value;

// (Region, seeding mode)
const SETUPS: [(&str, &str); 3] =
    [("ap-northeast-1", "both"), ("eu-west-2", "pending-only"), ("sa-east-1", "no-trail")];

fn seeded() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        for (region, mode) in SETUPS {
            seed_script("seed_alarms.py", &[region, mode]);
        }
    });
}

fn alarm_finding(region: &str, extra: &[&str]) -> (i32, Value, Value) {
    seeded();
    let (exit, report) = run_json(bin_aws(region).args(["check", "--format", "json", "--alarms"]).args(extra));
    let f = report["clusters"][0]["findings"].as_array().unwrap().iter().find(|f| f["check"] == "key-alarm").cloned();
    (exit, report.clone(), f.unwrap_or(Value::Null))
}

#[test]
fn alarm_setups_table() {
    // (Region, severity, text in the message)
    let cases = [
        (
            "ap-northeast-1",
            "info",
            "pending deletion (KMSKeyPendingDeletionErrorCountAlarm), disabled (KMSKeyDisabledErrorCountAlarm)",
        ),
        ("eu-west-2", "warning", "while it is disabled"),
        ("sa-east-1", "warning", "No CloudTrail trail in sa-east-1 delivers to CloudWatch Logs"),
    ];
    for (region, severity, text) in cases {
        let (exit, _, f) = alarm_finding(region, &[]);
        assert_eq!(exit, 0, "a missing alarm never fails the gate ({region})");
        assert_eq!(f["severity"], severity, "{region}: {f:#}");
        assert!(f["message"].as_str().unwrap().contains(text), "{region}: {f:#}");
        if severity == "warning" {
            let fix = f["remediation"].as_str().unwrap();
            assert!(fix.contains("put-metric-filter") && fix.contains("* is pending deletion."), "{fix}");
        }
    }
}

#[test]
fn a_region_wide_fix_is_printed_once() {
    // sa-east-1 has no trail and two clusters on two keys: two warnings,
    // one multi-line fix, then a reference to it.
    seeded();
    let out = bin_aws("sa-east-1").args(["check", "--alarms", "--color", "never"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("No CloudTrail trail in sa-east-1 delivers to CloudWatch Logs").count(), 2, "{text}");
    assert_eq!(text.matches("aws cloudtrail update-trail").count(), 1, "{text}");
    assert_eq!(text.matches("fix: the same as for alarmed above").count(), 1, "{text}");
}

#[test]
fn alarm_reads_are_counted_and_only_made_with_the_flag() {
    seeded();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("inv.json");
    let (_, _, _) = alarm_finding("ap-northeast-1", &["--save-inventory", saved.to_str().unwrap()]);
    let inv: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    for op in ["cloudtrail:DescribeTrails", "logs:DescribeMetricFilters", "cloudwatch:DescribeAlarms"] {
        assert_eq!(inv["api_calls"][op], 1, "{op}");
    }
    let without = dir.path().join("without.json");
    let out =
        bin_aws("ap-northeast-1").args(["check", "--save-inventory", without.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let inv: Value = serde_json::from_slice(&std::fs::read(&without).unwrap()).unwrap();
    assert!(inv["api_calls"].get("cloudwatch:DescribeAlarms").is_none());
    assert!(inv["alarms"].as_object().unwrap().is_empty());
}
