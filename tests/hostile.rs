//! Hostile and broken input, through the real binary, without AWS: one
//! regression test per defect of issue 9. Each bad input ends in its
//! documented outcome: a clear one-line error and exit 3, or an *unknown*
//! verdict; never a hang, a panic, a raw control byte on the terminal, a
//! pass from nothing, or a file destroyed.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;

/// One CloudTrail record of a failed Fargate launch, with `cluster` in its
/// encryption context.
fn failed_launch(cluster: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "eventSource": "kms.amazonaws.com",
        "userIdentity": {"invokedBy": "fargate.amazonaws.com"},
        "eventTime": "2024-04-24T10:00:00Z",
        "eventName": "CreateGrant",
        "requestParameters": {"dryRun": true, "constraints": {"encryptionContextSubset": {
            "aws:ecs:clusterAccount": "123456789012", "aws:ecs:clusterName": cluster}}},
        "errorCode": "KMSInvalidStateException",
        "errorMessage": message
    })
}

fn audit_from(path: &Path) -> std::process::Output {
    bin().args(["audit", "--color", "never", "--from"]).arg(path).timeout(Duration::from_secs(60)).output().unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn control_bytes_in_cloudtrail_fields_are_shown_escaped() {
    // The issue's example: an OSC 52 clipboard write and a screen clear in the cluster name.
    let record = failed_launch("x\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J", "m\u{1b}[31m");
    let out =
        bin().args(["audit", "--from", "-", "--color", "never"]).write_stdin(format!("{record}\n")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'), "{stdout:?}");
    assert!(stdout.contains("x\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J"), "{stdout}");
}

#[test]
fn directory_links_are_not_followed_and_files_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("log.json"), format!("{{\"Records\":[{}]}}", failed_launch("web", "m"))).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("s1")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("s2")).unwrap();
    std::os::unix::fs::symlink("log.json", dir.path().join("again.json")).unwrap();
    let out = bin()
        .args(["audit", "--format", "json", "--from"])
        .arg(dir.path())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a report, not a hang");
    assert_eq!(report["events"]["read"], 1, "each file once: {report:#}");
    assert_eq!(report["clusters"][0]["failures"][0]["count"], 1);
    let skipped: Vec<&str> =
        report["files"]["skipped"].as_array().unwrap().iter().map(|s| s["reason"].as_str().unwrap()).collect();
    assert_eq!(skipped, ["a link to a directory: not followed"; 2]);
}

#[test]
fn a_source_with_no_readable_record_is_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz_nul = GzEncoder::new(Vec::new(), Compression::fast());
    gz_nul.write_all(&[0u8; 4096]).unwrap();
    let gz_nul = gz_nul.finish().unwrap();
    let mut truncated = GzEncoder::new(Vec::new(), Compression::fast());
    truncated.write_all(format!("{{\"Records\":[{}]}}", failed_launch("web", "m")).as_bytes()).unwrap();
    let truncated = truncated.finish().unwrap();
    let truncated = &truncated[..truncated.len() / 2];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("random.bin", (0..2048u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()),
        ("nul.json.gz", gz_nul),
        ("truncated.json.gz", truncated.to_vec()),
        ("null-records.json", br#"{"Records": null}"#.to_vec()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = audit_from(&path);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains("no CloudTrail record could be read"), "{name}: {}", stderr(&out));
    }
    // Garbage on stdin too.
    let out = bin().args(["audit", "--from", "-"]).write_stdin("garbage\n").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // A directory of garbage files.
    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    for i in 0..50 {
        std::fs::write(garbage.join(format!("{i}.json")), "not json").unwrap();
    }
    assert_eq!(audit_from(&garbage).status.code(), Some(3));
    // An empty directory: read in full, but nothing to judge: unknown.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = audit_from(&empty);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    // A file read in part: unknown, unless a failure was seen.
    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::write(
        partial.join("a.json"),
        r#"{"Records":[{"eventName":"Decrypt","eventTime":"2024-04-24T10:00:00Z"}]}"#,
    )
    .unwrap();
    std::fs::write(partial.join("b.json"), "not json").unwrap();
    assert_eq!(audit_from(&partial).status.code(), Some(2));
}

