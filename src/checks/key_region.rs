//! `key-region`: a key in another Region than the cluster. No AWS page says
//! Fargate refuses it, but key policies are Regional and Fargate's grantee and
//! retiring principals carry the cluster's Region, so it is a warning: the
//! rule is unconfirmed.

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::Arn;

pub static META: CheckMeta = CheckMeta {
    id: "key-region",
    title: "The key is in the cluster's Region (warning: the rule is unconfirmed)",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.usages()
        .filter_map(|u| {
            let key_region = match u.metadata() {
                Some(m) => Arn::parse(&m.arn).map(|a| a.region.to_string())?,
                None => u.key?.region.clone(),
            };
            if key_region == u.cluster.region {
                return None;
            }
            Some(u.attach(
                Finding::warning(&META,
                    format!(
                        "{} key {} is in {key_region}, the cluster in {}. AWS does not document whether Fargate accepts a key from another Region (unconfirmed), so this may fail at launch.",
                        u.role(),
                        u.key_label(),
                        u.cluster.region
                    ),
                )
                .with_remediation(format!(
                    "Prefer a key in {}:\n{}",
                    u.cluster.region,
                    u.update_cluster_command("<key-arn-in-cluster-region>")
                )),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::{Severity, Verdict};
    use crate::inventory::{KeyMetadata, KeyRole};

    #[test]
    fn region_table() {
        // (key ARN, findings)
        let cases = [("arn:aws:kms:us-east-1:123456789012:key/k", 0), ("arn:aws:kms:eu-west-1:123456789012:key/k", 1)];
        for (arn, n) in cases {
            let m = KeyMetadata { arn: arn.into(), ..healthy("k") };
            let inv = one_usage(KeyRole::FargateEphemeralStorage, Some(arn), Some(found(m)));
            let findings = eval(evaluate, &inv, &CheckOptions::default());
            assert_eq!(findings.len(), n, "{arn}");
            if n == 1 {
                // A warning, never a failure: the rule is not documented.
                assert_eq!(findings[0].verdict, Verdict::Pass);
                assert_eq!(findings[0].severity, Severity::Warning);
                assert!(findings[0].message.contains("unconfirmed"));
            }
        }
    }

    #[test]
    fn undescribed_key_uses_the_lookup_region() {
        let arn = "arn:aws:kms:eu-west-1:123456789012:key/k";
        let lookup = crate::inventory::KeyLookup::Unreadable { gap: gap("AccessDeniedException") };
        let inv = one_usage(KeyRole::FargateEphemeralStorage, Some(arn), Some(lookup));
        let findings = eval(evaluate, &inv, &CheckOptions::default());
        assert_eq!(findings.len(), 1);
        // The Region DescribeKey was asked in (the key's, from its ARN) is the
        // one the message names, against the cluster's.
        assert!(findings[0].message.contains("is in eu-west-1"), "{}", findings[0].message);
        assert!(findings[0].message.contains(&format!("the cluster in {REGION}")), "{}", findings[0].message);
    }
}
