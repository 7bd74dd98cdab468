//! Property tests over every parser of outside input: key policy documents,
//! inventories, suppressions files, CloudTrail files. Arbitrary and mutated
//! inputs never panic and end in the documented outcome: parsed, or a clear
//! error; a parsed inventory goes through every check and renderer.
//!
//! Bounded (64 cases each) so that `make test` stays fast; `make fuzz` runs
//! them with PROPTEST_CASES=5000.

mod common;

use ecs_key_preflight::checks::{self, CheckOptions};
use ecs_key_preflight::policy::{self, Policy, Principal, Request};
use ecs_key_preflight::render::{self, Format};
use ecs_key_preflight::report::Report;
use ecs_key_preflight::{audit, config, inventory};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64)
}

/// A valid document, then a few edits: bytes flipped, cut, duplicated.
fn mutated(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 0..6).prop_map(move |edits| {
        let mut bytes = base.as_bytes().to_vec();
        for (at, kind, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => bytes.truncate(i),
                2 => bytes.insert(i, byte),
                _ => {
                    let tail = bytes[i..].to_vec();
                    bytes.extend(tail);
                }
            }
        }
        bytes
    })
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"F","Effect":"Allow","Principal":{"Service":"fargate.amazonaws.com"},"Action":["kms:GenerateDataKeyWithoutPlaintext","kms:CreateGrant"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":["prod"]},"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt"]},"StringLikeIfExists":{"kms:ViaService":"ec2.*"}}},{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"NotAction":"kms:Decrypt","Resource":"*","Condition":{"NumericLessThan":{"ex:n":["1","2"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;

const CONFIG: &str =
    "[[suppress]]\ncheck = \"key-policy\"\ncluster = \"partner\"\nreason = \"reviewed\"\nexpires = 2027-01-31\n";

const CLOUDTRAIL: &str = r#"{"Records":[{"eventSource":"kms.amazonaws.com","eventName":"CreateGrant","eventTime":"2024-04-24T10:00:00Z","userIdentity":{"invokedBy":"fargate.amazonaws.com"},"requestParameters":{"dryRun":true,"constraints":{"encryptionContextSubset":{"aws:ecs:clusterAccount":"123456789012","aws:ecs:clusterName":"web"}}},"errorCode":"DisabledException","errorMessage":"m"},{"eventSource":"kms.amazonaws.com","eventName":"DisableKey","eventTime":"2024-04-24T09:00:00Z","requestParameters":{"keyId":"k"}}]}"#;

fn request() -> Request {
    Request::new(
        Principal::service("fargate.amazonaws.com"),
        "kms:CreateGrant",
        "arn:aws:kms:us-east-1:123456789012:key/k",
    )
    .with("kms:EncryptionContext:aws:ecs:clusterName", "prod")
    .with_multi("kms:GrantOperations", &["Decrypt"])
    .with_unknown_value("kms:EncryptionContext:aws:ebs:id")
}

fn render_all(report: &Report) {
    for format in [Format::Human, Format::Json, Format::Junit, Format::Prometheus] {
        let mut out = Vec::new();
        let options = render::RenderOptions { color: true };
        render::render(report, format, options, &mut out).expect("rendering to memory cannot fail");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn key_policies_parse_or_say_why(bytes in mutated(POLICY)) {
        let text = String::from_utf8_lossy(&bytes);
        match Policy::parse(&text) {
            Ok(p) => { policy::evaluate(&p, &request()); }
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }

    #[test]
    fn arbitrary_text_is_never_a_policy_panic(text in ".{0,200}") {
        let _ = Policy::parse(&text);
        let _ = config::parse(&text);
        let _ = inventory::from_json(&text);
    }

    #[test]
    fn suppressions_files_parse_or_say_why(bytes in mutated(CONFIG)) {
        if let Err(e) = config::parse(&String::from_utf8_lossy(&bytes)) {
            prop_assert!(!e.problems.is_empty() && e.problems.iter().all(|p| !p.is_empty()));
        }
    }

    #[test]
    fn cloudtrail_files_never_panic(bytes in mutated(CLOUDTRAIL), gzip in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.json");
        let bytes = if gzip {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&bytes).unwrap();
            gz.finish().unwrap()
        } else {
            bytes
        };
        std::fs::write(&path, bytes).unwrap();
        let mut agg = audit::Aggregator::new(audit::Window::default());
        let stats = audit::source::read(&path, &mut |r| agg.add(&r)).unwrap();
        let files = stats.files_read + stats.skipped.len() as u64;
        prop_assert_eq!(files, 1, "the file is read or skipped, with the reason");
        let report = agg.finish(vec![], stats, vec![], None);
        prop_assert_eq!(report.exit_code, report.verdict.exit_code());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn inventories_load_or_say_why_and_loaded_ones_render(bytes in mutated(include_str!("fixtures/estate.json"))) {
        match inventory::from_json(&String::from_utf8_lossy(&bytes)) {
            Ok(inv) => {
                let report = Report::build(&inv, checks::run(&inv, &CheckOptions::default()));
                prop_assert_eq!(report.exit_code, report.verdict.exit_code());
                render_all(&report);
            }
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }
}
