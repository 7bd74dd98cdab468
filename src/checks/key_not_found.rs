//! `key-not-found`: KMS says the configured key (or alias) does not exist.
//! New tasks cannot get a data key from a key that is not there.

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::KeyLookup;

pub static META: CheckMeta = CheckMeta { id: "key-not-found", title: "The configured key exists", usages: ANY_USAGE };

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.usages()
        .filter_map(|u| {
            let Some(KeyLookup::NotFound { message }) = u.key.map(|k| &k.describe) else {
                return None;
            };
            let detail = if message.is_empty() { String::new() } else { format!(" (KMS: {message})") };
            Some(
                u.broken(
                    &META,
                    format!("does not exist in {}: it was deleted, or the reference is wrong{detail}.", u.key_region()),
                )
                .with_remediation(format!(
                    "Point the cluster at an existing customer managed key:\n{}",
                    u.update_cluster_command("<key-arn>")
                )),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::Verdict;
    use crate::inventory::KeyRole;

    #[test]
    fn not_found_fails_per_usage() {
        // (usage, verdict): ECS Exec only warns, the launch-blocking usages fail.
        let cases = [
            (KeyRole::FargateEphemeralStorage, Verdict::Fail),
            (KeyRole::ManagedStorage, Verdict::Fail),
            (KeyRole::ExecuteCommand, Verdict::Pass),
        ];
        for (usage, verdict) in cases {
            let lookup = KeyLookup::NotFound { message: "Key 'x' does not exist".into() };
            let inv = one_usage(usage, Some("1234abcd-0000-0000-0000-EXAMPLE00000"), Some(lookup));
            let findings = eval(evaluate, &inv, &CheckOptions::default());
            assert_eq!(findings.len(), 1, "{usage:?}");
            assert_eq!(findings[0].verdict, verdict, "{usage:?}");
            assert!(findings[0].message.contains("does not exist"));
            assert!(findings[0].remediation.as_deref().unwrap().contains("aws ecs update-cluster --cluster prod"));
        }
    }

    #[test]
    fn found_key_is_silent() {
        assert!(eval(evaluate, &fargate_key(healthy("k")), &CheckOptions::default()).is_empty());
    }
}
