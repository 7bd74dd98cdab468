//! The collector against `aws-smithy-mocks`: the AWS answers the emulator
//! cannot give (AccessDenied, throttling after retries, paging of
//! ListClusters, PendingImport, Unavailable, imported key material with a
//! ValidTo). Each test goes through the real collector and the real SDK
//! deserializers, then through the checks and the report.

use std::time::Duration;

use aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
use aws_sdk_ecs::operation::list_services::ListServicesOutput;
use aws_sdk_ecs::types::{Cluster, ClusterConfiguration, Failure, ManagedStorageConfiguration};
use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::operation::list_grants::ListGrantsOutput;
use aws_sdk_kms::primitives::DateTime;
use aws_sdk_kms::types::{GrantConstraints, GrantListEntry, GrantOperation};
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeySpec, KeyState, OriginType};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use ecs_key_preflight::checks::{self, CheckOptions};
use ecs_key_preflight::collect::{Clients, CollectOptions, Scope, collect};
use ecs_key_preflight::finding::Verdict;
use ecs_key_preflight::inventory::{ClusterLookup, Fact, Inventory, KeyLookup};
use ecs_key_preflight::report::Report;

const REGION: &str = "us-east-1";
const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-0000-0000-0000-EXAMPLE00000";
const KEY_ID: &str = "1234abcd-0000-0000-0000-EXAMPLE00000";

struct Mocks {
    ecs: aws_sdk_ecs::Client,
    kms: aws_sdk_kms::Client,
    cloudtrail: aws_sdk_cloudtrail::Client,
}

impl Clients for Mocks {
    fn ecs(&self, _region: &str) -> aws_sdk_ecs::Client {
        self.ecs.clone()
    }
    fn kms(&self, _region: &str) -> aws_sdk_kms::Client {
        self.kms.clone()
    }
    fn cloudtrail(&self, _region: &str) -> aws_sdk_cloudtrail::Client {
        self.cloudtrail.clone()
    }
    fn cloudwatch(&self, _region: &str) -> aws_sdk_cloudwatch::Client {
        mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[])
    }
    fn logs(&self, _region: &str) -> aws_sdk_cloudwatchlogs::Client {
        mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &[])
    }
}

fn retry3() -> aws_sdk_kms::config::retry::RetryConfig {
    aws_sdk_kms::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
}

/// Clients answering with `ecs_rules` and `kms_rules`; the key detail reads
/// (policy, grants, rotation) not covered by `kms_rules` get healthy answers:
/// a policy that lets Fargate in for clusters a, b, c and prod, no grants,
/// rotation on. In MatchAny mode the first matching rule wins, so a test's
/// own rule for one of those calls takes precedence.
fn mocks(ecs_rules: &[&Rule], kms_rules: &[&Rule]) -> Mocks {
    let defaults = default_detail_rules();
    let all: Vec<&Rule> = kms_rules.iter().copied().chain(defaults.iter()).collect();
    // Clusters without services, unless a test says otherwise.
    let no_services = [
        mock!(aws_sdk_ecs::Client::list_services).then_output(|| ListServicesOutput::builder().build()),
        mock!(aws_sdk_ecs::Client::describe_services).then_output(|| DescribeServicesOutput::builder().build()),
        // The close-name lookup after a requested cluster was not found.
        mock!(aws_sdk_ecs::Client::list_clusters).then_output(|| ListClustersOutput::builder().build()),
    ];
    let ecs_all: Vec<&Rule> = ecs_rules.iter().copied().chain(no_services.iter()).collect();
    Mocks {
        ecs: mock_client!(aws_sdk_ecs, RuleMode::MatchAny, &ecs_all),
        kms: mock_client!(aws_sdk_kms, RuleMode::MatchAny, &all, |c| c.retry_config(retry3())),
        cloudtrail: mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, &[]),
    }
}

fn fargate_policy() -> String {
    let context = r#"{"kms:EncryptionContext:aws:ecs:clusterAccount":"123456789012","kms:EncryptionContext:aws:ecs:clusterName":["a","b","c","prod"]}"#;
    format!(
        r#"{{"Statement":[{{"Sid":"Fargate","Effect":"Allow","Principal":{{"Service":"fargate.amazonaws.com"}},"Action":["kms:GenerateDataKeyWithoutPlaintext","kms:CreateGrant"],"Resource":"*","Condition":{{"StringEquals":{context}}}}}]}}"#
    )
}

fn default_detail_rules() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_kms::Client::get_key_policy)
            .then_output(|| GetKeyPolicyOutput::builder().policy(fargate_policy()).policy_name("default").build()),
        mock!(aws_sdk_kms::Client::list_grants).then_output(|| ListGrantsOutput::builder().build()),
        mock!(aws_sdk_kms::Client::get_key_rotation_status)
            .then_output(|| GetKeyRotationStatusOutput::builder().key_rotation_enabled(true).build()),
        mock!(aws_sdk_kms::Client::list_aliases)
            .then_output(|| aws_sdk_kms::operation::list_aliases::ListAliasesOutput::builder().build()),
    ]
}

fn cluster(name: &str, fargate_key: Option<&str>) -> Cluster {
    let mut c = Cluster::builder()
        .cluster_name(name)
        .cluster_arn(format!("arn:aws:ecs:{REGION}:123456789012:cluster/{name}"))
        .status("ACTIVE");
    if let Some(key) = fargate_key {
        c = c.configuration(
            ClusterConfiguration::builder()
                .managed_storage_configuration(
                    ManagedStorageConfiguration::builder().fargate_ephemeral_storage_kms_key_id(key).build(),
                )
                .build(),
        );
    }
    c.build()
}

