//! End to end: the IAM policy documented in docs/permissions.md is enough,
//! and each of its actions is needed.
//!
//! The emulator enforces IAM once its authentication is switched on
//! (moto's INITIAL_NO_AUTH_ACTION_COUNT, set to 0 at run time through
//! /moto-api/reset-auth by tests/emulator/seed_permissions.py, after
//! seeding). Denials come back as HTTP 403. Key policies are not enforced by
//! the emulator, so this proves the IAM side only. This binary has its own
//! emulator: once authentication is on, the default credentials stop
//! working.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

const REGION: &str = "us-east-1";

struct Users {
    full: (String, String),
    minus: BTreeMap<String, (String, String)>,
    /// The verdicts of a run with unrestricted credentials, before IAM was switched on.
    unrestricted: Value,
}

fn users() -> &'static Users {
    static USERS: OnceLock<Users> = OnceLock::new();
    USERS.get_or_init(|| {
        seed_script("seed_permissions.py", &["seed"]);
        // Read before authentication is switched on.
        let (_, unrestricted) = run_json(bin_aws(REGION).args(["check", "--format", "json"]));
        let out: Value = serde_json::from_str(&seed_script("seed_permissions.py", &["lock"])).unwrap();
        let pair = |v: &Value| (v[0].as_str().unwrap().to_string(), v[1].as_str().unwrap().to_string());
        let minus = out["minus"].as_object().unwrap().iter().map(|(a, v)| (a.clone(), pair(v))).collect();
        Users { full: pair(&out["full"]), minus, unrestricted: verdicts(&unrestricted) }
    })
}

fn verdicts(report: &Value) -> Value {
    let clusters = report["clusters"].as_array().unwrap();
    clusters
        .iter()
        .map(|c| (c["cluster_name"].as_str().unwrap().to_string(), c["verdict"].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn check_as(user: &(String, String), extra: &[&str]) -> (i32, Value) {
    run_json(
        bin_aws(REGION)
            .env("AWS_ACCESS_KEY_ID", &user.0)
            .env("AWS_SECRET_ACCESS_KEY", &user.1)
            .args(["check", "--format", "json"])
            .args(extra),
    )
}

#[test]
fn the_documented_policy_is_enough() {
    let u = users();
    assert_eq!(
        u.unrestricted.as_object().map(|o| o.len()),
        Some(2),
        "seeded before the unrestricted run? {:#}",
        u.unrestricted
    );
    let (exit, report) = check_as(&u.full, &[]);
    assert_eq!(verdicts(&report), u.unrestricted, "{report:#}");
    assert_eq!(exit, 1, "the disabled key fails, as without restrictions");
    assert!(report["gaps"].as_array().unwrap().is_empty(), "{report:#}");
}

#[test]
fn each_documented_action_is_needed() {
    let u = users();
    // The actions a plain `check` uses; audit and --alarms ones are run with their own flags.
    for (action, user) in &u.minus {
        let extra: &[&str] = match action.as_str() {
            "cloudtrail:DescribeTrails" | "logs:DescribeMetricFilters" | "cloudwatch:DescribeAlarms" => &["--alarms"],
            "cloudtrail:LookupEvents" => continue, // audit's: tested below
            // Rotation only decides a verdict when it is required.
            "kms:GetKeyRotationStatus" => &["--require-rotation"],
            _ => &[],
        };
        let (exit, report) = check_as(user, extra);
        if action == "kms:ListAliases" {
            // Aliases only name keys for people: without them the verdicts
            // are the same, and the keys are shown by ARN alone.
            assert_eq!(verdicts(&report), u.unrestricted, "without {action}: {report:#}");
            assert!(report["keys"].as_array().unwrap().iter().all(|k| k["aliases"] == serde_json::json!([])));
            continue;
        }
        let text = report.to_string();
        assert!(text.contains(action.as_str()), "without {action}, the report must name it: {report:#}");
        if extra == ["--alarms"] {
            // The alarm set-up is read, not judged for launches: it becomes
            // "could not be verified" (docs/checks.md#key-alarm).
            assert!(text.contains("could not be verified"), "without {action}: {report:#}");
            continue;
        }
        // Every fact that action reads becomes unknown, never a pass.
        assert_ne!(exit, 0, "without {action}: {report:#}");
        let healthy = &verdicts(&report)["perm-healthy"];
        if !healthy.is_null() {
            assert_ne!(healthy, "pass", "without {action}, the healthy cluster cannot be verified: {report:#}");
        }
    }
}

#[test]
fn audit_without_lookup_events_is_unknown_naming_it() {
    let u = users();
    let user = &u.minus["cloudtrail:LookupEvents"];
    let out = bin_aws(REGION)
        .env("AWS_ACCESS_KEY_ID", &user.0)
        .env("AWS_SECRET_ACCESS_KEY", &user.1)
        .args(["audit", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{report:#}");
    assert!(report["gaps"].to_string().contains("cloudtrail:LookupEvents"), "{report:#}");
}
