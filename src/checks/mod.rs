//! The checks: pure, synchronous functions from an [`Inventory`] to findings.
//!
//! A check never calls AWS, reads the clock or the environment: "now" is the
//! inventory's `collected_at`, and every option arrives in [`CheckOptions`].
//! That is what makes `--inventory` replays and table-driven tests exact.
//!
//! Each check lives in its own file with a `META` (its stable id, documented
//! in `docs/checks.md`) and an `evaluate` function, and is listed once in
//! [`REGISTRY`]. Checks that need a fact which was not read say *unknown*
//! through `key-unreadable` / `cluster-unreadable`, and otherwise stay silent
//! rather than guess.

mod alias_reference;
mod cluster_not_found;
mod cluster_unreadable;
mod custom_key_store;
mod grant_quota;
mod key_alarm;
mod key_material_expiry;
mod key_not_customer_managed;
mod key_not_found;
mod key_policy;
mod key_region;
mod key_rotation;
mod key_state;
mod key_type;
mod key_unreadable;
mod multi_region_key;
mod no_key_configured;
mod pinned_key;
mod services_unreadable;

#[cfg(test)]
pub(crate) mod testing;

use jiff::Timestamp;

use crate::finding::{Finding, Verdict};
use crate::inventory::{
    Arn, Cluster, ClusterLookup, Deployment, Fact, Inventory, KeyDetails, KeyMetadata, KeyRecord, KeyUsage, Platform,
    Service, Usage,
};
use crate::policy::{Policy, PolicyError};

pub use crate::finding::{ANY_USAGE, CheckMeta, FARGATE_ONLY};
pub use crate::when::{days_until, format_time};

/// A registered check.
pub struct Check {
    pub meta: &'static CheckMeta,
    pub evaluate: fn(&ClusterCtx<'_>) -> Vec<Finding>,
}

/// Every check, in the order their findings are listed.
pub static REGISTRY: &[Check] = &[
    Check { meta: &cluster_not_found::META, evaluate: cluster_not_found::evaluate },
    Check { meta: &cluster_unreadable::META, evaluate: cluster_unreadable::evaluate },
    Check { meta: &services_unreadable::META, evaluate: services_unreadable::evaluate },
    Check { meta: &no_key_configured::META, evaluate: no_key_configured::evaluate },
    Check { meta: &key_unreadable::META, evaluate: key_unreadable::evaluate },
    Check { meta: &key_not_found::META, evaluate: key_not_found::evaluate },
    Check { meta: &key_state::META, evaluate: key_state::evaluate },
    Check { meta: &key_not_customer_managed::META, evaluate: key_not_customer_managed::evaluate },
    Check { meta: &key_type::META, evaluate: key_type::evaluate },
    Check { meta: &multi_region_key::META, evaluate: multi_region_key::evaluate },
    Check { meta: &key_policy::META, evaluate: key_policy::evaluate },
    Check { meta: &grant_quota::META, evaluate: grant_quota::evaluate },
    Check { meta: &key_rotation::META, evaluate: key_rotation::evaluate },
    Check { meta: &alias_reference::META, evaluate: alias_reference::evaluate },
    Check { meta: &key_region::META, evaluate: key_region::evaluate },
    Check { meta: &key_material_expiry::META, evaluate: key_material_expiry::evaluate },
    Check { meta: &custom_key_store::META, evaluate: custom_key_store::evaluate },
    Check { meta: &pinned_key::META, evaluate: pinned_key::evaluate },
    Check { meta: &key_alarm::META, evaluate: key_alarm::evaluate },
];

/// Knobs the user sets that change what a check concludes.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Imported key material expiring within this many days fails.
    pub horizon_days: i64,
    /// Grants a key may hold (the KMS quota; 50,000 unless raised).
    pub grant_quota: u64,
    /// Warn when a key holds this percentage of `grant_quota`.
    pub grant_warn_percent: u64,
    /// Disabled automatic rotation on a key that can rotate fails.
    pub require_rotation: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self { horizon_days: 30, grant_quota: 50_000, grant_warn_percent: 80, require_rotation: false }
    }
}

/// Every key policy of the inventory, parsed once per key however many
/// clusters use the key: parsing per cluster made offline evaluation
/// quadratic.
pub struct Policies(std::collections::HashMap<String, Result<Policy, PolicyError>>);