/// DescribeClusters answering with `clusters`, whatever was asked.
fn describe_clusters(clusters: Vec<Cluster>) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_clusters)
        .then_output(move || DescribeClustersOutput::builder().set_clusters(Some(clusters.clone())).build())
}

fn key_metadata(state: KeyState) -> aws_sdk_kms::types::builders::KeyMetadataBuilder {
    KeyMetadata::builder()
        .key_id(KEY_ID)
        .arn(KEY)
        .aws_account_id("123456789012")
        .key_state(state)
        .key_manager(KeyManagerType::Customer)
        .key_spec(KeySpec::SymmetricDefault)
        .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
        .origin(OriginType::AwsKms)
        .multi_region(false)
}

fn describe_key(metadata: KeyMetadata) -> Rule {
    mock!(aws_sdk_kms::Client::describe_key)
        .then_output(move || DescribeKeyOutput::builder().key_metadata(metadata.clone()).build())
}

fn json_error(kind: &str, message: &str) -> String {
    format!(r#"{{"__type":"{kind}","message":"{message}"}}"#)
}

async fn run(clients: &Mocks, clusters: &[&str]) -> Inventory {
    run_scope(clients, clusters, &[]).await
}

async fn run_scope(clients: &Mocks, clusters: &[&str], services: &[&str]) -> Inventory {
    let scope = Scope {
        regions: vec![REGION.into()],
        clusters: clusters.iter().map(|c| c.to_string()).collect(),
        services: services.iter().map(|c| c.to_string()).collect(),
        skip_services: false,
        alarms: false,
    };
    collect(clients, &scope, &CollectOptions::default(), "2026-11-30T12:00:00Z".parse().unwrap()).await
}

fn report(inv: &Inventory) -> Report {
    Report::build(inv, checks::run(inv, &CheckOptions::default()))
}

#[tokio::test]
async fn list_clusters_follows_every_page() {
    // The emulator ignores paging, so pages are mocked here.
    let pages = mock!(aws_sdk_ecs::Client::list_clusters)
        .sequence()
        .output(|| {
            ListClustersOutput::builder()
                .cluster_arns("arn:aws:ecs:us-east-1:123456789012:cluster/a")
                .next_token("page-2")
                .build()
        })
        .output(|| ListClustersOutput::builder().cluster_arns("arn:aws:ecs:us-east-1:123456789012:cluster/b").build())
        .build();
    let describe = mock!(aws_sdk_ecs::Client::describe_clusters)
        .match_requests(|r| r.clusters().len() == 1)
        .then_compute_output(|r| {
            let name = r.clusters()[0].rsplit('/').next().unwrap().to_string();
            DescribeClustersOutput::builder().clusters(cluster(&name, None)).build()
        });
    let m = mocks(&[&pages, &describe], &[]);
    let inv = run(&m, &[]).await;
    assert_eq!(pages.num_calls(), 2);
    // Each page is described as it comes (a page holds at most 100
    // clusters, DescribeClusters's batch), not after the last page.
    assert_eq!(describe.num_calls(), 2, "one DescribeClusters per page");
    let names: Vec<&str> = inv.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[tokio::test]
async fn list_clusters_denied_is_a_scope_gap() {
    let denied = mock!(aws_sdk_ecs::Client::list_clusters)
        .sequence()
        .http_status(400, Some(json_error("AccessDeniedException", "not authorized to perform: ecs:ListClusters")))
        .build();
    let m = mocks(&[&denied], &[]);
    let inv = run(&m, &[]).await;
    assert_eq!(inv.gaps.len(), 1);
    assert_eq!(inv.gaps[0].code, "AccessDeniedException");
    assert_eq!(inv.gaps[0].operation, "ecs:ListClusters");
    let r = report(&inv);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.exit_code, 2);
}

#[tokio::test]
async fn describe_clusters_denied_makes_each_cluster_unknown() {
    let denied = mock!(aws_sdk_ecs::Client::describe_clusters)
        .sequence()
        .http_status(400, Some(json_error("AccessDeniedException", "not authorized")))
        .build();
    let m = mocks(&[&denied], &[]);
    let inv = run(&m, &["prod", "arn:aws:ecs:us-east-1:123456789012:cluster/web"]).await;
    assert_eq!(inv.clusters.len(), 2);
    for c in &inv.clusters {
        let ClusterLookup::Unreadable { gap } = &c.lookup else { panic!("{c:?}") };
        assert_eq!(gap.code, "AccessDeniedException");
    }
    let r = report(&inv);
    assert!(r.clusters.iter().all(|c| c.verdict == Verdict::Unknown));
    assert_eq!(r.clusters[0].findings[0].check.id, "cluster-unreadable");
}

#[tokio::test]
async fn missing_clusters_come_back_as_results() {
    let describe = mock!(aws_sdk_ecs::Client::describe_clusters).then_output(|| {
        DescribeClustersOutput::builder()
            .failures(
                Failure::builder().arn("arn:aws:ecs:us-east-1:123456789012:cluster/gone").reason("MISSING").build(),
            )
            .build()
    });
    let m = mocks(&[&describe], &[]);
    let inv = run(&m, &["gone"]).await;
    assert_eq!(inv.clusters[0].name, "gone");
    assert!(matches!(inv.clusters[0].lookup, ClusterLookup::Missing { ref reason, .. } if reason == "MISSING"));
    assert_eq!(report(&inv).verdict, Verdict::Fail);
}

#[tokio::test]
async fn describe_key_denied_is_unknown_not_pass() {
    let denied = mock!(aws_sdk_kms::Client::describe_key)
        .sequence()
        .http_status(400, Some(json_error("AccessDeniedException", "not authorized to perform: kms:DescribeKey")))
        .build();
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&denied]);
    let inv = run(&m, &["prod"]).await;
    let KeyLookup::Unreadable { gap } = &inv.keys[KEY].describe else { panic!("{:?}", inv.keys) };
    assert_eq!(gap.code, "AccessDeniedException");
    assert!(gap.message.contains("kms:DescribeKey"));
    let r = report(&inv);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.clusters[0].findings[0].check.id, "key-unreadable");
}

