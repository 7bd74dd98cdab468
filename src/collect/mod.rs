//! Collection: the only code that talks to AWS.
//!
//! It reads, never writes: every call here is a List, Describe or Get. It
//! fans out under a concurrency bound, pages through every list, describes
//! each distinct key once however many clusters, services and aliases point
//! at it, and records whatever it could not read as a
//! [`Gap`](crate::inventory::Gap) in the [`Inventory`] instead of failing.

mod alarms;
pub mod cloudtrail;
mod ecs;
mod error;
mod kms;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use aws_config::SdkConfig;
use jiff::Timestamp;

use crate::inventory::{Arn, ClusterLookup, Fact, Inventory, KeyLookup};

pub use error::gap;

/// What to look at.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Regions to search; at least one.
    pub regions: Vec<String>,
    /// Cluster names or ARNs; empty means every cluster in every region.
    pub clusters: Vec<String>,
    /// Service names within the one cluster of `clusters`; empty means every
    /// service of every cluster in scope.
    pub services: Vec<String>,
    /// Do not read services at all (`--no-services`).
    pub skip_services: bool,
    /// Also read the CloudWatch alarm set-up (`--alarms`).
    pub alarms: bool,
}

/// How hard to push.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// At most this many AWS requests in flight at once.
    pub concurrency: usize,
}

impl Default for CollectOptions {
    fn default() -> Self {
        Self { concurrency: 8 }
    }
}

/// Hands out per-Region clients. A trait so that tests can hand out clients
/// wired to `aws-smithy-mocks` instead of the network.
pub trait Clients: Send + Sync {
    fn ecs(&self, region: &str) -> aws_sdk_ecs::Client;
    fn kms(&self, region: &str) -> aws_sdk_kms::Client;
    fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client;
    fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client;
    fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client;
    /// STS, for GetCallerIdentity; `None` where there is none (mocks).
    fn sts(&self, _region: &str) -> Option<aws_sdk_sts::Client> {
        None
    }
}

/// Real clients from one shared SDK configuration, one per service and Region.
pub struct SdkClients {
    config: SdkConfig,
    ecs: Mutex<HashMap<String, aws_sdk_ecs::Client>>,
    kms: Mutex<HashMap<String, aws_sdk_kms::Client>>,
}

impl SdkClients {
    pub fn new(config: SdkConfig) -> Self {
        Self { config, ecs: Mutex::default(), kms: Mutex::default() }
    }

    /// The shared configuration with `region` (for the services used once
    /// per Region, which need no cache).
    fn regional(&self, region: &str) -> SdkConfig {
        self.config.to_builder().region(aws_config::Region::new(region.to_string())).build()
    }
}

impl Clients for SdkClients {
    fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        let mut cache = self.ecs.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_ecs::config::Builder::from(&self.config)
                    .region(aws_sdk_ecs::config::Region::new(region.to_string()))
                    .build();
                aws_sdk_ecs::Client::from_conf(conf)
            })
            .clone()
    }

    fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.regional(region))
    }

    fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.regional(region))
    }

    fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.regional(region))
    }

    fn sts(&self, region: &str) -> Option<aws_sdk_sts::Client> {
        Some(aws_sdk_sts::Client::new(&self.regional(region)))
    }

    fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let mut cache = self.kms.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_kms::config::Builder::from(&self.config)
                    .region(aws_sdk_kms::config::Region::new(region.to_string()))
                    .build();
                aws_sdk_kms::Client::from_conf(conf)
            })
            .clone()
    }
}

/// One collection run: the clients, the bound, and the request tally.
pub(crate) struct Run<'a> {
    clients: &'a dyn Clients,
    concurrency: usize,
    calls: Mutex<BTreeMap<String, u64>>,
}

impl Run<'_> {
    /// Counts one request of `operation` (and logs it at debug level).
    fn call(&self, operation: &str, resource: &str) {
        tracing::debug!(resource, "{operation}");
        *self.calls.lock().unwrap_or_else(|e| e.into_inner()).entry(operation.to_string()).or_default() += 1;
    }
}

