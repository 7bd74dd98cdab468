//! `grant-quota`: every Fargate task holds one grant on the key while it
//! runs ([ECS-OVR]), and a key holds at most 50,000 grants (adjustable;
//! [KMS:resource-limits]). When it is full, CreateGrant fails with
//! LimitExceededException and new tasks cannot start.

use super::{CheckMeta, ClusterCtx, FARGATE_ONLY};
use crate::finding::Finding;
use crate::inventory::Fact;

pub static META: CheckMeta = CheckMeta {
    id: "grant-quota",
    title: "The key has room for more grants (one per running Fargate task)",
    usages: FARGATE_ONLY,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let quota = ctx.options.grant_quota;
    let warn_at = quota.saturating_mul(ctx.options.grant_warn_percent) / 100;
    ctx.for_each_described(&META, |u, m| {
        let details = u.details()?;
        let g = match &details.grants {
            Fact::Read { value } => value,
            Fact::Unreadable { gap } => {
                return Some(u.attach(
                    Finding::unknown(&META,
                        format!("Whether key {} has room for new grants is unknown: {}.", m.arn, gap.describe()),
                    )
                    .with_remediation(format!("Allow kms:ListGrants on {} to the identity running ecs-key-preflight.", m.arn)),
                ));
            }
            Fact::Skipped { .. } => return None,
        };
        let mine = g.fargate_by_cluster.get(&u.cluster.name).copied().unwrap_or(0);
        let counts = format!(
            "{} grants on key {} ({} of them Fargate's, {mine} for cluster {}); quota {quota}",
            g.total, m.arn, g.fargate, u.cluster.name
        );
        let fix = format!(
            "Request a higher \"Grants per KMS key\" quota (Service Quotas, AWS KMS), or spread clusters over more keys. List the grants: aws kms list-grants --key-id {} --region {}",
            m.arn,
            u.key_region()
        );
        let finding = if g.total >= quota {
            u.broken(
                &META,
                format!("has no room for another grant: {counts}. CreateGrant fails with LimitExceededException."),
            )
            .with_remediation(fix)
        } else if g.total >= warn_at {
            u.attach(Finding::warning(&META,
                format!("{counts}: {}% used; each new Fargate task needs one more.", g.total * 100 / quota.max(1)),
            ))
            .with_remediation(fix)
        } else {
            u.attach(Finding::info(&META, format!("{counts}.")))
        };
        Some(finding)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::{Severity, Verdict};
    use crate::inventory::GrantSummary;

    #[test]
    fn grant_quota_table() {
        // (total grants, quota, warn %, verdict, severity)
        let cases = [
            (10, 50_000, 80, Verdict::Pass, Severity::Info),
            (39_999, 50_000, 80, Verdict::Pass, Severity::Info),
            (40_000, 50_000, 80, Verdict::Pass, Severity::Warning),
            (49_999, 50_000, 80, Verdict::Pass, Severity::Warning),
            (50_000, 50_000, 80, Verdict::Fail, Severity::Error),
            // A raised quota is the user's to give.
            (50_000, 100_000, 80, Verdict::Pass, Severity::Info),
            (95, 100, 90, Verdict::Pass, Severity::Warning),
        ];
        for (total, quota, pct, verdict, severity) in cases {
            let summary = GrantSummary { total, fargate: total, ..GrantSummary::default() };
            let inv = with_details(
                fargate_key(healthy("k")),
                details(policy_allowing("prod"), Fact::Read { value: summary }),
            );
            let options = CheckOptions { grant_quota: quota, grant_warn_percent: pct, ..CheckOptions::default() };
            let findings = eval(evaluate, &inv, &options);
            assert_eq!(findings.len(), 1);
            assert_eq!((findings[0].verdict, findings[0].severity), (verdict, severity), "{total}/{quota}");
            if verdict == Verdict::Fail {
                assert!(findings[0].message.contains("LimitExceededException"));
            }
        }
    }

    #[test]
    fn unreadable_grants_are_unknown() {
        let inv = with_details(
            fargate_key(healthy("k")),
            details(policy_allowing("prod"), Fact::Unreadable { gap: gap("AccessDeniedException") }),
        );
        assert_eq!(worst(&eval(evaluate, &inv, &CheckOptions::default())), Verdict::Unknown);
    }
}