#[tokio::test]
async fn throttling_is_retried_then_recorded_as_a_gap() {
    let throttled = mock!(aws_sdk_kms::Client::describe_key)
        .sequence()
        .http_status(400, Some(json_error("ThrottlingException", "Rate exceeded")))
        .times(3)
        .build();
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&throttled]);
    let inv = run(&m, &["prod"]).await;
    assert_eq!(throttled.num_calls(), 3, "the SDK's standard retries ran out");
    let KeyLookup::Unreadable { gap } = &inv.keys[KEY].describe else { panic!() };
    assert_eq!(gap.code, "ThrottlingException");
    assert_eq!(report(&inv).exit_code, 2);
}

#[tokio::test]
async fn throttling_that_clears_is_not_a_gap() {
    let flaky = mock!(aws_sdk_kms::Client::describe_key)
        .sequence()
        .http_status(400, Some(json_error("ThrottlingException", "Rate exceeded")))
        .output(|| DescribeKeyOutput::builder().key_metadata(key_metadata(KeyState::Enabled).build().unwrap()).build())
        .build();
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&flaky]);
    let inv = run(&m, &["prod"]).await;
    assert!(matches!(inv.keys[KEY].describe, KeyLookup::Found { .. }));
    assert_eq!(report(&inv).verdict, Verdict::Pass);
}

#[tokio::test]
async fn each_key_is_described_once() {
    // Three clusters name the same key by ARN, by bare id and by ARN again.
    let describe = describe_key(key_metadata(KeyState::Enabled).build().unwrap());
    let clusters = vec![cluster("a", Some(KEY)), cluster("b", Some(KEY_ID)), cluster("c", Some(KEY))];
    let m = mocks(&[&describe_clusters(clusters)], &[&describe]);
    let inv = run(&m, &["a", "b", "c"]).await;
    assert_eq!(describe.num_calls(), 1);
    assert_eq!(inv.keys.len(), 1);
    assert_eq!(report(&inv).summary.pass, 3);
}

#[tokio::test]
async fn states_the_emulator_cannot_produce() {
    // (state, cluster verdict, check id)
    let cases = [
        (KeyState::PendingImport, Verdict::Fail, "key-state"),
        (KeyState::Unavailable, Verdict::Fail, "key-state"),
        (KeyState::Creating, Verdict::Fail, "key-state"),
        (KeyState::PendingReplicaDeletion, Verdict::Fail, "key-state"),
        (KeyState::Updating, Verdict::Pass, ""),
        // A state value the SDK does not know yet arrives as Unknown: fail closed.
        (KeyState::from("Hibernating"), Verdict::Unknown, "key-state"),
    ];
    for (state, verdict, check) in cases {
        let describe = describe_key(key_metadata(state.clone()).build().unwrap());
        let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&describe]);
        let r = report(&run(&m, &["prod"]).await);
        assert_eq!(r.clusters[0].verdict, verdict, "{state:?}");
        assert_eq!(r.clusters[0].key_usages[0].key_state.as_deref(), Some(state.as_str()));
        if !check.is_empty() {
            assert_eq!(r.clusters[0].findings[0].check.id, check, "{state:?}");
        }
    }
}

#[tokio::test]
async fn imported_material_valid_to_is_collected_and_forecast() {
    let valid_to = DateTime::from_secs(1_798_761_600); // 2027-01-01T00:00:00Z, 31.5 days after collection
    let metadata = key_metadata(KeyState::Enabled)
        .origin(OriginType::External)
        .expiration_model(aws_sdk_kms::types::ExpirationModelType::KeyMaterialExpires)
        .valid_to(valid_to)
        .build()
        .unwrap();
    let describe = describe_key(metadata);
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&describe]);
    let inv = run(&m, &["prod"]).await;
    let KeyLookup::Found { metadata } = &inv.keys[KEY].describe else { panic!() };
    assert_eq!(metadata.valid_to.unwrap().to_string(), "2027-01-01T00:00:00Z");
    let r = report(&inv);
    // 31 days out: a warning under the default 30-day horizon...
    assert_eq!(r.verdict, Verdict::Pass);
    assert!(
        r.clusters[0].findings.iter().any(|f| f.check.id == "key-material-expiry" && f.message.contains("2027-01-01"))
    );
    // ...and a failure under a 45-day one.
    let r = Report::build(&inv, checks::run(&inv, &CheckOptions { horizon_days: 45, ..CheckOptions::default() }));
    assert_eq!(r.verdict, Verdict::Fail);
}

#[tokio::test]
async fn key_not_found_is_a_failure() {
    let missing = mock!(aws_sdk_kms::Client::describe_key)
        .sequence()
        .http_status(400, Some(json_error("NotFoundException", "Key 'x' does not exist")))
        .build();
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&missing]);
    let inv = run(&m, &["prod"]).await;
    assert!(matches!(inv.keys[KEY].describe, KeyLookup::NotFound { .. }));
    assert_eq!(report(&inv).clusters[0].findings[0].check.id, "key-not-found");
}

