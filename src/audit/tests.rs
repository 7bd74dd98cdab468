//! The aggregator over the fixture events, and `--since` parsing.

use super::*;

const SEED: &str = include_str!("../../tests/fixtures/cloudtrail/seed-events.json");
const FAILURES: &str = include_str!("../../tests/fixtures/cloudtrail/failures.jsonl");

fn events() -> Vec<Value> {
    let seed: Value = serde_json::from_str(SEED).unwrap();
    let mut all = seed["Records"].as_array().unwrap().clone();
    all.extend(FAILURES.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()));
    all
}

fn report(window: Window) -> AuditReport {
    let mut agg = Aggregator::new(window);
    for e in events() {
        agg.add(&e);
    }
    agg.finish(vec!["fixtures".into()], source::ReadStats::default(), vec![], None)
}

#[test]
fn seed_launch_is_summarised() {
    let r = report(Window::default());
    let prod = r.clusters.iter().find(|c| c.cluster_name == "prod-api").unwrap();
    assert_eq!(prod.verdict, Verdict::Pass);
    assert_eq!((prod.dry_run_calls, prod.real_calls), (2, 2));
    assert_eq!((prod.tasks_started, prod.grants_retired), (1, 1), "RetireGrant matched by grant id");
    assert_eq!(prod.last_successful_launch.unwrap().to_string(), "2024-04-23T18:08:13Z");
    assert_eq!(prod.cluster_account, "123456789012");
}

#[test]
fn failures_fail_their_clusters() {
    let r = report(Window::default());
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.exit_code, 1);
    // (cluster, [(operation, phase, code, count)])
    /// (operation, phase, error code, count)
    type Group = (&'static str, Phase, &'static str, u64);
    let want: &[(&str, &[Group])] = &[
        (
            "payments",
            &[
                ("GenerateDataKeyWithoutPlaintext", Phase::DryRun, "DisabledException", 2),
                ("CreateGrant", Phase::Real, "DisabledException", 1),
            ],
        ),
        ("batch", &[("CreateGrant", Phase::DryRun, "KMSInvalidStateException", 1)]),
        (
            "orders",
            &[
                ("GenerateDataKeyWithoutPlaintext", Phase::DryRun, "AccessDeniedException", 1),
                ("CreateGrant", Phase::DryRun, "AccessDenied", 1),
            ],
        ),
    ];
    for (name, groups) in want {
        let c = r.clusters.iter().find(|c| c.cluster_name == *name).unwrap();
        assert_eq!(c.verdict, Verdict::Fail, "{name}");
        let got: Vec<(&str, Phase, &str, u64)> =
            c.failures.iter().map(|g| (g.operation.as_str(), g.phase, g.error_code.as_str(), g.count)).collect();
        assert_eq!(got, *groups, "{name}");
    }
    let pay = r.clusters.iter().find(|c| c.cluster_name == "payments").unwrap();
    let g = &pay.failures[0];
    assert_eq!(g.first_seen.unwrap().to_string(), "2024-04-24T10:00:00Z");
    assert_eq!(g.last_seen.unwrap().to_string(), "2024-04-24T10:05:00Z");
    assert!(g.message.ends_with("is disabled."));
    assert_eq!(pay.last_successful_launch, None);
    // The call with no encryption context is counted, not attributed.
    assert_eq!(r.unattributed.calls, 1);
    assert!(r.unattributed.failures.is_empty());
    // 5 seed + 10 synthetic records; the user's own GenerateDataKey is not Fargate's.
    assert_eq!(r.events.read, 15);
    assert_eq!(r.events.fargate, 4 + 7);
    assert_eq!((r.events.lifecycle, r.events.retire_grant), (2, 1));
}

#[test]
fn lifecycle_events_map_to_the_clusters_that_use_the_key() {
    let r = report(Window::default());
    let pay_key = "arn:aws:kms:us-west-2:123456789012:key/2222aaaa-0000-0000-0000-EXAMPLE22222";
    let k = r.keys.iter().find(|k| k.key == pay_key).unwrap();
    assert_eq!(k.lifecycle.len(), 1);
    let e = &k.lifecycle[0];
    assert_eq!(e.event_name, "DisableKey");
    assert_eq!(e.clusters, ["payments"], "offline: from the contexts seen");
    assert_eq!(r.cluster_mapping, "encryption contexts seen in the events");
    // With live configuration the mapping comes from AWS instead.
    let mut agg = Aggregator::new(Window::default());
    for e in events() {
        agg.add(&e);
    }
    let live = BTreeMap::from([(pay_key.to_string(), BTreeSet::from(["payments".to_string(), "payroll".to_string()]))]);
    let r = agg.finish(vec![], source::ReadStats::default(), vec![], Some(live));
    let k = r.keys.iter().find(|k| k.key == pay_key).unwrap();
    assert_eq!(k.lifecycle[0].clusters, ["payments", "payroll"]);
    assert_eq!(r.cluster_mapping, "live cluster configuration");
}

