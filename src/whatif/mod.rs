//! `what-if`: which clusters and services a key change would break, before
//! anyone makes it.
//!
//! The inventory is collected (or loaded) exactly as `check` does; the
//! proposed [`Change`]s are applied to a copy; the same checks run on both;
//! and the report is the difference. Nothing here calls AWS, and nothing
//! is ever changed in AWS: the changes exist only in the copy.

pub mod terraform;

use serde::Serialize;

use crate::checks::{self, CheckOptions};
use crate::finding::{Finding, Verdict};
use crate::inventory::{
    ClusterLookup, Fact, Gap, GrantSummary, Inventory, KeyDetails, KeyLookup, KeyMetadata, KeyRecord, KeyRole,
    KeyState, Rotation, key_lookup_reference,
};
use crate::report::{BuildOptions, Report, Tool};

/// Version of the what-if JSON contract (docs/what-if.md).
pub const WHATIF_SCHEMA_VERSION: u32 = 1;

/// One proposed change, as understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    DisableKey {
        key: String,
    },
    ScheduleKeyDeletion {
        key: String,
        pending_window_days: i64,
    },
    PutKeyPolicy {
        key: String,
        policy: String,
    },
    /// The cluster's key for `usage` becomes `key` (services keep the key
    /// their current deployment was created with until redeployed).
    SetClusterKey {
        cluster: String,
        usage: KeyRole,
        key: String,
    },
    /// The plan does not know the key's state or policy yet (`after_unknown`):
    /// whatever uses the key cannot be judged.
    KeyUnknown {
        key: String,
        why: String,
    },
    /// The plan does not know the cluster's new key yet.
    ClusterKeyUnknown {
        cluster: String,
        usage: KeyRole,
        why: String,
    },
    /// The cluster moves to a key the same plan creates, judged from its
    /// planned attributes (`key` is the plan's resource address).
    SetClusterPlannedKey {
        cluster: String,
        usage: KeyRole,
        key: String,
        planned: PlannedKey,
    },
}

/// A key the plan creates, as its planned attributes describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedKey {
    pub is_enabled: Option<bool>,
    pub key_spec: Option<String>,
    pub key_usage: Option<String>,
    pub multi_region: Option<bool>,
    /// The planned key policy; `None` when the plan knows it only after apply.
    pub policy: Option<String>,
}

/// A change, where it came from, and what it became.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// `--disable-key`, or the plan's resource address.
    pub source: String,
    #[serde(flatten)]
    pub change: Change,
    /// The key ARN a key reference resolved to, when it did.
    pub key_arn: Option<String>,
    /// For a deletion: when the key would be deleted.
    pub deletion_date: Option<jiff::Timestamp>,
}

/// A change `check` cannot apply: the key is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChangeError(pub String);

/// The key ARN a reference (key id, key ARN, alias name or alias ARN)
/// resolves to among the keys the inventory described.
pub fn resolve(inv: &Inventory, reference: &str) -> Option<String> {
    let reference = reference.trim();
    inv.keys.values().find_map(|r| {
        let m = r.metadata()?;
        let alias_match = reference.starts_with("alias/") && r.reference.ends_with(&format!(":{reference}"));
        (m.arn == reference || m.key_id == reference || r.reference == reference || alias_match).then(|| m.arn.clone())
    })
}

