//! `custom-key-store`: a key in a CloudHSM or external key store. AWS sources
//! conflict on whether GenerateDataKeyWithoutPlaintext works with such keys,
//! and such a key stops working whenever its store disconnects, so it is a
//! warning, never a pass in silence and never a failure on a guess.

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;

pub static META: CheckMeta = CheckMeta {
    id: "custom-key-store",
    title: "The key is not in a custom key store (warning: support is unconfirmed)",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.for_each_described(&META, |u, m| {
        if !u.usage.usage.blocks_launch() {
            return None;
        }
        let origin = m.origin.as_deref().unwrap_or("");
        let in_store = matches!(origin, "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE") || m.custom_key_store_id.is_some();
        if !in_store {
            return None;
        }
        let store = m.custom_key_store_id.as_deref().unwrap_or("(id not reported)");
        Some(u.attach(
            Finding::warning(&META,
                format!(
                    "{} key {} lives in custom key store {store} (Origin {origin}). AWS documentation conflicts on whether GenerateDataKeyWithoutPlaintext works with such keys (unconfirmed), and new tasks fail whenever the store is disconnected or has no active HSM.",
                    u.role(),
                    m.arn
                ),
            )
            .with_remediation(format!(
                "Watch the store's ConnectionState: aws kms describe-custom-key-stores --custom-key-store-id {store} --region {}",
                u.key_region()
            )),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::Verdict;
    use crate::inventory::KeyMetadata;

    #[test]
    fn store_table() {
        // (origin, store id, findings)
        let cases: &[(&str, Option<&str>, usize)] = &[
            ("AWS_KMS", None, 0),
            ("EXTERNAL", None, 0),
            ("AWS_CLOUDHSM", Some("cks-1234567890abcdef0"), 1),
            ("EXTERNAL_KEY_STORE", Some("cks-1234567890abcdef0"), 1),
        ];
        for (origin, store, n) in cases {
            let m = KeyMetadata {
                origin: Some(origin.to_string()),
                custom_key_store_id: store.map(str::to_string),
                ..healthy("k")
            };
            let findings = eval(evaluate, &fargate_key(m), &CheckOptions::default());
            assert_eq!(findings.len(), *n, "{origin}");
            assert_eq!(worst(&findings), Verdict::Pass, "warning only");
            // A key in a custom key store is worth reading: a warning, not information.
            assert!(findings.iter().all(|f| f.severity == crate::finding::Severity::Warning), "{origin}: {findings:?}");
        }
    }
}
