//! The blast radius: for every key that makes something fail, the clusters
//! and services that depend on it, with their task counts, so that a report
//! says "service api: 6 running, desired 6: no replacement task can start"
//! and not just "key K is disabled".

use std::collections::BTreeMap;

use serde::Serialize;

use super::ClusterReport;
use crate::finding::Verdict;
use crate::inventory::{Cluster, ClusterKey, Inventory, KeyRole, KeyState, Platform};

/// A key that makes at least one cluster fail.
#[derive(Debug, Clone, Serialize)]
pub struct FailingKey {
    /// The key ARN when DescribeKey found it, else the reference as configured.
    pub key: String,
    pub key_state: Option<KeyState>,
    /// Its aliases, sorted: the names on-call engineers know it by.
    pub aliases: Vec<String>,
    /// When a key pending deletion will be deleted for good: the list puts
    /// the soonest first, since cancelling the deletion is the fix.
    pub deletion_date: Option<jiff::Timestamp>,
    /// Why it fails: the ids of the checks that failed on it, sorted.
    pub failed_checks: Vec<&'static str>,
    pub dependents: Vec<Dependent>,
}

/// One thing that depends on a failing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependent {
    pub cluster_name: String,
    pub region: String,
    /// `null` for the cluster as a whole (new tasks, services not read).
    pub service: Option<String>,
    /// Summed over deployments as 64-bit numbers: ECS counts are 32-bit, and
    /// a hostile inventory must not wrap them.
    pub desired: Option<i64>,
    pub running: Option<i64>,
    pub effect: DependentEffect,
}

/// What the failing key does to the dependent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DependentEffect {
    /// Its running deployment uses the key: no scale-out or replacement can start.
    ScaleOutsAndReplacements,
    /// Its running deployment uses another key: its next deployment fails.
    NextDeployment,
    /// Tasks attaching ECS-managed EBS volumes fail.
    EbsVolumes,
    /// New tasks in the cluster fail (no services, or they were not read).
    NewTasks,
    /// EC2 or EXTERNAL launch type: the Fargate key does not apply.
    NotAffected,
}

impl Dependent {
    /// One line for the human report.
    pub fn describe(&self) -> String {
        let what = match &self.service {
            Some(s) => format!("{} ({}), service {s}", self.cluster_name, self.region),
            None => format!("{} ({})", self.cluster_name, self.region),
        };
        let counts = match (self.running, self.desired) {
            (Some(r), Some(d)) => format!("{r} running, desired {d}: "),
            _ => String::new(),
        };
        let effect = match self.effect {
            DependentEffect::ScaleOutsAndReplacements => "no replacement or scale-out task can start",
            DependentEffect::NextDeployment => {
                "its current deployment uses another key; its next deployment will fail to start tasks"
            }
            DependentEffect::EbsVolumes => "tasks with ECS-managed EBS volumes cannot start",
            DependentEffect::NewTasks => "new tasks will fail to start",
            DependentEffect::NotAffected => "EC2/EXTERNAL launch type, not affected by the Fargate key",
        };
        format!("{what}: {counts}{effect}")
    }
}

/// A key's ARN (or reference), state and deletion date.
type KeyFacts = (String, Option<KeyState>, Option<jiff::Timestamp>);

fn key_facts(inventory: &Inventory, usage: &ClusterKey) -> KeyFacts {
    match inventory.metadata_for(usage) {
        Some(metadata) => {
            let deletion = metadata.deletion_date.filter(|_| metadata.key_state == Some(KeyState::PendingDeletion));
            (metadata.arn.clone(), metadata.key_state.clone(), deletion)
        }
        None => (usage.configured.clone().unwrap_or_default(), None, None),
    }
}

