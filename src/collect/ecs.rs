//! ECS reads: ListClusters and ListServices (every page), DescribeClusters
//! (batches of at most 100, with `include=CONFIGURATIONS`, without which the
//! key settings are not returned) and DescribeServices (batches of at most 10).

use std::collections::BTreeMap;

use aws_sdk_ecs::types::ClusterField;
use futures_util::future::join_all;

use super::{Run, gap, names_next};
use crate::inventory::{
    Arn, Cluster, ClusterKey, ClusterLookup, Deployment, Fact, Gap, KeyRole, MissingService, Service,
    key_lookup_reference,
};

/// DescribeClusters takes at most 100 clusters per call.
const DESCRIBE_CLUSTERS_BATCH: usize = 100;
/// DescribeServices takes at most 10 services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;

/// Every cluster ARN in each Region, or the gap that stopped the listing.
pub async fn list_all(run: &Run<'_>, regions: &[String]) -> Vec<(String, Result<Vec<String>, Gap>)> {
    join_all(regions.iter().map(|region| async move { (region.clone(), list_clusters(run, region).await) })).await
}

/// Every cluster ARN of one Region (every page).
pub async fn list_clusters(run: &Run<'_>, region: &str) -> Result<Vec<String>, Gap> {
    let mut pages = run.clients.ecs(region).list_clusters().max_results(100).into_paginator().send();
    run.every_page(
        "ecs:ListClusters",
        region,
        &mut pages,
        |p| p.cluster_arns().to_vec(),
        |p| names_next(p.next_token()),
    )
    .await
}

/// One page of a Region's cluster ARNs (at most 100, DescribeClusters's
/// batch), and the token of the next page, if any: a whole-Region run
/// describes each page as it comes instead of waiting for the last.
pub async fn list_clusters_page(
    run: &Run<'_>,
    region: &str,
    token: Option<String>,
) -> Result<(Vec<String>, Option<String>), Gap> {
    let slot = run.call("ecs:ListClusters", region).await;
    let answer = run.clients.ecs(region).list_clusters().max_results(100).set_next_token(token).send().await;
    drop(slot);
    match answer {
        Ok(out) => {
            let next = out.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            Ok((out.cluster_arns.unwrap_or_default(), next))
        }
        Err(e) => Err(gap("ecs:ListClusters", region, &e)),
    }
}

/// The batches of at most 100 that DescribeClusters takes.
pub fn batches(refs: &[String]) -> impl Iterator<Item = Vec<String>> + '_ {
    refs.chunks(DESCRIBE_CLUSTERS_BATCH).map(<[String]>::to_vec)
}

/// Describes the requested clusters of each Region.
pub async fn describe_all(run: &Run<'_>, targets: BTreeMap<String, Vec<String>>) -> Vec<Cluster> {
    let batches: Vec<(String, Vec<String>)> = targets
        .into_iter()
        .flat_map(|(region, refs)| batches(&refs).map(|b| (region.clone(), b)).collect::<Vec<_>>())
        .collect();
    let results =
        join_all(batches.into_iter().map(|(region, refs)| async move { describe_batch(run, &region, refs).await }))
            .await;
    results.into_iter().flatten().collect()
}

pub async fn describe_batch(run: &Run<'_>, region: &str, refs: Vec<String>) -> Vec<Cluster> {
    let slot = run.call("ecs:DescribeClusters", region).await;
    let response = run
        .clients
        .ecs(region)
        .describe_clusters()
        .set_clusters(Some(refs.clone()))
        .include(ClusterField::Configurations)
        .send()
        .await;
    drop(slot);
    let output = match response {
        Ok(output) => output,
        Err(err) => {
            let gap = gap("ecs:DescribeClusters", &format!("{} cluster(s) in {region}", refs.len()), &err);
            return refs
                .into_iter()
                .map(|r| Cluster {
                    name: cluster_name(&r).to_string(),
                    account: None,
                    arn: Arn::parse(&r).map(|_| r.clone()),
                    region: region.to_string(),
                    lookup: ClusterLookup::Unreadable { gap: gap.clone() },
                    services: None,
                })
                .collect();
        }
    };
    let mut clusters: Vec<Cluster> = output.clusters().iter().map(|c| found(c, region)).collect();
    clusters.extend(output.failures().iter().map(|f| {
        let arn = f.arn().unwrap_or_default();
        Cluster {
            name: cluster_name(arn).to_string(),
            account: None,
            arn: Arn::parse(arn).map(|_| arn.to_string()),
            region: region.to_string(),
            lookup: ClusterLookup::Missing {
                reason: f.reason().unwrap_or("UNKNOWN").to_string(),
                detail: f.detail().map(str::to_string),
                similar: Vec::new(),
            },
            services: None,
        }
    }));
    // Every cluster asked for must come back, described or listed as a
    // failure. An answer that leaves one out says nothing about it: that
    // is unknown, never "no such cluster" and never a pass.
    for r in refs {
        let name = cluster_name(&r);
        if !clusters.iter().any(|c| c.arn.as_deref() == Some(r.as_str()) || c.name == name) {
            clusters.push(Cluster {
                name: name.to_string(),
                account: None,
                arn: Arn::parse(&r).map(|_| r.clone()),
                region: region.to_string(),
                lookup: ClusterLookup::Unreadable { gap: not_returned("ecs:DescribeClusters", &r) },
                services: None,
            });
        }
    }
    clusters
}