#[test]
fn last_fargate_use_per_key() {
    let r = report(Window::default());
    let seed_key = "arn:aws:kms:us-west-2:123456789012:key/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";
    let k = r.keys.iter().find(|k| k.key == seed_key).unwrap();
    assert_eq!(k.last_fargate_use.unwrap().to_string(), "2024-04-23T18:08:13Z");
    assert_eq!(k.clusters_seen, ["prod-api"]);
}

#[test]
fn window_keeps_only_events_inside_it() {
    let window = Window {
        since: Some("2024-04-24T10:01:00Z".parse().unwrap()),
        until: Some("2024-04-24T12:30:00Z".parse().unwrap()),
    };
    let r = report(window);
    assert_eq!(r.events.read, 15);
    // In the window: one payments DryRun failure, the real CreateGrant failure,
    // ScheduleKeyDeletion and the batch failure.
    assert_eq!(r.events.in_window, 4);
    let pay = r.clusters.iter().find(|c| c.cluster_name == "payments").unwrap();
    assert_eq!(pay.failures[0].count, 1);
    assert!(r.clusters.iter().all(|c| c.cluster_name != "prod-api"));
}

#[test]
fn clean_window_passes_and_gaps_are_unknown() {
    let mut agg = Aggregator::new(Window::default());
    let seed: Value = serde_json::from_str(SEED).unwrap();
    for e in seed["Records"].as_array().unwrap() {
        agg.add(e);
    }
    let r = agg.finish(vec![], source::ReadStats::default(), vec![], None);
    assert_eq!((r.verdict, r.exit_code), (Verdict::Pass, 0));
    let gap = crate::inventory::Gap {
        operation: "cloudtrail:LookupEvents".into(),
        resource: "us-east-1".into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    };
    let r = Aggregator::new(Window::default()).finish(vec![], source::ReadStats::default(), vec![gap], None);
    // Verdict and exit code agree, with check's meanings: 2 is unknown.
    assert_eq!((r.verdict, r.exit_code), (Verdict::Unknown, 2), "a source that could not be read");
    let partial = source::ReadStats {
        files_read: 1,
        events: 3,
        skipped: vec![source::Skipped {
            file: "b.json".into(),
            reason: "not CloudTrail JSON".into(),
            events_before: 0,
        }],
        oversized_records: 0,
    };
    let r = Aggregator::new(Window::default()).finish(vec![], partial, vec![], None);
    assert_eq!((r.verdict, r.exit_code), (Verdict::Unknown, 2), "a source read in part");
}

#[test]
fn parse_time_table() {
    let now: Timestamp = "2026-11-30T12:00:00Z".parse().unwrap();
    let cases = [
        ("24h", Ok("2026-11-29T12:00:00Z")),
        ("7d", Ok("2026-11-23T12:00:00Z")),
        ("90m", Ok("2026-11-30T10:30:00Z")),
        ("2w", Ok("2026-11-16T12:00:00Z")),
        ("30s", Ok("2026-11-30T11:59:30Z")),
        ("2026-11-01T08:00:00Z", Ok("2026-11-01T08:00:00Z")),
        ("2026-11-01", Ok("2026-11-01T00:00:00Z")),
        ("3y", Err("unknown unit")),
        ("yesterday", Err("neither a duration")),
    ];
    for (input, want) in cases {
        match (parse_time(input, now), want) {
            (Ok(t), Ok(w)) => assert_eq!(t.to_string(), w, "{input}"),
            (Err(e), Err(w)) => assert!(e.contains(w), "{input}: {e}"),
            (got, want) => panic!("{input}: {got:?} vs {want:?}"),
        }
    }
}

#[test]
fn store_disconnection_is_listed_under_the_store() {
    let event = serde_json::json!({
        "eventSource": "kms.amazonaws.com",
        "eventName": "DisconnectCustomKeyStore",
        "eventTime": "2024-04-24T16:00:00Z",
        "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/Admin/alice"},
        "requestParameters": {"customKeyStoreId": "cks-1234567890abcdef0"}
    });
    let mut agg = Aggregator::new(Window::default());
    agg.add(&event);
    let r = agg.finish(vec![], source::ReadStats::default(), vec![], None);
    assert_eq!(r.keys.len(), 1);
    assert_eq!(r.keys[0].key, "custom key store cks-1234567890abcdef0");
    assert_eq!(r.keys[0].lifecycle[0].event_name, "DisconnectCustomKeyStore");
}
