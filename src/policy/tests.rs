//! The evaluator's case table. Each case names the AWS rule it encodes;
//! sources are in docs/policy-evaluation.md. Cases marked "(iam-simulate)"
//! are ones the AWS documentation leaves ambiguous, where the answer was
//! compared with the independent `@cloud-copilot/iam-simulate` package.

use super::*;

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const GDK: &str = "kms:GenerateDataKeyWithoutPlaintext";
const FARGATE: &str = "fargate.amazonaws.com";

/// Fargate's DryRun GenerateDataKeyWithoutPlaintext for cluster prod-api,
/// plus a few generic keys for the operator families.
fn req() -> Request {
    Request::new(Principal::service(FARGATE), GDK, KEY)
        .with("kms:EncryptionContext:aws:ecs:clusterAccount", "111122223333")
        .with("kms:EncryptionContext:aws:ecs:clusterName", "prod-api")
        .with_multi("kms:EncryptionContextKeys", &["aws:ecs:clusterAccount", "aws:ecs:clusterName"])
        .absent_unless_listed("kms:EncryptionContext:")
        .with_multi("kms:GrantOperations", &["Decrypt"])
        .with("aws:CurrentTime", "2026-11-30T12:00:00Z")
        .with("aws:PrincipalIsAWSService", "true")
        .with("ex:Count", "64")
        .with("ex:Ip", "10.1.2.3")
        .with("ex:Arn", "arn:aws:ecs:us-east-1:111122223333:cluster/prod-api")
        .with_multi("ex:Empty", &[])
        .with("ex:Binary", "QmluYXJ5")
        .without("ex:Missing")
        .with_unknown_value("kms:EncryptionContext:aws:ebs:id")
}

/// One Allow statement for Fargate on GDK with `condition` (a JSON object).
fn allow_if(condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{FARGATE}"}},"Action":"{GDK}","Resource":"*","Condition":{condition}}}]}}"#
    )
}

