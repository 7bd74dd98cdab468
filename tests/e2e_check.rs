//! End to end: the real binary and the real AWS SDK over HTTP against the
//! local emulator (moto), one scenario per key state the emulator can
//! produce. Each test asserts the verdict in the JSON report and the exact
//! exit code.
//!
//! The estate is seeded once per test binary, each group of scenarios in its
//! own Region so that whole-Region runs see only their own clusters.

mod common;

use std::sync::OnceLock;

use aws_sdk_ecs::types::{ClusterConfiguration, ExecuteCommandConfiguration, ManagedStorageConfiguration};
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use common::*;
use serde_json::Value;

/// Region holding one cluster per scenario.
const ESTATE: &str = "us-east-1";
/// Region holding more than 100 clusters, to exercise DescribeClusters batching.
const MANY: &str = "eu-west-1";
/// Region with no clusters at all.
const EMPTY: &str = "ap-southeast-2";
/// Region where every cluster passes.
const HEALTHY: &str = "ca-central-1";

const CLUSTERS: [&str; 12] = [
    "healthy",
    "healthy-twin",
    "disabled",
    "pending-deletion",
    "cancelled-deletion",
    "missing-key",
    "asymmetric",
    "multi-region",
    "alias-config",
    "no-config",
    "ebs-disabled",
    "exec-disabled",
];

const MISSING_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0000aaaa-0000-0000-0000-EXAMPLE00000";

struct Estate {
    healthy_key: String,
}

fn estate() -> &'static Estate {
    static ESTATE_ONCE: OnceLock<Estate> = OnceLock::new();
    ESTATE_ONCE.get_or_init(|| tokio::runtime::Runtime::new().unwrap().block_on(seed()))
}

