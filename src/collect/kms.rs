//! KMS reads: DescribeKey, once per distinct key reference, asked in the
//! key's own Region.

use std::collections::BTreeSet;

use super::{Run, gap, names_next};
use crate::inventory::{Fact, Gap, GrantSummary, KeyDetails, KeyLookup, KeyMetadata, KeyRecord, Rotation};

/// Every alias of a Region by the ARN of the key it names: one paginated
/// ListAliases serves every key. `None` when it could not be read: aliases
/// are a display aid, so the failure is logged and the report shows ARNs.
pub async fn list_aliases(run: &Run<'_>, region: &str) -> Option<Vec<(String, String)>> {
    let mut pages = run.clients.kms(region).list_aliases().limit(100).into_paginator().send();
    let aliases = |page: &aws_sdk_kms::operation::list_aliases::ListAliasesOutput| -> Vec<(String, String)> {
        page.aliases()
            .iter()
            .filter_map(|alias| {
                let (name, arn, target) = (alias.alias_name()?, alias.alias_arn()?, alias.target_key_id()?);
                // arn:aws:kms:REGION:ACCOUNT:alias/NAME names the key's
                // account and Region; the target is a bare key id.
                let (prefix, _) = arn.split_once(":alias/")?;
                Some((format!("{prefix}:key/{target}"), name.to_string()))
            })
            .collect()
    };
    let listed = run
        .every_page("kms:ListAliases", region, &mut pages, aliases, |p| p.truncated() || names_next(p.next_marker()));
    match listed.await {
        Ok(out) => Some(out),
        // Aliases are a display aid (a partial list, which would name some
        // keys and not others, included): the report shows ARNs.
        Err(g) => {
            tracing::warn!("{} (keys are shown by ARN only)", g.describe());
            None
        }
    }
}

/// Connections to a KMS endpoint worth having open when a key's reads go
/// out: its four reads at once.
const KEY_READS: usize = 4;

/// How long a connection-opening read may take before it is given up.
const WARM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens KMS connections in `region` ahead of need, so that the key reads
/// that follow the first round trip do not each wait for a TCP and TLS
/// handshake after DescribeClusters returns: up to three more, beside the
/// Region's ListAliases, each by a ListAliases of one entry (a read the
/// tool already makes and needs permission for; its answer is dropped).
/// Only places free right now are used, so no real request waits for a
/// warming one; in a busy fleet run there are none, and nothing is sent.
/// Only over TLS: on a plain-HTTP endpoint (a local emulator or proxy) a
/// new connection costs no handshake, and the calls would buy nothing.
/// Once per Region in a run: every account's clients share the pool.
/// Tried once, given up after 3 s.
pub async fn warm(run: &Run<'_>, region: &str) {
    if !run.clients.warm_kms() || !run.shared.first_warm(region) {
        return;
    }
    let slots: Vec<_> = std::iter::from_fn(|| run.spare_call("kms:ListAliases", region)).take(KEY_READS - 1).collect();
    if slots.is_empty() {
        return;
    }
    tracing::debug!(region, connections = slots.len(), "opening KMS connections ahead of the key reads");
    let client = run.clients.kms(region);
    // Tried once, briefly: the run waits for these, and a connection that
    // is slow to open is no help.
    let once = aws_sdk_kms::config::Builder::default()
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .timeout_config(aws_sdk_kms::config::timeout::TimeoutConfig::builder().operation_timeout(WARM_TIMEOUT).build());
    futures_util::future::join_all(slots.into_iter().map(|slot| {
        let request = client.list_aliases().limit(1).customize().config_override(once.clone()).send();
        async move {
            // Whatever the answer (a denial included), the connection is open.
            let _ = request.await;
            drop(slot);
        }
    }))
    .await;
}

/// DescribeKey for one reference, in its Region.
pub async fn describe_one(run: &Run<'_>, region: String, reference: String) -> KeyRecord {
    let describe = describe(run, &region, &reference).await;
    KeyRecord { reference, region, describe }
}

