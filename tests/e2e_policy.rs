//! End to end: real key policies put on real keys in the emulator, read back
//! by the real binary through GetKeyPolicy, and judged for Fargate's four
//! launch requests. Also ListGrants on a key with more than 100 grants.
//! (Rotation periods, ListGrants paging and cross-account keys, which the
//! emulator cannot produce, are covered in tests/collect_mocks.rs.)

mod common;

use std::sync::OnceLock;

use aws_sdk_kms::types::{GrantConstraints, GrantOperation};
use common::*;
use serde_json::Value;

const REGION: &str = "us-west-2";

fn seeded() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| tokio::runtime::Runtime::new().unwrap().block_on(seed()));
}

/// A statement list with the documented statements for `cluster`, plus `extra`.
fn documented_plus(cluster: &str, extra: &str) -> String {
    let base = fargate_policy(&[cluster]);
    let end = base.rfind(']').unwrap();
    format!("{},{extra}]}}", &base[..end].trim_end())
}

async fn seed() {
    let config = sdk_config(REGION).await;
    let kms = aws_sdk_kms::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);

    let like = r#"{"Statement":[{"Sid":"FargateForLikeClusters","Effect":"Allow","Principal":{"Service":"fargate.amazonaws.com"},"Action":["kms:GenerateDataKeyWithoutPlaintext","kms:CreateGrant"],"Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:ecs:clusterName":"like-*"}}}]}"#;
    let trap = r#"{"Statement":[{"Sid":"OnlyEcsContextKeys","Effect":"Allow","Principal":{"Service":"fargate.amazonaws.com"},"Action":["kms:GenerateDataKeyWithoutPlaintext","kms:CreateGrant"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"keys-trap"},"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["aws:ecs:clusterAccount","aws:ecs:clusterName"]}}}]}"#;
    let deny = documented_plus(
        "deny-grant",
        r#"{"Sid":"NoGrantsForFargate","Effect":"Deny","Principal":{"Service":"fargate.amazonaws.com"},"Action":"kms:CreateGrant","Resource":"*"}"#,
    );
    // (cluster, key policy; None keeps the emulator's default root-only policy)
    let cases: Vec<(&str, Option<String>)> = vec![
        ("documented", Some(fargate_policy(&["documented"]))),
        ("root-only", None),
        ("other-name", Some(fargate_policy(&["someone-else"]))),
        ("deny-grant", Some(deny)),
        ("like-web", Some(like.to_string())),
        ("keys-trap", Some(trap.to_string())),
        ("many-grants", Some(fargate_policy(&["many-grants"]))),
    ];
    for (cluster, policy) in cases {
        let key = kms.create_key().set_policy(policy).send().await.unwrap().key_metadata.unwrap();
        if cluster == "many-grants" {
            // 105 Fargate grants for this cluster and 15 others: more than one ListGrants page.
            for i in 0..120 {
                let fargate = i < 105;
                let grantee = if fargate {
                    "fargate.us-west-2.amazonaws.com".to_string()
                } else {
                    format!("arn:aws:iam::{ACCOUNT}:role/app-{i}")
                };
                let mut grant = kms
                    .create_grant()
                    .key_id(&key.key_id)
                    .grantee_principal(grantee)
                    .operations(GrantOperation::Decrypt);
                if fargate {
                    grant = grant.retiring_principal("ec2.us-west-2.amazonaws.com").constraints(
                        GrantConstraints::builder()
                            .encryption_context_subset("aws:ecs:clusterAccount", ACCOUNT)
                            .encryption_context_subset("aws:ecs:clusterName", "many-grants")
                            .encryption_context_subset("aws:ebs:id", format!("vol-{i:017}"))
                            .build(),
                    );
                }
                grant.send().await.unwrap();
            }
        }
        let configuration = aws_sdk_ecs::types::ClusterConfiguration::builder()
            .managed_storage_configuration(
                aws_sdk_ecs::types::ManagedStorageConfiguration::builder()
                    .fargate_ephemeral_storage_kms_key_id(key.arn.unwrap())
                    .build(),
            )
            .build();
        ecs.create_cluster().cluster_name(cluster).configuration(configuration).send().await.unwrap();
    }
}

fn check(cluster: &str) -> (i32, Value) {
    seeded();
    let (code, report) = run_json(bin_aws(REGION).args(["check", "--format", "json", "--cluster", cluster]));
    let c = report["clusters"][0].clone();
    (code, c)
}

