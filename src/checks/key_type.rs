//! `key-type`: GenerateDataKeyWithoutPlaintext needs a symmetric encryption
//! key (`KeySpec` `SYMMETRIC_DEFAULT`, `ClusterKey` `ENCRYPT_DECRYPT`); any other
//! key answers InvalidKeyUsageException ([ECS-KEY], KMS API reference).

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;

pub static META: CheckMeta = CheckMeta {
    id: "key-type",
    title: "The key is a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    ctx.for_each_described(&META, |u, m| {
        let Some(spec) = m.key_spec.as_deref() else {
            return Some(u.attach(Finding::unknown(&META,
                format!("{} key {}: DescribeKey returned no KeySpec, so it cannot be told whether the key is symmetric.", u.role(), m.arn),
            )));
        };
        // A SYMMETRIC_DEFAULT key can only have ClusterKey ENCRYPT_DECRYPT
        // (KMS CreateKey reference), so an absent ClusterKey is implied by the spec.
        let usage = m.key_usage.as_deref().unwrap_or(if spec == "SYMMETRIC_DEFAULT" { "ENCRYPT_DECRYPT" } else { "(not reported)" });
        if spec == "SYMMETRIC_DEFAULT" && usage == "ENCRYPT_DECRYPT" {
            return None;
        }
        Some(
            u.broken(
                &META,
                format!("is a {spec} key for {usage}; Fargate and EBS need a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT), and KMS refuses GenerateDataKeyWithoutPlaintext on any other (InvalidKeyUsageException)."),
            )
            .with_remediation(format!(
                "Create a symmetric key: aws kms create-key --key-spec SYMMETRIC_DEFAULT --key-usage ENCRYPT_DECRYPT --region {}\nthen:\n{}",
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

    #[test]
    fn key_type_table() {
        // (KeySpec, ClusterKey, verdict)
        let cases: &[(Option<&str>, Option<&str>, Verdict)] = &[
            (Some("SYMMETRIC_DEFAULT"), Some("ENCRYPT_DECRYPT"), Verdict::Pass),
            // ClusterKey left out: implied by SYMMETRIC_DEFAULT (the emulator omits it).
            (Some("SYMMETRIC_DEFAULT"), None, Verdict::Pass),
            (Some("RSA_2048"), Some("ENCRYPT_DECRYPT"), Verdict::Fail),
            (Some("RSA_2048"), Some("SIGN_VERIFY"), Verdict::Fail),
            (Some("ECC_NIST_P256"), Some("SIGN_VERIFY"), Verdict::Fail),
            (Some("HMAC_256"), Some("GENERATE_VERIFY_MAC"), Verdict::Fail),
            (Some("ML_DSA_44"), Some("SIGN_VERIFY"), Verdict::Fail),
            (Some("RSA_4096"), None, Verdict::Fail),
            (None, Some("ENCRYPT_DECRYPT"), Verdict::Unknown),
        ];
        for (spec, usage, verdict) in cases {
            let m = KeyMetadata {
                key_spec: spec.map(str::to_string),
                key_usage: usage.map(str::to_string),
                ..healthy("k")
            };
            let findings = eval(evaluate, &fargate_key(m), &CheckOptions::default());
            assert_eq!(worst(&findings), *verdict, "{spec:?} {usage:?}");
            if *verdict == Verdict::Fail {
                assert!(findings[0].message.contains("InvalidKeyUsageException"));
            }
        }
    }
}