/// One statement with the given principal, action and resource JSON members.
fn stmt(effect: &str, principal: &str, action: &str, resource: &str) -> String {
    format!(r#"{{"Statement":{{"Effect":"{effect}",{principal},{action},{resource}}}}}"#)
}

const P_FARGATE: &str = r#""Principal":{"Service":"fargate.amazonaws.com"}"#;
const A_GDK: &str = r#""Action":"kms:GenerateDataKeyWithoutPlaintext""#;
const R_ALL: &str = r#""Resource":"*""#;

use Decision::*;

#[test]
fn condition_operator_table() {
    // (rule, condition, expected decision)
    let cases: &[(&str, &str, Decision)] = &[
        // --- String family: StringEquals is case-sensitive; values OR; keys AND.
        (
            "StringEquals exact value",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"prod-api"}}"#,
            Allow,
        ),
        (
            "StringEquals is case-sensitive on values",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"Prod-Api"}}"#,
            ImplicitDeny,
        ),
        (
            "several values for one key are OR-ed",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":["web","prod-api"]}}"#,
            Allow,
        ),
        (
            "several keys in one operator are AND-ed (one fails)",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"prod-api","kms:EncryptionContext:aws:ecs:clusterAccount":"999999999999"}}"#,
            ImplicitDeny,
        ),
        (
            "several keys in one operator are AND-ed (both hold)",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"prod-api","kms:EncryptionContext:aws:ecs:clusterAccount":"111122223333"}}"#,
            Allow,
        ),
        (
            "several operators are AND-ed",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"prod-api"},"StringLike":{"kms:EncryptionContext:aws:ecs:clusterAccount":"9*"}}"#,
            ImplicitDeny,
        ),
        (
            "condition key names are case-insensitive",
            r#"{"StringEquals":{"KMS:ENCRYPTIONCONTEXT:AWS:ECS:CLUSTERNAME":"prod-api"}}"#,
            Allow,
        ),
        // KMS documents the <key> of kms:EncryptionContext:<key> as case-insensitive;
        // iam-simulate compares it case-sensitively. The KMS documentation wins.
        (
            "the kms:EncryptionContext: suffix is case-insensitive (iam-simulate differs)",
            r#"{"StringEquals":{"kms:EncryptionContext:AWS:ECS:ClusterName":"prod-api"}}"#,
            Allow,
        ),
        (
            "StringNotEquals: value matches none",
            r#"{"StringNotEquals":{"kms:EncryptionContext:aws:ecs:clusterName":["web","batch"]}}"#,
            Allow,
        ),
        (
            "StringNotEquals: value matches one",
            r#"{"StringNotEquals":{"kms:EncryptionContext:aws:ecs:clusterName":["web","prod-api"]}}"#,
            ImplicitDeny,
        ),
        (
            "StringEqualsIgnoreCase",
            r#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext:aws:ecs:clusterName":"PROD-API"}}"#,
            Allow,
        ),
        (
            "StringNotEqualsIgnoreCase",
            r#"{"StringNotEqualsIgnoreCase":{"kms:EncryptionContext:aws:ecs:clusterName":"PROD-API"}}"#,
            ImplicitDeny,
        ),
        ("StringLike with *", r#"{"StringLike":{"kms:EncryptionContext:aws:ecs:clusterName":"prod-*"}}"#, Allow),
        ("StringLike with ?", r#"{"StringLike":{"kms:EncryptionContext:aws:ecs:clusterName":"prod-ap?"}}"#, Allow),
        (
            "StringLike not matching",
            r#"{"StringLike":{"kms:EncryptionContext:aws:ecs:clusterName":"staging-*"}}"#,
            ImplicitDeny,
        ),
        (
            "StringLike is case-sensitive",
            r#"{"StringLike":{"kms:EncryptionContext:aws:ecs:clusterName":"PROD-*"}}"#,
            ImplicitDeny,
        ),
        ("StringNotLike", r#"{"StringNotLike":{"kms:EncryptionContext:aws:ecs:clusterName":"staging-*"}}"#, Allow),
        (
            "StringNotLike matching",
            r#"{"StringNotLike":{"kms:EncryptionContext:aws:ecs:clusterName":"prod-*"}}"#,
            ImplicitDeny,
        ),
        // --- Missing keys: false for positive operators, true for negated ones.
        ("missing key makes StringEquals false", r#"{"StringEquals":{"ex:Missing":"x"}}"#, ImplicitDeny),
        ("missing key makes StringNotEquals true", r#"{"StringNotEquals":{"ex:Missing":"x"}}"#, Allow),
        ("missing key makes StringLike false", r#"{"StringLike":{"ex:Missing":"*"}}"#, ImplicitDeny),
        (
            "missing encryption-context key is absent, not unknown",
            r#"{"StringEquals":{"kms:EncryptionContext:department":"x"}}"#,
            ImplicitDeny,
        ),
        // --- IfExists: a missing key makes the condition true.
        ("StringEqualsIfExists with missing key", r#"{"StringEqualsIfExists":{"ex:Missing":"x"}}"#, Allow),
        (
            "StringEqualsIfExists with present key that differs",
            r#"{"StringEqualsIfExists":{"kms:EncryptionContext:aws:ecs:clusterName":"web"}}"#,
            ImplicitDeny,
        ),
        (
            "StringLikeIfExists with present key that matches",
            r#"{"StringLikeIfExists":{"kms:EncryptionContext:aws:ecs:clusterName":"prod*"}}"#,
            Allow,
        ),
        ("NumericLessThanIfExists with missing key", r#"{"NumericLessThanIfExists":{"ex:Missing":"1"}}"#, Allow),
        // --- Null: true means absent, false means present.
        ("Null true on missing key", r#"{"Null":{"ex:Missing":"true"}}"#, Allow),
        ("Null true on present key", r#"{"Null":{"kms:EncryptionContext:aws:ecs:clusterName":"true"}}"#, ImplicitDeny),
        ("Null false on present key", r#"{"Null":{"kms:EncryptionContext:aws:ecs:clusterName":"false"}}"#, Allow),
        ("Null false on missing key", r#"{"Null":{"ex:Missing":"false"}}"#, ImplicitDeny),
        (
            "Null false on a key present with an unknown value",
            r#"{"Null":{"kms:EncryptionContext:aws:ebs:id":"false"}}"#,
            Allow,
        ),
        ("Null as a JSON boolean", r#"{"Null":{"ex:Missing":true}}"#, Allow),
        // --- Numeric family.
        ("NumericEquals", r#"{"NumericEquals":{"ex:Count":"64"}}"#, Allow),
        ("NumericEquals with a JSON number", r#"{"NumericEquals":{"ex:Count":64}}"#, Allow),
        ("NumericNotEquals", r#"{"NumericNotEquals":{"ex:Count":"64"}}"#, ImplicitDeny),
        ("NumericLessThan", r#"{"NumericLessThan":{"ex:Count":"100"}}"#, Allow),
        ("NumericLessThan false", r#"{"NumericLessThan":{"ex:Count":"64"}}"#, ImplicitDeny),
        ("NumericLessThanEquals", r#"{"NumericLessThanEquals":{"ex:Count":"64"}}"#, Allow),
        ("NumericGreaterThan", r#"{"NumericGreaterThan":{"ex:Count":"10"}}"#, Allow),
        ("NumericGreaterThanEquals false", r#"{"NumericGreaterThanEquals":{"ex:Count":"65"}}"#, ImplicitDeny),
        (
            "Numeric on a non-number is false",
            r#"{"NumericEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"1"}}"#,
            ImplicitDeny,
        ),
        // --- Date family (aws:CurrentTime is 2026-11-30T12:00:00Z).
        ("DateLessThan", r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#, Allow),
        ("DateLessThan past", r#"{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}"#, ImplicitDeny),
        ("DateGreaterThan", r#"{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}"#, Allow),
        (
            "DateGreaterThanEquals equal",
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2026-11-30T12:00:00Z"}}"#,
            Allow,
        ),
        ("DateLessThanEquals equal", r#"{"DateLessThanEquals":{"aws:CurrentTime":"2026-11-30T12:00:00Z"}}"#, Allow),
        ("DateEquals", r#"{"DateEquals":{"aws:CurrentTime":"2026-11-30T12:00:00Z"}}"#, Allow),
        ("DateNotEquals", r#"{"DateNotEquals":{"aws:CurrentTime":"2026-11-30T12:00:00Z"}}"#, ImplicitDeny),
        ("Date as epoch seconds", r#"{"DateGreaterThan":{"aws:CurrentTime":"1700000000"}}"#, Allow),
        ("Date as a bare day", r#"{"DateLessThan":{"aws:CurrentTime":"2026-12-01"}}"#, Allow),
        // --- Bool.
        ("Bool true", r#"{"Bool":{"aws:PrincipalIsAWSService":"true"}}"#, Allow),
        ("Bool false", r#"{"Bool":{"aws:PrincipalIsAWSService":"false"}}"#, ImplicitDeny),
        ("Bool as a JSON boolean", r#"{"Bool":{"aws:PrincipalIsAWSService":true}}"#, Allow),
        ("BoolIfExists with missing key", r#"{"BoolIfExists":{"ex:Missing":"false"}}"#, Allow),
        // --- Arn family: per-part wildcards, case-sensitive.
        ("ArnLike with wildcard", r#"{"ArnLike":{"ex:Arn":"arn:aws:ecs:*:111122223333:cluster/*"}}"#, Allow),
        ("ArnEquals exact", r#"{"ArnEquals":{"ex:Arn":"arn:aws:ecs:us-east-1:111122223333:cluster/prod-api"}}"#, Allow),
        (
            "ArnEquals other account",
            r#"{"ArnEquals":{"ex:Arn":"arn:aws:ecs:us-east-1:999999999999:cluster/prod-api"}}"#,
            ImplicitDeny,
        ),
        ("ArnNotLike", r#"{"ArnNotLike":{"ex:Arn":"arn:aws:ecs:*:999999999999:*"}}"#, Allow),
        (
            "ArnNotEquals matching",
            r#"{"ArnNotEquals":{"ex:Arn":"arn:aws:ecs:us-east-1:111122223333:cluster/prod-api"}}"#,
            ImplicitDeny,
        ),
        (
            "ArnLike on a non-ARN value is false",
            r#"{"ArnLike":{"kms:EncryptionContext:aws:ecs:clusterName":"arn:*"}}"#,
            ImplicitDeny,
        ),
        // --- IP and Binary.
        ("IpAddress in CIDR", r#"{"IpAddress":{"ex:Ip":"10.0.0.0/8"}}"#, Allow),
        ("IpAddress outside CIDR", r#"{"IpAddress":{"ex:Ip":"192.168.0.0/16"}}"#, ImplicitDeny),
        ("NotIpAddress", r#"{"NotIpAddress":{"ex:Ip":"192.168.0.0/16"}}"#, Allow),
        ("BinaryEquals", r#"{"BinaryEquals":{"ex:Binary":"QmluYXJ5"}}"#, Allow),
        // --- Set operators over multivalued keys.
        (
            "ForAllValues: every request value is listed",
            r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["aws:ecs:clusterAccount","aws:ecs:clusterName","aws:ebs:id"]}}"#,
            Allow,
        ),
        (
            "ForAllValues: one request value is not listed",
            r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["aws:ecs:clusterName"]}}"#,
            ImplicitDeny,
        ),
        ("ForAllValues is true for a missing key", r#"{"ForAllValues:StringEquals":{"ex:Missing":["x"]}}"#, Allow),
        ("ForAllValues is true for a key with no values", r#"{"ForAllValues:StringEquals":{"ex:Empty":["x"]}}"#, Allow),
        (
            "ForAllValues with StringLike",
            r#"{"ForAllValues:StringLike":{"kms:EncryptionContextKeys":"aws:ecs:*"}}"#,
            Allow,
        ),
        (
            "ForAnyValue: one request value is listed",
            r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"aws:ecs:clusterName"}}"#,
            Allow,
        ),
        (
            "ForAnyValue: no request value is listed",
            r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"department"}}"#,
            ImplicitDeny,
        ),
        ("ForAnyValue is false for a missing key", r#"{"ForAnyValue:StringEquals":{"ex:Missing":"x"}}"#, ImplicitDeny),
        (
            "ForAnyValue is false for a key with no values",
            r#"{"ForAnyValue:StringEquals":{"ex:Empty":"x"}}"#,
            ImplicitDeny,
        ),
        (
            "ForAnyValue:StringNotEquals: some value is not listed",
            r#"{"ForAnyValue:StringNotEquals":{"kms:EncryptionContextKeys":"aws:ecs:clusterName"}}"#,
            Allow,
        ),
        (
            "ForAllValues:StringNotEquals: every value unlisted",
            r#"{"ForAllValues:StringNotEquals":{"kms:EncryptionContextKeys":"aws:ecs:clusterName"}}"#,
            ImplicitDeny,
        ),
        // The set operator decides before IfExists: ForAnyValue needs a value
        // (AWS re:Post "ForAnyValue:StringEqualsIfExists behaving
        // unexpectedly"; iam-simulate agrees), ForAllValues holds on none.
        (
            "ForAnyValue:StringEqualsIfExists with missing key is false",
            r#"{"ForAnyValue:StringEqualsIfExists":{"ex:Missing":"x"}}"#,
            ImplicitDeny,
        ),
        (
            "ForAnyValue:StringNotEqualsIfExists with missing key is false",
            r#"{"ForAnyValue:StringNotEqualsIfExists":{"ex:Missing":"x"}}"#,
            ImplicitDeny,
        ),
        (
            "ForAllValues:StringEqualsIfExists with missing key is true",
            r#"{"ForAllValues:StringEqualsIfExists":{"ex:Missing":"x"}}"#,
            Allow,
        ),
        (
            "ForAllValues on GrantOperations {Decrypt}",
            r#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt","RetireGrant"]}}"#,
            Allow,
        ),
        (
            "ForAllValues on GrantOperations not listing Decrypt",
            r#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Encrypt"]}}"#,
            ImplicitDeny,
        ),
        // Ambiguous in the docs ("multivalued context keys require a condition set
        // operator"; the outcome without one is not documented). iam-simulate
        // answers "no match" (ImplicitlyDenied, even for StringNotEquals); we
        // claim neither answer.
        (
            "plain operator on a multivalued key (iam-simulate: no match)",
            r#"{"StringEquals":{"kms:EncryptionContextKeys":"aws:ecs:clusterName"}}"#,
            Indeterminate,
        ),
        (
            "plain negated operator on a multivalued key (iam-simulate: no match)",
            r#"{"StringNotEquals":{"kms:GrantOperations":"Encrypt"}}"#,
            Indeterminate,
        ),
        // --- Unknown presence or value: indeterminate, never a silent pass.
        (
            "condition on kms:ViaService is indeterminate",
            r#"{"StringEquals":{"kms:ViaService":"ecs.us-east-1.amazonaws.com"}}"#,
            Indeterminate,
        ),
        (
            "condition on aws:SourceArn is indeterminate",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:*:*"}}"#,
            Indeterminate,
        ),
        (
            "an ArnLike pattern without six parts matches no value, whatever aws:SourceArn is",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*"}}"#,
            ImplicitDeny,
        ),
        (
            "condition on aws:SourceAccount is indeterminate",
            r#"{"StringEquals":{"aws:SourceAccount":"111122223333"}}"#,
            Indeterminate,
        ),
        (
            "condition on kms:CallerAccount is indeterminate",
            r#"{"StringEquals":{"kms:CallerAccount":"111122223333"}}"#,
            Indeterminate,
        ),
        (
            "IfExists on an unknown key is still indeterminate",
            r#"{"StringEqualsIfExists":{"kms:ViaService":"ecs.us-east-1.amazonaws.com"}}"#,
            Indeterminate,
        ),
        (
            "a failing known condition beats an unknown one (AND)",
            r#"{"StringEquals":{"kms:ViaService":"x","kms:EncryptionContext:aws:ecs:clusterName":"web"}}"#,
            ImplicitDeny,
        ),
        (
            "condition on a value not known in advance",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ebs:id":"vol-1"}}"#,
            Indeterminate,
        ),
        (
            "policy variables are not resolved",
            r#"{"StringEquals":{"kms:EncryptionContext:aws:ecs:clusterName":"${aws:username}"}}"#,
            Indeterminate,
        ),
    ];
    for (rule, condition, want) in cases {
        let policy = Policy::parse(&allow_if(condition)).unwrap_or_else(|e| panic!("{rule}: {e}"));
        let got = evaluate(&policy, &req());
        assert_eq!(got.decision, *want, "{rule}: {condition}\n{got:?}");
    }
    assert!(cases.len() >= 80, "the table must keep at least 80 cases");
}

#[test]
fn statement_element_table() {
    let deny_grant = r#"{"Effect":"Deny","Principal":{"Service":"fargate.amazonaws.com"},"Action":"kms:CreateGrant","Resource":"*"}"#;
    let allow_all = r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#;
    // (rule, policy document, action, expected decision)
    let cases: Vec<(&str, String, &str, Decision)> = vec![
        ("the service principal as a string", stmt("Allow", P_FARGATE, A_GDK, R_ALL), GDK, Allow),
        (
            "the service principal in an array",
            stmt("Allow", r#""Principal":{"Service":["ecs.amazonaws.com","fargate.amazonaws.com"]}"#, A_GDK, R_ALL),
            GDK,
            Allow,
        ),
        (
            "another service principal",
            stmt("Allow", r#""Principal":{"Service":"ec2.amazonaws.com"}"#, A_GDK, R_ALL),
            GDK,
            ImplicitDeny,
        ),
        (
            "an account principal does not cover a service",
            stmt("Allow", r#""Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#, A_GDK, R_ALL),
            GDK,
            ImplicitDeny,
        ),
        ("\"*\" covers service principals", stmt("Allow", r#""Principal":"*""#, A_GDK, R_ALL), GDK, Allow),
        (
            // iam-simulate allows it; AWS documentation does not say it covers
            // service principals, so the answer stays indeterminate.
            "{\"AWS\":\"*\"} for a service is unconfirmed (iam-simulate: Allowed)",
            stmt("Allow", r#""Principal":{"AWS":"*"}"#, A_GDK, R_ALL),
            GDK,
            Indeterminate,
        ),
        (
            "Federated principals do not cover a service",
            stmt("Allow", r#""Principal":{"Federated":"cognito-identity.amazonaws.com"}"#, A_GDK, R_ALL),
            GDK,
            ImplicitDeny,
        ),
        // No AWS rule on case; iam-simulate compares exactly, and so do we.
        (
            "service names compare exactly (iam-simulate)",
            stmt("Allow", r#""Principal":{"Service":"FARGATE.amazonaws.com"}"#, A_GDK, R_ALL),
            GDK,
            ImplicitDeny,
        ),
        (
            "Deny with NotPrincipal denies whoever is not listed",
            stmt("Deny", r#""NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"}"#, A_GDK, R_ALL),
            GDK,
            ExplicitDeny,
        ),
        (
            "NotPrincipal listing the service spares it",
            stmt("Deny", r#""NotPrincipal":{"Service":"fargate.amazonaws.com"}"#, A_GDK, R_ALL),
            GDK,
            ImplicitDeny,
        ),
        (
            "action names are case-insensitive",
            stmt("Allow", P_FARGATE, r#""Action":"KMS:generatedatakeywithoutplaintext""#, R_ALL),
            GDK,
            Allow,
        ),
        (
            "the docs' capital-T spelling matches",
            stmt("Allow", P_FARGATE, r#""Action":"kms:GenerateDataKeyWithoutPlainText""#, R_ALL),
            GDK,
            Allow,
        ),
        ("action wildcard kms:*", stmt("Allow", P_FARGATE, r#""Action":"kms:*""#, R_ALL), GDK, Allow),
        ("action wildcard kms:Generate*", stmt("Allow", P_FARGATE, r#""Action":"kms:Generate*""#, R_ALL), GDK, Allow),
        (
            "action wildcard kms:*Grant",
            stmt("Allow", P_FARGATE, r#""Action":"kms:*Grant""#, R_ALL),
            "kms:CreateGrant",
            Allow,
        ),
        (
            "action wildcard with ?",
            stmt("Allow", P_FARGATE, r#""Action":"kms:?reateGrant""#, R_ALL),
            "kms:CreateGrant",
            Allow,
        ),
        ("action \"*\"", stmt("Allow", P_FARGATE, r#""Action":"*""#, R_ALL), GDK, Allow),
        (
            "another action",
            stmt("Allow", P_FARGATE, r#""Action":["kms:Decrypt","kms:Encrypt"]"#, R_ALL),
            GDK,
            ImplicitDeny,
        ),
        (
            "NotAction excluding another action allows this one",
            stmt("Allow", P_FARGATE, r#""NotAction":"kms:ScheduleKeyDeletion""#, R_ALL),
            GDK,
            Allow,
        ),
        (
            "NotAction excluding this action",
            stmt("Allow", P_FARGATE, r#""NotAction":["kms:Generate*"]"#, R_ALL),
            GDK,
            ImplicitDeny,
        ),
        ("Resource naming the key ARN", stmt("Allow", P_FARGATE, A_GDK, &format!(r#""Resource":"{KEY}""#)), GDK, Allow),
        (
            "Resource naming another key",
            stmt("Allow", P_FARGATE, A_GDK, r#""Resource":"arn:aws:kms:us-east-1:111122223333:key/other""#),
            GDK,
            ImplicitDeny,
        ),
        (
            "Resource wildcard",
            stmt("Allow", P_FARGATE, A_GDK, r#""Resource":"arn:aws:kms:*:111122223333:key/*""#),
            GDK,
            Allow,
        ),
        (
            "NotResource excluding another key",
            stmt("Allow", P_FARGATE, A_GDK, r#""NotResource":"arn:aws:kms:*:*:key/other""#),
            GDK,
            Allow,
        ),
        (
            "an explicit Deny wins over an Allow",
            format!(r#"{{"Statement":[{allow_all},{deny_grant}]}}"#),
            "kms:CreateGrant",
            ExplicitDeny,
        ),
        (
            "a Deny for another action leaves the Allow",
            format!(r#"{{"Statement":[{allow_all},{deny_grant}]}}"#),
            GDK,
            Allow,
        ),
        ("an empty statement list denies", r#"{"Statement":[]}"#.to_string(), GDK, ImplicitDeny),
        (
            "a Deny that may apply makes an Allow indeterminate",
            format!(
                r#"{{"Statement":[{allow_all},{{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{{"StringNotEquals":{{"kms:ViaService":"ecs.us-east-1.amazonaws.com"}}}}}}]}}"#
            ),
            GDK,
            Indeterminate,
        ),
        (
            "a guard-railed Deny that exempts AWS services does not apply",
            format!(
                r#"{{"Statement":[{allow_all},{{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{{"Bool":{{"aws:PrincipalIsAWSService":"false"}},"StringNotEquals":{{"aws:PrincipalOrgID":"o-exampleorgid"}}}}}}]}}"#
            ),
            GDK,
            Allow,
        ),
    ];
    for (rule, doc, action, want) in cases {
        let policy = Policy::parse(&doc).unwrap_or_else(|e| panic!("{rule}: {e}\n{doc}"));
        let mut request = req();
        request.action = action.to_string();
        let got = evaluate(&policy, &request);
        assert_eq!(got.decision, want, "{rule}\n{doc}\n{got:?}");
    }
}

#[test]
fn evaluation_names_the_deciding_statements() {
    let doc = r#"{"Statement":[
        {"Sid":"AllowAll","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
        {"Sid":"NoGrants","Effect":"Deny","Principal":{"Service":"fargate.amazonaws.com"},"Action":"kms:CreateGrant","Resource":"*"},
        {"Effect":"Deny","Principal":"*","Action":"kms:CreateGrant","Resource":"*"}]}"#;
    let policy = Policy::parse(doc).unwrap();
    let mut request = req();
    request.action = "kms:CreateGrant".into();
    let got = evaluate(&policy, &request);
    assert_eq!(got.decision, ExplicitDeny);
    assert_eq!(got.deciding, ["Sid \"NoGrants\"", "statement #3 (no Sid)"]);

    request.action = GDK.into();
    let got = evaluate(&policy, &request);
    assert_eq!(got.deciding, ["Sid \"AllowAll\""]);

    let got = evaluate(&Policy::parse(&allow_if(r#"{"StringEquals":{"kms:ViaService":"x"}}"#)).unwrap(), &req());
    assert!(got.unknowns[0].contains("kms:ViaService"), "{got:?}");
}

#[test]
fn parse_accepts_every_legal_shape() {
    let docs = [
        // Statement as a single object, Principal "*", Action/Resource as strings.
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
        // Arrays everywhere, several principal types, conditions with arrays of mixed scalars.
        r#"{"Version":"2012-10-17","Id":"key-policy","Statement":[{"Sid":"x","Effect":"Deny","Principal":{"AWS":["arn:aws:iam::111122223333:root","111122223333"],"Service":["fargate.amazonaws.com"],"Federated":"accounts.google.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"NotAction":["kms:Decrypt"],"NotResource":["arn:aws:kms:*:*:key/x"],"Condition":{"NumericLessThan":{"ex:Count":[1,2.5]},"Bool":{"aws:SecureTransport":false}}}]}"#,
    ];
    for doc in docs {
        Policy::parse(doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
    }
}

#[test]
fn malformed_policies_are_errors_not_panics() {
    // (document, text the error must contain)
    let cases = [
        ("not json", "not valid JSON"),
        // Which of two "Statement" members KMS reads is not ours to guess.
        (
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}],"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            "duplicate key \"Statement\"",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#,
            "duplicate key",
        ),
        ("[]", "not a JSON object"),
        (r#"{"Version":"2012-10-17"}"#, "no \"Statement\""),
        (r#"{"Statement":"x"}"#, "must be an object or an array"),
        (r#"{"Statement":[42]}"#, "statement #1: a statement must be a JSON object"),
        (
            r#"{"Statement":[{"Effect":"allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            "\"Effect\" must be \"Allow\" or \"Deny\"",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            "neither \"Principal\" nor \"NotPrincipal\"",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#,
            "neither \"Action\" nor \"NotAction\"",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"}]}"#,
            "neither \"Resource\" nor \"NotResource\"",
        ),
        (r#"{"Statement":[{"Effect":"Allow","Principal":"me","Action":"*","Resource":"*"}]}"#, "principal \"me\""),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"*","Resource":"*"}]}"#,
            "unknown principal type",
        ),
        (
            r#"{"Statement":[{"Sid":"S","Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#,
            "statement #1 (Sid \"S\"): unknown condition operator \"StringEqualz\"",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":null}}}]}"#,
            "must be strings",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}]}"#,
            "not valid",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}]}"#,
            "both",
        ),
    ];
    for (doc, text) in cases {
        let err = Policy::parse(doc).expect_err(doc);
        assert!(err.0.contains(text), "{doc}: {err}");
    }
}
