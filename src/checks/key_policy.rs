//! `key-policy`: would the key policy let Fargate make, for *this* cluster,
//! the four requests a task launch makes ([ECS-MGMT] CloudTrail samples)?
//! GenerateDataKeyWithoutPlaintext and CreateGrant, each first as a DryRun
//! (encryption context: cluster account and name) and then for real (the
//! same plus `aws:ebs:id`). A service principal has no IAM identity, so only
//! the key policy can let it in.

use std::fmt::Write as _;

use super::{CheckMeta, ClusterCtx, FARGATE_ONLY, UsageCtx};
use crate::finding::Finding;
use crate::inventory::{Fact, KeyMetadata};
use crate::policy::{self, Decision, Evaluation, Principal, Request};

pub static META: CheckMeta = CheckMeta {
    id: "key-policy",
    title: "The key policy lets Fargate generate data keys and create grants for this cluster",
    usages: FARGATE_ONLY,
};

/// The service principal Fargate's key-policy statements name.
pub const FARGATE: &str = "fargate.amazonaws.com";

/// One of the four launch-time requests.
pub struct LaunchRequest {
    /// How messages name it, e.g. "CreateGrant (DryRun)".
    pub label: &'static str,
    pub dry_run: bool,
    pub request: Request,
}

/// The requests Fargate makes for a task of `cluster_name` in `account`,
/// against `key_arn` in `region`, as the domain reference (sections 2 and 7)
/// describes them. `now` fills the date keys.
pub fn launch_requests(
    account: &str,
    cluster_name: &str,
    region: &str,
    key_arn: &str,
    now: jiff::Timestamp,
) -> Vec<LaunchRequest> {
    let build = |action: &str, dry_run: bool| {
        let mut keys = vec!["aws:ecs:clusterAccount", "aws:ecs:clusterName"];
        if !dry_run {
            keys.push("aws:ebs:id");
        }
        let mut r = Request::new(Principal::service(FARGATE), action, key_arn)
            .with("kms:EncryptionContext:aws:ecs:clusterAccount", account)
            .with("kms:EncryptionContext:aws:ecs:clusterName", cluster_name)
            .with_multi("kms:EncryptionContextKeys", &keys)
            // The whole encryption context is known: any other pair is absent.
            .absent_unless_listed("kms:EncryptionContext:")
            // Documented for calls made directly by a service principal.
            .with("aws:PrincipalIsAWSService", "true")
            .with("aws:PrincipalServiceName", FARGATE)
            .with("aws:RequestedRegion", region)
            .with("aws:CurrentTime", &now.to_string())
            .with("aws:EpochTime", &now.as_second().to_string());
        if !dry_run {
            // The volume id is in the context, but not known in advance.
            r = r.with_unknown_value("kms:EncryptionContext:aws:ebs:id");
        }
        if action == "kms:CreateGrant" {
            r = r
                .with_multi("kms:GrantOperations", &["Decrypt"])
                .with("kms:GranteePrincipal", &format!("fargate.{region}.amazonaws.com"))
                .with("kms:GrantConstraintType", "EncryptionContextSubset");
            r = if dry_run {
                r.without("kms:RetiringPrincipal")
            } else {
                r.with("kms:RetiringPrincipal", &format!("ec2.{region}.amazonaws.com"))
            };
        } else {
            for key in [
                "kms:GrantOperations",
                "kms:GranteePrincipal",
                "kms:RetiringPrincipal",
                "kms:GrantConstraintType",
                "kms:GrantIsForAWSResource",
            ] {
                r = r.without(key);
            }
        }
        r
    };
    vec![
        LaunchRequest {
            label: "GenerateDataKeyWithoutPlaintext (DryRun)",
            dry_run: true,
            request: build("kms:GenerateDataKeyWithoutPlaintext", true),
        },
        LaunchRequest { label: "CreateGrant (DryRun)", dry_run: true, request: build("kms:CreateGrant", true) },
        LaunchRequest {
            label: "GenerateDataKeyWithoutPlaintext",
            dry_run: false,
            request: build("kms:GenerateDataKeyWithoutPlaintext", false),
        },
        LaunchRequest { label: "CreateGrant", dry_run: false, request: build("kms:CreateGrant", false) },
    ]
}

