//! `alias-reference`: Fargate ephemeral storage does not support aliases
//! ([ECS-KEY]); the cluster must name the key by id or key ARN, even when the
//! alias resolves to a healthy key.

use super::{CheckMeta, ClusterCtx, FARGATE_ONLY};
use crate::finding::Finding;
use crate::inventory::is_alias_reference;

pub static META: CheckMeta = CheckMeta {
    id: "alias-reference",
    title: "The Fargate key is named by key id or key ARN, not by an alias",
    usages: FARGATE_ONLY,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.usages()
        .filter_map(|u| {
            let configured = u.configured()?;
            if !META.judges(u.usage.usage) || !is_alias_reference(configured) {
                return None;
            }
            let (target, resolved) = match u.metadata() {
                Some(m) => (m.arn.as_str(), format!(" (it resolves to {})", m.arn)),
                None => ("<key-arn>", String::new()),
            };
            Some(
                u.attach(Finding::fail(&META,
                    format!(
                        "{} key is configured as the alias {configured}{resolved}; Fargate ephemeral storage does not support aliases and needs a key id or key ARN. {}",
                        u.role(),
                        u.impact()
                    ),
                ))
                .with_remediation(u.update_cluster_command(target)),
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
    #[allow(unused_imports)]
    use crate::inventory::KeyRole;

    #[test]
    fn alias_table() {
        // (configured, usage, verdict)
        let cases = [
            ("alias/fargate", KeyRole::FargateEphemeralStorage, Verdict::Fail),
            ("arn:aws:kms:us-east-1:123456789012:alias/fargate", KeyRole::FargateEphemeralStorage, Verdict::Fail),
            ("arn:aws:kms:us-east-1:123456789012:key/k", KeyRole::FargateEphemeralStorage, Verdict::Pass),
            ("1234abcd-0000-0000-0000-EXAMPLE00000", KeyRole::FargateEphemeralStorage, Verdict::Pass),
            // Aliases are only ruled out for Fargate ephemeral storage.
            ("alias/exec", KeyRole::ExecuteCommand, Verdict::Pass),
        ];
        for (configured, usage, verdict) in cases {
            let inv = one_usage(usage, Some(configured), Some(found(healthy("k"))));
            let findings = eval(evaluate, &inv, &CheckOptions::default());
            assert_eq!(worst(&findings), verdict, "{configured}");
            if verdict == Verdict::Fail {
                let fix = findings[0].remediation.as_deref().unwrap();
                // The fix names the key the alias resolves to.
                assert!(fix.contains(&key_arn("k")), "{fix}");
            }
        }
    }

    #[test]
    fn unresolved_alias_still_fails() {
        let lookup = crate::inventory::KeyLookup::NotFound { message: "Alias not found".into() };
        let inv = one_usage(KeyRole::FargateEphemeralStorage, Some("alias/gone"), Some(lookup));
        let findings = eval(evaluate, &inv, &CheckOptions::default());
        assert_eq!(worst(&findings), Verdict::Fail);
        assert!(findings[0].remediation.as_deref().unwrap().contains("<key-arn>"));
    }
}