/// Applies `changes` to `inv`. `resolved` gives the key ARN of each change's
/// key (None for a key nobody in the inventory uses); `extra` holds the
/// DescribeKey answers for keys resolved outside the inventory.
pub fn apply(inv: &mut Inventory, changes: &[ChangeReport], extra: &[KeyRecord]) {
    let now = inv.collected_at;
    for c in changes {
        match &c.change {
            Change::DisableKey { .. } => {
                for_key(inv, c.key_arn.as_deref(), |m| {
                    m.key_state = Some(KeyState::Disabled);
                    m.deletion_date = None;
                });
            }
            Change::ScheduleKeyDeletion { pending_window_days, .. } => {
                let date = now.checked_add(jiff::SignedDuration::from_hours(24 * pending_window_days)).ok();
                for_key(inv, c.key_arn.as_deref(), |m| {
                    m.key_state = Some(KeyState::PendingDeletion);
                    m.deletion_date = date;
                    m.pending_deletion_window_in_days = i32::try_from(*pending_window_days).ok();
                });
            }
            Change::PutKeyPolicy { policy, .. } => {
                let Some(arn) = &c.key_arn else { continue };
                let details = inv.key_details.entry(arn.clone()).or_insert_with(|| KeyDetails {
                    policy: Fact::Skipped { reason: "not read".into() },
                    grants: Fact::Read { value: GrantSummary::default() },
                    rotation: Fact::Read { value: Rotation::default() },
                });
                details.policy = Fact::Read { value: policy.clone() };
            }
            Change::KeyUnknown { why, .. } => {
                let Some(arn) = &c.key_arn else { continue };
                for r in inv.keys.values_mut().filter(|r| r.metadata().is_some_and(|m| &m.arn == arn)) {
                    r.describe = KeyLookup::Unreadable { gap: unknown_until_apply(&r.reference, why) };
                }
            }
            Change::SetClusterKey { cluster, usage, key } => {
                set_cluster_key(inv, cluster, *usage, key, c.key_arn.as_deref(), extra);
            }
            Change::SetClusterPlannedKey { cluster, usage, key, planned } => {
                let reference = format!("(created by the plan: {key})");
                let metadata = KeyMetadata {
                    arn: reference.clone(),
                    key_id: reference.clone(),
                    key_state: Some(if planned.is_enabled == Some(false) {
                        KeyState::Disabled
                    } else {
                        KeyState::Enabled
                    }),
                    key_manager: Some("CUSTOMER".into()),
                    key_spec: planned.key_spec.clone().or(Some("SYMMETRIC_DEFAULT".into())),
                    key_usage: planned.key_usage.clone().or(Some("ENCRYPT_DECRYPT".into())),
                    origin: Some("AWS_KMS".into()),
                    multi_region: planned.multi_region,
                    ..KeyMetadata::default()
                };
                inv.keys.insert(
                    reference.clone(),
                    KeyRecord {
                        reference: reference.clone(),
                        region: String::new(),
                        describe: KeyLookup::Found { metadata: Box::new(metadata) },
                    },
                );
                let policy = match &planned.policy {
                    Some(p) => Fact::Read { value: p.clone() },
                    None => Fact::Unreadable {
                        gap: unknown_until_apply(&reference, "the plan knows the key policy only after apply"),
                    },
                };
                inv.key_details.insert(
                    reference.clone(),
                    KeyDetails {
                        policy,
                        grants: Fact::Read { value: GrantSummary::default() },
                        rotation: Fact::Skipped { reason: "a key the plan creates".into() },
                    },
                );
                for cl in inv.clusters.iter_mut().filter(|cl| cl.name == *cluster || cl.arn.as_deref() == Some(cluster))
                {
                    if let ClusterLookup::Found { key_usages, .. } = &mut cl.lookup
                        && let Some(u) = key_usages.iter_mut().find(|u| u.usage == *usage)
                    {
                        u.configured = Some(reference.clone());
                        u.lookup = Some(reference.clone());
                    }
                }
            }
            Change::ClusterKeyUnknown { cluster, usage, why } => {
                let reference = format!("(known after apply: {cluster})");
                inv.keys.insert(
                    reference.clone(),
                    KeyRecord {
                        reference: reference.clone(),
                        region: String::new(),
                        describe: KeyLookup::Unreadable { gap: unknown_until_apply(&reference, why) },
                    },
                );
                for cl in inv.clusters.iter_mut().filter(|cl| cl.name == *cluster || cl.arn.as_deref() == Some(cluster))
                {
                    if let ClusterLookup::Found { key_usages, .. } = &mut cl.lookup
                        && let Some(u) = key_usages.iter_mut().find(|u| u.usage == *usage)
                    {
                        u.configured = Some(reference.clone());
                        u.lookup = Some(reference.clone());
                    }
                }
            }
        }
    }
}

fn unknown_until_apply(resource: &str, why: &str) -> Gap {
    Gap {
        operation: "terraform plan".into(),
        resource: resource.to_string(),
        code: "KnownAfterApply".into(),
        message: why.to_string(),
    }
}

fn for_key(inv: &mut Inventory, arn: Option<&str>, mut f: impl FnMut(&mut KeyMetadata)) {
    let Some(arn) = arn else { return };
    for r in inv.keys.values_mut() {
        if let KeyLookup::Found { metadata } = &mut r.describe
            && metadata.arn == arn
        {
            f(metadata);
        }
    }
}

fn set_cluster_key(
    inv: &mut Inventory,
    cluster: &str,
    usage: KeyRole,
    key: &str,
    arn: Option<&str>,
    extra: &[KeyRecord],
) {
    let template: Option<KeyRecord> = arn
        .and_then(|arn| inv.keys.values().chain(extra).find(|r| r.metadata().is_some_and(|m| m.arn == arn)).cloned());
    let mut new_records = Vec::new();
    for cl in inv.clusters.iter_mut().filter(|cl| cl.name == cluster || cl.arn.as_deref() == Some(cluster)) {
        let (region, reference) = key_lookup_reference(key, cl.arn.as_deref().unwrap_or_default(), &cl.region);
        if let ClusterLookup::Found { key_usages, .. } = &mut cl.lookup
            && let Some(u) = key_usages.iter_mut().find(|u| u.usage == usage)
        {
            u.configured = Some(key.to_string());
            u.lookup = Some(reference.clone());
            u.skipped = None;
        }
        let record = match &template {
            Some(t) => KeyRecord { reference: reference.clone(), ..t.clone() },
            None => KeyRecord {
                reference: reference.clone(),
                region,
                describe: KeyLookup::NotFound { message: format!("key {key} was not found") },
            },
        };
        new_records.push(record);
    }
    for r in new_records {
        inv.keys.entry(r.reference.clone()).or_insert(r);
    }
    // A key resolved outside the inventory has no policy, grants or
    // rotation read: its key-policy check says unknown rather than guess.
}