impl Policies {
    pub fn parse(inventory: &Inventory) -> Self {
        Policies(
            inventory
                .key_details
                .iter()
                .filter_map(|(arn, d)| match &d.policy {
                    Fact::Read { value } => Some((arn.clone(), Policy::parse(value))),
                    _ => None,
                })
                .collect(),
        )
    }
}

/// Runs every check on every cluster; the findings come back in cluster order.
pub fn run(inventory: &Inventory, options: &CheckOptions) -> Vec<Vec<Finding>> {
    let policies = Policies::parse(inventory);
    inventory
        .clusters
        .iter()
        .map(|cluster| {
            let ctx = ClusterCtx { inventory, cluster, options, policies: &policies };
            let mut findings: Vec<Finding> = REGISTRY.iter().flat_map(|check| (check.evaluate)(&ctx)).collect();
            for f in &mut findings {
                // Any failure of a pinned key has a second way out: a new
                // deployment moves the service to the cluster's current key.
                if let (Some(service), Verdict::Fail) = (&f.service, f.verdict) {
                    let redeploy = format!(
                        "or move service {service} to the cluster's current key with a new deployment:\naws ecs update-service --cluster {} --service {service} --region {} --force-new-deployment",
                        cluster.name, cluster.region
                    );
                    f.remediation = Some(match f.remediation.take() {
                        Some(fix) => format!("{fix}\n{redeploy}"),
                        None => redeploy,
                    });
                }
            }
            findings
        })
        .collect()
}

/// What a check sees: one cluster, with the inventory around it.
pub struct ClusterCtx<'a> {
    pub inventory: &'a Inventory,
    pub cluster: &'a Cluster,
    pub options: &'a CheckOptions,
    pub policies: &'a Policies,
}

impl<'a> ClusterCtx<'a> {
    /// The parsed key policy of the key `arn`, when it was read.
    pub fn policy(&self, arn: &str) -> Option<&'a Result<Policy, PolicyError>> {
        self.policies.0.get(arn)
    }

    /// "Now", as far as checks are concerned.
    pub fn now(&self) -> Timestamp {
        self.inventory.collected_at
    }

    /// The cluster's key usages, then the keys pinned on its services'
    /// running deployments (where they differ from the cluster's), each with
    /// the key record it points at. Empty when the cluster was not found or
    /// could not be read.
    pub fn usages(&self) -> impl Iterator<Item = UsageCtx<'a>> + use<'a> {
        let usages: &'a [KeyUsage] = match &self.cluster.lookup {
            ClusterLookup::Found { key_usages, .. } => key_usages,
            _ => &[],
        };
        let inventory = self.inventory;
        let cluster = self.cluster;
        let own = usages.iter().map(move |usage| UsageCtx {
            inventory,
            cluster,
            usage,
            key: inventory.key_for(usage),
            pinned: None,
        });
        own.chain(self.pinned_usages())
    }

    /// The keys running Fargate services' deployments were created with, where
    /// they differ from the cluster's current Fargate key: scale-outs and
    /// replacements keep using them until the next deployment. One per
    /// (service, key), with the deployments that pin it.
    fn pinned_usages(&self) -> Vec<UsageCtx<'a>> {
        let inventory = self.inventory;
        let cluster = self.cluster;
        let current = cluster.usage(Usage::FargateEphemeralStorage).and_then(|u| u.lookup.as_deref());
        let mut out: Vec<UsageCtx<'a>> = Vec::new();
        for service in cluster.services().unwrap_or_default() {
            if service.platform() == Platform::NotFargate {
                continue;
            }
            for d in &service.deployments {
                let Some(pin) = d.ephemeral_storage_key.as_ref() else { continue };
                if pin.lookup.as_deref() == current {
                    continue;
                }
                let same = out.iter_mut().find(|u| {
                    u.pinned.as_ref().is_some_and(|p| p.service.name == service.name) && u.usage.lookup == pin.lookup
                });
                match same.and_then(|u| u.pinned.as_mut()) {
                    Some(p) => p.deployments.push(d),
                    None => out.push(UsageCtx {
                        inventory,
                        cluster,
                        usage: pin,
                        key: inventory.key_for(pin),
                        pinned: Some(Pinned { service, deployments: vec![d] }),
                    }),
                }
            }
        }
        out
    }

    /// The usages `check` judges (its `usages`), with their keys.
    pub fn usages_for(&self, check: &'static CheckMeta) -> impl Iterator<Item = UsageCtx<'a>> + use<'a> {
        self.usages().filter(move |u| check.judges(u.usage.usage))
    }

    /// Applies `f` to every usage `check` judges whose key DescribeKey found.
    pub fn for_each_described(
        &self,
        check: &'static CheckMeta,
        f: impl Fn(&UsageCtx<'a>, &KeyMetadata) -> Option<Finding>,
    ) -> Vec<Finding> {
        self.usages_for(check).filter_map(|u| u.metadata().and_then(|m| f(&u, m))).collect()
    }
}