fn fargate_grant(cluster: &str) -> GrantListEntry {
    GrantListEntry::builder()
        .key_id(KEY)
        .grantee_principal("fargate.us-east-1.amazonaws.com")
        .retiring_principal("ec2.us-east-1.amazonaws.com")
        .operations(GrantOperation::Decrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("aws:ecs:clusterAccount", "123456789012")
                .encryption_context_subset("aws:ecs:clusterName", cluster)
                .encryption_context_subset("aws:ebs:id", "vol-0123456789abcdef0")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn list_grants_follows_every_page_and_counts_fargate() {
    // The emulator ignores ListGrants paging, so pages are mocked here.
    let pages = mock!(aws_sdk_kms::Client::list_grants)
        .sequence()
        .output(|| {
            ListGrantsOutput::builder()
                .grants(fargate_grant("prod"))
                .grants(fargate_grant("prod"))
                .grants(GrantListEntry::builder().grantee_principal("arn:aws:iam::123456789012:role/app").build())
                .truncated(true)
                .next_marker("page-2")
                .build()
        })
        .output(|| ListGrantsOutput::builder().grants(fargate_grant("batch")).truncated(false).build())
        .build();
    let describe = describe_key(key_metadata(KeyState::Enabled).build().unwrap());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&describe, &pages]);
    let inv = run(&m, &["prod"]).await;
    assert_eq!(pages.num_calls(), 2);
    let Fact::Read { value: g } = &inv.key_details[KEY].grants else { panic!("{:?}", inv.key_details) };
    assert_eq!((g.total, g.fargate), (4, 3));
    assert_eq!(g.fargate_by_cluster["prod"], 2);
    assert_eq!(g.fargate_by_cluster["batch"], 1);
}

#[tokio::test]
async fn rotation_period_and_next_date_are_collected() {
    // The emulator reports neither the period nor the next rotation date.
    let rotation = mock!(aws_sdk_kms::Client::get_key_rotation_status).then_output(|| {
        GetKeyRotationStatusOutput::builder()
            .key_rotation_enabled(true)
            .rotation_period_in_days(180)
            .next_rotation_date(DateTime::from_secs(1_798_761_600))
            .build()
    });
    let describe = describe_key(key_metadata(KeyState::Enabled).build().unwrap());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&describe, &rotation]);
    let inv = run(&m, &["prod"]).await;
    let Fact::Read { value: r } = &inv.key_details[KEY].rotation else { panic!() };
    assert_eq!(r.period_days, Some(180));
    assert_eq!(r.next_rotation.unwrap().to_string(), "2027-01-01T00:00:00Z");
    let report = report(&inv);
    let info = report.clusters[0].findings.iter().find(|f| f.check.id == "key-rotation").unwrap();
    assert!(info.message.contains("every 180 days, next on 2027-01-01"), "{}", info.message);
}

#[tokio::test]
async fn cross_account_key_skips_get_key_policy() {
    const PARTNER_KEY: &str = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-0000-0000-0000-EXAMPLE00000";
    let policy = mock!(aws_sdk_kms::Client::get_key_policy)
        .then_output(|| GetKeyPolicyOutput::builder().policy(fargate_policy()).build());
    let describe =
        describe_key(key_metadata(KeyState::Enabled).arn(PARTNER_KEY).aws_account_id("444455556666").build().unwrap());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(PARTNER_KEY))])], &[&describe, &policy]);
    let inv = run(&m, &["prod"]).await;
    assert_eq!(policy.num_calls(), 0, "GetKeyPolicy does not work across accounts: not asked");
    assert!(matches!(inv.key_details[PARTNER_KEY].policy, Fact::Skipped { .. }));
    assert!(matches!(inv.key_details[PARTNER_KEY].grants, Fact::Read { .. }), "the rest still runs");
    let r = report(&inv);
    assert_eq!(r.verdict, Verdict::Unknown);
    let f = r.clusters[0].findings.iter().find(|f| f.check.id == "key-policy").unwrap();
    assert!(f.message.contains("across accounts"), "{}", f.message);
}

#[tokio::test]
async fn key_details_are_read_once_per_key() {
    // Three references (ARN, bare id, alias) to one key: one read of each detail.
    let policy = mock!(aws_sdk_kms::Client::get_key_policy)
        .then_output(|| GetKeyPolicyOutput::builder().policy(fargate_policy()).build());
    let grants = mock!(aws_sdk_kms::Client::list_grants).then_output(|| ListGrantsOutput::builder().build());
    let describe = describe_key(key_metadata(KeyState::Enabled).build().unwrap());
    let clusters = vec![cluster("a", Some(KEY)), cluster("b", Some(KEY_ID)), cluster("c", Some("alias/shared"))];
    let m = mocks(&[&describe_clusters(clusters)], &[&describe, &policy, &grants]);
    let inv = run(&m, &["a", "b", "c"]).await;
    assert_eq!(describe.num_calls(), 2, "the alias is a second reference to describe");
    assert_eq!(policy.num_calls(), 1);
    assert_eq!(grants.num_calls(), 1);
    assert_eq!(inv.key_details.len(), 1);
}

#[tokio::test]
async fn get_key_policy_denied_is_unknown_and_the_rest_still_runs() {
    let denied = mock!(aws_sdk_kms::Client::get_key_policy)
        .sequence()
        .http_status(400, Some(json_error("AccessDeniedException", "not authorized to perform: kms:GetKeyPolicy")))
        .build();
    let describe = describe_key(key_metadata(KeyState::Disabled).build().unwrap());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&describe, &denied]);
    let inv = run(&m, &["prod"]).await;
    assert!(matches!(inv.key_details[KEY].policy, Fact::Unreadable { ref gap } if gap.code == "AccessDeniedException"));
    let r = report(&inv);
    // The disabled key still fails the cluster: a failure outranks unknown.
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.clusters[0].findings.iter().any(|f| f.check.id == "key-policy" && f.verdict == Verdict::Unknown));
}

