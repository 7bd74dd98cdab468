//! `key-state`: the key must be `Enabled` (or the transient `Updating`) for
//! GenerateDataKeyWithoutPlaintext and CreateGrant to succeed; every other
//! state refuses them (KMS key-state table, `docs/checks.md#key-state`).

use super::{ANY_USAGE, CheckMeta, ClusterCtx, days_until, format_time};
use crate::finding::Finding;
use crate::inventory::KeyState;

pub static META: CheckMeta = CheckMeta {
    id: "key-state",
    title: "The key is Enabled (or Updating), the only states in which Fargate can use it",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.for_each_described(&META, |u, m| {
        let arn = &m.arn;
        let region = u.key_region();
        let enable = format!("aws kms enable-key --key-id {arn} --region {region}");
        let cancel_then_enable = format!(
            "aws kms cancel-key-deletion --key-id {arn} --region {region}\n{enable}\n(cancelling leaves the key Disabled, so it must be enabled again)"
        );
        let Some(state) = &m.key_state else {
            return Some(u.attach(Finding::unknown(&META,
                format!("{} key {arn}: DescribeKey returned no KeyState, so it cannot be told whether the key is usable.", u.role()),
            )));
        };
        let finding = match state {
            KeyState::Enabled | KeyState::Updating => return None,
            KeyState::Disabled => u.broken(&META, "is Disabled.").with_remediation(enable),
            KeyState::PendingDeletion => {
                let when = match m.deletion_date {
                    Some(date) => {
                        let days = days_until(ctx.now(), date);
                        if days >= 0 {
                            format!("is scheduled for deletion on {} ({days} days left).", format_time(date))
                        } else {
                            format!("is pending deletion, which was due on {}: it may be gone at any moment.", format_time(date))
                        }
                    }
                    None => match m.pending_deletion_window_in_days {
                        Some(days) => format!("is pending deletion (no deletion date was reported; the waiting period is {days} days)."),
                        None => "is pending deletion (no deletion date was reported).".to_string(),
                    },
                };
                u.broken(
                    &META,
                    format!("{when} A key pending deletion cannot be used, and once deleted it cannot be recovered."),
                )
                .with_remediation(cancel_then_enable)
            }
            KeyState::PendingReplicaDeletion => u
                .broken(
                    &META,
                    "is a multi-Region primary key scheduled for deletion, waiting for its replicas to be deleted (PendingReplicaDeletion).",
                )
                .with_remediation(cancel_then_enable),
            KeyState::PendingImport => u
                .broken(
                    &META,
                    "has no key material (PendingImport): the imported material expired or was deleted, or was never imported.",
                )
                .with_remediation(super::text::reimport_key_material("Re-import the same key material:", arn, region)),
            KeyState::Unavailable => u
                .broken(&META, "is Unavailable: its custom key store is disconnected.")
                .with_remediation(match &m.custom_key_store_id {
                    Some(store) => format!("aws kms connect-custom-key-store --custom-key-store-id {store} --region {region}"),
                    None => format!("Reconnect the key's custom key store (aws kms describe-key --key-id {arn} --region {region} shows which)."),
                }),
            KeyState::Creating => u
                .broken(&META, "is still being created (Creating: a multi-Region replica not yet synchronised).")
                .with_remediation(format!(
                    "Wait until it is Enabled: aws kms describe-key --key-id {arn} --region {region} --query KeyMetadata.KeyState"
                )),
            // A state this version does not know: said so, never guessed.
            KeyState::Other(other) => u.attach(Finding::unknown(&META,
                format!(
                    "{} key {arn} is in state {other}, which this version of ecs-key-preflight does not know, so it cannot say whether Fargate can use it.",
                    u.role()
                ),
            )),
        };
        Some(finding)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::Verdict;
    use crate::inventory::{KeyMetadata, KeyRole};

    fn with_state(state: Option<&str>) -> KeyMetadata {
        KeyMetadata { key_state: state.map(Into::into), ..healthy("k") }
    }

    #[test]
    fn every_key_state() {
        // (state, verdict, text the message must contain, text the remediation must contain)
        let cases: &[(Option<&str>, Verdict, &str, &str)] = &[
            (Some("Enabled"), Verdict::Pass, "", ""),
            // Updating is transient and KMS serves requests through it.
            (Some("Updating"), Verdict::Pass, "", ""),
            (Some("Disabled"), Verdict::Fail, "is Disabled", "aws kms enable-key"),
            (Some("PendingDeletion"), Verdict::Fail, "no deletion date", "cancel-key-deletion"),
            (Some("PendingReplicaDeletion"), Verdict::Fail, "replicas", "cancel-key-deletion"),
            (Some("PendingImport"), Verdict::Fail, "no key material", "import-key-material"),
            (Some("Unavailable"), Verdict::Fail, "custom key store", "custom key store"),
            (Some("Creating"), Verdict::Fail, "being created", "describe-key"),
            // A state AWS adds later is not assumed usable.
            (Some("Hibernating"), Verdict::Unknown, "does not know", ""),
            // No state at all is not a pass either.
            (None, Verdict::Unknown, "no KeyState", ""),
        ];
        for (state, verdict, text, fix) in cases {
            let inv = fargate_key(with_state(*state));
            let findings = eval(evaluate, &inv, &CheckOptions::default());
            assert_eq!(worst(&findings), *verdict, "{state:?}");
            if *verdict == Verdict::Pass {
                assert!(findings.is_empty(), "{state:?}: {findings:?}");
                continue;
            }
            assert_eq!(findings.len(), 1);
            let f = &findings[0];
            assert_eq!(f.check.id, "key-state");
            assert_eq!(f.usage, Some(KeyRole::FargateEphemeralStorage));
            assert!(f.message.contains(text), "{state:?}: {}", f.message);
            if *verdict == Verdict::Fail {
                assert!(f.message.contains("Running tasks keep running"), "{}", f.message);
                assert!(f.message.contains("scale-outs and replacements"), "{}", f.message);
                assert!(f.remediation.as_deref().unwrap_or("").contains(fix), "{state:?}");
            }
        }
    }

    #[test]
    fn pending_deletion_names_date_and_days_left() {
        let m = KeyMetadata {
            key_state: Some("PendingDeletion".into()),
            deletion_date: Some("2026-12-07T12:00:00Z".parse().unwrap()),
            ..healthy("k")
        };
        let f = &eval(evaluate, &fargate_key(m), &CheckOptions::default())[0];
        assert!(f.message.contains("2026-12-07 12:00 UTC"), "{}", f.message);
        assert!(f.message.contains("7 days left"), "{}", f.message);
        let fix = f.remediation.as_deref().unwrap();
        // Cancelling leaves the key Disabled: the fix must enable it too, after cancelling.
        let cancel = fix.find("cancel-key-deletion").unwrap();
        let enable = fix.find("enable-key").unwrap();
        assert!(cancel < enable, "{fix}");
    }

    #[test]
    fn past_deletion_date_is_flagged() {
        let m = KeyMetadata {
            key_state: Some("PendingDeletion".into()),
            deletion_date: Some("2026-11-29T12:00:00Z".parse().unwrap()),
            ..healthy("k")
        };
        let f = &eval(evaluate, &fargate_key(m), &CheckOptions::default())[0];
        assert!(f.message.contains("at any moment"), "{}", f.message);
    }

    #[test]
    fn exec_key_disabled_is_a_warning_not_a_failure() {
        let m = with_state(Some("Disabled"));
        let arn = m.arn.clone();
        let inv = one_usage(KeyRole::ExecuteCommand, Some(&arn), Some(found(m)));
        let findings = eval(evaluate, &inv, &CheckOptions::default());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Pass);
        assert_eq!(findings[0].severity, crate::finding::Severity::Warning);
        assert!(findings[0].message.contains("ECS Exec sessions"));
    }

    #[test]
    fn ebs_key_disabled_fails() {
        let m = with_state(Some("Disabled"));
        let arn = m.arn.clone();
        let inv = one_usage(KeyRole::ManagedStorage, Some(&arn), Some(found(m)));
        let findings = eval(evaluate, &inv, &CheckOptions::default());
        assert_eq!(worst(&findings), Verdict::Fail);
        assert!(findings[0].message.contains("EBS"));
    }
}