/// One key usage of one cluster: one of the cluster's own, or a key pinned
/// on a service's running deployments.
pub struct UsageCtx<'a> {
    pub inventory: &'a Inventory,
    pub cluster: &'a Cluster,
    pub usage: &'a KeyUsage,
    pub key: Option<&'a KeyRecord>,
    /// Set for a key a service's deployments were created with.
    pub pinned: Option<Pinned<'a>>,
}

/// A service whose current deployments pin a key other than the cluster's.
pub struct Pinned<'a> {
    pub service: &'a Service,
    pub deployments: Vec<&'a Deployment>,
}

impl Pinned<'_> {
    fn deployment_ids(&self) -> String {
        self.deployments.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl<'a> UsageCtx<'a> {
    /// The key reference as configured on the cluster.
    pub fn configured(&self) -> Option<&'a str> {
        self.usage.configured.as_deref()
    }

    /// DescribeKey's answer, when it found the key.
    pub fn metadata(&self) -> Option<&'a KeyMetadata> {
        self.key?.metadata()
    }

    /// Policy, grants and rotation of the described key. `None` when the key
    /// was not described, or when the inventory predates these reads.
    pub fn details(&self) -> Option<&'a KeyDetails> {
        self.inventory.key_details.get(&self.metadata()?.arn)
    }

    /// The account that owns the cluster (from its ARN).
    pub fn cluster_account(&self) -> Option<&'a str> {
        self.cluster.arn.as_deref().and_then(Arn::parse).map(|a| a.account)
    }

    /// The best name for the key: its ARN when known, else as configured.
    pub fn key_label(&self) -> &'a str {
        self.metadata().map(|m| m.arn.as_str()).or(self.configured()).unwrap_or("(none)")
    }

    /// The Region whose KMS holds the key (where remediation commands go).
    pub fn key_region(&self) -> &'a str {
        self.key.map_or(self.cluster.region.as_str(), |k| k.region.as_str())
    }

    /// What a broken key does to this usage, for the end of a message.
    pub fn impact(&self) -> String {
        if let Some(p) = &self.pinned {
            let (running, desired) = p
                .deployments
                .iter()
                .fold((0i64, 0i64), |(r, d), dep| (r + i64::from(dep.running), d + i64::from(dep.desired)));
            return format!(
                "Its {running} running task(s) keep running (desired {desired}), but no replacement or additional task can start; a new deployment would pick up the cluster's current key."
            );
        }
        match self.usage.usage {
            Usage::FargateEphemeralStorage => self.cluster_fargate_impact(),
            Usage::ManagedStorage => "Running tasks keep running, but new tasks, scale-outs and replacements that attach ECS-managed EBS volumes will fail to start.".to_string(),
            Usage::ExecuteCommand => {
                "Tasks still start, but ECS Exec sessions (aws ecs execute-command) into them will fail.".to_string()
            }
        }
    }

    /// For the cluster's own Fargate key: who it really breaks. Deployments
    /// created with another key keep starting tasks with that key until their
    /// next deployment ([ECS-KEY]: the setting "only takes effect on new
    /// service deployments").
    fn cluster_fargate_impact(&self) -> String {
        let default =
            "Running tasks keep running, but new Fargate tasks, scale-outs and replacements will fail to start.";
        let Some(services) = self.cluster.services() else { return default.to_string() };
        let mine = self.usage.lookup.as_deref();
        let (elsewhere, here): (Vec<&Service>, Vec<&Service>) =
            services.iter().filter(|s| s.platform() != Platform::NotFargate).partition(|s| {
                !s.deployments.is_empty()
                    && s.deployments
                        .iter()
                        .all(|d| d.ephemeral_storage_key.as_ref().is_some_and(|k| k.lookup.as_deref() != mine))
            });
        if elsewhere.is_empty() {
            return default.to_string();
        }
        let names = |v: &[&Service]| v.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
        let mut text =
            "Running tasks keep running, but new deployments and standalone tasks will fail to start".to_string();
        if !here.is_empty() {
            text.push_str(&format!(", and so will scale-outs and replacements of {}", names(&here)));
        }
        text.push_str(&format!(
            ". Scale-outs and replacements of {} still start for now: their current deployment was created with another key, until their next deployment.",
            names(&elsewhere)
        ));
        text
    }

    /// A finding for a key that cannot be used: it fails the cluster when the
    /// usage blocks task launches, and is a warning when it does not (ECS Exec).
    pub fn broken(&self, check: &'static CheckMeta, message: impl Into<String>) -> Finding {
        let message = match &self.pinned {
            Some(p) => format!(
                "Scale-outs and replacements of service {} use Fargate ephemeral storage key {}, pinned on its deployment {}, which {} {}",
                p.service.name,
                self.key_label(),
                p.deployment_ids(),
                message.into(),
                self.impact()
            ),
            None => format!("{} key {} {} {}", self.role(), self.key_label(), message.into(), self.impact()),
        };
        let finding = if self.usage.usage.blocks_launch() {
            Finding::fail(check, message)
        } else {
            Finding::warning(check, message)
        };
        self.attach(finding)
    }

    /// Ties a finding to this usage, its configured key, and the service
    /// whose deployment pins it.
    pub fn attach(&self, finding: Finding) -> Finding {
        let mut f = finding.with_usage(self.usage.usage, self.configured());
        f.service = self.pinned.as_ref().map(|p| p.service.name.clone());
        f
    }

    /// For a pinned key, the sentence that says whose tasks use it (empty
    /// for the cluster's own keys); for checks that build their own message.
    pub fn pinned_prefix(&self) -> String {
        match &self.pinned {
            Some(p) => format!(
                "Scale-outs and replacements of service {} use key {}, pinned on its deployment {}. ",
                p.service.name,
                self.key_label(),
                p.deployment_ids()
            ),
            None => String::new(),
        }
    }

    /// The usage in words, for the start of a message.
    pub fn role(&self) -> String {
        match (&self.pinned, self.usage.usage) {
            (Some(p), _) => {
                format!(
                    "Fargate ephemeral storage (pinned on service {}, deployment {})",
                    p.service.name,
                    p.deployment_ids()
                )
            }
            (None, Usage::FargateEphemeralStorage) => "Fargate ephemeral storage".to_string(),
            (None, Usage::ManagedStorage) => "ECS-managed EBS storage".to_string(),
            (None, Usage::ExecuteCommand) => "ECS Exec".to_string(),
        }
    }

    /// `aws ecs update-cluster` pointing this usage at `key`.
    pub fn update_cluster_command(&self, key: &str) -> String {
        let inner = match self.usage.usage {
            Usage::FargateEphemeralStorage => {
                format!(r#"{{"managedStorageConfiguration":{{"fargateEphemeralStorageKmsKeyId":"{key}"}}}}"#)
            }
            Usage::ManagedStorage => {
                format!(r#"{{"managedStorageConfiguration":{{"kmsKeyId":"{key}"}}}}"#)
            }
            Usage::ExecuteCommand => {
                format!(r#"{{"executeCommandConfiguration":{{"kmsKeyId":"{key}"}}}}"#)
            }
        };
        let mut cmd = format!(
            "aws ecs update-cluster --cluster {} --region {} --configuration '{inner}'",
            self.cluster.name, self.cluster.region
        );
        if self.usage.usage == Usage::FargateEphemeralStorage {
            cmd.push_str("\n(then redeploy each service: the new key applies only to new deployments)");
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn check_ids_are_unique_and_documented() {
        let docs = include_str!("../../docs/checks.md");
        let mut seen = HashSet::new();
        for check in REGISTRY {
            assert!(seen.insert(check.meta.id), "duplicate check id {}", check.meta.id);
            assert!(
                docs.contains(&format!("## `{}`", check.meta.id)),
                "docs/checks.md has no section for {}",
                check.meta.id
            );
        }
    }
}
