//! The documents that a user copies from: they must stay valid and agree
//! with each other. No AWS, no emulator.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn doc(name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs").join(name)).unwrap()
}

/// The actions of every Allow statement of a policy document.
fn actions(policy: &serde_json::Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect()
}

#[test]
fn the_stackset_role_grants_exactly_the_documented_read_actions() {
    let template: serde_json::Value = serde_json::from_str(&doc("preflight-role.stackset.json")).expect("valid JSON");
    assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
    let role = &template["Resources"]["PreflightRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let granted = actions(&role["Properties"]["Policies"][0]["PolicyDocument"]);
    // The first JSON block of docs/permissions.md is the tool's policy.
    let text = doc("permissions.md");
    let block = text.split("```json\n").nth(1).unwrap().split("```").next().unwrap();
    let documented = actions(&serde_json::from_str(block).unwrap());
    let mut want = documented.clone();
    want.insert("account:ListRegions".into());
    assert_eq!(granted, want);
    // Read-only: List, Describe, Get and LookupEvents only.
    for a in &granted {
        let verb = a.split(':').nth(1).unwrap();
        assert!(
            ["List", "Describe", "Get", "LookupEvents"].iter().any(|p| verb.starts_with(p)),
            "{a} is not a read action"
        );
    }
    // The trust policy requires the external id.
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Action"], "sts:AssumeRole");
    assert!(trust["Condition"]["StringEquals"]["sts:ExternalId"].is_object());
}

#[test]
fn every_json_block_of_the_permissions_page_parses() {
    let text = doc("permissions.md");
    for block in text.split("```json\n").skip(1) {
        let json = block.split("```").next().unwrap();
        serde_json::from_str::<serde_json::Value>(json).unwrap_or_else(|e| panic!("{e}:\n{json}"));
    }
}

#[test]
fn the_alert_rules_name_only_metrics_the_tool_writes() {
    // The rules file is YAML written in its JSON subset, so it parses here without a YAML crate.
    let rules: serde_json::Value = serde_json::from_str(&doc("examples/alerts.rules.yml")).unwrap();
    let prom = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-key-preflight"))
        .args(["check", "--format", "prometheus", "--inventory"])
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/estate.json"))
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let written: BTreeSet<String> = String::from_utf8_lossy(&prom.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let mut named = 0;
    for rule in rules["groups"][0]["rules"].as_array().unwrap() {
        let expr = rule["expr"].as_str().unwrap();
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("ecs_key_preflight_") {
                assert!(written.contains(word), "{word} (in {expr}) is not written by --format prometheus");
                named += 1;
            }
        }
        // A ratio of a labelled and an unlabelled series matches nothing without this.
        // The quota series has no labels at all: only `on()` matches it
        // against the labelled per-key series.
        if expr.contains("key_grants /") {
            assert!(expr.contains("on() group_left"), "{expr}");
        }
        // Label matchers name only labels the series carry.
        for (metric, labels) in [("ecs_key_preflight_key_usable{", ["used_for", "key", "account", "region"])] {
            if let Some(rest) = expr.split(metric).nth(1) {
                let matcher = rest.split('}').next().unwrap();
                let name = matcher.split(['=', '!']).next().unwrap();
                assert!(labels.contains(&name), "{name} in {expr}");
                let sample = String::from_utf8_lossy(&prom.stdout)
                    .lines()
                    .find(|l| l.starts_with(metric))
                    .map(str::to_string)
                    .unwrap();
                assert!(sample.contains(&format!("{name}=\"")), "{sample}");
            }
        }
    }
    assert!(named >= 5);
}

#[test]
fn every_command_in_the_integrations_page_parses() {
    use clap::Parser;
    let text = doc("integrations.md") + &doc("what-if.md") + &doc("organizations.md");
    let mut parsed = 0;
    for line in text.lines() {
        let line = line.trim().trim_start_matches("- run: ").trim_start_matches("run: ");
        let Some(rest) = line.strip_prefix("ecs-key-preflight ") else { continue };
        // Shell continuation lines and variables are not ours to parse.
        if rest.ends_with('\\') || rest.contains('$') || rest.contains('…') {
            continue;
        }
        let args: Vec<&str> = std::iter::once("ecs-key-preflight").chain(rest.split_whitespace()).collect();
        ecs_key_preflight::cli::Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{line}: {e}"));
        parsed += 1;
    }
    assert!(parsed >= 5, "{parsed}");
}

/// promtool from Debian's prometheus package (.ci/run installs it): the
/// alert rules load and pass their unit tests, and the metrics the tool
/// writes pass promtool's lint. Without promtool (a developer machine),
/// says so and checks nothing: the checks above still hold.
#[test]
fn promtool_accepts_the_rules_and_the_metrics() {
    if std::process::Command::new("promtool").arg("--version").output().is_err() {
        eprintln!("promtool is not installed: skipping (apt-get install prometheus; CI installs it)");
        return;
    }
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    for args in [["check", "rules", "alerts.rules.yml"], ["test", "rules", "alerts.rules.test.yml"]] {
        let out = std::process::Command::new("promtool").args(args).current_dir(&examples).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let prom = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-key-preflight"))
        .args(["check", "--no-config", "--format", "prometheus", "--inventory"])
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/estate.json"))
        .output()
        .unwrap();
    let mut lint = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    lint.stdin.take().unwrap().write_all(&prom.stdout).unwrap();
    let out = lint.wait_with_output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