/// Collects the inventory for `scope`. Never fails: what cannot be read is a gap.
pub async fn collect(
    clients: &dyn Clients,
    scope: &Scope,
    options: &CollectOptions,
    collected_at: Timestamp,
) -> Inventory {
    let run = Run { clients, concurrency: options.concurrency.max(1), calls: Mutex::default() };
    let mut inventory = Inventory::new(collected_at, scope.regions.clone());
    inventory.requested_clusters = scope.clusters.clone();
    inventory.requested_services = scope.services.clone();

    // Which clusters to describe, per Region. A cluster ARN names its own
    // Region; a bare name is looked for in every Region in scope. Whom the
    // facts are read as is asked alongside.
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let identity = identity(&run, scope.regions.first().map(String::as_str).unwrap_or("us-east-1"));
    let (identity, listed) = tokio::join!(identity, async {
        if scope.clusters.is_empty() { ecs::list_all(&run, &scope.regions).await } else { Vec::new() }
    });
    inventory.identity = identity;
    if scope.clusters.is_empty() {
        for (region, result) in listed {
            match result {
                Ok(arns) => targets.entry(region).or_default().extend(arns),
                Err(gap) => inventory.gaps.push(gap),
            }
        }
    } else {
        for reference in &scope.clusters {
            match Arn::parse(reference) {
                Some(arn) if !arn.region.is_empty() => {
                    targets.entry(arn.region.to_string()).or_default().push(reference.clone())
                }
                _ => {
                    for region in &scope.regions {
                        targets.entry(region.clone()).or_default().push(reference.clone());
                    }
                }
            }
        }
    }
    for refs in targets.values_mut() {
        let mut seen = BTreeSet::new();
        refs.retain(|r| seen.insert(r.clone()));
    }

    inventory.clusters = ecs::describe_all(&run, targets).await;
    inventory.clusters.sort_by(|a, b| (&a.region, &a.name, &a.arn).cmp(&(&b.region, &b.name, &b.arn)));
    inventory.clusters.dedup_by(|a, b| a.arn.is_some() && a.arn == b.arn);
    drop_missing_found_elsewhere(&mut inventory.clusters, &scope.clusters);

    // Services and their deployments: the keys that scale-outs and
    // replacements of running services will really use.
    let live: Vec<usize> = inventory
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(&c.lookup, ClusterLookup::Found { status, .. } if status != "INACTIVE"))
        .map(|(i, _)| i)
        .collect();
    if scope.skip_services {
        for i in live {
            inventory.clusters[i].services = Some(Fact::Skipped { reason: "--no-services".into() });
        }
    } else {
        let wanted: Vec<(usize, String, String)> = live
            .into_iter()
            .filter_map(|i| {
                let c = &inventory.clusters[i];
                Some((i, c.region.clone(), c.arn.clone()?))
            })
            .collect();
        for (i, services, missing) in ecs::services_all(&run, wanted, &scope.services).await {
            inventory.clusters[i].services = Some(services);
            inventory.missing_services.extend(missing);
        }
        if !scope.services.is_empty() {
            for c in &mut inventory.clusters {
                ecs::narrow_to_services(c);
            }
        }
    }

    let wanted: BTreeSet<(String, String)> = inventory.clusters.iter().flat_map(ecs::key_lookups).collect();
    for record in kms::describe_all(&run, wanted).await {
        inventory.keys.insert(record.reference.clone(), record);
    }

    // Policy, grants and rotation: once per key ARN, however many references
    // (id, ARN, alias, deployment pins) resolved to it.
    let cluster_accounts: BTreeSet<String> = inventory
        .clusters
        .iter()
        .filter_map(|c| c.arn.as_deref().and_then(Arn::parse).map(|a| a.account.to_string()))
        .collect();
    let mut plans = BTreeMap::new();
    for record in inventory.keys.values() {
        if let KeyLookup::Found { metadata } = &record.describe {
            plans.entry(metadata.arn.clone()).or_insert_with(|| kms::plan(&record.region, metadata, &cluster_accounts));
        }
    }
    for (arn, details) in kms::details_all(&run, plans.into_values().collect()).await {
        inventory.key_details.insert(arn, details);
    }
    if scope.alarms {
        let regions: BTreeSet<String> = inventory.clusters.iter().map(|c| c.region.clone()).collect();
        inventory.alarms = alarms::alarms_all(&run, regions.into_iter().collect()).await.into_iter().collect();
    }
    inventory.api_calls = run.calls.into_inner().unwrap_or_else(|e| e.into_inner());
    let total: u64 = inventory.api_calls.values().sum();
    tracing::info!(total, calls = ?inventory.api_calls, "AWS requests made");
    inventory
}