// --- Services and the keys pinned on their deployments. The emulator creates
// services and deployments but never fills fargateEphemeralStorage, so the
// pinned keys are mocked here.

const OLD_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0000bbbb-0000-0000-0000-EXAMPLE00000";

fn deployment(id: &str, pinned: Option<&str>, running: i32) -> aws_sdk_ecs::types::Deployment {
    let mut d = aws_sdk_ecs::types::Deployment::builder()
        .id(id)
        .status("PRIMARY")
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .desired_count(running)
        .running_count(running);
    if let Some(key) = pinned {
        d = d.fargate_ephemeral_storage(
            aws_sdk_ecs::types::DeploymentEphemeralStorage::builder().kms_key_id(key).build(),
        );
    }
    d.build()
}

fn ecs_service(
    name: &str,
    launch: &str,
    deployments: Vec<aws_sdk_ecs::types::Deployment>,
) -> aws_sdk_ecs::types::Service {
    let running = deployments.iter().map(|d| d.running_count()).sum();
    aws_sdk_ecs::types::Service::builder()
        .service_name(name)
        .service_arn(format!("arn:aws:ecs:us-east-1:123456789012:service/prod/{name}"))
        .status("ACTIVE")
        .launch_type(aws_sdk_ecs::types::LaunchType::from(launch))
        .desired_count(running)
        .running_count(running)
        .set_deployments(Some(deployments))
        .build()
}

fn describe_key_by_arn() -> Rule {
    // Answers for whichever key is asked: enabled for KEY, disabled for OLD_KEY.
    mock!(aws_sdk_kms::Client::describe_key).then_compute_output(|req| {
        let asked = req.key_id().unwrap_or_default();
        let (arn, state) =
            if asked.contains("bbbb") { (OLD_KEY, KeyState::Disabled) } else { (KEY, KeyState::Enabled) };
        DescribeKeyOutput::builder().key_metadata(key_metadata(state).arn(arn).build().unwrap()).build()
    })
}

#[tokio::test]
async fn pinned_keys_join_the_key_set_and_fail_the_cluster() {
    let services = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        DescribeServicesOutput::builder()
            .services(ecs_service("api", "FARGATE", vec![deployment("ecs-svc/1", Some(OLD_KEY), 6)]))
            .services(ecs_service("web", "FARGATE", vec![deployment("ecs-svc/2", Some(KEY), 2)]))
            .build()
    });
    let list = mock!(aws_sdk_ecs::Client::list_services).then_output(|| {
        ListServicesOutput::builder()
            .service_arns("arn:aws:ecs:us-east-1:123456789012:service/prod/api")
            .service_arns("arn:aws:ecs:us-east-1:123456789012:service/prod/web")
            .build()
    });
    let describe = describe_key_by_arn();
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))]), &list, &services], &[&describe]);
    let inv = run(&m, &["prod"]).await;
    assert_eq!(describe.num_calls(), 2, "the cluster's key and the pinned key, once each");
    assert!(inv.keys.contains_key(OLD_KEY));
    let r = report(&inv);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.clusters[0].key_usages[0].verdict, Verdict::Pass, "the cluster's own key is fine");
    let f = r.clusters[0].findings.iter().find(|f| f.check.id == "key-state").unwrap();
    assert_eq!(f.service.as_deref(), Some("api"));
    assert!(f.message.contains("Scale-outs and replacements of service api"), "{}", f.message);
    let api = &r.clusters[0].services.as_ref().unwrap()[0];
    assert_eq!((api.service_name.as_str(), api.running, api.verdict), ("api", 6, Verdict::Fail));
    assert_eq!(api.deployments[0].key_state.as_deref(), Some("Disabled"));
    assert_eq!(r.failing_keys[0].key, OLD_KEY);
}

#[tokio::test]
async fn list_services_pages_and_describe_services_batches_of_ten() {
    let names: Vec<String> = (0..23).map(|i| format!("svc-{i:02}")).collect();
    let arns: Vec<String> =
        names.iter().map(|n| format!("arn:aws:ecs:us-east-1:123456789012:service/prod/{n}")).collect();
    let (first, rest) = arns.split_at(15);
    let (first, rest) = (first.to_vec(), rest.to_vec());
    let pages = mock!(aws_sdk_ecs::Client::list_services)
        .sequence()
        .output(move || ListServicesOutput::builder().set_service_arns(Some(first.clone())).next_token("p2").build())
        .output(move || ListServicesOutput::builder().set_service_arns(Some(rest.clone())).build())
        .build();
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|r| r.services().len() <= 10)
        .then_compute_output(|r| {
            let services = r
                .services()
                .iter()
                .map(|arn| ecs_service(arn.rsplit('/').next().unwrap(), "FARGATE", vec![]))
                .collect();
            DescribeServicesOutput::builder().set_services(Some(services)).build()
        });
    let m = mocks(&[&describe_clusters(vec![cluster("prod", None)]), &pages, &describe], &[]);
    let inv = run(&m, &["prod"]).await;
    assert_eq!(pages.num_calls(), 2);
    assert_eq!(describe.num_calls(), 3, "23 services: 10 + 10 + 3");
    assert_eq!(inv.clusters[0].services().unwrap().len(), 23);
    assert_eq!(inv.api_calls["ecs:ListServices"], 2);
    assert_eq!(inv.api_calls["ecs:DescribeServices"], 3);
}

