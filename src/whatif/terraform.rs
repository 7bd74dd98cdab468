//! Changes from a Terraform plan: the JSON `terraform show -json PLAN`
//! prints ("JSON Output Format", developer.hashicorp.com). Only
//! `resource_changes` is read: `aws_kms_key` (disabled, deleted or replaced,
//! a new `policy`), `aws_kms_key_policy`, and `aws_ecs_cluster` (its Fargate
//! ephemeral storage and managed storage keys). A value the plan knows only
//! after apply (`after_unknown`) makes what depends on it unknown.

use serde_json::Value;

use super::{Change, PlannedKey};
use crate::inventory::KeyRole;

/// What a plan proposes, each with the resource address it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub address: String,
    pub change: Change,
}

/// A file that is not a Terraform plan we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// The changes of a plan relevant to Fargate's keys (possibly none).
pub fn changes(text: &str) -> Result<Vec<Planned>, PlanError> {
    let plan: Value = serde_json::from_str(text).map_err(|e| PlanError(format!("not JSON: {e}")))?;
    let Some(version) = plan.get("format_version").and_then(Value::as_str) else {
        return Err(PlanError(
            "not a Terraform plan: no format_version (expected the JSON of `terraform show -json PLAN`)".into(),
        ));
    };
    if version.split('.').next() != Some("1") {
        return Err(PlanError(format!(
            "Terraform plan format_version {version} is not supported (major version 1 is)"
        )));
    }
    let resources = match plan.get("resource_changes") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(r)) => r,
        Some(_) => return Err(PlanError("resource_changes is not an array".into())),
    };
    // Keys the plan creates, by address, with their planned attributes.
    let created: Vec<(String, PlannedKey)> = resources
        .iter()
        .filter(|rc| rc.get("type").and_then(Value::as_str) == Some("aws_kms_key"))
        .filter(|rc| {
            rc.pointer("/change/actions").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x == "create"))
        })
        .filter_map(|rc| {
            let after = rc.pointer("/change/after")?;
            let unknown = rc.pointer("/change/after_unknown").unwrap_or(&Value::Null);
            Some((
                rc.get("address")?.as_str()?.to_string(),
                PlannedKey {
                    is_enabled: after.get("is_enabled").and_then(Value::as_bool),
                    key_spec: text_at(after, "customer_master_key_spec"),
                    key_usage: text_at(after, "key_usage"),
                    multi_region: after.get("multi_region").and_then(Value::as_bool),
                    policy: (unknown.get("policy") != Some(&Value::Bool(true)))
                        .then(|| text_at(after, "policy"))
                        .flatten(),
                },
            ))
        })
        .collect();
    let mut out = Vec::new();
    for rc in resources {
        let address = rc.get("address").and_then(Value::as_str).unwrap_or("?").to_string();
        let change = rc.get("change").unwrap_or(&Value::Null);
        let actions: Vec<&str> =
            change.get("actions").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let before = change.get("before").unwrap_or(&Value::Null);
        let after = change.get("after").unwrap_or(&Value::Null);
        let unknown = change.get("after_unknown").unwrap_or(&Value::Null);
        let mut push = |change: Change| out.push(Planned { address: address.clone(), change });
        match rc.get("type").and_then(Value::as_str) {
            Some("aws_kms_key") => {
                // An existing key: its ARN (or id) is in `before`.
                let Some(key) = text_at(before, "arn").or_else(|| text_at(before, "key_id")) else { continue };
                let deleted = actions.contains(&"delete");
                if deleted {
                    let days = before.get("deletion_window_in_days").and_then(Value::as_i64).unwrap_or(30);
                    push(Change::ScheduleKeyDeletion { key, pending_window_days: days });
                    continue;
                }
                if !actions.contains(&"update") {
                    continue;
                }
                if after.get("is_enabled") == Some(&Value::Bool(false))
                    && before.get("is_enabled") != Some(&Value::Bool(false))
                {
                    push(Change::DisableKey { key: key.clone() });
                }
                if unknown.get("is_enabled") == Some(&Value::Bool(true))
                    || unknown.get("policy") == Some(&Value::Bool(true))
                {
                    push(Change::KeyUnknown {
                        key,
                        why: format!("{address}: the plan knows the key's new state or policy only after apply"),
                    });
                } else if let Some(policy) = text_at(after, "policy")
                    && text_at(before, "policy").as_deref() != Some(policy.as_str())
                {
                    push(Change::PutKeyPolicy { key, policy });
                }
            }
            Some("aws_kms_key_policy") => {
                if !(actions.contains(&"create") || actions.contains(&"update")) {
                    continue;
                }
                let Some(key) = text_at(after, "key_id").or_else(|| text_at(before, "key_id")) else { continue };
                if unknown.get("policy") == Some(&Value::Bool(true)) {
                    push(Change::KeyUnknown {
                        key,
                        why: format!("{address}: the new policy is known only after apply"),
                    });
                } else if let Some(policy) = text_at(after, "policy") {
                    push(Change::PutKeyPolicy { key, policy });
                }
            }
            Some("aws_ecs_cluster") => {
                if !(actions.contains(&"update") || actions.contains(&"create")) {
                    continue;
                }
                let Some(cluster) = text_at(after, "name").or_else(|| text_at(before, "name")) else { continue };
                let storage = |v: &Value| v.pointer("/configuration/0/managed_storage_configuration/0").cloned();
                let (b, a, u) = (storage(before), storage(after), storage(unknown));
                for (field, usage) in [
                    ("fargate_ephemeral_storage_kms_key_id", KeyRole::FargateEphemeralStorage),
                    ("kms_key_id", KeyRole::ManagedStorage),
                ] {
                    let unknown_now = u.as_ref().and_then(|u| u.get(field)) == Some(&Value::Bool(true))
                        || unknown.pointer("/configuration") == Some(&Value::Bool(true));
                    let old = b.as_ref().and_then(|b| text_at(b, field));
                    let new = a.as_ref().and_then(|a| text_at(a, field));
                    // Known after apply because it is the ARN of a key this
                    // plan creates: judged from that key's planned attributes.
                    let planned = unknown_now
                        .then(|| created_key_reference(&plan, &address, field))
                        .flatten()
                        .and_then(|addr| created.iter().find(|(a, _)| *a == addr).cloned());
                    if let Some((key, planned)) = planned {
                        push(Change::SetClusterPlannedKey { cluster: cluster.clone(), usage, key, planned });
                    } else if unknown_now {
                        push(Change::ClusterKeyUnknown {
                            cluster: cluster.clone(),
                            usage,
                            why: format!("{address}: the cluster's new {field} is known only after apply"),
                        });
                    } else if let Some(new) = new
                        && old.as_deref() != Some(new.as_str())
                    {
                        push(Change::SetClusterKey { cluster: cluster.clone(), usage, key: new });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The `aws_kms_key` resource a cluster's key field refers to in the plan's
/// configuration (`expressions…references`, e.g. `aws_kms_key.new.arn`).
fn created_key_reference(plan: &Value, cluster_address: &str, field: &str) -> Option<String> {
    let resources = plan.pointer("/configuration/root_module/resources")?.as_array()?;
    let cluster = resources.iter().find(|r| r.get("address").and_then(Value::as_str) == Some(cluster_address))?;
    let pointer = format!("/expressions/configuration/0/managed_storage_configuration/0/{field}/references");
    let references = cluster.pointer(&pointer)?.as_array()?;
    references.iter().filter_map(Value::as_str).find(|r| r.starts_with("aws_kms_key.")).map(|r| {
        let mut parts = r.splitn(3, '.');
        format!("{}.{}", parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
    })
}

fn text_at(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}
