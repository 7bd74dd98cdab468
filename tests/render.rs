//! Snapshot tests of every renderer, from fixed inventories (color off,
//! time and version pinned), and a typed parse of the JSON contract with
//! `deny_unknown_fields`, so that an unannounced schema change fails here.

mod common;

use ecs_key_preflight::checks::{self, CheckOptions};
use ecs_key_preflight::inventory;
use ecs_key_preflight::render::{self, Format};
use ecs_key_preflight::report::Report;
use serde::Deserialize;

fn report(fixture_name: &str) -> Report {
    let text = std::fs::read_to_string(common::fixture(fixture_name)).unwrap();
    let inv = inventory::from_json(&text).unwrap();
    let mut report = Report::build(&inv, checks::run(&inv, &CheckOptions::default()));
    report.tool.version = "0.0.0-test".into();
    report
}

fn rendered(report: &Report, format: Format) -> String {
    let mut out = Vec::new();
    let options = render::RenderOptions { color: false };
    render::render(report, format, options, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn human_estate() {
    insta::assert_snapshot!(rendered(&report("estate.json"), Format::Human));
}

#[test]
fn human_scope_gap() {
    insta::assert_snapshot!(rendered(&report("scope-gap.json"), Format::Human));
}

#[test]
fn human_has_no_escape_codes_without_color() {
    assert!(!rendered(&report("estate.json"), Format::Human).contains('\u{1b}'));
}

#[test]
fn json_estate() {
    insta::assert_snapshot!(rendered(&report("estate.json"), Format::Json));
}

#[test]
fn junit_estate() {
    insta::assert_snapshot!(rendered(&report("estate.json"), Format::Junit));
}

#[test]
fn junit_shows_warnings_and_does_not_repeat_the_message() {
    let xml = rendered(&report("estate.json"), Format::Junit);
    let case = |name: &str| {
        let start = format!("<testcase name=\"{name}\"");
        xml.split(start.as_str()).nth(1).unwrap().split("</testcase>").next().unwrap().to_string()
    };
    // A passing cluster's warning is in its output, not lost in a bare pass.
    assert!(case("imports").contains("<system-out>warning [key-material-expiry]"), "{}", case("imports"));
    // The failure's text is its message attribute; the body starts with the fix.
    let payments = case("payments");
    assert!(payments.contains("type=\"key-state: "), "{payments}");
    assert!(payments.contains("\">fix: aws kms enable-key"), "{payments}");
    assert_eq!(payments.matches("is Disabled.").count(), 1, "{payments}");
    assert!(xml.lines().filter(|l| l.contains("<testcase ")).all(|l| l.contains("time=\"")), "{xml}");
}

#[test]
fn prometheus_estate() {
    insta::assert_snapshot!(rendered(&report("estate.json"), Format::Prometheus));
}

#[test]
fn prometheus_lines_are_well_formed() {
    // Every sample line is NAME{labels} VALUE with a numeric value, and every
    // metric has HELP and TYPE.
    let text = rendered(&report("estate.json"), Format::Prometheus);
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.insert(rest.split(' ').next().unwrap().to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name_labels, value) = line.rsplit_once(' ').unwrap();
        value.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
        let name = name_labels.split('{').next().unwrap();
        assert!(typed.contains(name), "{name} has no TYPE");
    }
    assert!(text.contains("ecs_key_preflight_key_deletion_seconds{key=\"arn:aws:kms:us-east-1:123456789012:key/pendaaaa-0000-0000-0000-EXAMPLE00002\",alias=\"alias/batch-scratch\",account=\"123456789012\",region=\"us-east-1\",used_for=\"fargate_ephemeral_storage\"} 604800"));
    // tools' ECS Exec key is disabled while tools passes: monitoring tells
    // it from a launch key by `used_for`.
    assert!(text.contains("ecs_key_preflight_key_usable{key=\"arn:aws:kms:us-east-1:123456789012:key/execaaaa-0000-0000-0000-EXAMPLE00006\",alias=\"\",account=\"123456789012\",region=\"us-east-1\",used_for=\"execute_command\"} 0"), "{text}");
    // The join series from key to cluster.
    assert!(text.contains("ecs_key_preflight_cluster_key{account=\"123456789012\",cluster=\"tools\",region=\"us-east-1\",usage=\"execute_command\",key=\"arn:aws:kms:us-east-1:123456789012:key/execaaaa-0000-0000-0000-EXAMPLE00006\"} 1"), "{text}");
    assert!(text.contains(
        "ecs_key_preflight_cluster_verdict{account=\"123456789012\",cluster=\"payments\",region=\"us-east-1\"} 1"
    ));
}

#[test]
fn json_all_pass() {
    insta::assert_snapshot!(rendered(&report("all-pass.json"), Format::Json));
}

// The contract of docs/output.md, written out independently of the model.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonReport {
    schema_version: u32,
    tool: JsonTool,
    collected_at: String,
    regions: Vec<String>,
    identity: Option<JsonIdentity>,
    accounts: Vec<JsonAccount>,
    suppressions_file: Option<String>,
    notes: Vec<String>,
    grant_quota: u64,
    verdict: JsonVerdict,
    exit_code: u8,
    summary: JsonSummary,
    gaps: Vec<JsonGap>,
    clusters: Vec<JsonCluster>,
    failing_keys: Vec<JsonFailingKey>,
    keys: Vec<JsonKey>,
    suppressions: Vec<JsonSuppression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonSuppression {
    check: String,
    cluster: Option<String>,
    service: Option<String>,
    key: Option<String>,
    reason: String,
    expires: Option<String>,
    status: String,
    matched: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonSuppressed {
    check: String,
    severity: String,
    verdict: JsonVerdict,
    usage: Option<String>,
    key: Option<String>,
    service: Option<String>,
    message: String,
    remediation: Option<String>,
    suppressed_because: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonKey {
    key_arn: String,
    key_state: Option<String>,
    deletion_date: Option<String>,
    valid_to: Option<String>,
    grants: Option<u64>,
    fargate_grants: Option<u64>,
    rotation_enabled: Option<bool>,
    usable: Option<bool>,
    used_for: Vec<String>,
    aliases: Vec<String>,
    clusters: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonFailingKey {
    key: String,
    key_state: Option<String>,
    aliases: Vec<String>,
    deletion_date: Option<String>,
    failed_checks: Vec<String>,
    dependents: Vec<JsonDependent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonDependent {
    cluster_name: String,
    region: String,
    service: Option<String>,
    desired: Option<i32>,
    running: Option<i32>,
    effect: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonService {
    service_name: String,
    platform: String,
    desired: i32,
    running: i32,
    pending: i32,
    verdict: JsonVerdict,
    deployments: Vec<JsonDeployment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonDeployment {
    id: String,
    status: String,
    desired: i32,
    running: i32,
    pending: i32,
    pinned_key: Option<String>,
    key_arn: Option<String>,
    key_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonTool {
    name: String,
    version: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum JsonVerdict {
    Pass,
    Fail,
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonSummary {
    clusters: usize,
    pass: usize,
    fail: usize,
    unknown: usize,
    suppressed: usize,
    pinned_keys_unchecked: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonAccount {
    account_id: String,
    name: Option<String>,
    status: String,
    check: Option<String>,
    reason: Option<String>,
    clusters: usize,
    pass: usize,
    fail: usize,
    unknown: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonIdentity {
    account: String,
    arn: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonGap {
    operation: String,
    resource: String,
    code: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonCluster {
    cluster_name: String,
    account_id: Option<String>,
    account_name: Option<String>,
    cluster_arn: Option<String>,
    region: String,
    status: Option<String>,
    verdict: JsonVerdict,
    key_usages: Vec<JsonUsage>,
    services: Option<Vec<JsonService>>,
    findings: Vec<JsonFinding>,
    suppressed: Vec<JsonSuppressed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonUsage {
    usage: String,
    verdict: JsonVerdict,
    configured_key: Option<String>,
    key_arn: Option<String>,
    key_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonFinding {
    check: String,
    severity: String,
    verdict: JsonVerdict,
    usage: Option<String>,
    key: Option<String>,
    service: Option<String>,
    message: String,
    remediation: Option<String>,
}

#[test]
fn json_matches_the_documented_contract() {
    for name in ["estate.json", "all-pass.json", "unknown.json", "scope-gap.json"] {
        let parsed: JsonReport =
            serde_json::from_str(&rendered(&report(name), Format::Json)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.schema_version, 2);
        let worst_cluster = parsed.clusters.iter().map(|c| &c.verdict).fold(None, |acc: Option<&JsonVerdict>, v| {
            Some(match (acc, v) {
                (Some(JsonVerdict::Fail), _) | (_, JsonVerdict::Fail) => &JsonVerdict::Fail,
                (Some(JsonVerdict::Unknown), _) | (_, JsonVerdict::Unknown) => &JsonVerdict::Unknown,
                _ => &JsonVerdict::Pass,
            })
        });
        if parsed.gaps.is_empty() {
            assert_eq!(Some(&parsed.verdict), worst_cluster, "{name}");
        }
        // Most urgent first: keys with a deletion date lead, soonest first.
        let dated: Vec<Option<&String>> = parsed.failing_keys.iter().map(|k| k.deletion_date.as_ref()).collect();
        let lead = dated.iter().take_while(|d| d.is_some()).count();
        assert!(dated[lead..].iter().all(Option::is_none), "{name}: keys with a deletion date come first");
        assert!(dated[..lead].windows(2).all(|w| w[0] <= w[1]), "{name}: soonest deletion first");
        for k in &parsed.failing_keys {
            assert!(!k.failed_checks.is_empty(), "{name}: {} says why it fails", k.key);
            for d in &k.dependents {
                let effects =
                    ["scale_outs_and_replacements", "next_deployment", "ebs_volumes", "new_tasks", "not_affected"];
                assert!(effects.contains(&d.effect.as_str()), "{}", d.effect);
            }
        }
        for c in &parsed.clusters {
            for s in c.services.iter().flatten() {
                assert!(["fargate", "not_fargate", "unknown"].contains(&s.platform.as_str()), "{}", s.platform);
            }
            for f in &c.findings {
                assert!(["info", "warning", "error"].contains(&f.severity.as_str()), "{}", f.severity);
            }
        }
    }
}

/// Appends terminal control bytes to every string of an inventory that is
/// not an ARN, a timestamp or an enumeration the loader checks: names,
/// Regions, states, reasons, error messages, policy text.
fn poison(value: &mut serde_json::Value) {
    const HOSTILE: &str = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{7f}";
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let keep = matches!(
                    k.as_str(),
                    "arn" | "collected_at" | "deletion_date" | "valid_to" | "next_rotation" | "outcome" | "usage"
                ) || k.ends_with("_date");
                match v {
                    serde_json::Value::String(s) if !keep && !s.starts_with("arn:") => s.push_str(HOSTILE),
                    _ if keep => {}
                    other => poison(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(poison),
        _ => {}
    }
}

#[test]
fn outside_strings_never_reach_text_formats_raw() {
    let text = std::fs::read_to_string(common::fixture("estate.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    poison(&mut json);
    let inv = inventory::from_json(&json.to_string()).expect("a poisoned inventory still loads");
    let report = Report::build(&inv, checks::run(&inv, &CheckOptions::default()));
    let raw = ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{7f}'];
    for format in [Format::Human, Format::Junit, Format::Prometheus] {
        let out = rendered(&report, format);
        assert!(out.contains("\\x1b]52;c;ZXZpbA=="), "{format:?} should show the bytes escaped");
        for c in raw {
            assert!(!out.contains(c), "{format:?} printed {c:?} raw");
        }
    }
    // JSON keeps the strings exact (its own escaping is safe).
    let out = rendered(&report, Format::Json);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(parsed.to_string().contains("\\u001b]52;c;ZXZpbA=="), "JSON must keep the exact string");
}

fn listed(report: &Report, format: Format) -> String {
    let mut out = Vec::new();
    render::render(report, format, render::RenderOptions { color: false }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn markdown_estate() {
    insta::assert_snapshot!(listed(&report("estate.json"), Format::Markdown));
}

#[test]
fn github_estate() {
    insta::assert_snapshot!(listed(&report("estate.json"), Format::Github));
}

#[test]
fn asff_estate() {
    insta::assert_snapshot!(listed(&report("estate.json"), Format::Asff));
}

#[test]
fn hostile_strings_cannot_break_markdown_or_workflow_commands() {
    let text = std::fs::read_to_string(common::fixture("estate.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    // A cluster name that tries to end a table cell, open HTML, inject a
    // workflow command on a new line, and write ESC.
    let hostile = "pay|ments<img src=x>\n::error::pwned`\u{1b}[2J";
    for c in json["clusters"].as_array_mut().unwrap() {
        if c["name"] == "payments" {
            c["name"] = hostile.into();
        }
    }
    let inv = inventory::from_json(&json.to_string()).unwrap();
    let report = Report::build(&inv, checks::run(&inv, &CheckOptions::default()));
    let md = listed(&report, Format::Markdown);
    assert!(md.contains("pay\\|ments&lt;img src=x&gt;<br>::error::pwned\\`\\x1b\\[2J"), "{md}");
    assert!(!md.contains('\u{1b}') && !md.contains("<img"));
    insta::assert_snapshot!("markdown_hostile", md);
    let gh = listed(&report, Format::Github);
    // Every line is one whole workflow command: the name cannot start another.
    assert!(
        gh.lines().all(|l| l.starts_with("::error ") || l.starts_with("::warning ") || l.starts_with("::notice ")),
        "{gh}"
    );
    assert!(gh.contains("pay|ments<img src=x>%0A%3A%3Aerror%3A%3Apwned`\\x1b[2J"), "{gh}");
    assert!(!gh.contains('\u{1b}'));
    insta::assert_snapshot!("github_hostile", gh);
    let asff: serde_json::Value = serde_json::from_str(&listed(&report, Format::Asff)).unwrap();
    // Security Hub's console shows these strings: control bytes are shown escaped, never sent raw.
    fn raw_escape(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\u{1b}'),
            serde_json::Value::Array(a) => a.iter().any(raw_escape),
            serde_json::Value::Object(o) => o.values().any(raw_escape),
            _ => false,
        }
    }
    assert!(!raw_escape(&asff), "{asff:#}");
}

#[test]
fn human_prose_wraps_to_the_terminal_width_without_breaking_arns_or_commands() {
    let report = report("estate.json");
    let options = render::Options { color: false, listing: render::Listing { width: Some(80), ..Default::default() } };
    let mut out = Vec::new();
    render::render_listed(&report, Format::Human, &options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let plain = rendered(&report, Format::Human);
    // Finding lines wrap: every line of a finding fits, unless it is one
    // unbroken word (an ARN) on a continuation line of its own.
    for line in text.lines().filter(|l| l.starts_with("  ✗") || l.starts_with("  !") || l.starts_with("  ?")) {
        assert!(line.chars().count() <= 80 || !line.trim().contains(' '), "{line}");
    }
    // Nothing is lost or split: the words are those of the unwrapped report.
    let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&text), words(&plain));
    // Every ARN is whole on some line, and fix commands are not wrapped.
    assert!(
        text.lines().any(|l| l.contains("arn:aws:kms:us-east-1:123456789012:key/disaaaaa-0000-0000-0000-EXAMPLE00001"))
    );
    assert!(text.contains(
        "fix: aws kms enable-key --key-id arn:aws:kms:us-east-1:123456789012:key/disaaaaa-0000-0000-0000-EXAMPLE00001 --region us-east-1"
    ));
    assert!(text.lines().count() > plain.lines().count(), "it did wrap");
}
