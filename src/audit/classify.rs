//! What one CloudTrail record means for Fargate and its keys. Pure: a JSON
//! record in, a small classified event out (the record itself is dropped,
//! so large inputs stream through in constant memory).
//!
//! The shapes follow the five sample events of the ECS guide (the DryRun
//! pair from `fargate.amazonaws.com`, the real pair from
//! `ec2-frontend-api.amazonaws.com`, RetireGrant from "AWS Internal") and
//! `../docs/audit.md`.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// Launch-time KMS operations Fargate makes.
pub const LAUNCH_OPERATIONS: [&str; 3] = ["GenerateDataKeyWithoutPlaintext", "CreateGrant", "Decrypt"];

/// Key lifecycle operations that can break new launches, or repair them.
pub const LIFECYCLE_OPERATIONS: [&str; 8] = [
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "EnableKey",
    "PutKeyPolicy",
    "RevokeGrant",
    "DeleteImportedKeyMaterial",
    "DisconnectCustomKeyStore",
];

/// The principals Fargate's launch calls are invoked by.
const FARGATE_INVOKERS: [&str; 2] = ["fargate.amazonaws.com", "ec2-frontend-api.amazonaws.com"];

/// The error code that marks a DryRun call that *would have succeeded*.
pub const DRY_RUN_OK: &str = "DryRunOperationException";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The validation calls Fargate makes first (`dryRun: true`).
    DryRun,
    /// The real calls, invoked through EC2, with `aws:ebs:id` in the context.
    Real,
}

/// A cluster, as the encryption context names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ClusterRef {
    pub account: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Classified {
    Launch(LaunchEvent),
    /// A grant retired at task end (matched to its CreateGrant by grant id).
    Retire {
        grant_id: String,
    },
    Lifecycle(LifecycleEvent),
    /// A KMS event that is neither Fargate's nor a lifecycle change.
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LaunchEvent {
    pub time: Option<Timestamp>,
    pub key: Option<String>,
    pub operation: String,
    pub phase: Phase,
    /// `None` when the event carries no `aws:ecs:clusterName` context.
    pub cluster: Option<ClusterRef>,
    /// `Some((code, message))` when the call failed (a DryRun that would
    /// have succeeded is not a failure).
    pub error: Option<(String, String)>,
    /// The grant a successful real CreateGrant created.
    pub grant_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleEvent {
    pub time: Option<Timestamp>,
    pub key: Option<String>,
    pub event_name: String,
    /// `userIdentity.arn` (or the invoking service).
    pub actor: Option<String>,
    pub error: Option<(String, String)>,
    /// What the change was: a deletion date, a custom key store id.
    pub detail: Option<String>,
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

/// The encryption context of a Fargate call: in `requestParameters` for
/// GenerateDataKeyWithoutPlaintext and Decrypt, in the grant constraints for
/// CreateGrant.
fn context(event: &Value) -> Option<&serde_json::Map<String, Value>> {
    let params = event.get("requestParameters")?;
    params
        .get("encryptionContext")
        .or_else(|| params.get("constraints").and_then(|c| c.get("encryptionContextSubset")))
        .or_else(|| params.get("constraints").and_then(|c| c.get("encryptionContextEquals")))
        .and_then(Value::as_object)
}

/// A context value by key; grant constraint keys are case-insensitive (KMS GrantConstraints).
fn context_value<'a>(ctx: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    ctx.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_str())
}

/// The key the event is about: the resource ARN when CloudTrail gives one
/// (it is always a full ARN), else the key id as requested.
fn key_of(event: &Value) -> Option<String> {
    let from_resources = event
        .get("resources")
        .and_then(Value::as_array)
        .and_then(|r| r.iter().find_map(|r| r.get("ARN").and_then(Value::as_str)));
    from_resources
        .or_else(|| text(event, &["requestParameters", "keyId"]))
        .or_else(|| text(event, &["responseElements", "keyId"]))
        .map(str::to_string)
}

fn error_of(event: &Value) -> Option<(String, String)> {
    let code = text(event, &["errorCode"])?;
    Some((code.to_string(), text(event, &["errorMessage"]).unwrap_or_default().to_string()))
}

pub fn event_time(event: &Value) -> Option<Timestamp> {
    text(event, &["eventTime"]).and_then(|t| t.parse().ok())
}

/// Classifies one CloudTrail record.
pub fn classify(event: &Value) -> Classified {
    if text(event, &["eventSource"]) != Some("kms.amazonaws.com") {
        return Classified::Ignored;
    }
    let Some(name) = text(event, &["eventName"]) else { return Classified::Ignored };
    let time = event_time(event);
    let invoked_by = text(event, &["userIdentity", "invokedBy"]);

    if LAUNCH_OPERATIONS.contains(&name) && invoked_by.is_some_and(|i| FARGATE_INVOKERS.contains(&i)) {
        let dry_run = event.pointer("/requestParameters/dryRun").and_then(Value::as_bool).unwrap_or(false)
            || text(event, &["errorCode"]) == Some(DRY_RUN_OK)
            || invoked_by == Some("fargate.amazonaws.com");
        let cluster = context(event).and_then(|ctx| {
            Some(ClusterRef {
                account: context_value(ctx, "aws:ecs:clusterAccount").unwrap_or_default().to_string(),
                name: context_value(ctx, "aws:ecs:clusterName")?.to_string(),
            })
        });
        return Classified::Launch(LaunchEvent {
            time,
            key: key_of(event),
            operation: name.to_string(),
            phase: if dry_run { Phase::DryRun } else { Phase::Real },
            cluster,
            error: error_of(event).filter(|(code, _)| code != DRY_RUN_OK),
            grant_id: text(event, &["responseElements", "grantId"]).map(str::to_string),
        });
    }
    if name == "RetireGrant" {
        let grant_id =
            text(event, &["additionalEventData", "grantId"]).or_else(|| text(event, &["requestParameters", "grantId"]));
        return match grant_id {
            Some(id) => Classified::Retire { grant_id: id.to_string() },
            None => Classified::Ignored,
        };
    }
    if LIFECYCLE_OPERATIONS.contains(&name) {
        let detail = match name {
            "ScheduleKeyDeletion" => text(event, &["responseElements", "deletionDate"])
                .map(|d| format!("deletion date {}", cloudtrail_date(d)))
                .or_else(|| {
                    event.pointer("/requestParameters/pendingWindowInDays").map(|d| format!("waiting period {d} days"))
                }),
            "DisconnectCustomKeyStore" => {
                text(event, &["requestParameters", "customKeyStoreId"]).map(|s| format!("custom key store {s}"))
            }
            "RevokeGrant" => text(event, &["requestParameters", "grantId"]).map(|g| format!("grant {g}")),
            _ => None,
        };
        return Classified::Lifecycle(LifecycleEvent {
            time,
            key: key_of(event),
            event_name: name.to_string(),
            actor: text(event, &["userIdentity", "arn"]).or(invoked_by).map(str::to_string),
            error: error_of(event),
            detail,
        });
    }
    Classified::Ignored
}

/// CloudTrail writes KMS's deletion date as `May 1, 2024, 11:00:00 AM`
/// (UTC): shown like every other time of the report, `2024-05-01 11:00 UTC`.
/// Text in any other shape is kept as it is.
fn cloudtrail_date(text: &str) -> String {
    ["%b %d, %Y, %I:%M:%S %p", "%B %d, %Y, %I:%M:%S %p"]
        .iter()
        .find_map(|format| jiff::civil::DateTime::strptime(format, text).ok())
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| crate::when::format_time(z.timestamp()))
        .unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests;
