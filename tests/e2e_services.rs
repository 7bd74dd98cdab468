//! End to end: services and the keys pinned on their deployments, against
//! the emulator. moto does not record a deployment's key; the tests'
//! emulator adds that ECS behaviour (tests/emulator/ecs_pinning.py): a
//! deployment remembers the cluster's key from when it was created, and
//! only a new deployment picks up a changed key.

mod common;

use std::sync::OnceLock;

use aws_sdk_ecs::types::{ClusterConfiguration, LaunchType, ManagedStorageConfiguration};
use common::*;
use serde_json::Value;

const REGION: &str = "eu-central-1";

fn storage(key: &str) -> ClusterConfiguration {
    ClusterConfiguration::builder()
        .managed_storage_configuration(
            ManagedStorageConfiguration::builder().fargate_ephemeral_storage_kms_key_id(key).build(),
        )
        .build()
}

fn seeded() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| tokio::runtime::Runtime::new().unwrap().block_on(seed()));
}

async fn seed() {
    let config = sdk_config(REGION).await;
    let kms = aws_sdk_kms::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);
    let policy = fargate_policy(&["fleet", "moved", "moved-back", "targeted"]);
    let key = || async { kms.create_key().policy(&policy).send().await.unwrap().key_metadata.unwrap() };
    let (fleet_key, old, new, good, bad, targeted) =
        (key().await, key().await, key().await, key().await, key().await, key().await);

    ecs.register_task_definition()
        .family("app")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("app")
                .image("public.ecr.aws/nginx/nginx")
                .memory(512)
                .build(),
        )
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .send()
        .await
        .unwrap();
    let service = |cluster: &'static str, name: String, launch: LaunchType, running: i32| {
        let ecs = ecs.clone();
        async move {
            ecs.create_service()
                .cluster(cluster)
                .service_name(&name)
                .task_definition("app")
                .desired_count(running)
                .launch_type(launch)
                .send()
                .await
                .unwrap();
            // The emulator counts tasks as running once the desired count is updated.
            ecs.update_service().cluster(cluster).service(&name).desired_count(running).send().await.unwrap();
        }
    };

    // fleet: a disabled key, 11 Fargate services and one on EC2 (more than
    // ten, so DescribeServices takes two calls).
    ecs.create_cluster()
        .cluster_name("fleet")
        .configuration(storage(fleet_key.arn.as_deref().unwrap()))
        .send()
        .await
        .unwrap();
    for i in 0..11 {
        service("fleet", format!("svc-{i:02}"), LaunchType::Fargate, 2).await;
    }
    service("fleet", "legacy".into(), LaunchType::Ec2, 3).await;
    kms.disable_key().key_id(&fleet_key.key_id).send().await.unwrap();

    // moved: api was deployed on the old key; the cluster has since moved to
    // the new one; then the old key was disabled.
    ecs.create_cluster()
        .cluster_name("moved")
        .configuration(storage(old.arn.as_deref().unwrap()))
        .send()
        .await
        .unwrap();
    service("moved", "api".into(), LaunchType::Fargate, 6).await;
    ecs.update_cluster().cluster("moved").configuration(storage(new.arn.as_deref().unwrap())).send().await.unwrap();
    service("moved", "web".into(), LaunchType::Fargate, 2).await;
    kms.disable_key().key_id(&old.key_id).send().await.unwrap();

    // moved-back: api runs on a good key; the cluster now names a disabled one.
    ecs.create_cluster()
        .cluster_name("moved-back")
        .configuration(storage(good.arn.as_deref().unwrap()))
        .send()
        .await
        .unwrap();
    service("moved-back", "api".into(), LaunchType::Fargate, 4).await;
    ecs.update_cluster()
        .cluster("moved-back")
        .configuration(storage(bad.arn.as_deref().unwrap()))
        .send()
        .await
        .unwrap();
    kms.disable_key().key_id(&bad.key_id).send().await.unwrap();

    // targeted: healthy, one service, for the pre-deploy gate.
    ecs.create_cluster()
        .cluster_name("targeted")
        .configuration(storage(targeted.arn.as_deref().unwrap()))
        .send()
        .await
        .unwrap();
    service("targeted", "api".into(), LaunchType::Fargate, 2).await;
    service("targeted", "other".into(), LaunchType::Fargate, 2).await;
}