#[tokio::test]
async fn targeted_service_run_makes_only_the_calls_it_needs() {
    let services =
        mock!(aws_sdk_ecs::Client::describe_services).match_requests(|r| r.services() == ["api"]).then_output(|| {
            DescribeServicesOutput::builder()
                .services(ecs_service("api", "FARGATE", vec![deployment("ecs-svc/1", Some(OLD_KEY), 6)]))
                .build()
        });
    let list = mock!(aws_sdk_ecs::Client::list_services).then_output(|| ListServicesOutput::builder().build());
    let describe = describe_key_by_arn();
    let exec_cluster = {
        let mut c = cluster("prod", Some(KEY));
        c.configuration = Some(
            ClusterConfiguration::builder()
                .managed_storage_configuration(
                    ManagedStorageConfiguration::builder().fargate_ephemeral_storage_kms_key_id(KEY).build(),
                )
                .execute_command_configuration(
                    aws_sdk_ecs::types::ExecuteCommandConfiguration::builder().kms_key_id("alias/exec").build(),
                )
                .build(),
        );
        c
    };
    let m = mocks(&[&describe_clusters(vec![exec_cluster]), &list, &services], &[&describe]);
    let inv = run_scope(&m, &["prod"], &["api"]).await;
    assert_eq!(list.num_calls(), 0, "no ListServices in a targeted run");
    assert_eq!(services.num_calls(), 1);
    // The cluster's key and the pinned key; not the ECS Exec key, which api does not use.
    assert_eq!(describe.num_calls(), 2);
    let exec = inv.clusters[0].usage(ecs_key_preflight::inventory::KeyRole::ExecuteCommand).unwrap();
    assert!(exec.skipped.as_deref().unwrap().contains("does not enable ECS Exec"), "{exec:?}");
    let total: u64 = inv.api_calls.values().sum();
    // DescribeClusters 1 + DescribeServices 1 + 2 keys x (DescribeKey, GetKeyPolicy, ListGrants,
    // GetKeyRotationStatus) + ListAliases once for the Region (mocked clients open no
    // connections, so none are opened ahead of need).
    assert_eq!(total, 11, "{:?}", inv.api_calls);
    assert_eq!(inv.api_calls["kms:ListAliases"], 1, "{:?}", inv.api_calls);
}

#[tokio::test]
async fn missing_requested_service_is_recorded() {
    let services = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        DescribeServicesOutput::builder()
            .failures(
                Failure::builder()
                    .arn("arn:aws:ecs:us-east-1:123456789012:service/prod/nope")
                    .reason("MISSING")
                    .build(),
            )
            .build()
    });
    let describe = describe_key(key_metadata(KeyState::Enabled).build().unwrap());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))]), &services], &[&describe]);
    let inv = run_scope(&m, &["prod"], &["nope"]).await;
    assert_eq!(inv.missing_services.len(), 1);
    assert_eq!(inv.missing_services[0].service, "nope");
    assert_eq!(inv.missing_services[0].reason, "MISSING");
}

#[tokio::test]
async fn services_denied_is_unknown() {
    let denied = mock!(aws_sdk_ecs::Client::list_services)
        .sequence()
        .http_status(400, Some(json_error("AccessDeniedException", "not authorized to perform: ecs:ListServices")))
        .build();
    let describe = describe_key(key_metadata(KeyState::Enabled).build().unwrap());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))]), &denied], &[&describe]);
    let r = report(&run(&m, &["prod"]).await);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.clusters[0].findings[0].check.id, "services-unreadable");
    assert!(r.clusters[0].services.is_none());
}

// --- CloudTrail LookupEvents, which the emulator does not implement (HTTP 500).

mod lookup {
    use super::*;
    use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput;
    use aws_sdk_cloudtrail::types::Event;
    use ecs_key_preflight::audit::{Aggregator, Window};
    use ecs_key_preflight::collect::cloudtrail::{LOOKUP_INTERVAL, lookup_kms_events};
    use std::sync::{Arc, Mutex};

    const SEED: &str = include_str!("fixtures/cloudtrail/seed-events.json");

