//! Fixture builders for the checks' table-driven unit tests.

use crate::finding::{Finding, Verdict};
use crate::inventory::{
    Cluster, ClusterKey, ClusterLookup, Deployment, Fact, Gap, GrantSummary, Inventory, KeyDetails, KeyLookup,
    KeyMetadata, KeyRecord, KeyRole, Rotation, Service,
};

use super::{CheckOptions, ClusterCtx};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const NOW: &str = "2026-11-30T12:00:00Z";

pub fn key_arn(id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
}

/// A key that passes every check: enabled, customer managed, symmetric,
/// single-Region, KMS-generated material.
pub fn healthy(id: &str) -> KeyMetadata {
    KeyMetadata {
        arn: key_arn(id),
        key_id: id.to_string(),
        account_id: Some(ACCOUNT.to_string()),
        key_state: Some("Enabled".into()),
        key_manager: Some("CUSTOMER".to_string()),
        key_spec: Some("SYMMETRIC_DEFAULT".to_string()),
        key_usage: Some("ENCRYPT_DECRYPT".to_string()),
        origin: Some("AWS_KMS".to_string()),
        multi_region: Some(false),
        ..KeyMetadata::default()
    }
}

pub fn found(m: KeyMetadata) -> KeyLookup {
    KeyLookup::Found { metadata: Box::new(m) }
}

pub fn gap(code: &str) -> Gap {
    Gap {
        operation: "kms:DescribeKey".to_string(),
        resource: key_arn("k"),
        code: code.to_string(),
        message: "simulated".to_string(),
    }
}

/// An inventory holding one cluster, `prod`, whose `usage` names `configured`
/// and whose key lookup gave `lookup`. The other usages name no key.
pub fn one_usage(usage: KeyRole, configured: Option<&str>, lookup: Option<KeyLookup>) -> Inventory {
    let mut inv = Inventory::new(NOW.parse().unwrap(), vec![REGION.to_string()]);
    let cluster_arn = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod");
    let mut key_usages = Vec::new();
    for u in KeyRole::ALL {
        let (configured, reference) = if u == usage {
            let reference = configured.map(|c| crate::inventory::key_lookup_reference(c, &cluster_arn, REGION));
            (configured.map(str::to_string), reference)
        } else {
            (None, None)
        };
        if let (Some((region, reference)), Some(lookup)) = (&reference, &lookup) {
            inv.keys.insert(
                reference.clone(),
                KeyRecord { reference: reference.clone(), region: region.clone(), describe: lookup.clone() },
            );
        }
        key_usages.push(ClusterKey { usage: u, configured, lookup: reference.map(|r| r.1), skipped: None });
    }
    inv.clusters.push(Cluster {
        name: "prod".to_string(),
        account: None,
        arn: Some(cluster_arn),
        region: REGION.to_string(),
        lookup: ClusterLookup::Found { status: "ACTIVE".to_string(), key_usages },
        services: Some(Fact::Read { value: vec![] }),
    });
    inv
}

/// The Fargate usage configured with `key_arn(id)` and DescribeKey giving `m`.
pub fn fargate_key(m: KeyMetadata) -> Inventory {
    let arn = m.arn.clone();
    one_usage(KeyRole::FargateEphemeralStorage, Some(&arn), Some(found(m)))
}

/// Runs one check's `evaluate` on the first cluster.
pub fn eval(evaluate: fn(&ClusterCtx<'_>) -> Vec<Finding>, inv: &Inventory, options: &CheckOptions) -> Vec<Finding> {
    let policies = super::Policies::parse(inv);
    let ctx = ClusterCtx { inventory: inv, cluster: &inv.clusters[0], options, policies: &policies };
    evaluate(&ctx)
}

/// The worst verdict among findings (pass when there are none).
pub fn worst(findings: &[Finding]) -> Verdict {
    findings.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Pass)
}

/// A policy with the documented Fargate statements for `cluster` in ACCOUNT.
pub fn policy_allowing(cluster: &str) -> String {
    let statements = super::key_policy::fargate_statements(ACCOUNT, cluster);
    format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#)
}

pub fn details(policy: String, grants: Fact<GrantSummary>) -> KeyDetails {
    KeyDetails {
        policy: Fact::Read { value: policy },
        grants,
        rotation: Fact::Read { value: Rotation { enabled: true, period_days: Some(365), next_rotation: None } },
    }
}

/// Attaches `details` to every described key of `inv`.
pub fn with_details(mut inv: Inventory, details: KeyDetails) -> Inventory {
    let arns: Vec<String> = inv
        .keys
        .values()
        .filter_map(|k| match &k.describe {
            KeyLookup::Found { metadata } => Some(metadata.arn.clone()),
            _ => None,
        })
        .collect();
    for arn in arns {
        inv.key_details.insert(arn, details.clone());
    }
    inv
}

/// A deployment with its counts, optionally created with `pinned` (a key ARN).
pub fn deployment(id: &str, status: &str, running: i32, desired: i32, pinned: Option<&str>) -> Deployment {
    Deployment {
        id: id.to_string(),
        status: status.to_string(),
        launch_type: None,
        capacity_providers: vec![],
        desired,
        running,
        pending: 0,
        managed_ebs: false,
        ephemeral_storage_key: pinned.map(|k| ClusterKey {
            usage: KeyRole::FargateEphemeralStorage,
            configured: Some(k.to_string()),
            lookup: Some(k.to_string()),
            skipped: None,
        }),
    }
}

/// A service on `launch_type` with these deployments; counts are their sums.
pub fn service(name: &str, launch_type: &str, deployments: Vec<Deployment>) -> Service {
    let (running, desired) = deployments.iter().fold((0, 0), |(r, d), x| (r + x.running, d + x.desired));
    Service {
        name: name.to_string(),
        arn: Some(format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/{name}")),
        status: Some("ACTIVE".to_string()),
        launch_type: Some(launch_type.to_string()),
        capacity_providers: vec![],
        desired,
        running,
        pending: 0,
        exec_enabled: false,
        deployments,
    }
}

/// Adds a described key (and its details) under its ARN.
pub fn add_key(inv: &mut Inventory, m: KeyMetadata, key_details: KeyDetails) {
    let arn = m.arn.clone();
    inv.keys.insert(arn.clone(), KeyRecord { reference: arn.clone(), region: REGION.to_string(), describe: found(m) });
    inv.key_details.insert(arn, key_details);
}

/// Healthy details: a policy that lets Fargate in for cluster prod.
pub fn healthy_details() -> KeyDetails {
    details(policy_allowing("prod"), Fact::Read { value: GrantSummary::default() })
}