/// One cluster before and after.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterDiff {
    pub cluster_name: String,
    pub account_id: Option<String>,
    pub region: String,
    pub verdict_before: Verdict,
    pub verdict: Verdict,
    pub newly_failing: bool,
    /// Services whose pinned keys pass now and would fail after.
    pub services_newly_failing: Vec<String>,
    /// Tasks running now in the cluster's services (they keep running; the
    /// next ones would not start).
    pub running_tasks: i64,
    /// The findings after the change that fail or cannot be judged.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WhatIfSummary {
    pub clusters: usize,
    pub newly_failing: usize,
    pub already_failing: usize,
    /// Clusters whose answer after the change cannot be judged.
    pub unknown_after: usize,
    pub unaffected: usize,
}

/// The what-if report: the JSON contract of docs/what-if.md.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIfReport {
    pub schema_version: u32,
    pub tool: Tool,
    pub collected_at: jiff::Timestamp,
    pub changes: Vec<ChangeReport>,
    /// Names of the clusters that pass now (or are unknown) and would fail.
    pub newly_failing: Vec<String>,
    pub clusters: Vec<ClusterDiff>,
    pub summary: WhatIfSummary,
    pub exit_code: u8,
}

/// Runs the checks on `before` and on `after`, and reports the difference.
/// Exit code: 1 when anything newly fails, 2 when nothing does but
/// something after the change cannot be judged, 0 otherwise.
pub fn compare(
    before: &Inventory,
    after: &Inventory,
    changes: Vec<ChangeReport>,
    options: &CheckOptions,
) -> WhatIfReport {
    let build = BuildOptions { allow_empty: true, grant_quota: options.grant_quota };
    let rb = Report::build_with(before, checks::run(before, options), &[], build);
    let ra = Report::build_with(after, checks::run(after, options), &[], build);
    let mut clusters = Vec::new();
    let mut summary = WhatIfSummary { clusters: ra.clusters.len(), ..WhatIfSummary::default() };
    for (b, a) in rb.clusters.iter().zip(&ra.clusters) {
        let newly = a.verdict == Verdict::Fail && b.verdict != Verdict::Fail;
        let services_newly_failing: Vec<String> = a
            .services
            .iter()
            .flatten()
            .filter(|s| s.verdict == Verdict::Fail)
            .filter(|s| {
                b.services
                    .iter()
                    .flatten()
                    .find(|bs| bs.service_name == s.service_name)
                    .is_none_or(|bs| bs.verdict != Verdict::Fail)
            })
            .map(|s| s.service_name.clone())
            .collect();
        match (b.verdict, a.verdict) {
            (_, Verdict::Fail) if newly => summary.newly_failing += 1,
            (Verdict::Fail, _) => summary.already_failing += 1,
            (_, Verdict::Unknown) => summary.unknown_after += 1,
            _ => summary.unaffected += 1,
        }
        clusters.push(ClusterDiff {
            cluster_name: a.cluster_name.clone(),
            account_id: a.account_id.clone(),
            region: a.region.clone(),
            verdict_before: b.verdict,
            verdict: a.verdict,
            newly_failing: newly || !services_newly_failing.is_empty(),
            services_newly_failing,
            running_tasks: a.services.iter().flatten().map(|s| i64::from(s.running)).sum(),
            findings: a.findings.iter().filter(|f| f.verdict != Verdict::Pass).cloned().collect(),
        });
    }
    let newly_failing: Vec<String> =
        clusters.iter().filter(|c| c.newly_failing).map(|c| c.cluster_name.clone()).collect();
    let exit_code = if !newly_failing.is_empty() {
        crate::report::exit::FAIL
    } else if summary.unknown_after > 0 {
        crate::report::exit::UNKNOWN
    } else {
        crate::report::exit::PASS
    };
    WhatIfReport {
        schema_version: WHATIF_SCHEMA_VERSION,
        tool: Tool::this(),
        collected_at: after.collected_at,
        changes,
        newly_failing,
        clusters,
        summary,
        exit_code,
    }
}

#[cfg(test)]
mod tests;
