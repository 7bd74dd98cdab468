//! What a check sees: one cluster with the inventory around it
//! ([`ClusterCtx`]), and each key usage of it, the cluster's own or pinned on
//! a service's running deployment ([`UsageCtx`]), with the facts about its
//! key. Facts only: the words of messages live in `text.rs`.

use jiff::Timestamp;

use super::{CheckMeta, CheckOptions, Policies};
use crate::finding::Finding;
use crate::inventory::{
    Arn, Cluster, ClusterKey, ClusterLookup, Deployment, Inventory, KeyDetails, KeyMetadata, KeyRecord, KeyRole,
    Platform, Service,
};
use crate::policy::{Policy, PolicyError};

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
        let usages: &'a [ClusterKey] = match &self.cluster.lookup {
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
        let current = cluster.usage(KeyRole::FargateEphemeralStorage).and_then(|u| u.lookup.as_deref());
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
    pub usage: &'a ClusterKey,
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
    pub(super) fn deployment_ids(&self) -> String {
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
}
