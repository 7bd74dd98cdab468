//! `no-key-configured`: a usage with no customer managed key uses an AWS
//! owned key, which is always available. Nothing to check; say so, so that an
//! operator can tell "passed" from "not looked at".

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::KeyRole;

pub static META: CheckMeta = CheckMeta {
    id: "no-key-configured",
    title: "No customer managed key is configured: AWS owned key, nothing to check",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.usages()
        .filter(|u| u.configured().is_none())
        .map(|u| {
            let message = match &u.usage.skipped {
                Some(reason) => format!("{}: {reason}.", u.role()).into(),
                None if u.pinned.is_some() => format!(
                    "{}: no customer managed key configured ({}); AWS owned key, nothing to check.",
                    u.role(),
                    u.usage.usage.config_field()
                )
                .into(),
                // The same words for every cluster: borrowed, not copied.
                None => std::borrow::Cow::Borrowed(unconfigured(u.usage.usage)),
            };
            u.attach(Finding::info(&META, message))
        })
        .collect()
}

/// The message for a cluster's own unconfigured usage.
fn unconfigured(role: KeyRole) -> &'static str {
    match role {
        KeyRole::FargateEphemeralStorage => {
            "Fargate ephemeral storage: no customer managed key configured (managedStorageConfiguration.fargateEphemeralStorageKmsKeyId); AWS owned key, nothing to check."
        }
        KeyRole::ManagedStorage => {
            "ECS-managed EBS storage: no customer managed key configured (managedStorageConfiguration.kmsKeyId); AWS owned key, nothing to check."
        }
        KeyRole::ExecuteCommand => {
            "ECS Exec: no customer managed key configured (executeCommandConfiguration.kmsKeyId); AWS owned key, nothing to check."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::{Severity, Verdict};
    use crate::inventory::KeyRole;

    #[test]
    fn unconfigured_usages_are_informational_passes() {
        let inv = one_usage(KeyRole::FargateEphemeralStorage, None, None);
        let findings = eval(evaluate, &inv, &CheckOptions::default());
        assert_eq!(findings.len(), 3);
        assert!(findings.iter().all(|f| f.verdict == Verdict::Pass && f.severity == Severity::Info));
    }

    #[test]
    fn the_borrowed_words_are_the_formatted_ones() {
        for role in KeyRole::ALL {
            let name = match role {
                KeyRole::FargateEphemeralStorage => "Fargate ephemeral storage",
                KeyRole::ManagedStorage => "ECS-managed EBS storage",
                KeyRole::ExecuteCommand => "ECS Exec",
            };
            let formatted = format!(
                "{name}: no customer managed key configured ({}); AWS owned key, nothing to check.",
                role.config_field()
            );
            assert_eq!(unconfigured(role), formatted);
        }
    }

    #[test]
    fn configured_usage_is_not_reported() {
        let findings = eval(evaluate, &fargate_key(healthy("k")), &CheckOptions::default());
        assert_eq!(findings.len(), 2);
        assert!(findings.iter().all(|f| f.usage != Some(KeyRole::FargateEphemeralStorage)));
    }
}
