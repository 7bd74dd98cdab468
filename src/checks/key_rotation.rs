//! `key-rotation`: automatic rotation, as information. Rotation never blocks
//! a launch ("Automatic key rotation is optional", [ECS-MGMT]), so it only
//! fails under `--require-rotation`, and never on keys that cannot rotate
//! (asymmetric, HMAC, imported material, custom key stores).

use super::{ANY_USAGE, CheckMeta, ClusterCtx, format_time};
use crate::finding::Finding;
use crate::inventory::Fact;

pub static META: CheckMeta = CheckMeta {
    id: "key-rotation",
    title: "Automatic rotation status (information; required with --require-rotation)",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let require = ctx.options.require_rotation;
    ctx.for_each_described(&META, |u, m| {
        let details = u.details()?;
        let enable = format!("aws kms enable-key-rotation --key-id {} --region {}", m.arn, u.key_region());
        let finding = match &details.rotation {
            Fact::Skipped { .. } => return None,
            Fact::Unreadable { gap } if require => u.attach(
                Finding::unknown(&META, format!("Rotation of key {} is required but could not be read: {}.", m.arn, gap.describe())),
            ),
            Fact::Unreadable { gap } => {
                u.attach(Finding::info(&META, format!("Rotation of key {} could not be read: {}.", m.arn, gap.describe())))
            }
            Fact::Read { value } if value.enabled => {
                let period = value.period_days.map(|d| format!(" every {d} days")).unwrap_or_default();
                let next = value.next_rotation.map(|t| format!(", next on {}", format_time(t))).unwrap_or_default();
                u.attach(Finding::info(&META, format!("Key {} rotates automatically{period}{next}.", m.arn)))
            }
            Fact::Read { .. } if require => u
                .attach(Finding::fail(&META,
                    format!("Automatic rotation of key {} is disabled, and --require-rotation asks for it. (Task launches do not depend on rotation.)", m.arn),
                ))
                .with_remediation(enable),
            Fact::Read { .. } => u.attach(
                Finding::info(&META, format!("Automatic rotation of key {} is disabled (optional; launches do not depend on it).", m.arn))
                    .with_remediation(enable),
            ),
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
    use crate::inventory::{GrantSummary, Rotation};

    #[test]
    fn rotation_table() {
        let on = Fact::Read {
            value: Rotation {
                enabled: true,
                period_days: Some(365),
                next_rotation: Some("2027-06-01T00:00:00Z".parse().unwrap()),
            },
        };
        let off = Fact::Read { value: Rotation::default() };
        let skipped = Fact::Skipped { reason: "imported".into() };
        let denied = Fact::Unreadable { gap: gap("AccessDeniedException") };
        // (rotation fact, --require-rotation, findings, verdict, text)
        let cases = [
            (on.clone(), false, 1, Verdict::Pass, "every 365 days, next on 2027-06-01"),
            (on, true, 1, Verdict::Pass, "rotates automatically"),
            (off.clone(), false, 1, Verdict::Pass, "disabled (optional"),
            (off, true, 1, Verdict::Fail, "--require-rotation"),
            // Keys that cannot rotate are never a finding.
            (skipped.clone(), false, 0, Verdict::Pass, ""),
            (skipped, true, 0, Verdict::Pass, ""),
            (denied.clone(), false, 1, Verdict::Pass, "could not be read"),
            (denied, true, 1, Verdict::Unknown, "could not be read"),
        ];
        for (fact, require, n, verdict, text) in cases {
            let mut d = details(policy_allowing("prod"), Fact::Read { value: GrantSummary::default() });
            d.rotation = fact.clone();
            let inv = with_details(fargate_key(healthy("k")), d);
            let options = CheckOptions { require_rotation: require, ..CheckOptions::default() };
            let findings = eval(evaluate, &inv, &options);
            assert_eq!(findings.len(), n, "{fact:?}");
            assert_eq!(worst(&findings), verdict, "{fact:?} {require}");
            if n == 1 {
                assert!(findings[0].message.contains(text), "{}", findings[0].message);
                if verdict == Verdict::Pass {
                    assert_eq!(findings[0].severity, Severity::Info);
                }
            }
        }
    }
}