    fn seed_events() -> Vec<Event> {
        let v: serde_json::Value = serde_json::from_str(SEED).unwrap();
        v["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                Event::builder().event_name(r["eventName"].as_str().unwrap()).cloud_trail_event(r.to_string()).build()
            })
            .collect()
    }

    fn with_cloudtrail(rules: &[&Rule]) -> Mocks {
        let mut m = mocks(&[], &[]);
        m.cloudtrail = mock_client!(aws_sdk_cloudtrail, RuleMode::Sequential, rules, |c| {
            c.retry_config(
                aws_sdk_cloudtrail::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
        });
        m
    }

    fn window() -> (jiff::Timestamp, jiff::Timestamp) {
        ("2024-04-20T00:00:00Z".parse().unwrap(), "2024-04-25T00:00:00Z".parse().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn pages_are_followed_at_most_two_per_second() {
        // Virtual time (tokio's paused clock): the pacing is observed, not waited for.
        let stamps: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
        let events = seed_events();
        let (first, rest) = events.split_at(3);
        let (first, rest) = (first.to_vec(), rest.to_vec());
        let s1 = stamps.clone();
        let s2 = stamps.clone();
        let s3 = stamps.clone();
        let p1 = mock!(aws_sdk_cloudtrail::Client::lookup_events)
            .match_requests(|r| {
                r.next_token().is_none() && r.lookup_attributes()[0].attribute_value() == "kms.amazonaws.com"
            })
            .then_compute_output(move |_| {
                s1.lock().unwrap().push(tokio::time::Instant::now());
                LookupEventsOutput::builder().set_events(Some(first.clone())).next_token("t2").build()
            });
        let p2 = mock!(aws_sdk_cloudtrail::Client::lookup_events)
            .match_requests(|r| r.next_token() == Some("t2"))
            .then_compute_output(move |_| {
                s2.lock().unwrap().push(tokio::time::Instant::now());
                LookupEventsOutput::builder().set_events(Some(rest.clone())).next_token("t3").build()
            });
        let p3 = mock!(aws_sdk_cloudtrail::Client::lookup_events)
            .match_requests(|r| r.next_token() == Some("t3"))
            .then_compute_output(move |_| {
                s3.lock().unwrap().push(tokio::time::Instant::now());
                LookupEventsOutput::builder().build()
            });
        let m = with_cloudtrail(&[&p1, &p2, &p3]);
        let (start, end) = window();
        let mut agg = Aggregator::new(Window::default());
        let lookup = lookup_kms_events(&m, "us-west-2", start, end, LOOKUP_INTERVAL, &mut |r| agg.add(&r)).await;
        assert_eq!((lookup.requests, lookup.events), (3, 5));
        assert!(lookup.gap.is_none());
        let stamps = stamps.lock().unwrap();
        assert_eq!(stamps.len(), 3);
        for pair in stamps.windows(2) {
            assert!(pair[1] - pair[0] >= LOOKUP_INTERVAL, "requests closer than 500 ms: {:?}", pair[1] - pair[0]);
        }
        let report = agg.finish(vec![], Default::default(), vec![], None);
        assert_eq!(report.clusters[0].cluster_name, "prod-api");
        assert_eq!(report.clusters[0].tasks_started, 1);
    }

    #[tokio::test]
    async fn throttling_is_retried() {
        let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events)
            .sequence()
            .http_status(400, Some(json_error("ThrottlingException", "Rate exceeded")))
            .output(|| LookupEventsOutput::builder().set_events(Some(seed_events())).build())
            .build();
        let m = with_cloudtrail(&[&rule]);
        let (start, end) = window();
        let mut n = 0;
        let lookup = lookup_kms_events(&m, "us-west-2", start, end, Duration::ZERO, &mut |_| n += 1).await;
        assert_eq!(rule.num_calls(), 2, "one throttled attempt, retried once");
        assert!(lookup.gap.is_none());
        assert_eq!(n, 5);
    }

    #[tokio::test]
    async fn a_repeated_token_ends_the_lookup_as_a_gap() {
        // A misbehaving endpoint naming the same next page forever: asked
        // once more, then a gap, never an endless loop.
        let page = || LookupEventsOutput::builder().set_events(Some(seed_events())).next_token("again").build();
        let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events).sequence().output(page).output(page).build();
        let m = with_cloudtrail(&[&rule]);
        let (start, end) = window();
        let lookup = lookup_kms_events(&m, "us-west-2", start, end, Duration::ZERO, &mut |_| {}).await;
        assert_eq!(rule.num_calls(), 2);
        assert_eq!(lookup.gap.as_ref().map(|g| g.code.as_str()), Some("IncompleteListing"), "{:?}", lookup.gap);
    }

    #[tokio::test]
    async fn denied_lookup_is_a_gap() {
        let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events)
            .sequence()
            .http_status(
                400,
                Some(json_error("AccessDeniedException", "not authorized to perform: cloudtrail:LookupEvents")),
            )
            .build();
        let m = with_cloudtrail(&[&rule]);
        let (start, end) = window();
        let lookup = lookup_kms_events(&m, "us-west-2", start, end, Duration::ZERO, &mut |_| {}).await;
        let gap = lookup.gap.unwrap();
        assert_eq!((gap.operation.as_str(), gap.code.as_str()), ("cloudtrail:LookupEvents", "AccessDeniedException"));
        let report = Aggregator::new(Window::default()).finish(vec![], Default::default(), vec![gap], None);
        // Not read is unknown (exit 2), and verdict and exit code agree.
        assert_eq!((report.verdict.as_str(), report.exit_code), ("unknown", 2));
    }
}

#[tokio::test]
async fn audit_maps_keys_to_the_clusters_configured_with_them() {
    // Two clusters on one key (by ARN and by bare id), one on another.
    let list = mock!(aws_sdk_ecs::Client::list_clusters).then_output(|| {
        ListClustersOutput::builder()
            .cluster_arns("arn:aws:ecs:us-east-1:123456789012:cluster/a")
            .cluster_arns("arn:aws:ecs:us-east-1:123456789012:cluster/b")
            .cluster_arns("arn:aws:ecs:us-east-1:123456789012:cluster/c")
            .build()
    });
    let clusters = vec![cluster("a", Some(KEY)), cluster("b", Some(KEY_ID)), cluster("c", Some(OLD_KEY))];
    let m = mocks(&[&list, &describe_clusters(clusters)], &[]);
    let (map, gaps) = ecs_key_preflight::collect::cluster_keys(&m, &[REGION.to_string()], 4).await;
    assert!(gaps.is_empty());
    assert_eq!(map[KEY].iter().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(map[OLD_KEY].iter().collect::<Vec<_>>(), ["c"]);
}

/// An endpoint that answers 200 but leaves out what was asked for (issue 9,
/// item 4). Recorded as mocks: neither the emulator nor AWS answers so.
#[tokio::test]
async fn a_cluster_requested_but_not_returned_is_unknown() {
    let empty = mock!(aws_sdk_ecs::Client::describe_clusters).then_output(|| DescribeClustersOutput::builder().build());
    let m = mocks(&[&empty], &[]);
    let inv = run(&m, &["prod"]).await;
    assert_eq!(inv.clusters.len(), 1, "the requested cluster is still in the report");
    let ClusterLookup::Unreadable { gap } = &inv.clusters[0].lookup else { panic!("{:?}", inv.clusters[0]) };
    assert_eq!(gap.code, "NotReturned");
    let r = report(&inv);
    assert_eq!((r.verdict, r.exit_code), (Verdict::Unknown, 2));
}

#[tokio::test]
async fn a_service_requested_but_not_returned_is_unknown() {
    let empty = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| DescribeServicesOutput::builder().build());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))]), &empty], &[&describe_key_by_arn()]);
    let inv = run_scope(&m, &["prod"], &["api"]).await;
    assert!(inv.missing_services.is_empty(), "not returned is not 'not found'");
    let Some(Fact::Unreadable { gap }) = &inv.clusters[0].services else { panic!("{:?}", inv.clusters[0].services) };
    assert_eq!(gap.code, "NotReturned");
    let r = report(&inv);
    assert_eq!((r.verdict, r.exit_code), (Verdict::Unknown, 2));
}

