//! `key-material-expiry`: imported key material with an expiration date. On
//! `ValidTo` KMS deletes the material and the key goes to `PendingImport`, and
//! from then on new tasks fail. A warning names the date; within
//! `--horizon` days it is a failure, so a cron report sees it coming.

use super::{ANY_USAGE, CheckMeta, ClusterCtx, days_until, format_time};
use crate::finding::Finding;

pub static META: CheckMeta = CheckMeta {
    id: "key-material-expiry",
    title: "Imported key material does not expire within the horizon",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let horizon = ctx.options.horizon_days;
    ctx.for_each_described(&META, |u, m| {
        let valid_to = m.valid_to?;
        // A key already in PendingImport is reported by key-state.
        if m.key_state.as_deref() == Some("PendingImport") {
            return None;
        }
        let days = days_until(ctx.now(), valid_to);
        let when = format_time(valid_to);
        let region = u.key_region();
        let remediation =
            super::text::reimport_key_material("Re-import the same key material with a later expiry, or none:", &m.arn, region);
        let finding = if days < 0 {
            u.broken(&META, format!("has imported key material that expired on {when}; KMS deletes expired material and the key becomes unusable (PendingImport)."))
        } else if days <= horizon {
            u.broken(
                &META,
                format!("has imported key material that expires on {when}, in {days} days (within the {horizon}-day horizon); the key then becomes unusable (PendingImport)."),
            )
        } else {
            u.attach(Finding::warning(&META,
                format!(
                    "{} key {} has imported key material that expires on {when}, in {days} days; on that date the key stops working and new tasks will fail to start.",
                    u.role(),
                    m.arn
                ),
            ))
        };
        Some(finding.with_remediation(remediation))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::{Severity, Verdict};
    use crate::inventory::KeyMetadata;

    #[test]
    fn expiry_table() {
        // Now is 2026-11-30T12:00Z. (ValidTo, horizon days, verdict, severity)
        let cases: &[(Option<&str>, i64, Verdict, Option<Severity>)] = &[
            (None, 30, Verdict::Pass, None),
            (Some("2027-06-01T00:00:00Z"), 30, Verdict::Pass, Some(Severity::Warning)),
            (Some("2026-12-20T12:00:00Z"), 30, Verdict::Fail, Some(Severity::Error)),
            // The horizon is the user's: 10 days out is only a warning with --horizon 7.
            (Some("2026-12-10T12:00:00Z"), 7, Verdict::Pass, Some(Severity::Warning)),
            // Exactly on the horizon counts as within it.
            (Some("2026-12-07T12:00:00Z"), 7, Verdict::Fail, Some(Severity::Error)),
            (Some("2026-11-01T00:00:00Z"), 30, Verdict::Fail, Some(Severity::Error)),
        ];
        for (valid_to, horizon, verdict, severity) in cases {
            let m = KeyMetadata {
                origin: Some("EXTERNAL".into()),
                expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
                valid_to: valid_to.map(|v| v.parse().unwrap()),
                ..healthy("k")
            };
            let findings =
                eval(evaluate, &fargate_key(m), &CheckOptions { horizon_days: *horizon, ..CheckOptions::default() });
            assert_eq!(worst(&findings), *verdict, "{valid_to:?} {horizon}");
            assert_eq!(findings.first().map(|f| f.severity), *severity, "{valid_to:?}");
            if let Some(v) = valid_to {
                assert!(findings[0].message.contains(&v[..10]), "{}", findings[0].message);
                assert!(findings[0].remediation.as_deref().unwrap().contains("import-key-material"));
            }
        }
    }

    #[test]
    fn pending_import_is_left_to_key_state() {
        let m = KeyMetadata {
            key_state: Some("PendingImport".into()),
            valid_to: Some("2026-11-01T00:00:00Z".parse().unwrap()),
            ..healthy("k")
        };
        assert!(eval(evaluate, &fargate_key(m), &CheckOptions::default()).is_empty());
    }
}