fn check(args: &[&str]) -> (i32, Value) {
    seeded();
    run_json(bin_aws(REGION).args(["check", "--format", "json"]).args(args))
}

#[test]
fn describe_services_batches_and_ec2_services_are_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("inv.json");
    let (exit, report) = check(&["--cluster", "fleet", "--save-inventory", saved.to_str().unwrap()]);
    assert_eq!(exit, 1);
    let inventory: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(inventory["api_calls"]["ecs:DescribeServices"], 2, "12 services: 10 + 2");
    let services = report["clusters"][0]["services"].as_array().unwrap();
    assert_eq!(services.len(), 12);
    let legacy = services.iter().find(|s| s["service_name"] == "legacy").unwrap();
    assert_eq!(legacy["platform"], "not_fargate");
    let dependents = report["failing_keys"][0]["dependents"].as_array().unwrap();
    let affected: Vec<&Value> = dependents.iter().filter(|d| d["effect"] == "scale_outs_and_replacements").collect();
    assert_eq!(affected.len(), 11);
    assert!(affected.iter().all(|d| d["running"] == 2 && d["desired"] == 2));
    let legacy = dependents.iter().find(|d| d["service"] == "legacy").unwrap();
    assert_eq!(legacy["effect"], "not_affected");
    assert!(legacy["running"].is_null(), "EC2 services are not counted");
}

#[test]
fn pinned_key_disabled_while_the_cluster_key_is_fine() {
    let (exit, report) = check(&["--cluster", "moved"]);
    assert_eq!(exit, 1);
    let c = &report["clusters"][0];
    assert_eq!(c["key_usages"][0]["verdict"], "pass", "the cluster's own key is fine");
    let f = c["findings"].as_array().unwrap().iter().find(|f| f["check"] == "key-state").unwrap();
    assert_eq!(f["service"], "api");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("Scale-outs and replacements of service api use Fargate ephemeral storage key"),
        "{message}"
    );
    assert!(
        message.contains("which is Disabled") && message.contains("Its 6 running tasks keep running (desired 6)"),
        "{message}"
    );
    assert!(f["remediation"].as_str().unwrap().contains("--force-new-deployment"));
    let api = c["services"].as_array().unwrap().iter().find(|s| s["service_name"] == "api").unwrap();
    assert_eq!(api["verdict"], "fail");
    assert_eq!(api["deployments"][0]["key_state"], "Disabled");
    let web = c["services"].as_array().unwrap().iter().find(|s| s["service_name"] == "web").unwrap();
    assert_eq!(web["verdict"], "pass");
    let dependent = &report["failing_keys"][0]["dependents"][0];
    assert_eq!((dependent["service"].as_str(), dependent["running"].as_i64()), (Some("api"), Some(6)));
}

#[test]
fn cluster_key_disabled_while_the_pinned_key_is_fine() {
    let (exit, report) = check(&["--cluster", "moved-back"]);
    assert_eq!(exit, 1, "new deployments fail");
    let f = report["clusters"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "key-state")
        .unwrap()
        .clone();
    assert!(f["service"].is_null());
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("new deployments and standalone tasks will fail to start"), "{message}");
    assert!(message.contains("Scale-outs and replacements of api still start for now"), "{message}");
    assert_eq!(report["failing_keys"][0]["dependents"][0]["effect"], "next_deployment");
}

