//! Classification of the ECS guide's five sample events and of synthetic
//! failure and lifecycle events (tests/fixtures/cloudtrail/).

use super::*;

const SEED: &str = include_str!("../../../tests/fixtures/cloudtrail/seed-events.json");
const FAILURES: &str = include_str!("../../../tests/fixtures/cloudtrail/failures.jsonl");
const KEY: &str = "arn:aws:kms:us-west-2:123456789012:key/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";

fn seed() -> Vec<Value> {
    let v: Value = serde_json::from_str(SEED).unwrap();
    v["Records"].as_array().unwrap().clone()
}

fn prod() -> Option<ClusterRef> {
    Some(ClusterRef { account: "123456789012".into(), name: "prod-api".into() })
}

#[test]
fn seed_events_table() {
    // (operation, phase): the order of the samples in the guide.
    let launches = [
        ("GenerateDataKeyWithoutPlaintext", Phase::Real),
        ("GenerateDataKeyWithoutPlaintext", Phase::DryRun),
        ("CreateGrant", Phase::Real),
        ("CreateGrant", Phase::DryRun),
    ];
    let events = seed();
    for (event, (operation, phase)) in events.iter().zip(launches) {
        let Classified::Launch(l) = classify(event) else { panic!("{event}") };
        assert_eq!((l.operation.as_str(), l.phase), (operation, phase));
        assert_eq!(l.cluster, prod(), "attributed by aws:ecs:clusterAccount + aws:ecs:clusterName");
        // DryRunOperationException means the call would have succeeded.
        assert_eq!(l.error, None, "{operation} {phase:?}");
        assert_eq!(l.key.as_deref(), Some(KEY));
        assert!(l.time.is_some());
    }
    // The real CreateGrant returns the grant that RetireGrant later retires.
    let Classified::Launch(grant) = classify(&events[2]) else { panic!() };
    let Classified::Retire { grant_id } = classify(&events[4]) else { panic!() };
    assert_eq!(grant.grant_id.as_deref(), Some(grant_id.as_str()));
}

#[test]
fn failure_and_lifecycle_events() {
    let events: Vec<Value> = FAILURES.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let classified: Vec<Classified> = events.iter().map(classify).collect();
    // DisableKey by a person, with the actor.
    let Classified::Lifecycle(disable) = &classified[0] else { panic!() };
    assert_eq!(disable.event_name, "DisableKey");
    assert_eq!(disable.actor.as_deref(), Some("arn:aws:sts::123456789012:assumed-role/Admin/alice"));
    // (index, cluster, error code)
    let failures = [
        (1, "payments", "DisabledException"),
        (3, "payments", "DisabledException"),
        (5, "batch", "KMSInvalidStateException"),
        (6, "orders", "AccessDeniedException"),
        (7, "orders", "AccessDenied"),
    ];
    for (i, cluster, code) in failures {
        let Classified::Launch(l) = &classified[i] else { panic!("{i}") };
        assert_eq!(l.cluster.as_ref().map(|c| c.name.as_str()), Some(cluster), "{i}");
        assert_eq!(l.error.as_ref().map(|e| e.0.as_str()), Some(code), "{i}");
    }
    let Classified::Lifecycle(schedule) = &classified[4] else { panic!() };
    assert_eq!(schedule.detail.as_deref(), Some("deletion date 2024-05-01 11:00 UTC"));
    // No encryption context: still Fargate's, but not attributed.
    let Classified::Launch(anonymous) = &classified[8] else { panic!() };
    assert_eq!(anonymous.cluster, None);
    // A person's own GenerateDataKey is not Fargate's.
    assert_eq!(classified[9], Classified::Ignored);
}

#[test]
fn non_kms_and_odd_records_are_ignored() {
    let cases = [
        r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}"#,
        r#"{"eventSource":"kms.amazonaws.com"}"#,
        r#"{"eventSource":"kms.amazonaws.com","eventName":"RetireGrant"}"#,
        r#"{"eventSource":"kms.amazonaws.com","eventName":"CreateGrant","userIdentity":{"invokedBy":"rds.amazonaws.com"}}"#,
        "42",
    ];
    for case in cases {
        assert_eq!(classify(&serde_json::from_str(case).unwrap()), Classified::Ignored, "{case}");
    }
}

#[test]
fn cloudtrail_deletion_dates_read_like_every_other_time() {
    assert_eq!(cloudtrail_date("May 1, 2024, 11:00:00 AM"), "2024-05-01 11:00 UTC");
    assert_eq!(cloudtrail_date("Dec 17, 2024, 12:30:00 PM"), "2024-12-17 12:30 UTC");
    assert_eq!(cloudtrail_date("September 9, 2024, 1:05:00 AM"), "2024-09-09 01:05 UTC");
    // Another shape is kept as it came.
    assert_eq!(cloudtrail_date("2024-05-01T11:00:00Z"), "2024-05-01T11:00:00Z");
}