/// The gap for something asked for by name that the answer left out.
fn not_returned(operation: &str, resource: &str) -> Gap {
    tracing::warn!(operation, resource, "requested, not returned");
    Gap {
        operation: operation.to_string(),
        resource: resource.to_string(),
        code: "NotReturned".to_string(),
        message: "requested, not returned: the answer neither described it nor listed it as a failure".to_string(),
    }
}

fn found(c: &aws_sdk_ecs::types::Cluster, region: &str) -> Cluster {
    let arn = c.cluster_arn().unwrap_or_default().to_string();
    // The ARN's Region is authoritative; the one we asked is the fallback.
    let region =
        Arn::parse(&arn).map(|a| a.region.to_string()).filter(|r| !r.is_empty()).unwrap_or_else(|| region.to_string());
    let config = c.configuration();
    let storage = config.and_then(|c| c.managed_storage_configuration());
    let exec = config.and_then(|c| c.execute_command_configuration());
    let key_usages = KeyRole::ALL
        .into_iter()
        .map(|usage| {
            let value = match usage {
                KeyRole::FargateEphemeralStorage => storage.and_then(|s| s.fargate_ephemeral_storage_kms_key_id()),
                KeyRole::ManagedStorage => storage.and_then(|s| s.kms_key_id()),
                KeyRole::ExecuteCommand => exec.and_then(|e| e.kms_key_id()),
            };
            key_usage(usage, value, &arn, &region)
        })
        .collect();
    Cluster {
        name: c.cluster_name().map(str::to_string).unwrap_or_else(|| cluster_name(&arn).to_string()),
        account: None,
        arn: Some(arn),
        region,
        lookup: ClusterLookup::Found { status: c.status().unwrap_or("UNKNOWN").to_string(), key_usages },
        services: None,
    }
}

/// A key usage for a key reference as configured (blank means none).
fn key_usage(usage: KeyRole, configured: Option<&str>, cluster_arn: &str, region: &str) -> ClusterKey {
    let configured = configured.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let lookup = configured.as_deref().map(|k| key_lookup_reference(k, cluster_arn, region).1);
    ClusterKey { usage, configured, lookup, skipped: None }
}

pub(super) fn cluster_name(reference: &str) -> &str {
    Arn::parse(reference).map_or(reference, |a| a.resource_name())
}

/// Reads the services of one cluster (a name or an ARN): the `requested`
/// ones when given (no ListServices call), else every service.
pub async fn services_of(
    run: &Run<'_>,
    region: &str,
    cluster: &str,
    requested: &[String],
) -> (Fact<Vec<Service>>, Vec<MissingService>) {
    let names = if requested.is_empty() {
        match list_services(run, region, cluster).await {
            Ok(arns) => arns,
            Err(gap) => return (Fact::Unreadable { gap }, Vec::new()),
        }
    } else {
        requested.to_vec()
    };
    describe_services(run, region, cluster, names).await
}

async fn list_services(run: &Run<'_>, region: &str, cluster_arn: &str) -> Result<Vec<String>, Gap> {
    let mut pages =
        run.clients.ecs(region).list_services().cluster(cluster_arn).max_results(100).into_paginator().send();
    run.every_page(
        "ecs:ListServices",
        cluster_arn,
        &mut pages,
        |p| p.service_arns().to_vec(),
        |p| names_next(p.next_token()),
    )
    .await
}