/// The statements [ECS-KEY] documents, filled in for one cluster, as
/// pretty JSON: the fixtures' policies (the report prints the compact form).
#[cfg(test)]
pub fn fargate_statements(account: &str, cluster_name: &str) -> String {
    serde_json::to_string_pretty(&statements_value(account, cluster_name)).unwrap_or_default()
}

/// The same statements as a JSON array with one statement per line: two
/// lines in a report instead of forty, still valid JSON to paste.
pub fn fargate_statements_compact(account: &str, cluster_name: &str) -> String {
    let value = statements_value(account, cluster_name);
    let lines: Vec<String> = value
        .as_array()
        .map(|a| a.iter().map(|s| serde_json::to_string(s).unwrap_or_default()).collect())
        .unwrap_or_default();
    format!("[{}]", lines.join(",\n "))
}

fn statements_value(account: &str, cluster_name: &str) -> serde_json::Value {
    serde_json::json!([
        {
            "Sid": "Allow generate data key access for Fargate tasks.",
            "Effect": "Allow",
            "Principal": {"Service": FARGATE},
            "Action": ["kms:GenerateDataKeyWithoutPlaintext"],
            "Condition": {"StringEquals": {
                "kms:EncryptionContext:aws:ecs:clusterAccount": [account],
                "kms:EncryptionContext:aws:ecs:clusterName": [cluster_name]
            }},
            "Resource": "*"
        },
        {
            "Sid": "Allow grant creation permission for Fargate tasks.",
            "Effect": "Allow",
            "Principal": {"Service": FARGATE},
            "Action": ["kms:CreateGrant"],
            "Condition": {
                "StringEquals": {
                    "kms:EncryptionContext:aws:ecs:clusterAccount": [account],
                    "kms:EncryptionContext:aws:ecs:clusterName": [cluster_name]
                },
                "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}
            },
            "Resource": "*"
        }
    ])
}

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.for_each_described(&META, |u, m| Some(judge(ctx, u, m)))
}

