//! `cluster-not-found`: the cluster asked for does not exist (DescribeClusters
//! `failures[].reason = MISSING`) or has been deleted (status `INACTIVE`).
//! No task can start in it, whatever its key.

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::ClusterLookup;

pub static META: CheckMeta =
    CheckMeta { id: "cluster-not-found", title: "The cluster exists and is not deleted", usages: ANY_USAGE };

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let c = ctx.cluster;
    let message = match &c.lookup {
        ClusterLookup::Missing { reason, detail, similar } => {
            // ECS's usual reason, in words; any other reason as ECS gave it.
            let why = match (reason.as_str(), detail.as_deref()) {
                ("MISSING", None) => String::new(),
                ("MISSING", Some(d)) => format!(" (ECS says: {d})"),
                (r, None) => format!(" (ECS says: {r})"),
                (r, Some(d)) => format!(" (ECS says: {r}, {d})"),
            };
            let close = match similar.as_slice() {
                [] => String::new(),
                [one] => format!(" Did you mean {one}?"),
                more => format!(" Did you mean one of {}?", more.join(", ")),
            };
            format!(
                "No cluster named {} exists in {}{why}: check the name and the Region; this is not a key problem, but no task can start in a cluster that does not exist.{close}",
                c.name, c.region,
            )
        }
        ClusterLookup::Found { status, .. } if status == "INACTIVE" => {
            format!("Cluster {} in {} has been deleted (status INACTIVE).", c.name, c.region)
        }
        _ => return Vec::new(),
    };
    vec![
        Finding::fail(&META, message).with_remediation(format!(
            "Check the cluster name and Region: aws ecs list-clusters --region {}",
            c.region
        )),
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
    fn cluster_lookup_table() {
        // (lookup, verdict)
        let cases = [
            (ClusterLookup::Missing { reason: "MISSING".into(), detail: None, similar: vec![] }, Verdict::Fail),
            (ClusterLookup::Found { status: "INACTIVE".into(), key_usages: vec![] }, Verdict::Fail),
            (ClusterLookup::Found { status: "ACTIVE".into(), key_usages: vec![] }, Verdict::Pass),
            (ClusterLookup::Found { status: "PROVISIONING".into(), key_usages: vec![] }, Verdict::Pass),
        ];
        for (lookup, verdict) in cases {
            let mut inv = one_usage(KeyRole::FargateEphemeralStorage, None, None);
            inv.clusters[0].lookup = lookup.clone();
            let findings = eval(evaluate, &inv, &CheckOptions::default());
            assert_eq!(worst(&findings), verdict, "{lookup:?}");
        }
    }
}