async fn describe_services(
    run: &Run<'_>,
    region: &str,
    cluster_arn: &str,
    names: Vec<String>,
) -> (Fact<Vec<Service>>, Vec<MissingService>) {
    let cluster = cluster_name(cluster_arn).to_string();
    let batches: Vec<Vec<String>> = names.chunks(DESCRIBE_SERVICES_BATCH).map(<[String]>::to_vec).collect();
    let results: Vec<_> = join_all(batches.into_iter().map(|batch| async move {
        let sent = batch.clone();
        let _slot = run.call("ecs:DescribeServices", cluster_arn).await;
        (sent, run.clients.ecs(region).describe_services().cluster(cluster_arn).set_services(Some(batch)).send().await)
    }))
    .await;
    let mut services = Vec::new();
    let mut missing = Vec::new();
    for (sent, result) in results {
        match result {
            Ok(out) => {
                // Every service asked for must come back, described or as a failure.
                let last = |s: &str| s.rsplit('/').next().unwrap_or_default().to_string();
                let answered: Vec<String> = out
                    .services()
                    .iter()
                    .filter_map(|s| s.service_name().map(str::to_string).or_else(|| s.service_arn().map(last)))
                    .chain(out.failures().iter().filter_map(|f| f.arn().map(last)))
                    .collect();
                if let Some(lost) = sent.iter().find(|n| !answered.contains(&last(n))) {
                    let resource = format!("service {} of {cluster_arn}", last(lost));
                    return (Fact::Unreadable { gap: not_returned("ecs:DescribeServices", &resource) }, Vec::new());
                }
                services.extend(out.services().iter().map(|s| service(s, cluster_arn, region)));
                missing.extend(out.failures().iter().map(|f| MissingService {
                    cluster: cluster.clone(),
                    // arn:…:service/CLUSTER/NAME (or the old service/NAME): the name is last.
                    service: f.arn().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string(),
                    reason: f.reason().unwrap_or("UNKNOWN").to_string(),
                }));
            }
            Err(err) => return (Fact::Unreadable { gap: gap("ecs:DescribeServices", cluster_arn, &err) }, Vec::new()),
        }
    }
    // A deleted service lingers as INACTIVE for a while; it starts no tasks.
    services.retain(|s| s.status.as_deref() != Some("INACTIVE"));
    services.sort_by(|a, b| a.name.cmp(&b.name));
    (Fact::Read { value: services }, missing)
}

fn service(s: &aws_sdk_ecs::types::Service, cluster_arn: &str, region: &str) -> Service {
    let providers = |items: &[aws_sdk_ecs::types::CapacityProviderStrategyItem]| {
        items.iter().map(|c| c.capacity_provider().to_string()).collect::<Vec<_>>()
    };
    let deployments = s
        .deployments()
        .iter()
        .filter(|d| matches!(d.status(), Some("PRIMARY" | "ACTIVE")))
        .map(|d| {
            let pinned = d.fargate_ephemeral_storage().and_then(|e| e.kms_key_id());
            Deployment {
                id: d.id().unwrap_or_default().to_string(),
                status: d.status().unwrap_or_default().to_string(),
                launch_type: d.launch_type().map(|l| l.as_str().to_string()),
                capacity_providers: providers(d.capacity_provider_strategy()),
                desired: d.desired_count(),
                running: d.running_count(),
                pending: d.pending_count(),
                managed_ebs: d.volume_configurations().iter().any(|v| v.managed_ebs_volume().is_some()),
                ephemeral_storage_key: pinned
                    .map(|k| key_usage(KeyRole::FargateEphemeralStorage, Some(k), cluster_arn, region))
                    .filter(|u| u.configured.is_some()),
            }
        })
        .collect();
    Service {
        name: s.service_name().unwrap_or_default().to_string(),
        arn: s.service_arn().map(str::to_string),
        status: s.status().map(str::to_string),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        capacity_providers: providers(s.capacity_provider_strategy()),
        desired: s.desired_count(),
        running: s.running_count(),
        pending: s.pending_count(),
        exec_enabled: s.enable_execute_command(),
        deployments,
    }
}

/// In a `--service` run, the cluster's ECS-managed EBS and ECS Exec keys are
/// only checked when one of the targeted services uses them.
pub fn narrow_to_services(cluster: &mut Cluster) {
    let Some(Fact::Read { value: services }) = &cluster.services else { return };
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    let uses_ebs = services.iter().any(|s| s.deployments.iter().any(|d| d.managed_ebs));
    let uses_exec = services.iter().any(|s| s.exec_enabled);
    // The Fargate ephemeral storage key concerns only tasks on Fargate: an
    // EC2 or EXTERNAL service's tasks never use it. (ECS-managed EBS volumes
    // and ECS Exec work on both, so those keys depend on the service's use.)
    let uses_fargate = services.iter().any(|s| s.platform() != crate::inventory::Platform::NotFargate);
    let ClusterLookup::Found { key_usages, .. } = &mut cluster.lookup else { return };
    for u in key_usages.iter_mut() {
        let (needed, what) = match u.usage {
            KeyRole::FargateEphemeralStorage => (
                uses_fargate,
                "runs on the EC2 or EXTERNAL launch type, which does not use the Fargate ephemeral storage key",
            ),
            KeyRole::ManagedStorage => (uses_ebs, "attaches no ECS-managed EBS volume"),
            KeyRole::ExecuteCommand => (uses_exec, "does not enable ECS Exec"),
        };
        if needed {
            continue;
        }
        if let Some(configured) = u.configured.take() {
            u.lookup = None;
            u.skipped = Some(format!("key {configured} not checked: service {} {what}", names.join(", ")));
        }
    }
}

/// The `(region, reference)` pairs DescribeKey must be asked for this
/// cluster: its own key usages and the keys its deployments were created with.
pub fn key_lookups(cluster: &Cluster) -> Vec<(String, String)> {
    let arn = cluster.arn.as_deref().unwrap_or_default();
    cluster
        .usages_with_pinned()
        .filter_map(|u| u.configured.as_deref())
        .map(|k| key_lookup_reference(k, arn, &cluster.region))
        .collect()
}
