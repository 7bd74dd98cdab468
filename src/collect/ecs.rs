//! ECS reads: ListClusters (every page) and DescribeClusters (batches of at
//! most 100, with `include=CONFIGURATIONS`, without which the key settings
//! are not returned).

use std::collections::BTreeMap;

use aws_sdk_ecs::types::ClusterField;
use futures_util::{StreamExt, stream};

use super::{Clients, gap};
use crate::inventory::{Arn, Cluster, ClusterLookup, Gap, KeyUsage, Usage, key_lookup_reference};

/// DescribeClusters takes at most 100 clusters per call.
const DESCRIBE_BATCH: usize = 100;

/// Every cluster ARN in each Region, or the gap that stopped the listing.
pub async fn list_all(
    clients: &dyn Clients,
    regions: &[String],
    concurrency: usize,
) -> Vec<(String, Result<Vec<String>, Gap>)> {
    stream::iter(regions.iter().cloned())
        .map(|region| async move {
            let client = clients.ecs(&region);
            tracing::debug!(region, "ecs:ListClusters");
            let result = client
                .list_clusters()
                .max_results(100)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| gap("ecs:ListClusters", &region, &e));
            (region, result)
        })
        .buffered(concurrency)
        .collect()
        .await
}

/// Describes the requested clusters of each Region.
pub async fn describe_all(
    clients: &dyn Clients,
    targets: BTreeMap<String, Vec<String>>,
    concurrency: usize,
) -> Vec<Cluster> {
    let batches: Vec<(String, Vec<String>)> = targets
        .into_iter()
        .flat_map(|(region, refs)| {
            refs.chunks(DESCRIBE_BATCH).map(|chunk| (region.clone(), chunk.to_vec())).collect::<Vec<_>>()
        })
        .collect();
    let results: Vec<Vec<Cluster>> = stream::iter(batches)
        .map(|(region, refs)| async move { describe_batch(clients, &region, refs).await })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.into_iter().flatten().collect()
}

async fn describe_batch(clients: &dyn Clients, region: &str, refs: Vec<String>) -> Vec<Cluster> {
    tracing::debug!(region, count = refs.len(), "ecs:DescribeClusters");
    let response = clients
        .ecs(region)
        .describe_clusters()
        .set_clusters(Some(refs.clone()))
        .include(ClusterField::Configurations)
        .send()
        .await;
    let output = match response {
        Ok(output) => output,
        Err(err) => {
            let gap = gap("ecs:DescribeClusters", &format!("{} cluster(s) in {region}", refs.len()), &err);
            return refs
                .into_iter()
                .map(|r| Cluster {
                    name: cluster_name(&r).to_string(),
                    arn: Arn::parse(&r).map(|_| r.clone()),
                    region: region.to_string(),
                    lookup: ClusterLookup::Unreadable { gap: gap.clone() },
                })
                .collect();
        }
    };
    let mut clusters: Vec<Cluster> = output.clusters().iter().map(|c| found(c, region)).collect();
    clusters.extend(output.failures().iter().map(|f| {
        let arn = f.arn().unwrap_or_default();
        Cluster {
            name: cluster_name(arn).to_string(),
            arn: Arn::parse(arn).map(|_| arn.to_string()),
            region: region.to_string(),
            lookup: ClusterLookup::Missing {
                reason: f.reason().unwrap_or("UNKNOWN").to_string(),
                detail: f.detail().map(str::to_string),
            },
        }
    }));
    clusters
}

fn found(c: &aws_sdk_ecs::types::Cluster, region: &str) -> Cluster {
    let arn = c.cluster_arn().unwrap_or_default().to_string();
    // The ARN's Region is authoritative; the one we asked is the fallback.
    let region =
        Arn::parse(&arn).map(|a| a.region.to_string()).filter(|r| !r.is_empty()).unwrap_or_else(|| region.to_string());
    let config = c.configuration();
    let storage = config.and_then(|c| c.managed_storage_configuration());
    let exec = config.and_then(|c| c.execute_command_configuration());
    let configured = |usage: Usage| -> Option<String> {
        let value = match usage {
            Usage::FargateEphemeralStorage => storage.and_then(|s| s.fargate_ephemeral_storage_kms_key_id()),
            Usage::ManagedStorage => storage.and_then(|s| s.kms_key_id()),
            Usage::ExecuteCommand => exec.and_then(|e| e.kms_key_id()),
        };
        value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
    };
    let key_usages = Usage::ALL
        .into_iter()
        .map(|usage| {
            let configured = configured(usage);
            let lookup = configured.as_deref().map(|k| key_lookup_reference(k, &arn, &region).1);
            KeyUsage { usage, configured, lookup }
        })
        .collect();
    Cluster {
        name: c.cluster_name().map(str::to_string).unwrap_or_else(|| cluster_name(&arn).to_string()),
        arn: Some(arn),
        region,
        lookup: ClusterLookup::Found { status: c.status().unwrap_or("UNKNOWN").to_string(), key_usages },
    }
}

fn cluster_name(reference: &str) -> &str {
    Arn::parse(reference).map_or(reference, |a| a.resource_name())
}

/// The `(region, reference)` pairs DescribeKey must be asked for this cluster.
pub fn key_lookups(cluster: &Cluster) -> Vec<(String, String)> {
    let ClusterLookup::Found { key_usages, .. } = &cluster.lookup else {
        return Vec::new();
    };
    let arn = cluster.arn.as_deref().unwrap_or_default();
    key_usages
        .iter()
        .filter_map(|u| u.configured.as_deref())
        .map(|k| key_lookup_reference(k, arn, &cluster.region))
        .collect()
}
