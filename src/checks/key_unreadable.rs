//! `key-unreadable`: DescribeKey could not be answered (access denied,
//! throttled after retries, timed out, endpoint unreachable). Nothing is known
//! about the key, so the usage is *unknown*: fail closed, never pass.

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::KeyLookup;

pub static META: CheckMeta = CheckMeta {
    id: "key-unreadable",
    title: "The key could be described; if not, the verdict is unknown",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.usages()
        .filter_map(|u| {
            let configured = u.configured()?;
            let message = match u.key.map(|k| &k.describe) {
                Some(KeyLookup::Unreadable { gap }) => format!(
                    "{} key {configured} could not be read, so whether new tasks can use it is unknown. {}",
                    u.role(),
                    gap.describe()
                ),
                Some(_) => return None,
                // An inventory without the record (hand-edited or truncated)
                // is as unknown as a denied call.
                None => format!(
                    "{} key {configured} was not described in this inventory, so whether new tasks can use it is unknown.",
                    u.role()
                ),
            };
            let remediation = match u.key.map(|k| &k.describe) {
                Some(KeyLookup::Unreadable { gap }) if gap.code.contains("AccessDenied") => format!(
                    "Allow kms:DescribeKey on {} to the identity running ecs-key-preflight (see docs/permissions.md).",
                    u.key_label()
                ),
                _ => "Re-run when the KMS endpoint answers (see -v for the request log).".to_string(),
            };
            Some(u.attach(Finding::unknown(&META, message).with_remediation(remediation)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::Verdict;
    use crate::inventory::KeyRole;

    #[test]
    fn gaps_make_unknown() {
        // (gap code, remediation must mention)
        let cases = [
            ("AccessDeniedException", "kms:DescribeKey"),
            ("ThrottlingException", "Re-run"),
            ("Timeout", "Re-run"),
            ("EndpointUnreachable", "Re-run"),
        ];
        for usage in KeyRole::ALL {
            for (code, fix) in cases {
                let inv =
                    one_usage(usage, Some("alias/x"), Some(crate::inventory::KeyLookup::Unreadable { gap: gap(code) }));
                let findings = eval(evaluate, &inv, &CheckOptions::default());
                // Fail closed, even for the ECS Exec usage whose failures only warn.
                assert_eq!(worst(&findings), Verdict::Unknown, "{usage:?} {code}");
                assert!(findings[0].message.contains(code));
                assert!(findings[0].remediation.as_deref().unwrap().contains(fix));
            }
        }
    }

    #[test]
    fn missing_record_is_unknown() {
        let inv = one_usage(KeyRole::FargateEphemeralStorage, Some("alias/x"), None);
        let findings = eval(evaluate, &inv, &CheckOptions::default());
        assert_eq!(worst(&findings), Verdict::Unknown);
    }

    #[test]
    fn described_or_unconfigured_keys_are_not_its_business() {
        let inv = fargate_key(healthy("k"));
        assert!(eval(evaluate, &inv, &CheckOptions::default()).is_empty());
        let inv = one_usage(KeyRole::FargateEphemeralStorage, None, None);
        assert!(eval(evaluate, &inv, &CheckOptions::default()).is_empty());
    }
}