/// Whom the credentials belong to (sts:GetCallerIdentity, which needs no
/// permission). A failure is logged, not a gap: the checks do not need it.
async fn identity(run: &Run<'_>, region: &str) -> Option<crate::report::Identity> {
    let client = run.clients.sts(region)?;
    run.call("sts:GetCallerIdentity", region);
    match client.get_caller_identity().send().await {
        Ok(out) => Some(crate::report::Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        }),
        Err(err) => {
            tracing::warn!("sts:GetCallerIdentity failed: {}", aws_sdk_sts::error::DisplayErrorContext(&err));
            None
        }
    }
}

/// A bare cluster name is looked for in every Region in scope: it is missing
/// only if no Region has it, so its MISSING answers from the other Regions
/// are dropped once one Region found it.
fn drop_missing_found_elsewhere(clusters: &mut Vec<crate::inventory::Cluster>, requested: &[String]) {
    let found: BTreeSet<String> =
        clusters.iter().filter(|c| matches!(c.lookup, ClusterLookup::Found { .. })).map(|c| c.name.clone()).collect();
    let names: BTreeSet<&String> = requested.iter().filter(|r| Arn::parse(r).is_none()).collect();
    clusters.retain(|c| {
        !(matches!(c.lookup, ClusterLookup::Missing { .. }) && names.contains(&c.name) && found.contains(&c.name))
    });
}

/// For `audit`: the clusters configured with each Fargate key, by key ARN
/// (bare ids and aliases normalised as for `check`), with the gaps met.
pub async fn cluster_keys(
    clients: &dyn Clients,
    regions: &[String],
    concurrency: usize,
) -> (BTreeMap<String, BTreeSet<String>>, Vec<crate::inventory::Gap>) {
    let run = Run { clients, concurrency: concurrency.max(1), calls: Mutex::default() };
    let mut gaps = Vec::new();
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (region, result) in ecs::list_all(&run, regions).await {
        match result {
            Ok(arns) => targets.entry(region).or_default().extend(arns),
            Err(gap) => gaps.push(gap),
        }
    }
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for cluster in ecs::describe_all(&run, targets).await {
        if let ClusterLookup::Unreadable { gap } = &cluster.lookup {
            gaps.push(gap.clone());
        }
        for (_, reference) in ecs::key_lookups(&cluster) {
            map.entry(reference).or_default().insert(cluster.name.clone());
        }
    }
    gaps.dedup();
    (map, gaps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Cluster;

    fn cluster(name: &str, region: &str, found: bool) -> Cluster {
        let lookup = if found {
            ClusterLookup::Found { status: "ACTIVE".into(), key_usages: vec![] }
        } else {
            ClusterLookup::Missing { reason: "MISSING".into(), detail: None }
        };
        Cluster { name: name.into(), arn: None, region: region.into(), lookup, services: None }
    }

    #[test]
    fn missing_only_when_no_region_has_it() {
        let mut clusters = vec![
            cluster("prod", "us-east-1", true),
            cluster("prod", "eu-west-1", false),
            cluster("gone", "us-east-1", false),
            cluster("gone", "eu-west-1", false),
        ];
        drop_missing_found_elsewhere(&mut clusters, &["prod".into(), "gone".into()]);
        let left: Vec<(&str, &str, bool)> = clusters
            .iter()
            .map(|c| (c.name.as_str(), c.region.as_str(), matches!(c.lookup, ClusterLookup::Found { .. })))
            .collect();
        assert_eq!(left, [("prod", "us-east-1", true), ("gone", "us-east-1", false), ("gone", "eu-west-1", false)]);
    }
}