async fn seed() -> Estate {
    let config = sdk_config(ESTATE).await;
    let kms = aws_sdk_kms::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);

    // (key id, key ARN). The emulator's mutating KMS calls take key ids only.
    // Every key lets Fargate in for every estate cluster, so that each
    // scenario fails for its own reason only.
    let policy = fargate_policy(&CLUSTERS);
    let new_key = || async {
        let m = kms.create_key().policy(&policy).send().await.unwrap().key_metadata.unwrap();
        (m.key_id, m.arn.unwrap())
    };
    let (healthy_id, healthy) = new_key().await;
    let (disabled_id, disabled) = new_key().await;
    kms.disable_key().key_id(&disabled_id).send().await.unwrap();
    let (pending_id, pending) = new_key().await;
    kms.schedule_key_deletion().key_id(&pending_id).pending_window_in_days(7).send().await.unwrap();
    let (cancelled_id, cancelled) = new_key().await;
    kms.schedule_key_deletion().key_id(&cancelled_id).pending_window_in_days(30).send().await.unwrap();
    kms.cancel_key_deletion().key_id(&cancelled_id).send().await.unwrap();
    let asymmetric = kms
        .create_key()
        .policy(&policy)
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    let multi =
        kms.create_key().policy(&policy).multi_region(true).send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    kms.create_alias().alias_name("alias/fargate").target_key_id(&healthy_id).send().await.unwrap();

    let fargate = |key: &str| {
        ClusterConfiguration::builder()
            .managed_storage_configuration(
                ManagedStorageConfiguration::builder().fargate_ephemeral_storage_kms_key_id(key).build(),
            )
            .build()
    };
    let clusters: Vec<(&str, Option<ClusterConfiguration>)> = vec![
        ("healthy", Some(fargate(&healthy))),
        // The same key again: described once, both clusters judged.
        ("healthy-twin", Some(fargate(&healthy))),
        ("disabled", Some(fargate(&disabled))),
        ("pending-deletion", Some(fargate(&pending))),
        ("cancelled-deletion", Some(fargate(&cancelled))),
        ("missing-key", Some(fargate(MISSING_KEY))),
        ("asymmetric", Some(fargate(&asymmetric))),
        ("multi-region", Some(fargate(&multi))),
        ("alias-config", Some(fargate("alias/fargate"))),
        ("no-config", None),
        (
            "ebs-disabled",
            Some(
                ClusterConfiguration::builder()
                    .managed_storage_configuration(ManagedStorageConfiguration::builder().kms_key_id(&disabled).build())
                    .build(),
            ),
        ),
        (
            "exec-disabled",
            Some(
                ClusterConfiguration::builder()
                    .execute_command_configuration(ExecuteCommandConfiguration::builder().kms_key_id(&disabled).build())
                    .build(),
            ),
        ),
    ];
    for (name, configuration) in clusters {
        ecs.create_cluster().cluster_name(name).set_configuration(configuration).send().await.unwrap();
    }

    // 105 clusters on 5 keys: DescribeClusters batching, and a fleet for the
    // in-flight and pipelining tests.
    let many_config = sdk_config(MANY).await;
    let many = aws_sdk_ecs::Client::new(&many_config);
    let many_kms = aws_sdk_kms::Client::new(&many_config);
    let names: Vec<String> = (0..105).map(|i| format!("batch-{i:03}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut many_keys = Vec::new();
    for _ in 0..5 {
        let m = many_kms.create_key().policy(fargate_policy(&name_refs)).send().await.unwrap().key_metadata.unwrap();
        many_keys.push(m.arn.unwrap());
    }
    for (i, name) in names.iter().enumerate() {
        let storage =
            ManagedStorageConfiguration::builder().fargate_ephemeral_storage_kms_key_id(&many_keys[i % 5]).build();
        let configuration = ClusterConfiguration::builder().managed_storage_configuration(storage).build();
        many.create_cluster().cluster_name(name).configuration(configuration).send().await.unwrap();
    }

    let healthy_region = sdk_config(HEALTHY).await;
    let kms_ok = aws_sdk_kms::Client::new(&healthy_region);
    let ok_key = kms_ok
        .create_key()
        .policy(fargate_policy(&["web", "worker"]))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    let ecs_ok = aws_sdk_ecs::Client::new(&healthy_region);
    for name in ["web", "worker"] {
        ecs_ok.create_cluster().cluster_name(name).configuration(fargate(&ok_key)).send().await.unwrap();
    }
    Estate { healthy_key: healthy }
}

/// `check --cluster NAME --format json` in the estate Region.
fn check_cluster(name: &str) -> (i32, Value) {
    estate();
    run_json(bin_aws(ESTATE).args(["check", "--format", "json", "--cluster", name]))
}

fn only_cluster(report: &Value) -> &Value {
    let clusters = report["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1, "{report:#}");
    &clusters[0]
}

fn failing_checks(cluster: &Value) -> Vec<String> {
    cluster["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] == "fail")
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scenario_table() {
    // (cluster, exit code, cluster verdict, failing check ids, text a finding must contain)
    let cases: &[(&str, i32, &str, &[&str], &str)] = &[
        ("healthy", 0, "pass", &[], ""),
        ("disabled", 1, "fail", &["key-state"], "is Disabled"),
        ("pending-deletion", 1, "fail", &["key-state"], "scheduled for deletion on"),
        // CancelKeyDeletion leaves the key Disabled.
        ("cancelled-deletion", 1, "fail", &["key-state"], "is Disabled"),
        ("missing-key", 1, "fail", &["key-not-found"], "does not exist"),
        ("asymmetric", 1, "fail", &["key-type"], "RSA_2048"),
        ("multi-region", 1, "fail", &["multi-region-key"], "multi-Region"),
        ("alias-config", 1, "fail", &["alias-reference"], "alias/fargate"),
        ("no-config", 0, "pass", &[], "AWS owned key"),
        ("ebs-disabled", 1, "fail", &["key-state"], "EBS"),
        // An ECS Exec key only breaks exec sessions: a warning, not a failure.
        ("exec-disabled", 0, "pass", &[], "ECS Exec sessions"),
        ("does-not-exist", 1, "fail", &["cluster-not-found"], "No cluster named does-not-exist exists"),
    ];
    for (name, code, verdict, failing, text) in cases {
        let (exit, report) = check_cluster(name);
        let cluster = only_cluster(&report);
        assert_eq!(exit, *code, "{name}: {report:#}");
        assert_eq!(report["exit_code"], *code, "{name}");
        assert_eq!(cluster["cluster_name"], *name);
        assert_eq!(cluster["verdict"], *verdict, "{name}: {cluster:#}");
        assert_eq!(failing_checks(cluster), *failing, "{name}");
        let messages = cluster["findings"].to_string();
        assert!(messages.contains(text), "{name}: no {text:?} in {messages}");
    }
}

#[test]
fn a_mistyped_cluster_gets_close_names() {
    // One ListClusters in the Region, only because the name was not found.
    let (exit, report) = check_cluster("helthy");
    assert_eq!(exit, 1, "{report:#}");
    let message = only_cluster(&report)["findings"][0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("No cluster named helthy exists"), "{message}");
    assert!(message.contains("Did you mean healthy?"), "{message}");
    // Nothing close: no suggestion.
    let (_, report) = check_cluster("zzzzzzzzzzzz");
    let message = only_cluster(&report)["findings"][0]["message"].as_str().unwrap().to_string();
    assert!(!message.contains("Did you mean"), "{message}");
}

#[test]
fn pending_deletion_reports_days_left_and_two_step_fix() {
    let (_, report) = check_cluster("pending-deletion");
    let finding = &only_cluster(&report)["findings"][0];
    let message = finding["message"].as_str().unwrap();
    // Scheduled with a 7-day window moments ago: 6 whole days left.
    assert!(message.contains("(6 days left)") || message.contains("(7 days left)"), "{message}");
    let fix = finding["remediation"].as_str().unwrap();
    assert!(fix.contains("cancel-key-deletion") && fix.contains("enable-key"), "{fix}");
}

#[test]
fn alias_config_names_the_resolved_key() {
    let (_, report) = check_cluster("alias-config");
    let cluster = only_cluster(&report);
    assert_eq!(cluster["key_usages"][0]["configured_key"], "alias/fargate");
    assert_eq!(cluster["key_usages"][0]["key_arn"], estate().healthy_key.as_str());
    let fix = cluster["findings"][0]["remediation"].as_str().unwrap();
    assert!(fix.contains(&estate().healthy_key), "{fix}");
}

#[test]
fn key_usage_facts_are_reported() {
    let (_, report) = check_cluster("disabled");
    let usage = &only_cluster(&report)["key_usages"][0];
    assert_eq!(usage["usage"], "fargate_ephemeral_storage");
    assert_eq!(usage["key_state"], "Disabled");
    assert_eq!(usage["verdict"], "fail");
    let cluster = only_cluster(&report);
    assert_eq!(cluster["region"], ESTATE);
    assert_eq!(cluster["cluster_arn"], format!("arn:aws:ecs:{ESTATE}:{ACCOUNT}:cluster/disabled"));
}

#[test]
fn whole_region_run_judges_every_cluster() {
    estate();
    let (exit, report) = run_json(bin_aws(ESTATE).args(["check", "--format", "json"]));
    assert_eq!(exit, 1);
    assert_eq!(report["verdict"], "fail");
    let names: Vec<&str> =
        report["clusters"].as_array().unwrap().iter().map(|c| c["cluster_name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert!(names.contains(&"healthy") && names.contains(&"healthy-twin"));
    assert_eq!(report["summary"]["pass"], 4, "{:#}", report["summary"]);
    assert_eq!(report["summary"]["fail"], 8);
}

#[test]
fn more_than_100_clusters_are_described_in_batches() {
    estate();
    let (exit, report) = run_json(bin_aws(MANY).args(["check", "--format", "json"]));
    assert_eq!(exit, 0);
    let clusters = report["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 105);
    assert!(clusters.iter().all(|c| c["verdict"] == "pass" && c["status"] == "ACTIVE"));
}

#[test]
fn empty_region_is_nothing_checked_unless_allowed() {
    estate();
    // A gate pointed at the wrong Region must not stay green: exit 2.
    let out = bin_aws(EMPTY).args(["check", "--color", "never"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("nothing was checked"), "{stdout}");
    assert!(stdout.contains("ap-southeast-2"), "{stdout}");
    let (exit, report) = run_json(bin_aws(EMPTY).args(["check", "--format", "json"]));
    assert_eq!((exit, report["verdict"].as_str()), (2, Some("unknown")));
    assert_eq!(report["gaps"][0]["code"], "NothingChecked");
    // Monitoring can alert on zero clusters checked.
    let prom = bin_aws(EMPTY).args(["check", "--format", "prometheus"]).output().unwrap();
    assert!(String::from_utf8_lossy(&prom.stdout).contains("ecs_key_preflight_clusters_checked 0"));
    // Expected to be empty: a pass.
    let out = bin_aws(EMPTY).args(["check", "--color", "never", "--allow-empty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No ECS clusters found in ap-southeast-2"));
}

#[test]
fn healthy_region_passes_with_exit_0() {
    estate();
    let (exit, report) = run_json(bin_aws(HEALTHY).args(["check", "--format", "json"]));
    assert_eq!(exit, 0);
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["summary"]["pass"], 2);
}

#[test]
fn cluster_arn_selects_its_own_region() {
    estate();
    // Asked from another Region: the ARN's Region wins.
    let arn = format!("arn:aws:ecs:{HEALTHY}:{ACCOUNT}:cluster/web");
    let (exit, report) = run_json(bin_aws(EMPTY).args(["check", "--format", "json", "--cluster", &arn]));
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(only_cluster(&report)["region"], HEALTHY);
}

#[test]
fn human_report_names_cause_and_fix() {
    estate();
    let out = bin_aws(ESTATE).args(["check", "--color", "never", "-c", "disabled", "-c", "healthy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("FAIL    disabled (us-east-1)"), "{stdout}");
    assert!(stdout.contains("PASS    healthy (us-east-1)"), "{stdout}");
    assert!(stdout.contains("fix: aws kms enable-key --key-id arn:aws:kms:us-east-1:"), "{stdout}");
    assert!(stdout.contains("2 clusters in account 123456789012 (us-east-1): 1 fail, 0 unknown, 1 pass"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "no escape codes with --color never");
}

#[test]
fn color_always_colors_and_no_color_env_is_honoured() {
    estate();
    let colored = bin_aws(ESTATE).args(["check", "--color", "always", "-c", "disabled"]).output().unwrap();
    assert!(String::from_utf8_lossy(&colored.stdout).contains("\u{1b}["));
    // Under "auto" NO_COLOR wins (and stdout is a pipe here anyway).
    let plain = bin_aws(ESTATE).env("NO_COLOR", "1").args(["check", "-c", "disabled"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'));
}

#[test]
fn saved_inventory_replays_to_the_same_report() {
    estate();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("inventory.json");
    let live_report = dir.path().join("live.json");
    let status = bin_aws(ESTATE)
        .args(["check", "--format", "json", "-c", "disabled", "-c", "healthy"])
        .arg("--save-inventory")
        .arg(&saved)
        .arg("--output")
        .arg(&live_report)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert!(status.stdout.is_empty(), "--output takes the report off stdout");
    let live: Value = serde_json::from_slice(&std::fs::read(&live_report).unwrap()).unwrap();

    // Replay with no AWS at all: no endpoint, no credentials, no Region.
    let (exit, replayed) = run_json(bin().args(["check", "--format", "json", "--inventory"]).arg(&saved));
    assert_eq!(exit, 1);
    assert_eq!(replayed, live);
}

#[test]
fn unreachable_endpoint_is_unknown_not_pass() {
    // Nothing listens on port 9 of loopback: every call fails to connect.
    let (exit, report) = run_json(bin_aws(ESTATE).env("AWS_ENDPOINT_URL", "http://127.0.0.1:9").args([
        "check",
        "--format",
        "json",
        "--timeout",
        "5",
    ]));
    assert_eq!(exit, 2, "{report:#}");
    assert_eq!(report["verdict"], "unknown");
    assert_eq!(report["gaps"][0]["operation"], "ecs:ListClusters");
    assert_eq!(report["gaps"][0]["code"], "EndpointUnreachable");
}

#[test]
fn unreachable_endpoint_with_named_cluster_is_unknown() {
    let (exit, report) = run_json(bin_aws(ESTATE).env("AWS_ENDPOINT_URL", "http://127.0.0.1:9").args([
        "check",
        "--format",
        "json",
        "--timeout",
        "5",
        "-c",
        "prod",
    ]));
    assert_eq!(exit, 2);
    let cluster = only_cluster(&report);
    assert_eq!(cluster["verdict"], "unknown");
    assert_eq!(cluster["findings"][0]["check"], "cluster-unreadable");
}

/// The run through a proxy that adds `delay_ms` to each round trip and
/// counts the requests in flight (the emulator answers too fast to show
/// overlap).
fn fleet_through_proxy(concurrency: &str, delay_ms: u32) -> serde_json::Value {
    estate();
    let proxy = Proxy::start(delay_ms);
    let out = bin_aws(MANY)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(["check", "--format", "json", "--concurrency", concurrency])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    proxy.stats()
}

#[test]
fn concurrency_is_a_true_cap_on_requests_in_flight() {
    let stats = fleet_through_proxy("3", 20);
    let max = stats["max_in_flight"].as_u64().unwrap();
    assert!(max <= 3, "{max} requests were in flight at --concurrency 3");
    assert!(max >= 2, "the limit is used: {max}");
    assert!(stats["requests"].as_u64().unwrap() > 100);
}

#[test]
fn keys_are_described_before_the_last_services_are_listed() {
    // Pipelined: the first DescribeKey does not wait for every ListServices.
    // 50 ms per round trip makes the 105 ListServices take at least 0.65 s
    // at 8 in flight, so the emulator's own time for one DescribeClusters of
    // 100 clusters on a loaded machine (it once reached 0.9 s at 20 ms)
    // cannot decide the order.
    let stats = fleet_through_proxy("8", 50);
    let log = stats["log"].as_array().unwrap();
    let times = |op: &str, i: usize| -> Vec<f64> {
        log.iter().filter(|e| e[0] == op).map(|e| e[i].as_f64().unwrap()).collect()
    };
    let first_key = times("DescribeKey", 1).into_iter().fold(f64::MAX, f64::min);
    let last_list = times("ListServices", 2).into_iter().fold(0.0, f64::max);
    assert!(first_key < last_list, "first DescribeKey at {first_key}, last ListServices returned at {last_list}");
}

#[test]
fn each_page_of_clusters_is_described_while_the_next_is_listed() {
    // More than 100 clusters take two ListClusters pages (the emulator
    // pages as ECS does: tests/emulator/ecs_pinning.py); the first page's
    // clusters are described while the second is still being listed.
    let stats = fleet_through_proxy("8", 50);
    let log = stats["log"].as_array().unwrap();
    let spans = |op: &str| -> Vec<(f64, f64)> {
        log.iter().filter(|e| e[0] == op).map(|e| (e[1].as_f64().unwrap(), e[2].as_f64().unwrap())).collect()
    };
    let pages = spans("ListClusters");
    assert_eq!(pages.len(), 2, "{pages:?}");
    let last_page_end = pages.iter().map(|p| p.1).fold(0.0, f64::max);
    let first_describe = spans("DescribeClusters").iter().map(|d| d.0).fold(f64::MAX, f64::min);
    assert!(first_describe < last_page_end, "first DescribeClusters at {first_describe}, last page at {last_page_end}");
}

/// A targeted run through the proxy, with KMS reached under another host
/// name (`localhost`) than ECS, so that each has its own connection pool as
/// kms.REGION.amazonaws.com and ecs.REGION.amazonaws.com do. Returns the
/// proxy's log of (operation, start, end).
fn targeted_through(proxy: &Proxy, concurrency: &str) -> Vec<(String, f64, f64)> {
    estate();
    proxy.reset();
    let kms = proxy.endpoint.replace("127.0.0.1", "localhost");
    let mut cmd = bin_aws(ESTATE);
    cmd.env("AWS_ENDPOINT_URL", &proxy.endpoint).env("AWS_ENDPOINT_URL_KMS", &kms);
    if let Some(ca) = &proxy.ca {
        cmd.env("SSL_CERT_FILE", ca);
    }
    let (exit, report) =
        run_json(cmd.args(["check", "--format", "json", "-c", "healthy", "--concurrency", concurrency]));
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(only_cluster(&report)["verdict"], "pass");
    let stats = proxy.stats();
    assert!(stats["max_in_flight"].as_u64().unwrap() <= concurrency.parse().unwrap(), "{stats}");
    stats["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_str().unwrap().to_string(), e[1].as_f64().unwrap(), e[2].as_f64().unwrap()))
        .collect()
}

fn count(log: &[(String, f64, f64)], op: &str) -> usize {
    log.iter().filter(|(o, ..)| o == op).count()
}

#[test]
fn over_tls_the_connections_for_the_key_reads_open_during_the_first_round_trip() {
    // The key's four reads follow DescribeClusters; over TLS the KMS
    // connections they use are opened (by three ListAliases of one entry
    // beside the Region's ListAliases) while DescribeClusters is in flight,
    // so no handshake waits for it. (`make bench` measures what it saves.)
    // 50 ms round trips: the extra ListAliases start within the first
    // handshakes, long before DescribeClusters can come back.
    let proxy = Proxy::start_tls(50, 10);
    let log = targeted_through(&proxy, "32");
    let aliases: Vec<f64> = log.iter().filter(|(op, ..)| op == "ListAliases").map(|(_, start, _)| *start).collect();
    let clusters_done = log.iter().find(|(op, ..)| op == "DescribeClusters").map(|(_, _, end)| *end).unwrap();
    assert_eq!(aliases.len(), 4, "one ListAliases and three opening connections: {log:?}");
    assert!(aliases.iter().all(|start| *start < clusters_done), "{log:?}");
    // Only API reads: nothing without an operation.
    assert!(log.iter().all(|(op, ..)| !op.contains(' ')), "{log:?}");
    // No place is taken from a real request: at --concurrency 1 there is none to spare.
    let log = targeted_through(&proxy, "1");
    assert_eq!(count(&log, "ListAliases"), 1, "{log:?}");
    assert_eq!(count(&log, "DescribeKey"), 1, "{log:?}");
    // Their answers do not matter: refused, the run still passes (aliases are a display aid).
    proxy.fail(
        "ListAliases",
        400,
        r#"{"__type":"AccessDeniedException","message":"denied"}"#,
        "application/x-amz-json-1.1",
    );
    let log = targeted_through(&proxy, "32");
    assert_eq!(count(&log, "ListAliases"), 4, "{log:?}");
}

#[test]
fn over_plain_http_no_connection_is_opened_ahead() {
    // A plain-HTTP endpoint is a local emulator or proxy: a connection
    // costs no handshake there, so only the calls the check needs are made.
    let proxy = Proxy::start(20);
    let log = targeted_through(&proxy, "32");
    assert_eq!(count(&log, "ListAliases"), 1, "{log:?}");
    assert_eq!(count(&log, "DescribeKey"), 1, "{log:?}");
}

#[test]
fn asff_findings_fit_the_security_hub_model_and_reimport_as_updates() {
    estate();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.json");
    let out = bin_aws(ESTATE).args(["check", "--format", "asff", "--output"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let findings: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let statuses: Vec<&str> =
        findings.as_array().unwrap().iter().filter_map(|f| f["Compliance"]["Status"].as_str()).collect();
    assert!(statuses.contains(&"FAILED") && statuses.contains(&"PASSED"), "{statuses:?}");
    let disabled = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["Id"].as_str().unwrap().ends_with("/disabled/key-state"))
        .expect("one finding per (cluster, check)");
    assert_eq!(disabled["Compliance"]["Status"], "FAILED");
    let types: Vec<&str> =
        disabled["Resources"].as_array().unwrap().iter().map(|r| r["Type"].as_str().unwrap()).collect();
    assert_eq!(types, ["AwsEcsCluster", "AwsKmsKey"]);
    // Validated by botocore against the API model, then imported twice.
    let counts: Value = serde_json::from_str(&seed_script("asff_import.py", &[file.to_str().unwrap()])).unwrap();
    assert_eq!(counts["failed"], 0, "{counts}");
    assert_eq!(counts["after_first"], counts["written"], "{counts}");
    assert_eq!(counts["after_second"], counts["written"], "a second import updates: {counts}");
}

#[test]
fn only_and_compact_change_the_listing_never_the_verdict() {
    estate();
    let full = bin_aws(ESTATE).args(["check", "--color", "never"]).output().unwrap();
    for extra in [
        &["--only", "fail"][..],
        &["--only", "pass,warning"][..],
        &["--compact"][..],
        &["--compact", "--only", "unknown"][..],
    ] {
        let out = bin_aws(ESTATE).args(["check", "--color", "never"]).args(extra).output().unwrap();
        assert_eq!(out.status.code(), full.status.code(), "{extra:?}");
        let last = |o: &std::process::Output| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find(|l| l.contains("cluster") && l.contains("(exit"))
                .map(str::to_string)
        };
        assert_eq!(last(&out), last(&full), "{extra:?}: the summary is the whole run's");
    }
    let only_fail = String::from_utf8(
        bin_aws(ESTATE).args(["check", "--color", "never", "--only", "fail"]).output().unwrap().stdout,
    )
    .unwrap();
    assert!(only_fail.contains("FAIL    disabled"), "{only_fail}");
    assert!(!only_fail.contains("PASS    healthy"), "{only_fail}");
    let compact =
        String::from_utf8(bin_aws(ESTATE).args(["check", "--color", "never", "--compact"]).output().unwrap().stdout)
            .unwrap();
    assert!(!compact.contains("AWS owned key, nothing to check"), "folded: {compact}");
    let (_, json) = run_json(bin_aws(ESTATE).args(["check", "--format", "json", "--only", "fail"]));
    assert!(json["clusters"].as_array().unwrap().iter().any(|c| c["verdict"] == "pass"), "JSON is the whole report");
}
