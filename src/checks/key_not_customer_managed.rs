//! `key-not-customer-managed`: Fargate ephemeral storage takes a customer
//! managed key only ([ECS-KEY]); an AWS managed key's policy cannot be edited
//! to let Fargate in.

use super::{CheckMeta, ClusterCtx, FARGATE_ONLY};
use crate::finding::Finding;

pub static META: CheckMeta = CheckMeta {
    id: "key-not-customer-managed",
    title: "The Fargate key is customer managed (KeyManager CUSTOMER)",
    usages: FARGATE_ONLY,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.for_each_described(&META, |u, m| {
        match m.key_manager.as_deref() {
            Some("CUSTOMER") => None,
            Some(other) => Some(
                u.broken(
                    &META,
                    format!("is not customer managed (KeyManager {other}); Fargate ephemeral storage encryption needs a customer managed key."),
                )
                .with_remediation(format!(
                    "Create a customer managed symmetric key with the Fargate key policy statements (docs/checks.md#key-not-customer-managed), then:\n{}",
                    u.update_cluster_command("<new-key-arn>")
                )),
            ),
            None => Some(u.attach(Finding::unknown(&META,
                format!("{} key {}: DescribeKey returned no KeyManager, so it cannot be told whether the key is customer managed.", u.role(), m.arn),
            ))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::Verdict;
    use crate::inventory::KeyMetadata;
    #[allow(unused_imports)]
    use crate::inventory::KeyRole;

    #[test]
    fn key_manager_table() {
        let cases = [(Some("CUSTOMER"), Verdict::Pass), (Some("AWS"), Verdict::Fail), (None, Verdict::Unknown)];
        for (manager, verdict) in cases {
            let m = KeyMetadata { key_manager: manager.map(str::to_string), ..healthy("k") };
            let findings = eval(evaluate, &fargate_key(m), &CheckOptions::default());
            assert_eq!(worst(&findings), verdict, "{manager:?}");
        }
    }

    #[test]
    fn only_the_fargate_usage_needs_a_customer_key() {
        // ECS-managed EBS volumes may use the AWS managed aws/ebs key.
        let m = KeyMetadata { key_manager: Some("AWS".into()), ..healthy("k") };
        let arn = m.arn.clone();
        let inv = one_usage(KeyRole::ManagedStorage, Some(&arn), Some(found(m)));
        assert!(eval(evaluate, &inv, &CheckOptions::default()).is_empty());
    }
}