async fn describe(run: &Run<'_>, region: &str, reference: &str) -> KeyLookup {
    let slot = run.call("kms:DescribeKey", reference).await;
    let answer = run.kms_for(reference, region).describe_key().key_id(reference).send().await;
    drop(slot);
    match answer {
        Ok(output) => match output.key_metadata() {
            Some(m) if !answers(reference, m) => KeyLookup::Unreadable {
                gap: Gap {
                    operation: "kms:DescribeKey".to_string(),
                    resource: reference.to_string(),
                    code: "NotReturned".to_string(),
                    message: format!(
                        "DescribeKey answered for another key ({}), not the one asked for",
                        m.arn().or(Some(m.key_id())).unwrap_or_default()
                    ),
                },
            },
            Some(m) => KeyLookup::Found { metadata: Box::new(metadata(m)) },
            None => KeyLookup::Unreadable {
                gap: Gap {
                    operation: "kms:DescribeKey".to_string(),
                    resource: reference.to_string(),
                    code: "EmptyResponse".to_string(),
                    message: "DescribeKey returned no KeyMetadata".to_string(),
                },
            },
        },
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => KeyLookup::NotFound {
            message: err.as_service_error().and_then(|e| e.meta().message()).unwrap_or_default().to_string(),
        },
        Err(err) => KeyLookup::Unreadable { gap: gap("kms:DescribeKey", reference, &err) },
    }
}

/// Whether DescribeKey's answer is about the key asked for: a key ARN or a
/// bare key id names exactly one key, and an answer about another is a
/// fact requested but not returned. (An alias may point at any key: its
/// answer cannot be checked this way.)
fn answers(reference: &str, m: &aws_sdk_kms::types::KeyMetadata) -> bool {
    if reference.starts_with("alias/") || reference.contains(":alias/") {
        return true;
    }
    if reference.starts_with("arn:") {
        return m.arn().is_some_and(|arn| arn.eq_ignore_ascii_case(reference));
    }
    m.key_id().eq_ignore_ascii_case(reference)
}

