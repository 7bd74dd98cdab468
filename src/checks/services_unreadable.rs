//! `services-unreadable`: ListServices or DescribeServices failed, so the
//! keys pinned on running deployments are unknown, and so is the verdict
//! (fail closed: a healthy cluster key does not prove scale-outs will start).

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::{ClusterLookup, Fact};

pub static META: CheckMeta = CheckMeta {
    id: "services-unreadable",
    title: "The cluster's services could be read; if not, the verdict is unknown",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let gap = match &ctx.cluster.services {
        Some(Fact::Unreadable { gap }) => gap,
        // A live cluster whose services the inventory does not record at
        // all (removed, null, or never collected): "not read" is never
        // "read, and none".
        None if matches!(&ctx.cluster.lookup, ClusterLookup::Found { status, .. } if status != "INACTIVE") => {
            return vec![Finding::unknown(&META,
                format!(
                    "The inventory does not record the services of cluster {} (the field is missing or null), so the keys their running deployments use for scale-outs and replacements are unknown.",
                    ctx.cluster.name
                ),
            )
            .with_remediation("Collect the inventory again (--save-inventory), or pass --no-services to a live run to check the cluster's own keys only.")];
        }
        _ => return Vec::new(),
    };
    let remediation = if gap.code.contains("AccessDenied") {
        "Allow ecs:ListServices and ecs:DescribeServices to the identity running ecs-key-preflight, or pass --no-services to check the cluster's own keys only."
    } else {
        "Re-run when the ECS endpoint answers, or pass --no-services to check the cluster's own keys only."
    };
    vec![Finding::unknown(&META,
        format!(
            "The services of cluster {} could not be read, so the keys their running deployments use for scale-outs and replacements are unknown. {}",
            ctx.cluster.name,
            gap.describe()
        ),
    )
    .with_remediation(remediation)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::Verdict;
    use crate::inventory::KeyRole;

    #[test]
    fn services_fact_table() {
        // (services fact, verdict)
        let cases = [
            // Missing or null in an inventory: not read, so unknown.
            (None, Verdict::Unknown),
            (Some(Fact::Read { value: vec![] }), Verdict::Pass),
            (Some(Fact::Skipped { reason: "--no-services".into() }), Verdict::Pass),
            (Some(Fact::Unreadable { gap: gap("AccessDeniedException") }), Verdict::Unknown),
        ];
        for (fact, verdict) in cases {
            let mut inv = one_usage(KeyRole::FargateEphemeralStorage, None, None);
            inv.clusters[0].services = fact.clone();
            assert_eq!(worst(&eval(evaluate, &inv, &CheckOptions::default())), verdict, "{fact:?}");
        }
    }
}
