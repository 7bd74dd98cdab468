//! End to end: `what-if` against the emulator seeded with the demo's estate
//! (tests/emulator/seed_demo.py), one test per kind of change, asserting
//! `newly_failing` and the exit code. Nothing is changed in AWS: each test
//! also checks that `check` gives the same answer afterwards.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::Value;

const REGION: &str = "us-east-1";

fn seeded() {
    static SEEDED: OnceLock<()> = OnceLock::new();
    SEEDED.get_or_init(|| {
        seed_script("seed_demo.py", &[]);
    });
}

fn what_if(args: &[&str]) -> (i32, Value) {
    seeded();
    run_json(bin_aws(REGION).args(["what-if", "--format", "json"]).args(args))
}

fn newly(report: &Value) -> Vec<String> {
    report["newly_failing"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// The ARN of the key a cluster's Fargate storage uses, from `check`.
fn key_of(cluster: &str) -> String {
    seeded();
    let (_, report) = run_json(bin_aws(REGION).args(["check", "--format", "json", "--cluster", cluster]));
    report["clusters"][0]["key_usages"][0]["key_arn"].as_str().unwrap().to_string()
}

fn policy_file(dir: &tempfile::TempDir, clusters: &[&str]) -> String {
    let path = dir.path().join(format!("{}.json", clusters.join("-")));
    std::fs::write(&path, fargate_policy(clusters)).unwrap();
    path.display().to_string()
}

#[test]
fn disabling_the_healthy_key_breaks_the_two_clusters_on_it() {
    let (exit, report) = what_if(&["--disable-key", "alias/prod-api-storage"]);
    assert_eq!(exit, 1, "{report:#}");
    assert_eq!(newly(&report), ["prod-api", "tools"]);
    assert_eq!(report["changes"][0]["kind"], "disable-key");
    assert_eq!(report["changes"][0]["key_arn"], key_of("prod-api"), "the alias resolved to the key ARN");
    let prod = report["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "prod-api").unwrap();
    assert_eq!((prod["verdict_before"].as_str(), prod["verdict"].as_str()), (Some("pass"), Some("fail")));
    assert_eq!(prod["running_tasks"], 4);
    // Nothing was changed in AWS.
    let (_, check) = run_json(bin_aws(REGION).args(["check", "--format", "json", "--cluster", "prod-api"]));
    assert_eq!(check["verdict"], "pass");
}

#[test]
fn scheduling_deletion_says_when() {
    let key = key_of("prod-api");
    let (exit, report) = what_if(&["--schedule-key-deletion", &key, "--pending-window-days", "7"]);
    assert_eq!(exit, 1);
    assert_eq!(newly(&report), ["prod-api", "tools"]);
    assert_eq!(report["changes"][0]["pending_window_days"], 7);
    assert!(report["changes"][0]["deletion_date"].is_string(), "{report:#}");
    for bad in ["6", "31"] {
        let out = bin_aws(REGION)
            .args(["what-if", "--schedule-key-deletion", &key, "--pending-window-days", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{bad}");
    }
}

#[test]
fn a_new_key_policy_that_drops_a_cluster_or_keeps_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_of("prod-api");
    let drops = policy_file(&dir, &["tools"]);
    let (exit, report) = what_if(&["--put-key-policy", &format!("{key}={drops}")]);
    assert_eq!((exit, newly(&report)), (1, vec!["prod-api".to_string()]), "{report:#}");
    let keeps = policy_file(&dir, &["prod-api", "tools"]);
    let (exit, report) = what_if(&["--put-key-policy", &format!("{key}={keeps}")]);
    assert_eq!((exit, newly(&report)), (0, vec![]), "{report:#}");
    // A file that is not a policy document: exit 3, one line.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, r#"{"Version":"2012-10-17"}"#).unwrap();
    let out = bin_aws(REGION)
        .args(["what-if", "--put-key-policy"])
        .arg(format!("{key}={}", junk.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a key policy document"));
}

#[test]
fn moving_a_cluster_to_a_healthy_or_a_broken_key() {
    let healthy = key_of("prod-api");
    let broken = key_of("payments");
    // reporting's key no longer exists; the healthy key's policy lets it in.
    let (exit, report) = what_if(&["--set-cluster-key", &format!("reporting={healthy}")]);
    assert_eq!((exit, newly(&report)), (0, vec![]), "{report:#}");
    let reporting = report["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "reporting").unwrap();
    assert_eq!((reporting["verdict_before"].as_str(), reporting["verdict"].as_str()), (Some("fail"), Some("pass")));
    // sandbox is not in that policy: moving it there would break it.
    let (exit, report) = what_if(&["--set-cluster-key", &format!("sandbox={healthy}")]);
    assert_eq!((exit, newly(&report)), (1, vec!["sandbox".to_string()]), "{report:#}");
    let (exit, report) = what_if(&["--set-cluster-key", &format!("prod-api={broken}")]);
    assert_eq!((exit, newly(&report)), (1, vec!["prod-api".to_string()]), "{report:#}");
}

#[test]
fn a_key_nobody_uses_and_a_key_that_does_not_exist() {
    seeded();
    let unused = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let kms = aws_sdk_kms::Client::new(&sdk_config(REGION).await);
        kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap()
    });
    let (exit, report) = what_if(&["--disable-key", &unused]);
    assert_eq!((exit, newly(&report)), (0, vec![]), "{report:#}");
    let out = bin_aws(REGION).args(["what-if", "--disable-key", &unused, "--color", "never"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("No cluster or service would newly fail."));
    let gone = "arn:aws:kms:us-east-1:123456789012:key/9999aaaa-0000-0000-0000-EXAMPLE09999";
    let out = bin_aws(REGION).args(["what-if", "--disable-key", gone]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains(gone), "the message names the key");
}

fn plan(dir: &tempfile::TempDir, resource_changes: Value) -> String {
    let path = dir.path().join("plan.json");
    let plan = serde_json::json!({"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": resource_changes});
    std::fs::write(&path, plan.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn terraform_plans() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_of("prod-api");
    let disable = plan(
        &dir,
        serde_json::json!([{"address": "aws_kms_key.prod_api", "type": "aws_kms_key", "name": "prod_api",
            "change": {"actions": ["update"],
                "before": {"arn": key, "is_enabled": true, "deletion_window_in_days": 30},
                "after": {"arn": key, "is_enabled": false, "deletion_window_in_days": 30},
                "after_unknown": {}}}]),
    );
    let (exit, report) = what_if(&["--terraform-plan", &disable]);
    assert_eq!((exit, newly(&report)), (1, vec!["prod-api".to_string(), "tools".to_string()]), "{report:#}");
    assert_eq!(report["changes"][0]["source"], "aws_kms_key.prod_api");
    // A policy the plan knows only after apply: what uses the key is unknown.
    let unknown = plan(
        &dir,
        serde_json::json!([{"address": "aws_kms_key.prod_api", "type": "aws_kms_key", "name": "prod_api",
            "change": {"actions": ["update"], "before": {"arn": key, "is_enabled": true}, "after": {"arn": key, "is_enabled": true},
                "after_unknown": {"policy": true}}}]),
    );
    let (exit, report) = what_if(&["--terraform-plan", &unknown]);
    assert_eq!((exit, report["summary"]["unknown_after"].as_u64()), (2, Some(2)), "{report:#}");
    // Nothing relevant: exit 0, and it says so.
    let irrelevant = plan(
        &dir,
        serde_json::json!([{"address": "aws_s3_bucket.logs", "type": "aws_s3_bucket", "change": {"actions": ["create"]}}]),
    );
    let out = bin_aws(REGION).args(["what-if", "--color", "never", "--terraform-plan", &irrelevant]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nothing relevant changes"));
    // A JSON file that is not a plan: exit 3, one line.
    let not_plan = dir.path().join("inventory.json");
    std::fs::write(&not_plan, r#"{"schema_version": 1}"#).unwrap();
    let out = bin_aws(REGION).args(["what-if", "--terraform-plan"]).arg(&not_plan).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Terraform plan"));
}

#[test]
fn no_change_is_a_usage_error() {
    let out = bin_aws(REGION).args(["what-if"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("what-if needs a change"));
}

#[test]
fn check_names_keys_by_their_aliases() {
    // seed_demo.py gives prod-api's key the alias alias/prod-api-storage:
    // one ListAliases for the Region finds it, and every format can show it.
    seeded();
    let (_, report) = run_json(bin_aws(REGION).args(["check", "--format", "json", "--cluster", "prod-api"]));
    let arn = report["clusters"][0]["key_usages"][0]["key_arn"].as_str().unwrap();
    let key = report["keys"].as_array().unwrap().iter().find(|k| k["key_arn"] == arn).unwrap();
    assert_eq!(key["aliases"], serde_json::json!(["alias/prod-api-storage"]), "{key:#}");
    let out = bin_aws(REGION).args(["check", "--color", "never", "--cluster", "prod-api"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("{arn} [alias/prod-api-storage] Enabled")), "{text}");
}