#[test]
fn targeted_run_makes_seven_calls_plus_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("inv.json");
    let (exit, report) =
        check(&["--cluster", "targeted", "--service", "api", "--save-inventory", saved.to_str().unwrap()]);
    assert_eq!(exit, 0, "{report:#}");
    let inventory: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    let calls = inventory["api_calls"].as_object().unwrap();
    let want = [
        ("ecs:DescribeClusters", 1),
        ("ecs:DescribeServices", 1),
        ("kms:DescribeKey", 1),
        ("kms:GetKeyPolicy", 1),
        ("kms:GetKeyRotationStatus", 1),
        ("kms:ListGrants", 1),
        // The key's aliases, once for the Region, alongside its details.
        ("kms:ListAliases", 1),
        // Whom the report was read as: sent alongside DescribeClusters, so
        // it adds no round trip to the critical path.
        ("sts:GetCallerIdentity", 1),
    ];
    assert_eq!(calls.len(), want.len(), "{calls:?}");
    for (op, n) in want {
        assert_eq!(calls[op], n, "{op}: {calls:?}");
    }
    // Only the targeted service is read.
    let services = report["clusters"][0]["services"].as_array().unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["service_name"], "api");
}

#[test]
fn unknown_service_is_a_clear_error() {
    seeded();
    let out = bin_aws(REGION).args(["check", "--cluster", "targeted", "--service", "nope"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("error: no service named nope exists in cluster targeted\n"), "{stderr}");
    // The hint is filled in: the cluster and its Region are known.
    assert!(
        stderr.contains(&format!(
            "hint: list the cluster's services: aws ecs list-services --cluster targeted --region {REGION}"
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn service_needs_exactly_one_cluster() {
    for args in [&["check", "--service", "api"][..], &["check", "--service", "api", "-c", "a", "-c", "b"][..]] {
        let out = bin_aws(REGION).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        // The reason, not just the code: a usage error that says what to fix.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--cluster"), "{args:?}: {stderr}");
    }
}

#[test]
fn no_services_skips_the_service_reads() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("inv.json");
    let (exit, report) = check(&["--cluster", "moved", "--no-services", "--save-inventory", saved.to_str().unwrap()]);
    // The pinned key is not seen: the cluster's own key passes.
    assert_eq!(exit, 0);
    assert!(report["clusters"][0]["services"].is_null());
    // A pass is never silently partial: the summary says what was left out.
    assert_eq!(report["summary"]["pinned_keys_unchecked"], 1);
    let inventory: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert!(inventory["api_calls"].get("ecs:ListServices").is_none());
    let out =
        bin_aws(REGION).args(["check", "--color", "never", "--cluster", "moved", "--no-services"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Keys pinned on running deployments were not checked in 1 cluster (--no-services)."),
        "{stdout}"
    );
}

#[test]
fn human_report_lists_affected_services_under_each_failing_key() {
    seeded();
    let out = bin_aws(REGION).args(["check", "--color", "never", "--cluster", "moved"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("Failing keys and what depends on them:"), "{stdout}");
    assert!(
        stdout.contains(
            "moved (eu-central-1), service api: 6 running, desired 6: no replacement or scale-out task can start"
        ),
        "{stdout}"
    );
}

#[test]
fn gating_an_ec2_service_does_not_judge_the_fargate_key() {
    // fleet's Fargate key is disabled: its Fargate services fail, but the
    // EC2 service legacy never uses the Fargate ephemeral storage key.
    let (exit, report) = check(&["--cluster", "fleet", "--service", "legacy"]);
    assert_eq!(exit, 0, "{report:#}");
    let usage = &report["clusters"][0]["key_usages"][0];
    assert!(usage["key_arn"].is_null(), "the Fargate key is not judged: {usage:#}");
    let (exit, _) = check(&["--cluster", "fleet", "--service", "svc-00"]);
    assert_eq!(exit, 1, "a Fargate service of the same cluster still fails");
}

#[test]
fn a_missing_service_hint_names_the_cluster() {
    seeded();
    let out = bin_aws(REGION).args(["check", "--cluster", "fleet", "--service", "apii"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("aws ecs list-services --cluster fleet"), "{stderr}");
}
