//! The binary without AWS: saved inventories (`--inventory`), bad input, and
//! the exit codes a pipeline relies on. No emulator needed.

mod common;

use common::*;

fn replay(fixture_name: &str) -> (i32, serde_json::Value) {
    run_json(bin().args(["check", "--format", "json", "--inventory"]).arg(fixture(fixture_name)))
}

#[test]
fn exit_code_table() {
    // (fixture, exit code, overall verdict)
    let cases = [
        ("all-pass.json", 0, "pass"),
        ("estate.json", 1, "fail"),
        ("unknown.json", 2, "unknown"),
        // ListClusters denied: nothing is known to fail, nothing can pass.
        ("scope-gap.json", 2, "unknown"),
    ];
    for (name, code, verdict) in cases {
        let (exit, report) = replay(name);
        assert_eq!(exit, code, "{name}");
        assert_eq!(report["verdict"], verdict, "{name}");
        assert_eq!(report["exit_code"], code, "{name}");
    }
}

#[test]
fn estate_verdicts_per_cluster() {
    let (_, report) = replay("estate.json");
    let verdicts: Vec<(String, String)> = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cluster_name"].as_str().unwrap().into(), c["verdict"].as_str().unwrap().into()))
        .collect();
    let expect = [
        ("analytics", "unknown"),
        ("batch", "fail"),
        // 42,000 grants of 50,000: a warning, not a failure.
        ("crowded", "pass"),
        ("imports", "pass"),
        ("legacy", "fail"),
        ("locked", "unknown"),
        // Key enabled and healthy, but its policy does not let Fargate in.
        ("locked-out", "fail"),
        // Its own key is fine, but service api still runs on a disabled key.
        ("migrated", "fail"),
        // Key in another account: GetKeyPolicy is not allowed across accounts.
        ("partner", "unknown"),
        ("payments", "fail"),
        ("prod-api", "pass"),
        ("remote-key", "pass"),
        ("sandbox", "pass"),
        ("tools", "pass"),
    ];
    let mut got = verdicts.clone();
    got.sort();
    let want: Vec<(String, String)> = expect.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn horizon_turns_expiring_material_into_a_failure() {
    // The fixture's imported material expires on 2027-03-01, 90 days after collection.
    let run = |horizon: &str| {
        let (_, report) = run_json(
            bin().args(["check", "--format", "json", "--horizon", horizon, "--inventory"]).arg(fixture("estate.json")),
        );
        let imports =
            report["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "imports").unwrap().clone();
        imports["verdict"].as_str().unwrap().to_string()
    };
    assert_eq!(run("30"), "pass");
    assert_eq!(run("90"), "fail");
}

fn assert_usage_error(args: &[&str], stderr_has: &str) {
    let out = bin().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
    assert!(stderr.contains(stderr_has), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout for {args:?}");
}

#[test]
fn bad_input_exits_3_with_a_clear_error() {
    let missing = fixture("does-not-exist.json");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["check".into(), "--bogus".into()], "unexpected argument '--bogus'"),
        (vec!["frobnicate".into()], "unrecognized subcommand"),
        (vec!["check".into(), "--horizon".into(), "99999".into()], "--horizon"),
        (vec!["check".into(), "--format".into(), "yaml".into()], "invalid value 'yaml'"),
        (vec!["check".into(), "--concurrency".into(), "0".into()], "--concurrency"),
        (vec!["check".into(), "--inventory".into(), missing.display().to_string()], "cannot read inventory"),
        (
            vec!["check".into(), "--inventory".into(), fixture("truncated.json").display().to_string()],
            "not an inventory JSON file",
        ),
        (
            vec!["check".into(), "--inventory".into(), fixture("future-version.json").display().to_string()],
            "schema_version 99 is not supported",
        ),
        (
            vec!["check".into(), "--inventory".into(), fixture("unknown-field.json").display().to_string()],
            "unknown field `surprise`",
        ),
        (
            vec![
                "check".into(),
                "--inventory".into(),
                fixture("estate.json").display().to_string(),
                "--cluster".into(),
                "x".into(),
            ],
            "cannot be used with",
        ),
        (
            vec![
                "check".into(),
                "--inventory".into(),
                fixture("estate.json").display().to_string(),
                "--output".into(),
                "/nonexistent-dir/report.json".into(),
            ],
            "cannot write report /nonexistent-dir/report.json",
        ),
    ];
    for (args, text) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&args, text);
    }
}

#[test]
fn no_credentials_fails_fast_with_a_hint() {
    let out = bin().args(["check", "--region", "us-east-1"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no usable AWS credentials"), "{stderr}");
    assert!(stderr.contains("hint: set AWS_PROFILE or pass --profile"), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "one error line and one hint: {stderr}");
    // In words: the SDK's provider chain is for -v, not the error line.
    assert!(!stderr.contains("Attempted:") && !stderr.contains("provider was not enabled"), "{stderr}");
    assert!(stderr.lines().all(|l| l.chars().count() < 200), "{stderr}");
}

#[test]
fn no_region_exits_3() {
    let out = bin()
        .env("AWS_ACCESS_KEY_ID", "EXAMPLEACCESSKEYID")
        .env("AWS_SECRET_ACCESS_KEY", "EXAMPLE")
        .args(["check"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no AWS Region"), "{stderr}");
    assert!(stderr.contains("hint: pass --region"), "{stderr}");
}

#[test]
fn help_documents_exit_codes() {
    for args in [&["--help"][..], &["check", "--help"][..]] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("Exit codes:"), "{stdout}");
        assert!(stdout.contains("2  nothing fails, but something could not be verified"), "{stdout}");
    }
}

#[test]
fn check_help_snapshot() {
    let out = bin().env("COLUMNS", "100").args(["check", "--help"]).output().unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn output_file_receives_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.txt");
    let out = bin()
        .args(["check", "--color", "always", "--inventory"])
        .arg(fixture("estate.json"))
        .arg("--output")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("FAIL") && text.contains("payments"), "{text}");
}

#[test]
fn machine_formats_keep_the_exit_code() {
    // (format, text the output must contain)
    let cases = [
        ("junit", "<testsuites name=\"ecs-key-preflight\""),
        ("prometheus", "ecs_key_preflight_run_exit_code 1"),
        ("json", "\"exit_code\": 1"),
    ];
    for (format, text) in cases {
        let out =
            bin().args(["check", "--format", format, "--inventory"]).arg(fixture("estate.json")).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(text), "{format}");
    }
    let out = bin().args(["audit", "--format", "junit", "--from", "-"]).write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    // clap itself refuses a format audit does not have, naming the ones it has.
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: human, json"));
}