#[test]
fn a_window_that_ends_before_it_starts_is_a_usage_error() {
    let out = bin()
        .args(["audit", "--from", "-", "--since", "2026-11-30", "--until", "2026-11-01"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("--since is after --until"), "{}", stderr(&out));
}

#[test]
fn one_oversized_record_is_skipped_and_counted_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json.gz");
    // A normal record, then one whose message is 64 MiB (compressed to little).
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    write!(gz, "{{\"Records\":[{},{{\"errorMessage\":\"", failed_launch("web", "m")).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&chunk).unwrap();
    }
    gz.write_all(b"\"}]}").unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let out = bin().args(["audit", "--format", "json", "--from"]).arg(&path).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files"]["oversized_records"], 1, "{report:#}");
    assert_eq!(report["events"]["read"], 1, "the record before it is kept");
    // A failure was seen: it outranks the unread part.
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn fifos_are_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let runs: [Vec<&str>; 3] =
        [vec!["check", "--inventory"], vec!["check", "--no-services", "--config"], vec!["audit", "--from"]];
    for args in runs {
        let out = bin().args(&args).arg(&fifo).timeout(Duration::from_secs(30)).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not a regular file"), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn bad_region_names_are_one_line_errors() {
    for region in ["", "ü", "us-east-1; rm", "US-EAST-1"] {
        let out = bin().args(["check", "--region", region]).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{region:?}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{region:?}: {err}");
        assert!(err.contains("is not an AWS Region name"), "{err}");
    }
}

#[test]
fn outputs_never_destroy_inputs_or_good_reports() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    std::fs::copy(fixture("estate.json"), &inv).unwrap();
    let before = std::fs::read(&inv).unwrap();
    // --output naming the inventory read.
    let out = bin().args(["check", "--inventory"]).arg(&inv).arg("--output").arg(&inv).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("--inventory and --output name the same file"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&inv).unwrap(), before, "the inventory is intact");
    // --save-inventory and --output naming one file.
    let same = dir.path().join("same.json");
    let out = bin().args(["check", "--save-inventory"]).arg(&same).arg("--output").arg(&same).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!same.exists());
    // A run that fails leaves the previous report as it was.
    let report = dir.path().join("report.json");
    std::fs::write(&report, "previous good report").unwrap();
    let out = bin()
        .args(["check", "--inventory"])
        .arg(fixture("truncated.json"))
        .arg("--output")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "previous good report");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file left behind");
    // A run that succeeds replaces it.
    let out = bin().args(["check", "--inventory"]).arg(&inv).arg("--output").arg(&report).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_to_string(&report).unwrap().contains("FAIL"));
}

#[test]
fn an_unwritable_save_inventory_fails_before_collecting() {
    // No credentials and no endpoint: had collection started, the error
    // would be about credentials; it is about the path.
    let out = bin()
        .args(["check", "--region", "us-east-1", "--save-inventory", "/nonexistent-dir/inv.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("cannot write inventory /nonexistent-dir/inv.json"), "{}", stderr(&out));
}

fn inventory_with(edit: impl Fn(&mut serde_json::Value)) -> tempfile::NamedTempFile {
    let mut inv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("estate.json")).unwrap()).unwrap();
    edit(&mut inv);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(inv.to_string().as_bytes()).unwrap();
    file
}

#[test]
fn removed_or_null_services_are_unknown_not_a_pass() {
    for remove in [true, false] {
        let file = inventory_with(|inv| {
            for c in inv["clusters"].as_array_mut().unwrap() {
                let c = c.as_object_mut().unwrap();
                if remove {
                    c.remove("services");
                } else {
                    c.insert("services".into(), serde_json::Value::Null);
                }
            }
        });
        let (_, report) = run_json(bin().args(["check", "--format", "json", "--inventory"]).arg(file.path()));
        let checkout = report["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "checkout");
        if let Some(c) = checkout {
            assert_ne!(c["verdict"], "pass", "{c:#}");
        }
        let any_unknown = report["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["findings"].as_array().unwrap().iter().any(|f| f["check"] == "services-unreadable"));
        assert!(any_unknown, "remove={remove}");
    }
}

#[test]
fn wide_task_counts_do_not_wrap() {
    let file = inventory_with(|inv| {
        for c in inv["clusters"].as_array_mut().unwrap() {
            let Some(services) = c.pointer_mut("/services/value").and_then(|v| v.as_array_mut()) else { continue };
            for s in services {
                let Some(deployments) = s["deployments"].as_array_mut() else { continue };
                if let Some(first) = deployments.first().cloned() {
                    for d in deployments.iter_mut() {
                        d["running"] = i32::MAX.into();
                    }
                    let mut second = first;
                    second["id"] = "ecs-svc/EXAMPLE2".into();
                    second["running"] = i32::MAX.into();
                    deployments.push(second);
                }
            }
        }
    });
    let out = bin().args(["check", "--color", "never", "--inventory"]).arg(file.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("-2 running"), "{stdout}{}", stderr(&out));
    assert!(stdout.contains("4294967294 running"), "{stdout}{}", stderr(&out));
}

#[test]
fn summary_says_what_was_suppressed_and_by_which_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ecs-key-preflight.toml");
    std::fs::write(&config, "[[suppress]]\ncheck = \"key-state\"\nreason = \"accepted for the test\"\n").unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["check", "--color", "never", "--inventory"])
        .arg(fixture("estate.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("suppressed by ecs-key-preflight.toml"), "{stdout}");
    let (_, report) = run_json(
        bin().current_dir(dir.path()).args(["check", "--format", "json", "--inventory"]).arg(fixture("estate.json")),
    );
    assert!(report["summary"]["suppressed"].as_u64().unwrap() > 0);
    assert_eq!(report["suppressions_file"], "ecs-key-preflight.toml");
}
