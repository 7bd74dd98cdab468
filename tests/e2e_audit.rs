//! `audit` end to end, offline: the real binary reading CloudTrail log files
//! (plain, gzip, a directory tree as CloudTrail writes it to S3, JSON lines,
//! stdin), built from the fixtures in tests/fixtures/cloudtrail/. The
//! LookupEvents path is tested with aws-smithy-mocks in collect_mocks.rs:
//! the emulator does not implement it.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn seed() -> PathBuf {
    fixture("cloudtrail/seed-events.json")
}

fn failures() -> PathBuf {
    fixture("cloudtrail/failures.jsonl")
}

fn gzip(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(to).unwrap(), flate2::Compression::default());
    gz.write_all(&std::fs::read(from).unwrap()).unwrap();
    gz.finish().unwrap();
}

/// The fixtures as CloudTrail lays them out in S3, gzip-compressed, plus a
/// digest file (ignored) and, when `broken`, a malformed file.
fn tree(dir: &Path, broken: bool) -> PathBuf {
    let root = dir.join("AWSLogs/123456789012/CloudTrail/us-west-2/2024/04");
    gzip(&seed(), &root.join("23/123456789012_CloudTrail_us-west-2_20240423T1810Z_EXAMPLE1.json.gz"));
    // The failures as a log file object, as CloudTrail writes them.
    let records: Vec<Value> =
        std::fs::read_to_string(failures()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let plain = dir.join("failures.json");
    std::fs::write(&plain, serde_json::json!({ "Records": records }).to_string()).unwrap();
    gzip(&plain, &root.join("24/123456789012_CloudTrail_us-west-2_20240424T1000Z_EXAMPLE2.json.gz"));
    std::fs::remove_file(plain).unwrap();
    let digest = dir.join("AWSLogs/123456789012/CloudTrail-Digest/us-west-2/2024/04/24/digest.json.gz");
    gzip(&seed(), &digest);
    if broken {
        std::fs::write(root.join("24/broken.json"), "{\"Records\": [ {\"eventSource\": ").unwrap();
    }
    dir.join("AWSLogs")
}

fn audit_json(args: &[&str]) -> (i32, Value) {
    run_json(bin().args(["audit", "--format", "json"]).args(args))
}

fn cluster<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_name"] == name)
        .unwrap_or_else(|| panic!("{report:#}"))
}

#[test]
fn seed_events_pass() {
    let (exit, report) = audit_json(&["--from", seed().to_str().unwrap()]);
    assert_eq!(exit, 0, "{report:#}");
    let prod = cluster(&report, "prod-api");
    assert_eq!(prod["verdict"], "pass");
    assert_eq!((prod["dry_run_calls"].as_u64(), prod["real_calls"].as_u64()), (Some(2), Some(2)));
    assert_eq!(prod["tasks_started"], 1);
    assert_eq!(prod["grants_retired"], 1);
    assert_eq!(prod["last_successful_launch"], "2024-04-23T18:08:13Z");
    assert_eq!(report["events"]["read"], 5);
}

#[test]
fn failures_exit_1_per_cluster() {
    let (exit, report) = audit_json(&["--from", failures().to_str().unwrap()]);
    assert_eq!(exit, 1);
    for name in ["payments", "batch", "orders"] {
        assert_eq!(cluster(&report, name)["verdict"], "fail", "{name}");
    }
    let g = &cluster(&report, "payments")["failures"][0];
    assert_eq!(g["error_code"], "DisabledException");
    assert_eq!(g["count"], 2);
    assert_eq!(g["first_seen"], "2024-04-24T10:00:00Z");
    assert_eq!(g["last_seen"], "2024-04-24T10:05:00Z");
    assert_eq!(report["unattributed"]["calls"], 1);
    // DisableKey is mapped, offline, to the cluster whose calls named the key.
    let key =
        report["keys"].as_array().unwrap().iter().find(|k| !k["lifecycle"].as_array().unwrap().is_empty()).unwrap();
    assert_eq!(key["lifecycle"][0]["event_name"], "DisableKey");
    assert_eq!(key["lifecycle"][0]["clusters"][0], "payments");
}

#[test]
fn directory_tree_of_gzip_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(dir.path(), false);
    let (exit, report) = audit_json(&["--from", root.to_str().unwrap()]);
    assert_eq!(exit, 1);
    assert_eq!(report["files"]["files_read"], 2, "the digest file is left out");
    assert_eq!(report["events"]["read"], 15);
    assert_eq!(cluster(&report, "prod-api")["verdict"], "pass");
    assert_eq!(cluster(&report, "payments")["verdict"], "fail");
}

#[test]
fn malformed_file_is_skipped_with_a_warning_or_fails_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(dir.path(), true);
    let (exit, report) = audit_json(&["--from", root.to_str().unwrap()]);
    assert_eq!(exit, 1, "the failures in the good files still count");
    let skipped = &report["files"]["skipped"][0];
    assert!(skipped["file"].as_str().unwrap().ends_with("broken.json"), "{skipped}");
    assert!(skipped["reason"].as_str().unwrap().starts_with("not CloudTrail JSON"), "{skipped}");
    assert_eq!(report["files"]["files_read"], 2);

    let out = bin().args(["audit", "--strict", "--from"]).arg(&root).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("broken.json") && stderr.contains("--strict"), "{stderr}");
}

#[test]
fn stdin_and_window() {
    let out = bin()
        .args([
            "audit",
            "--format",
            "json",
            "--from",
            "-",
            "--since",
            "2024-04-24T10:01:00Z",
            "--until",
            "2024-04-24T12:30:00Z",
        ])
        .write_stdin(std::fs::read(failures()).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["events"]["in_window"], 4);
    assert_eq!(cluster(&report, "payments")["failures"][0]["count"], 1);
}

#[test]
fn human_report_names_failures_and_key_changes() {
    let out = bin().args(["audit", "--color", "never", "--from"]).arg(failures()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("FAIL    payments (account 123456789012)"), "{stdout}");
    // The failure line names the key it was for.
    assert!(stdout.contains("GenerateDataKeyWithoutPlaintext (DryRun) on key arn:aws:kms:"), "{stdout}");
    assert!(
        stdout.contains("failed 2 times, 2024-04-24 10:00 UTC .. 2024-04-24 10:05 UTC: DisabledException"),
        "{stdout}"
    );
    assert!(stdout.contains("DisableKey arn:aws:kms:us-west-2:123456789012:key/2222aaaa-0000-0000-0000-EXAMPLE22222 by arn:aws:sts::123456789012:assumed-role/Admin/alice -> payments"), "{stdout}");
    assert!(stdout.contains("1 Fargate call had no aws:ecs:clusterName"), "{stdout}");
}

#[test]
fn unreadable_source_and_bad_window_exit_3() {
    let cases: &[&[&str]] = &[
        &["audit", "--from", "/nonexistent/cloudtrail"],
        &["audit", "--from", "-", "--since", "yesterday"],
        &["audit", "--since", "120d", "--region", "us-east-1"],
    ];
    for args in cases {
        let out = bin().args(*args).write_stdin("").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
}