#[test]
fn suppressions_take_accepted_findings_out_of_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ecs-key-preflight.toml");
    std::fs::write(
        &config,
        r#"
[[suppress]]
check = "key-policy"
cluster = "partner"
reason = "cross-account key; policy reviewed by the partner team"
expires = 2027-06-30

[[suppress]]
check = "key-state"
cluster = "payments"
reason = "was accepted until the migration"
expires = 2026-11-01

[[suppress]]
check = "key-type"
cluster = "nowhere"
reason = "left over"
"#,
    )
    .unwrap();
    // Picked up from the working directory.
    let (_, report) = run_json(
        bin().current_dir(dir.path()).args(["check", "--format", "json", "--inventory"]).arg(fixture("estate.json")),
    );
    let partner = report["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "partner").unwrap();
    assert_eq!(partner["verdict"], "pass", "its only unknown was accepted");
    assert_eq!(partner["suppressed"][0]["check"], "key-policy");
    assert_eq!(
        partner["suppressed"][0]["suppressed_because"],
        "cross-account key; policy reviewed by the partner team"
    );
    let payments = report["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "payments").unwrap();
    assert_eq!(payments["verdict"], "fail", "an expired suppression no longer applies");
    let statuses: Vec<&str> =
        report["suppressions"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["applied", "expired", "unused"]);
    // --no-config ignores it.
    let (_, plain) = run_json(
        bin()
            .current_dir(dir.path())
            .args(["check", "--no-config", "--format", "json", "--inventory"])
            .arg(fixture("estate.json")),
    );
    let partner = plain["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "partner").unwrap();
    assert_eq!(partner["verdict"], "unknown");
    // Each format of the same run, from the directory holding the configuration.
    let report_as = |args: &[&str]| {
        let out = bin().current_dir(dir.path()).args(args).arg("--inventory").arg(fixture("estate.json")).output();
        String::from_utf8(out.unwrap().stdout).unwrap()
    };
    // The human report says what was accepted, and what is stale.
    let stdout = report_as(&["check", "--color", "never"]);
    assert!(stdout.contains("~ suppressed [key-policy]"), "{stdout}");
    assert!(
        stdout
            .contains("suppression of key-state on payments (was accepted until the migration) expired on 2026-11-01"),
        "{stdout}"
    );
    assert!(stdout.contains("suppression of key-type on nowhere (left over) matched no finding"), "{stdout}");
    // JUnit: the accepted finding is in the passing case's output, and the
    // expired and unused suppressions in the suite's, not silent passes.
    let xml = report_as(&["check", "--format", "junit"]);
    let partner = xml.split("<testcase name=\"partner\"").nth(1).unwrap().split("</testcase>").next().unwrap();
    assert!(partner.contains("<system-out>suppressed unknown [key-policy]"), "{partner}");
    assert!(
        partner.contains("suppressed because: cross-account key; policy reviewed by the partner team"),
        "{partner}"
    );
    assert!(
        xml.contains("suppression of key-state on payments (was accepted until the migration) expired on 2026-11-01"),
        "{xml}"
    );
    assert!(xml.contains("suppression of key-type on nowhere (left over) matched no finding"), "{xml}");
    // Prometheus: the accepted finding is exported, labelled suppressed.
    let prom = report_as(&["check", "--format", "prometheus"]);
    assert!(
        prom.contains(
            "cluster=\"partner\",region=\"us-east-1\",check=\"key-policy\",severity=\"warning\",suppressed=\"true\"} 1"
        ),
        "{prom}"
    );
}

#[test]
fn bad_configuration_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("custom.toml");
    std::fs::write(&config, "[[suppress]]\ncheck = \"key-polcy\"\nreason = \"typo\"\n").unwrap();
    let out =
        bin().args(["check", "--config"]).arg(&config).arg("--inventory").arg(fixture("estate.json")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("unknown check id \"key-polcy\""), "{stderr}");
    assert!(stderr.contains("hint: see docs/configuration.md"), "{stderr}");
}

#[test]
fn one_run_writes_machine_reports_to_files_and_the_human_report_to_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("preflight.xml");
    let json = dir.path().join("preflight.json");
    let out = bin()
        .args(["check", "--color", "never", "--inventory"])
        .arg(fixture("estate.json"))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL    payments"), "the log has the human report");
    assert!(std::fs::read_to_string(&junit).unwrap().contains("<testsuites"));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["exit_code"], 1);
    // A bad spec is a one-line usage error.
    let out = bin().args(["check", "--report", "xml:out.xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn logs_carry_no_colour_when_stderr_is_not_a_terminal() {
    let out =
        bin().args(["-vv", "check", "--color", "never", "--inventory"]).arg(fixture("estate.json")).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\u{1b}'));
}