fn timestamp(t: &aws_sdk_kms::primitives::DateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

pub(super) fn metadata(m: &aws_sdk_kms::types::KeyMetadata) -> KeyMetadata {
    KeyMetadata {
        arn: m.arn().unwrap_or(m.key_id()).to_string(),
        key_id: m.key_id().to_string(),
        account_id: m.aws_account_id().map(str::to_string),
        key_state: m.key_state().map(|s| crate::inventory::KeyState::parse(s.as_str())),
        key_manager: m.key_manager().map(|s| s.as_str().to_string()),
        key_spec: m.key_spec().map(|s| s.as_str().to_string()),
        key_usage: m.key_usage().map(|s| s.as_str().to_string()),
        origin: m.origin().map(|s| s.as_str().to_string()),
        multi_region: m.multi_region(),
        multi_region_key_type: m
            .multi_region_configuration()
            .and_then(|c| c.multi_region_key_type())
            .map(|t| t.as_str().to_string()),
        custom_key_store_id: m.custom_key_store_id().map(str::to_string),
        deletion_date: m.deletion_date().and_then(timestamp),
        pending_deletion_window_in_days: m.pending_deletion_window_in_days(),
        valid_to: m.valid_to().and_then(timestamp),
        expiration_model: m.expiration_model().map(|s| s.as_str().to_string()),
    }
}

/// Which detail reads to make for one key, and why some are skipped.
#[derive(Debug, Clone)]
pub struct DetailPlan {
    pub region: String,
    pub arn: String,
    /// `Some(reason)` to skip GetKeyPolicy.
    pub skip_policy: Option<String>,
    /// `Some(reason)` to skip GetKeyRotationStatus.
    pub skip_rotation: Option<String>,
}

/// Reads policy, grants and rotation of one planned key, concurrently (each
/// request under the run's one in-flight limit).
pub async fn details_one(run: &Run<'_>, plan: DetailPlan) -> (DetailPlan, KeyDetails) {
    let client = run.kms_for(&plan.arn, &plan.region);
    let (policy, grants, rotation) =
        tokio::join!(policy(run, &client, &plan), grants(run, &client, &plan), rotation(run, &client, &plan));
    (plan, KeyDetails { policy, grants, rotation })
}

async fn policy(run: &Run<'_>, client: &aws_sdk_kms::Client, plan: &DetailPlan) -> Fact<String> {
    if let Some(reason) = &plan.skip_policy {
        return Fact::Skipped { reason: reason.clone() };
    }
    // PolicyName is optional in the API, but some implementations (the
    // emulator among them) need it; "default" is the only valid name.
    let slot = run.call("kms:GetKeyPolicy", &plan.arn).await;
    let answer = client.get_key_policy().key_id(&plan.arn).policy_name("default").send().await;
    drop(slot);
    match answer {
        Ok(out) => match out.policy {
            Some(value) => Fact::Read { value },
            None => Fact::Unreadable {
                gap: Gap {
                    operation: "kms:GetKeyPolicy".into(),
                    resource: plan.arn.clone(),
                    code: "EmptyResponse".into(),
                    message: "GetKeyPolicy returned no Policy".into(),
                },
            },
        },
        Err(err) => Fact::Unreadable { gap: gap("kms:GetKeyPolicy", &plan.arn, &err) },
    }
}

async fn grants(run: &Run<'_>, client: &aws_sdk_kms::Client, plan: &DetailPlan) -> Fact<GrantSummary> {
    let mut pages = client.list_grants().key_id(&plan.arn).limit(100).into_paginator().send();
    let listed = run.every_page(
        "kms:ListGrants",
        &plan.arn,
        &mut pages,
        |p| p.grants().to_vec(),
        |p| p.truncated() || names_next(p.next_marker()),
    );
    let grants = match listed.await {
        Ok(grants) => grants,
        Err(gap) => return Fact::Unreadable { gap },
    };
    let mut summary = GrantSummary { total: grants.len() as u64, ..GrantSummary::default() };
    for g in &grants {
        let grantee = g.grantee_principal().or(g.grantee_service_principal()).unwrap_or_default();
        if !is_fargate_principal(grantee) {
            continue;
        }
        summary.fargate += 1;
        let context = g.constraints().and_then(|c| c.encryption_context_subset().or(c.encryption_context_equals()));
        // Grant constraint keys are case-insensitive (KMS GrantConstraints).
        let cluster = context.and_then(|ctx| {
            ctx.iter().find(|(k, _)| k.eq_ignore_ascii_case("aws:ecs:clusterName")).map(|(_, v)| v.clone())
        });
        if let Some(cluster) = cluster {
            *summary.fargate_by_cluster.entry(cluster).or_default() += 1;
        }
    }
    Fact::Read { value: summary }
}

/// `fargate.<region>.amazonaws.com`, the grantee of Fargate's grants.
fn is_fargate_principal(principal: &str) -> bool {
    principal.starts_with("fargate.") && principal.ends_with(".amazonaws.com")
}

async fn rotation(run: &Run<'_>, client: &aws_sdk_kms::Client, plan: &DetailPlan) -> Fact<Rotation> {
    if let Some(reason) = &plan.skip_rotation {
        return Fact::Skipped { reason: reason.clone() };
    }
    let slot = run.call("kms:GetKeyRotationStatus", &plan.arn).await;
    let answer = client.get_key_rotation_status().key_id(&plan.arn).send().await;
    drop(slot);
    match answer {
        Ok(out) => Fact::Read {
            value: Rotation {
                enabled: out.key_rotation_enabled(),
                period_days: out.rotation_period_in_days(),
                next_rotation: out.next_rotation_date().and_then(timestamp),
            },
        },
        Err(err) => Fact::Unreadable { gap: gap("kms:GetKeyRotationStatus", &plan.arn, &err) },
    }
}

/// The detail reads one described key needs. `cluster_accounts` are the
/// accounts of the clusters that use it: the caller's own.
pub fn plan(region: &str, m: &KeyMetadata, cluster_accounts: &BTreeSet<String>) -> DetailPlan {
    let key_account = crate::inventory::Arn::parse(&m.arn).map(|a| a.account.to_string()).or(m.account_id.clone());
    let skip_policy = match key_account {
        Some(account) if !cluster_accounts.is_empty() && !cluster_accounts.contains(&account) => {
            Some(format!("the key belongs to account {account}, and GetKeyPolicy does not work across accounts"))
        }
        _ => None,
    };
    let origin = m.origin.as_deref().unwrap_or("AWS_KMS");
    let skip_rotation = if m.key_spec.as_deref().is_some_and(|s| s != "SYMMETRIC_DEFAULT") {
        Some("only symmetric encryption keys rotate automatically".to_string())
    } else if origin != "AWS_KMS" || m.custom_key_store_id.is_some() {
        Some(format!("keys with Origin {origin} cannot rotate automatically"))
    } else {
        None
    };
    DetailPlan { region: region.to_string(), arn: m.arn.clone(), skip_policy, skip_rotation }
}