// A misbehaving endpoint that repeats a page token: the SDK's paginators stop
// there without an error, which would read as the whole list (a service, a
// grant or a cluster left out). Each listing must say it did not end.

fn incomplete<T: std::fmt::Debug>(fact: &Fact<T>) -> bool {
    matches!(fact, Fact::Unreadable { gap } if gap.code == "IncompleteListing")
}

#[tokio::test]
async fn services_listing_that_repeats_its_token_is_unknown_not_short() {
    let pages = mock!(aws_sdk_ecs::Client::list_services).then_output(|| {
        ListServicesOutput::builder()
            .service_arns("arn:aws:ecs:us-east-1:123456789012:service/prod/api")
            .next_token("again")
            .build()
    });
    let m = mocks(&[&describe_clusters(vec![cluster("prod", None)]), &pages], &[]);
    let inv = run(&m, &["prod"]).await;
    assert!(incomplete(inv.clusters[0].services.as_ref().unwrap()), "{:?}", inv.clusters[0].services);
    assert_eq!(pages.num_calls(), 2, "the repeated token is not followed forever");
    assert_eq!(report(&inv).clusters[0].verdict, Verdict::Unknown);
}

#[tokio::test]
async fn grants_listing_truncated_without_a_marker_is_unknown_not_short() {
    let grants =
        mock!(aws_sdk_kms::Client::list_grants).then_output(|| ListGrantsOutput::builder().truncated(true).build());
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&grants, &describe_key_by_arn()]);
    let inv = run(&m, &["prod"]).await;
    assert!(incomplete(&inv.key_details[KEY].grants), "{:?}", inv.key_details[KEY].grants);
}

#[tokio::test]
async fn clusters_listing_that_repeats_its_token_is_a_scope_gap() {
    let pages = mock!(aws_sdk_ecs::Client::list_clusters).then_output(|| {
        ListClustersOutput::builder()
            .cluster_arns("arn:aws:ecs:us-east-1:123456789012:cluster/a")
            .next_token("again")
            .build()
    });
    let describe = mock!(aws_sdk_ecs::Client::describe_clusters)
        .then_output(|| DescribeClustersOutput::builder().clusters(cluster("a", None)).build());
    let m = mocks(&[&pages, &describe], &[]);
    let inv = run(&m, &[]).await;
    assert!(
        inv.gaps.iter().any(|g| g.operation == "ecs:ListClusters" && g.code == "IncompleteListing"),
        "{:?}",
        inv.gaps
    );
    assert_eq!(pages.num_calls(), 2);
    assert_eq!(inv.clusters.len(), 1, "a cluster listed twice is described once");
    assert_eq!(report(&inv).verdict, Verdict::Unknown, "clusters were left out: never a pass");
}

#[tokio::test]
async fn describe_key_answering_for_another_key_is_not_returned() {
    // Asked for KEY, a misbehaving endpoint describes OLD_KEY (enabled): the
    // key asked for was not described, so its state is unknown, never "Enabled".
    let other = mock!(aws_sdk_kms::Client::describe_key).then_output(|| {
        DescribeKeyOutput::builder().key_metadata(key_metadata(KeyState::Enabled).arn(OLD_KEY).build().unwrap()).build()
    });
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&other]);
    let inv = run(&m, &["prod"]).await;
    let record = inv.keys.values().next().expect("the key was asked for");
    assert!(
        matches!(&record.describe, KeyLookup::Unreadable { gap } if gap.code == "NotReturned"),
        "{:?}",
        record.describe
    );
    assert_eq!(report(&inv).clusters[0].verdict, Verdict::Unknown);
}

/// Clients as over TLS: connections worth opening ahead of need.
struct OverTls<'a>(&'a Mocks);

impl Clients for OverTls<'_> {
    fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        self.0.ecs(region)
    }
    fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        self.0.kms(region)
    }
    fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        self.0.cloudtrail(region)
    }
    fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        self.0.cloudwatch(region)
    }
    fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        self.0.logs(region)
    }
    fn warm_kms(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn kms_connections_are_opened_ahead_once_per_region_for_all_accounts() {
    use ecs_key_preflight::collect::{Unit, collect_units};
    let m = mocks(&[&describe_clusters(vec![cluster("prod", Some(KEY))])], &[&describe_key_by_arn()]);
    let tls = OverTls(&m);
    let scope = Scope {
        regions: vec![REGION.into()],
        clusters: vec!["prod".into()],
        services: vec![],
        skip_services: true,
        alarms: false,
    };
    let unit = |account: &str| Unit {
        account: Some(account.to_string()),
        name: None,
        clients: Ok(&tls as &dyn Clients),
        regions: vec![REGION.into()],
        caller: false,
    };
    let units = vec![unit("111111111111"), unit("222222222222")];
    let inv = collect_units(units, &scope, &CollectOptions::default(), "2026-11-30T12:00:00Z".parse().unwrap()).await;
    // Each account's ListAliases, and three more of one entry for the Region's pool, once.
    assert_eq!(inv.api_calls["kms:ListAliases"], 2 + 3, "{:?}", inv.api_calls);
}