/// Builds the failing-key list from the inventory and the per-cluster reports.
pub fn failing_keys(inventory: &Inventory, reports: &[ClusterReport]) -> Vec<FailingKey> {
    let mut keys: BTreeMap<String, FailingKey> = BTreeMap::new();
    let mut add = |key: KeyFacts, checks: &[&'static str], dependent: Dependent| {
        let entry = keys.entry(key.0.clone()).or_insert(FailingKey {
            aliases: inventory.aliases_of(&key.0).to_vec(),
            key: key.0,
            key_state: key.1,
            deletion_date: key.2,
            failed_checks: vec![],
            dependents: vec![],
        });
        for check in checks {
            if !entry.failed_checks.contains(check) {
                entry.failed_checks.push(check);
            }
        }
        if !entry.dependents.contains(&dependent) {
            entry.dependents.push(dependent);
        }
    };
    for (cluster, report) in inventory.clusters.iter().zip(reports) {
        let base = |service: Option<&str>, counts: Option<(i64, i64)>, effect| Dependent {
            cluster_name: cluster.name.clone(),
            region: cluster.region.clone(),
            service: service.map(str::to_string),
            running: counts.map(|c| c.0),
            desired: counts.map(|c| c.1),
            effect,
        };
        for u in report.key_usages.iter().filter(|u| u.verdict == Verdict::Fail) {
            let Some(usage) = cluster.usage(u.usage) else { continue };
            let key = key_facts(inventory, usage);
            let checks: Vec<&'static str> = report
                .findings
                .iter()
                .filter(|f| f.verdict == Verdict::Fail && f.usage == Some(u.usage) && f.service.is_none())
                .map(|f| f.check.id)
                .collect();
            for d in cluster_dependents(cluster, usage) {
                let (service, counts, effect) = d;
                add(key.clone(), &checks, base(service.as_deref(), counts, effect));
            }
        }
        // Keys pinned on deployments that fail.
        let services = cluster.services().unwrap_or_default();
        for f in report.findings.iter().filter(|f| f.verdict == Verdict::Fail) {
            let Some(name) = &f.service else { continue };
            let Some(service) = services.iter().find(|s| &s.name == name) else { continue };
            let pinned: Vec<_> = service
                .deployments
                .iter()
                .filter(|d| d.ephemeral_storage_key.as_ref().and_then(|k| k.configured.as_deref()) == f.key.as_deref())
                .collect();
            let Some(usage) = pinned.first().and_then(|d| d.ephemeral_storage_key.as_ref()) else { continue };
            let counts = crate::inventory::task_counts(pinned.iter().copied());
            add(
                key_facts(inventory, usage),
                &[f.check.id],
                base(Some(name), Some(counts), DependentEffect::ScaleOutsAndReplacements),
            );
        }
    }
    let mut keys: Vec<FailingKey> = keys.into_values().collect();
    // Most urgent first: the soonest irreversible deletion, then the rest by ARN.
    keys.sort_by(|a, b| match (a.deletion_date, b.deletion_date) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.key.cmp(&b.key)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.key.cmp(&b.key),
    });
    for k in &mut keys {
        k.failed_checks.sort_unstable();
        k.dependents.sort_by(|a, b| {
            (&a.region, &a.cluster_name, a.effect, &a.service).cmp(&(&b.region, &b.cluster_name, b.effect, &b.service))
        });
    }
    keys
}

type Dep = (Option<String>, Option<(i64, i64)>, DependentEffect);

/// What depends on a cluster's own (failing) key for `usage`.
fn cluster_dependents(cluster: &Cluster, usage: &ClusterKey) -> Vec<Dep> {
    let Some(services) = cluster.services() else {
        return vec![(None, None, DependentEffect::NewTasks)];
    };
    let mine = usage.lookup.as_deref();
    let mut out = Vec::new();
    for s in services {
        match usage.usage {
            KeyRole::FargateEphemeralStorage => {
                if s.platform() == Platform::NotFargate {
                    out.push((Some(s.name.clone()), None, DependentEffect::NotAffected));
                    continue;
                }
                // A deployment with no key reported is taken to use the
                // cluster's key: counted, rather than passed unseen.
                let here: Vec<_> = s
                    .deployments
                    .iter()
                    .filter(|d| d.ephemeral_storage_key.as_ref().is_none_or(|k| k.lookup.as_deref() == mine))
                    .collect();
                if here.is_empty() && !s.deployments.is_empty() {
                    out.push((
                        Some(s.name.clone()),
                        Some((i64::from(s.running), i64::from(s.desired))),
                        DependentEffect::NextDeployment,
                    ));
                } else {
                    out.push((
                        Some(s.name.clone()),
                        Some((i64::from(s.running), i64::from(s.desired))),
                        DependentEffect::ScaleOutsAndReplacements,
                    ));
                }
            }
            KeyRole::ManagedStorage => {
                if s.deployments.iter().any(|d| d.managed_ebs) {
                    out.push((
                        Some(s.name.clone()),
                        Some((i64::from(s.running), i64::from(s.desired))),
                        DependentEffect::EbsVolumes,
                    ));
                }
            }
            KeyRole::ExecuteCommand => {}
        }
    }
    if out.is_empty() {
        out.push((
            None,
            None,
            if usage.usage == KeyRole::ManagedStorage {
                DependentEffect::EbsVolumes
            } else {
                DependentEffect::NewTasks
            },
        ));
    }
    out
}
