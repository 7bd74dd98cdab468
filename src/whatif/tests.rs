//! What-if over fixed inventories and plans.

use super::*;
use crate::checks::testing::*;

fn report(inv: &Inventory, changes: Vec<Change>) -> WhatIfReport {
    let changes: Vec<ChangeReport> = changes
        .into_iter()
        .map(|change| {
            let key = match &change {
                Change::DisableKey { key }
                | Change::ScheduleKeyDeletion { key, .. }
                | Change::PutKeyPolicy { key, .. }
                | Change::KeyUnknown { key, .. }
                | Change::SetClusterKey { key, .. } => resolve(inv, key),
                Change::ClusterKeyUnknown { .. } | Change::SetClusterPlannedKey { .. } => None,
            };
            ChangeReport { source: "test".into(), change, key_arn: key, deletion_date: None }
        })
        .collect();
    let mut after = inv.clone();
    apply(&mut after, &changes, &[]);
    compare(inv, &after, changes, &CheckOptions::default())
}

fn healthy_inventory() -> Inventory {
    with_details(fargate_key(healthy("k")), details(policy_allowing("prod"), Fact::Read { value: Default::default() }))
}

#[test]
fn change_table() {
    let arn = key_arn("k");
    // (change, exit code, newly failing)
    let cases: Vec<(Change, u8, bool)> = vec![
        (Change::DisableKey { key: arn.clone() }, 1, true),
        (Change::ScheduleKeyDeletion { key: arn.clone(), pending_window_days: 7 }, 1, true),
        (Change::PutKeyPolicy { key: arn.clone(), policy: policy_allowing("other-cluster") }, 1, true),
        (Change::PutKeyPolicy { key: arn.clone(), policy: policy_allowing("prod") }, 0, false),
        (Change::KeyUnknown { key: arn.clone(), why: "plan".into() }, 2, false),
        (Change::DisableKey { key: "arn:aws:kms:us-east-1:123456789012:key/nobody".into() }, 0, false),
    ];
    for (change, exit, newly) in cases {
        let r = report(&healthy_inventory(), vec![change.clone()]);
        assert_eq!(r.exit_code, exit, "{change:?}: {r:#?}");
        assert_eq!(!r.newly_failing.is_empty(), newly, "{change:?}");
        assert_eq!(r.clusters[0].verdict_before, Verdict::Pass);
    }
}

#[test]
fn keys_resolve_by_id_arn_and_alias() {
    let inv = healthy_inventory();
    let arn = key_arn("k");
    assert_eq!(resolve(&inv, &arn), Some(arn.clone()));
    assert_eq!(resolve(&inv, "k"), Some(arn.clone()));
    assert_eq!(resolve(&inv, "missing"), None);
}

#[test]
fn plans_become_changes() {
    let plan = include_str!("../../tests/fixtures/terraform/disable-and-move.json");
    let changes = terraform::changes(plan).unwrap();
    let kinds: Vec<String> = changes.iter().map(|p| format!("{}:{:?}", p.address, p.change)).collect();
    assert!(kinds.iter().any(|k| k.starts_with("aws_kms_key.payments:DisableKey")), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.starts_with("aws_ecs_cluster.reporting:SetClusterKey")), "{kinds:?}");
    assert!(
        !kinds.iter().any(|k| k.starts_with("aws_kms_key.mykey")),
        "a key created by the plan changes no existing cluster"
    );
    let bad = [("[]", "no format_version"), (r#"{"format_version":"2.0"}"#, "not supported"), ("not json", "not JSON")];
    for (text, want) in bad {
        let err = terraform::changes(text).unwrap_err();
        assert!(err.0.contains(want), "{text}: {err}");
    }
    assert!(terraform::changes(r#"{"format_version":"1.2","resource_changes":[]}"#).unwrap().is_empty());
}

/// A plan that creates a key and points cluster "prod" at it.
fn plan_creating_key(after: serde_json::Value) -> String {
    serde_json::json!({
        "format_version": "1.2",
        "resource_changes": [
            {"address": "aws_kms_key.new", "type": "aws_kms_key", "name": "new",
             "change": {"actions": ["create"], "before": null, "after": after,
                        "after_unknown": {"arn": true, "key_id": true, "policy": true}}},
            {"address": "aws_ecs_cluster.prod", "type": "aws_ecs_cluster", "name": "prod",
             "change": {"actions": ["update"],
                        "before": {"name": "prod", "configuration": [{"managed_storage_configuration": [{"fargate_ephemeral_storage_kms_key_id": key_arn("k")}]}]},
                        "after": {"name": "prod", "configuration": [{"managed_storage_configuration": [{}]}]},
                        "after_unknown": {"configuration": [{"managed_storage_configuration": [{"fargate_ephemeral_storage_kms_key_id": true}]}]}}}
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_ecs_cluster.prod", "expressions": {"configuration": [{"managed_storage_configuration": [
                {"fargate_ephemeral_storage_kms_key_id": {"references": ["aws_kms_key.new.arn", "aws_kms_key.new"]}}]}]}}
        ]}}
    })
    .to_string()
}

#[test]
fn a_key_the_plan_creates_is_judged_from_its_planned_attributes() {
    let cases = [
        // A signing key cannot encrypt Fargate storage: a definite failure.
        (
            serde_json::json!({"is_enabled": true, "customer_master_key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"}),
            1,
        ),
        // A symmetric key whose policy the plan knows only after apply: unknown.
        (
            serde_json::json!({"is_enabled": true, "customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT"}),
            2,
        ),
    ];
    for (after, exit) in cases {
        let planned = terraform::changes(&plan_creating_key(after.clone())).unwrap();
        assert!(
            planned
                .iter()
                .any(|p| matches!(&p.change, Change::SetClusterPlannedKey { key, .. } if key == "aws_kms_key.new")),
            "{planned:?}"
        );
        let r = report(&healthy_inventory(), planned.into_iter().map(|p| p.change).collect());
        assert_eq!(r.exit_code, exit, "{after}: {r:#?}");
    }
}