fn judge(ctx: &ClusterCtx<'_>, u: &UsageCtx<'_>, m: &KeyMetadata) -> Finding {
    let prefix = u.pinned_prefix();
    let unknown = |why: String| {
        u.attach(Finding::unknown(
            &META,
            format!("{prefix}Whether the key policy of {} lets Fargate use it is unknown: {why}", m.arn),
        ))
    };
    let Some(details) = u.details() else {
        return unknown("the key policy was not collected (an inventory from an older version?).".into());
    };
    match &details.policy {
        Fact::Read { .. } => {}
        Fact::Unreadable { gap } => {
            return unknown(format!("{}.", gap.describe())).with_remediation(format!(
                "Allow kms:GetKeyPolicy on {} to the identity running ecs-key-preflight (see docs/permissions.md).",
                m.arn
            ));
        }
        Fact::Skipped { reason } => return unknown(format!("{reason}.")),
    }
    let policy = match ctx.policy(&m.arn) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return unknown(format!("the key policy could not be read as an IAM policy: {e}.")),
        None => return unknown("the key policy was not collected.".into()),
    };
    let Some(account) = u.cluster_account() else {
        return unknown("the cluster ARN names no account.".into());
    };
    let name = &u.cluster.name;
    let region = &u.cluster.region;
    let results: Vec<(LaunchRequest, Evaluation)> = launch_requests(account, name, region, &m.arn, ctx.now())
        .into_iter()
        .map(|lr| {
            let e = policy::evaluate(policy, &lr.request);
            (lr, e)
        })
        .collect();

    let refused: Vec<&(LaunchRequest, Evaluation)> =
        results.iter().filter(|(_, e)| matches!(e.decision, Decision::ImplicitDeny | Decision::ExplicitDeny)).collect();
    let undecided: Vec<&(LaunchRequest, Evaluation)> =
        results.iter().filter(|(_, e)| e.decision == Decision::Indeterminate).collect();

    if refused.is_empty() && undecided.is_empty() {
        let sids: Vec<String> = results
            .iter()
            .flat_map(|(_, e)| e.deciding.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        return u.attach(Finding::info(
            &META,
            format!("The key policy lets Fargate use {} for cluster {name} (allowed by {}).", m.arn, sids.join(", ")),
        ));
    }
    if refused.is_empty() {
        let mut msg = format!(
            "{prefix}Whether the key policy of {} lets Fargate launch tasks for cluster {name} is unknown:",
            m.arn
        );
        for (lr, e) in &undecided {
            let _ = write!(msg, " {} depends on {} ({});", lr.label, e.deciding.join(", "), e.unknowns.join("; "));
        }
        msg.pop();
        msg.push('.');
        return u.attach(Finding::unknown(&META, msg)).with_remediation(remediation(u, m, account, &[]));
    }

    let mut msg = format!("{prefix}The key policy of {} refuses Fargate for cluster {name}:", m.arn);
    // Each distinct reason once, with every request it refuses.
    let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
    for (lr, e) in &refused {
        let mut by = match e.decision {
            Decision::ExplicitDeny => format!("explicitly denied by {}", e.deciding.join(", ")),
            _ => "implicitly denied: no statement allows".to_string(),
        };
        // Decided by case splitting: say over which unconfirmed keys.
        if let Some(note) = &e.note {
            by = format!("{by} ({note})");
        }
        match reasons.iter_mut().find(|(b, _)| *b == by) {
            Some((_, labels)) => labels.push(lr.label),
            None => reasons.push((by, vec![lr.label])),
        }
    }
    for (by, labels) in &reasons {
        let (verb, pronoun) = if labels.len() == 1 { ("is", "it") } else { ("are", "them") };
        let by = match by.strip_suffix("no statement allows") {
            Some(start) => format!("{start}no statement allows {pronoun}"),
            None => by.replacen("no statement allows (", &format!("no statement allows {pronoun} ("), 1),
        };
        let _ = write!(msg, " {} {verb} {by};", join_and(labels));
    }
    msg.pop();
    msg.push('.');
    let dry_run_ok = results.iter().filter(|(lr, _)| lr.dry_run).all(|(_, e)| e.decision == Decision::Allow);
    if dry_run_ok {
        msg.push_str(
            " The DryRun requests are allowed, so the launch passes validation and then fails when the real requests, which add aws:ebs:id to the encryption context, are refused (a kms:EncryptionContextKeys restriction that lists only the two ECS keys does this).",
        );
    }
    let denies: Vec<String> = refused
        .iter()
        .filter(|(_, e)| e.decision == Decision::ExplicitDeny)
        .flat_map(|(_, e)| e.deciding.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let _ = write!(msg, " {}", u.impact());
    u.attach(Finding::fail(&META, msg)).with_remediation(remediation(u, m, account, &denies))
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn remediation(u: &UsageCtx<'_>, m: &KeyMetadata, account: &str, denies: &[String]) -> String {
    let region = u.key_region();
    let mut fix = String::new();
    if !denies.is_empty() {
        let _ = writeln!(
            fix,
            "Narrow or remove {} so that it no longer matches Fargate's requests for this cluster.",
            denies.join(", ")
        );
    }
    let _ = writeln!(fix, "Add these statements to the key policy (documented for Fargate ephemeral storage):");
    let _ = writeln!(fix, "{}", fargate_statements_compact(account, &u.cluster.name));
    let _ = writeln!(
        fix,
        "aws kms get-key-policy --key-id {} --policy-name default --region {region} --query Policy --output text > policy.json",
        m.arn
    );
    let _ = writeln!(fix, "# add the statements to the \"Statement\" array in policy.json, then:");
    let _ = write!(
        fix,
        "aws kms put-key-policy --key-id {} --policy-name default --region {region} --policy file://policy.json",
        m.arn
    );
    fix
}

#[cfg(test)]
mod tests;