fn policy_finding(cluster: &Value) -> Value {
    cluster["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "key-policy")
        .cloned()
        .unwrap_or_else(|| panic!("{cluster:#}"))
}

#[test]
fn key_policy_table() {
    // (cluster, exit code, key-policy verdict, texts the message must contain)
    let cases: &[(&str, i32, &str, &[&str])] = &[
        ("documented", 0, "pass", &["Allow generate data key access for Fargate tasks."]),
        // The key is enabled and healthy: it fails on its policy alone.
        (
            "root-only",
            1,
            "fail",
            &[
                "GenerateDataKeyWithoutPlaintext (DryRun), CreateGrant (DryRun), GenerateDataKeyWithoutPlaintext and CreateGrant are implicitly denied: no statement allows them.",
            ],
        ),
        ("other-name", 1, "fail", &["refuses Fargate for cluster other-name"]),
        (
            "deny-grant",
            1,
            "fail",
            &["CreateGrant (DryRun) and CreateGrant are explicitly denied by Sid \"NoGrantsForFargate\""],
        ),
        ("like-web", 0, "pass", &["FargateForLikeClusters"]),
        ("keys-trap", 1, "fail", &["passes validation and then fails", "aws:ebs:id"]),
    ];
    for (cluster, code, verdict, texts) in cases {
        let (exit, c) = check(cluster);
        assert_eq!(exit, *code, "{cluster}: {c:#}");
        assert_eq!(c["key_usages"][0]["key_state"], "Enabled", "{cluster}");
        let f = policy_finding(&c);
        assert_eq!(f["verdict"], *verdict, "{cluster}: {f:#}");
        let message = f["message"].as_str().unwrap();
        for text in *texts {
            assert!(message.contains(text), "{cluster}: no {text:?} in {message}");
        }
        if *verdict == "fail" {
            let fix = f["remediation"].as_str().unwrap();
            assert!(fix.contains(&format!("\"{cluster}\"")), "the fix names the cluster: {fix}");
            assert!(fix.contains("aws kms put-key-policy"), "{fix}");
        }
    }
}

#[test]
fn grants_are_counted_across_pages() {
    let (exit, c) = check("many-grants");
    assert_eq!(exit, 0);
    let f = c["findings"].as_array().unwrap().iter().find(|f| f["check"] == "grant-quota").unwrap().clone();
    let message = f["message"].as_str().unwrap();
    assert!(message.starts_with("120 grants on key"), "{message}");
    assert!(message.contains("105 of them Fargate's, 105 for cluster many-grants"), "{message}");
}

#[test]
fn low_grant_quota_turns_into_a_failure() {
    seeded();
    let (exit, report) = run_json(bin_aws(REGION).args([
        "check",
        "--format",
        "json",
        "--cluster",
        "many-grants",
        "--grant-quota",
        "120",
    ]));
    assert_eq!(exit, 1);
    let f = report["clusters"][0]["findings"][0].clone();
    assert_eq!(f["check"], "grant-quota");
    assert!(f["message"].as_str().unwrap().contains("LimitExceededException"));
}

#[test]
fn require_rotation_fails_keys_without_it() {
    seeded();
    // The emulator's keys start with rotation disabled.
    let (exit, report) =
        run_json(bin_aws(REGION).args(["check", "--format", "json", "--cluster", "documented", "--require-rotation"]));
    assert_eq!(exit, 1, "{report:#}");
    let f = report["clusters"][0]["findings"][0].clone();
    assert_eq!(f["check"], "key-rotation");
    assert!(f["remediation"].as_str().unwrap().starts_with("aws kms enable-key-rotation"));
    // Without the flag the same key passes.
    let (exit, _) = check("documented");
    assert_eq!(exit, 0);
}

#[test]
fn human_report_prints_the_fix_ready_to_paste() {
    seeded();
    let out = bin_aws(REGION).args(["check", "--color", "never", "--cluster", "root-only"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("✗ fail [key-policy]"), "{stdout}");
    // The statements to paste, one line each under the fix: together a JSON array.
    let start = stdout.find("           [{\"Sid\"").unwrap_or_else(|| panic!("{stdout}"));
    let block: Vec<&str> = stdout[start..].lines().take(2).map(str::trim).collect();
    let statements: serde_json::Value = serde_json::from_str(&block.join("\n")).unwrap();
    assert_eq!(statements[1]["Sid"], "Allow grant creation permission for Fargate tasks.");
    assert!(block[0].contains("\"root-only\""), "{stdout}");
}
