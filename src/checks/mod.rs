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

mod context;
mod text;

pub use context::{ClusterCtx, Pinned, UsageCtx};

#[cfg(test)]
pub(crate) mod testing;

use crate::finding::Finding;
use crate::inventory::{Fact, Inventory};
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
            let mut findings: Vec<Finding> =
                REGISTRY.iter().flat_map(|check| (check.evaluate)(&ctx)).map(|f| text::finish(cluster, f)).collect();
            // Held for every cluster until the report is written: no slack.
            findings.shrink_to_fit();
            findings
        })
        .collect()
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
