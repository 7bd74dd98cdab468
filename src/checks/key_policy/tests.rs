//! The key-policy check over fixed policies: one case per way a key policy
//! lets Fargate in or keeps it out.

use super::*;
use crate::checks::CheckOptions;
use crate::checks::testing::*;
use crate::finding::Verdict;
#[allow(unused_imports)]
use crate::inventory::KeyRole;
use crate::inventory::{GrantSummary, KeyDetails};

const ROOT_ONLY: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;

fn with_policy(policy: &str) -> Inventory {
    with_details(fargate_key(healthy("k")), details(policy.to_string(), Fact::Read { value: GrantSummary::default() }))
}

use crate::inventory::Inventory;

/// The documented statements plus `extra` statements (JSON objects).
fn documented_plus(extra: &str) -> String {
    let docs = fargate_statements(ACCOUNT, "prod");
    let inner = docs.trim().trim_start_matches('[').trim_end_matches(']');
    format!(r#"{{"Statement":[{inner},{extra}]}}"#)
}

#[test]
fn policy_table() {
    let other_cluster = policy_allowing("staging");
    let like = r#"{"Statement":[{"Sid":"FargateLike","Effect":"Allow","Principal":{"Service":"fargate.amazonaws.com"},"Action":["kms:GenerateDataKeyWithoutPlaintext","kms:CreateGrant"],"Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:ecs:clusterName":"pro*"}}}]}"#;
    let deny_grant = documented_plus(
        r#"{"Sid":"NoGrantsForFargate","Effect":"Deny","Principal":{"Service":"fargate.amazonaws.com"},"Action":"kms:CreateGrant","Resource":"*"}"#,
    );
    let keys_trap = r#"{"Statement":[{"Sid":"OnlyEcsContext","Effect":"Allow","Principal":{"Service":"fargate.amazonaws.com"},"Action":["kms:GenerateDataKeyWithoutPlaintext","kms:CreateGrant"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["aws:ecs:clusterAccount","aws:ecs:clusterName"]}}}]}"#;
    let via_service = r#"{"Statement":[{"Sid":"ViaEcs","Effect":"Allow","Principal":{"Service":"fargate.amazonaws.com"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ecs.us-east-1.amazonaws.com"}}}]}"#;
    let aws_star = r#"{"Statement":[{"Sid":"Everyone","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}"#;
    let star = r#"{"Statement":[{"Sid":"Everyone","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
    let account_mismatch = policy_allowing("prod").replace(ACCOUNT, "999999999999");
    // Issue 14's shapes: F = Fargate, V = kms:ViaService (whether Fargate's
    // requests carry it is undocumented). Every statement is kms:* on *.
    let f_stmt = |sid: &str, effect: &str, principal: &str, condition: &str| {
        format!(
            r#"{{"Sid":"{sid}","Effect":"{effect}","Principal":{principal},"Action":"kms:*","Resource":"*","Condition":{condition}}}"#
        )
    };
    let fargate = r#"{"Service":"fargate.amazonaws.com"}"#;
    let v_eq = r#"{"StringEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com"}}"#;
    let v_ne = r#"{"StringNotEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com"}}"#;
    let doc = |stmts: &[String]| format!(r#"{{"Statement":[{}]}}"#, stmts.join(","));
    let root = r#"{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}"#;
    // A: ForAnyValue on a key the request lacks is false, IfExists or not:
    // GenerateDataKeyWithoutPlaintext carries no kms:GrantOperations.
    let any_if_exists = doc(&[
        root.into(),
        f_stmt(
            "AnyIfExists",
            "Allow",
            fargate,
            r#"{"ForAnyValue:StringEqualsIfExists":{"kms:GrantOperations":"Decrypt"}}"#,
        ),
    ]);
    let any_if_exists_deny = doc(&[
        root.into(),
        r#"{"Sid":"AllowF","Effect":"Allow","Principal":{"Service":"fargate.amazonaws.com"},"Action":"kms:*","Resource":"*"}"#.into(),
        f_stmt("DenyAnyNot", "Deny", r#""*""#, r#"{"ForAnyValue:StringNotEqualsIfExists":{"kms:GrantOperations":"Decrypt"}}"#),
    ]);
    // B: no value of V (or its absence) changes the answer.
    let either_way = doc(&[f_stmt("IfV", "Allow", fargate, v_eq), f_stmt("IfNotV", "Allow", fargate, v_ne)]);
    let deny_with_allow = doc(&[f_stmt("IfV", "Allow", fargate, v_eq), f_stmt("DenyIfV", "Deny", r#""*""#, v_eq)]);
    let never = doc(&[f_stmt(
        "Never",
        "Allow",
        fargate,
        r#"{"StringEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com"},"StringNotEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com"}}"#,
    )]);
    let any_volume = doc(&[
        f_stmt("DryRun", "Allow", fargate, r#"{"Null":{"kms:EncryptionContext:aws:ebs:id":"true"}}"#),
        f_stmt("AnyVolume", "Allow", fargate, r#"{"StringLikeIfExists":{"kms:EncryptionContext:aws:ebs:id":"*"}}"#),
    ]);
    // (case, policy, verdict, texts the message must contain)
    let cases: Vec<(&str, String, Verdict, Vec<&str>)> = vec![
        (
            "documented statements",
            policy_allowing("prod"),
            Verdict::Pass,
            vec!["lets Fargate use", "Allow generate data key access"],
        ),
        (
            "default root-only policy",
            ROOT_ONLY.into(),
            Verdict::Fail,
            vec![
                "GenerateDataKeyWithoutPlaintext (DryRun), CreateGrant (DryRun), GenerateDataKeyWithoutPlaintext and CreateGrant are implicitly denied: no statement allows them.",
            ],
        ),
        ("statements for another cluster", other_cluster, Verdict::Fail, vec!["refuses Fargate for cluster prod"]),
        ("statements for another account", account_mismatch, Verdict::Fail, vec!["implicitly denied"]),
        (
            "explicit Deny on CreateGrant",
            deny_grant,
            Verdict::Fail,
            vec!["CreateGrant (DryRun) and CreateGrant are explicitly denied by Sid \"NoGrantsForFargate\""],
        ),
        ("StringLike cluster-name pattern", like.into(), Verdict::Pass, vec!["FargateLike"]),
        (
            "encryption-context-keys trap",
            keys_trap.into(),
            Verdict::Fail,
            vec!["passes validation and then fails", "aws:ebs:id"],
        ),
        ("condition on kms:ViaService", via_service.into(), Verdict::Unknown, vec!["kms:ViaService", "ViaEcs"]),
        (
            "ForAnyValue:…IfExists on a key the request lacks is false (AWS re:Post, iam-simulate)",
            any_if_exists,
            Verdict::Fail,
            vec!["GenerateDataKeyWithoutPlaintext (DryRun) and GenerateDataKeyWithoutPlaintext are implicitly denied"],
        ),
        (
            "a ForAnyValue:…NotEqualsIfExists Deny does not apply to a request lacking the key",
            any_if_exists_deny,
            Verdict::Pass,
            vec!["AllowF"],
        ),
        ("Allow if V and Allow if not V: allowed whatever V is", either_way, Verdict::Pass, vec!["IfV", "IfNotV"]),
        (
            "Allow if V and Deny if V: refused whatever V is",
            deny_with_allow,
            Verdict::Fail,
            vec!["explicitly denied by Sid \"DenyIfV\"", "whatever kms:ViaService is"],
        ),
        ("V equal and not equal in one statement: never applies", never, Verdict::Fail, vec!["no statement allows it"]),
        ("StringLikeIfExists \"*\" on the volume id covers every volume", any_volume, Verdict::Pass, vec!["AnyVolume"]),
        ("{\"AWS\":\"*\"} only", aws_star.into(), Verdict::Unknown, vec!["unconfirmed"]),
        ("\"*\" principal", star.into(), Verdict::Pass, vec!["Everyone"]),
        (
            "malformed policy",
            "{\"Statement\": [{\"Effect\": \"Maybe\"}]}".into(),
            Verdict::Unknown,
            vec!["could not be read as an IAM policy", "\"Effect\" must be"],
        ),
    ];
    for (case, policy, verdict, texts) in cases {
        let findings = eval(evaluate, &with_policy(&policy), &CheckOptions::default());
        assert_eq!(findings.len(), 1, "{case}");
        let f = &findings[0];
        assert_eq!(f.verdict, verdict, "{case}: {}", f.message);
        for text in texts {
            assert!(f.message.contains(text), "{case}: no {text:?} in {}", f.message);
        }
        if verdict == Verdict::Fail {
            let fix = f.remediation.as_deref().unwrap();
            // The ready-to-paste statements are filled in for this account and cluster.
            assert!(fix.contains(r#""kms:EncryptionContext:aws:ecs:clusterName":["#), "{case}: {fix}");
            assert!(fix.contains(r#""prod""#), "{case}: {fix}");
            assert!(fix.contains("123456789012") && fix.contains("aws kms put-key-policy"), "{case}");
        }
    }
}

#[test]
fn the_fix_is_two_lines_of_json_that_let_fargate_in() {
    let f = &eval(evaluate, &with_policy(ROOT_ONLY), &CheckOptions::default())[0];
    assert_eq!(f.verdict, Verdict::Fail);
    let fix = f.remediation.as_deref().unwrap();
    // The statements: one line each, together a JSON array.
    let block: String = fix.lines().skip(1).take(2).collect::<Vec<_>>().join("\n");
    let statements: serde_json::Value = serde_json::from_str(&block).unwrap_or_else(|e| panic!("{e}: {block}"));
    assert_eq!(statements, serde_json::from_str::<serde_json::Value>(&fargate_statements(ACCOUNT, "prod")).unwrap());
    // Added to the policy, they let the cluster pass.
    let mut policy: serde_json::Value = serde_json::from_str(ROOT_ONLY).unwrap();
    policy["Statement"].as_array_mut().unwrap().extend(statements.as_array().unwrap().iter().cloned());
    let fixed = eval(evaluate, &with_policy(&policy.to_string()), &CheckOptions::default());
    assert_eq!(fixed[0].verdict, Verdict::Pass, "{fixed:?}");
    assert!(fix.lines().count() <= 6, "{fix}");
}

#[test]
fn explicit_deny_fix_names_the_statement() {
    let deny = documented_plus(
        r#"{"Sid":"NoGrantsForFargate","Effect":"Deny","Principal":{"Service":"fargate.amazonaws.com"},"Action":"kms:CreateGrant","Resource":"*"}"#,
    );
    let f = &eval(evaluate, &with_policy(&deny), &CheckOptions::default())[0];
    assert!(f.remediation.as_deref().unwrap().starts_with("Narrow or remove Sid \"NoGrantsForFargate\""));
}

#[test]
fn missing_policy_facts_are_unknown() {
    // (policy fact, text)
    let cases = [
        (Fact::Unreadable { gap: gap("AccessDeniedException") }, "AccessDeniedException"),
        (
            Fact::Skipped {
                reason: "the key belongs to account 444455556666, and GetKeyPolicy does not work across accounts"
                    .into(),
            },
            "across accounts",
        ),
    ];
    for (fact, text) in cases {
        let mut d = details(String::new(), Fact::Read { value: GrantSummary::default() });
        d.policy = fact;
        let inv = with_details(fargate_key(healthy("k")), d);
        let f = &eval(evaluate, &inv, &CheckOptions::default())[0];
        assert_eq!(f.verdict, Verdict::Unknown);
        assert!(f.message.contains(text), "{}", f.message);
    }
    // An inventory without the policy read at all (older version).
    let inv = fargate_key(healthy("k"));
    let f = &eval(evaluate, &inv, &CheckOptions::default())[0];
    assert_eq!(f.verdict, Verdict::Unknown);
}

#[test]
fn other_usages_are_not_judged() {
    let m = healthy("k");
    let arn = m.arn.clone();
    let inv = one_usage(KeyRole::ExecuteCommand, Some(&arn), Some(found(m)));
    let d: KeyDetails = details(ROOT_ONLY.into(), Fact::Read { value: GrantSummary::default() });
    assert!(eval(evaluate, &with_details(inv, d), &CheckOptions::default()).is_empty());
}

#[test]
fn launch_requests_follow_the_domain_reference() {
    let now = "2026-11-30T12:00:00Z".parse().unwrap();
    let reqs = launch_requests("123456789012", "prod", "us-east-1", &key_arn("k"), now);
    let labels: Vec<&str> = reqs.iter().map(|r| r.label).collect();
    assert_eq!(
        labels,
        [
            "GenerateDataKeyWithoutPlaintext (DryRun)",
            "CreateGrant (DryRun)",
            "GenerateDataKeyWithoutPlaintext",
            "CreateGrant"
        ]
    );
    use crate::policy::Lookup;
    let keys = |i: usize| match reqs[i].request.lookup("kms:EncryptionContextKeys") {
        Lookup::Values { values, .. } => values.to_vec(),
        other => panic!("{other:?}"),
    };
    assert_eq!(keys(0), ["aws:ecs:clusterAccount", "aws:ecs:clusterName"]);
    assert_eq!(keys(2), ["aws:ecs:clusterAccount", "aws:ecs:clusterName", "aws:ebs:id"]);
    // The cluster name, not its ARN, is the context value.
    assert!(
        matches!(reqs[0].request.lookup("kms:EncryptionContext:aws:ecs:clusterName"), Lookup::Values { values, .. } if values == ["prod"])
    );
    assert!(
        matches!(reqs[3].request.lookup("kms:RetiringPrincipal"), Lookup::Values { values, .. } if values == ["ec2.us-east-1.amazonaws.com"])
    );
    assert_eq!(reqs[1].request.lookup("kms:RetiringPrincipal"), Lookup::Absent);
    assert!(
        matches!(reqs[1].request.lookup("kms:GranteePrincipal"), Lookup::Values { values, .. } if values == ["fargate.us-east-1.amazonaws.com"])
    );
    assert_eq!(reqs[2].request.lookup("kms:EncryptionContext:aws:ebs:id"), Lookup::PresentValueUnknown);
    assert_eq!(reqs[0].request.lookup("kms:ViaService"), Lookup::Unknown);
}
