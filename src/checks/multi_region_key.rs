//! `multi-region-key`: the ECS API reference says the Fargate ephemeral
//! storage key "must be a single Region key"; multi-Region keys are not
//! supported ([BC-ECS], [ECS-KEY]).

use super::{CheckMeta, ClusterCtx, FARGATE_ONLY};
use crate::finding::Finding;

pub static META: CheckMeta =
    CheckMeta { id: "multi-region-key", title: "The Fargate key is a single-Region key", usages: FARGATE_ONLY };

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.for_each_described(&META, |u, m| {
        // Multi-Region key ids always start with "mrk-", which also catches a
        // response that left the MultiRegion flag out.
        let multi = m.multi_region.unwrap_or(false) || m.key_id.starts_with("mrk-");
        if !multi {
            return None;
        }
        let kind = m.multi_region_key_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
        Some(
            u.broken(
                &META,
                format!("is a multi-Region key{kind}; Fargate ephemeral storage needs a single-Region key (ECS API reference: \"must be a single Region key\")."),
            )
            .with_remediation(format!(
                "Create a single-Region key: aws kms create-key --no-multi-region --region {}\nthen:\n{}",
                u.cluster.region,
                u.update_cluster_command("<new-key-arn>")
            )),
        )
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
    fn multi_region_table() {
        // (key id, MultiRegion, verdict)
        let cases: &[(&str, Option<bool>, Verdict)] = &[
            ("1234abcd-0000-0000-0000-EXAMPLE00000", Some(false), Verdict::Pass),
            ("1234abcd-0000-0000-0000-EXAMPLE00000", None, Verdict::Pass),
            ("mrk-1234abcd000000000000EXAMPLE", Some(true), Verdict::Fail),
            // The id alone gives a multi-Region key away.
            ("mrk-1234abcd000000000000EXAMPLE", None, Verdict::Fail),
            ("1234abcd-0000-0000-0000-EXAMPLE00000", Some(true), Verdict::Fail),
        ];
        for (id, multi, verdict) in cases {
            let m = KeyMetadata { multi_region: *multi, ..healthy(id) };
            let findings = eval(evaluate, &fargate_key(m), &CheckOptions::default());
            assert_eq!(worst(&findings), *verdict, "{id} {multi:?}");
        }
    }

    #[test]
    fn ebs_usage_is_not_judged() {
        let m = KeyMetadata { multi_region: Some(true), ..healthy("mrk-1") };
        let arn = m.arn.clone();
        let inv = one_usage(KeyRole::ManagedStorage, Some(&arn), Some(found(m)));
        assert!(eval(evaluate, &inv, &CheckOptions::default()).is_empty());
    }
}
