//! `cluster-unreadable`: DescribeClusters failed for this cluster, so its key
//! configuration is unknown, and so is its verdict.

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::ClusterLookup;

pub static META: CheckMeta = CheckMeta {
    id: "cluster-unreadable",
    title: "The cluster's configuration could be read; if not, the verdict is unknown",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let ClusterLookup::Unreadable { gap } = &ctx.cluster.lookup else {
        return Vec::new();
    };
    let remediation = if gap.code.contains("AccessDenied") {
        "Allow ecs:DescribeClusters to the identity running ecs-key-preflight (see docs/permissions.md)."
    } else {
        "Re-run when the ECS endpoint answers (see -v for the request log)."
    };
    vec![
        Finding::unknown(
            &META,
            format!(
                "The configuration of cluster {} could not be read, so which keys its new tasks use is unknown. {}",
                ctx.cluster.name,
                gap.describe()
            ),
        )
        .with_remediation(remediation),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::Verdict;
    use crate::inventory::KeyRole;

    #[test]
    fn unreadable_cluster_is_unknown() {
        for code in ["AccessDeniedException", "ThrottlingException", "Timeout"] {
            let mut inv = one_usage(KeyRole::FargateEphemeralStorage, None, None);
            inv.clusters[0].lookup = ClusterLookup::Unreadable { gap: gap(code) };
            let findings = eval(evaluate, &inv, &CheckOptions::default());
            assert_eq!(worst(&findings), Verdict::Unknown, "{code}");
            assert!(findings[0].message.contains(code));
        }
        let inv = one_usage(KeyRole::FargateEphemeralStorage, None, None);
        assert!(eval(evaluate, &inv, &CheckOptions::default()).is_empty());
    }
}
