//! End to end: which account and identity a run checks. `--profile` must
//! win over credentials in the environment (the AWS CLI's precedence), an
//! undefined profile is a clear error, and every report names the account.
//!
//! The emulator gives credentials from STS AssumeRole that act inside the
//! role's account, so a profile holding them reads another account than
//! the environment's credentials do.

mod common;

use common::*;

const REGION: &str = "us-west-2";
const OTHER: &str = "111122223333";

/// Credentials that act in account OTHER, and a cluster only they can see.
fn other_account_credentials() -> aws_sdk_sts::types::Credentials {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let config = sdk_config(REGION).await;
        let creds = aws_sdk_sts::Client::new(&config)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{OTHER}:role/preflight-read"))
            .role_session_name("ecs-key-preflight-test")
            .send()
            .await
            .unwrap()
            .credentials
            .unwrap();
        let member = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&emulator().endpoint)
            .credentials_provider(aws_sdk_kms::config::Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_string()),
                None,
                "tests",
            ))
            .load()
            .await;
        aws_sdk_ecs::Client::new(&member).create_cluster().cluster_name("profile-only").send().await.unwrap();
        creds
    })
}

#[test]
fn profile_wins_over_environment_credentials() {
    let creds = other_account_credentials();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, format!("[profile other]\nregion = {REGION}\n")).unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[other]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            creds.access_key_id(),
            creds.secret_access_key(),
            creds.session_token()
        ),
    )
    .unwrap();
    // The environment holds the default account's credentials too.
    let (exit, report) = run_json(
        bin_aws(REGION).env("AWS_CONFIG_FILE", &config).env("AWS_SHARED_CREDENTIALS_FILE", &credentials).args([
            "check",
            "--profile",
            "other",
            "--format",
            "json",
        ]),
    );
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(report["identity"]["account"], OTHER, "{report:#}");
    assert_eq!(report["accounts"][0]["account_id"], OTHER);
    assert_eq!(report["accounts"].as_array().unwrap().len(), 1);
    let names: Vec<&str> =
        report["clusters"].as_array().unwrap().iter().filter_map(|c| c["cluster_name"].as_str()).collect();
    assert_eq!(names, ["profile-only"]);

    // Without --profile, the environment's credentials: the default account.
    let (exit, report) = run_json(bin_aws(REGION).args(["check", "--format", "json", "--allow-empty"]));
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(report["identity"]["account"], ACCOUNT);
    assert!(report["clusters"].as_array().unwrap().is_empty(), "the other account's cluster is not seen");

    // The human report says whom it checked as.
    let out = bin_aws(REGION)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args(["check", "--profile", "other", "--color", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("in account {OTHER}")), "{stdout}");
    assert!(stdout.contains(&format!("Checked as arn:aws:sts::{OTHER}:assumed-role/preflight-read")), "{stdout}");
}

#[test]
fn undefined_profile_is_exit_3_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "[profile real]\nregion = us-east-1\n").unwrap();
    let out = bin_aws(REGION).env("AWS_CONFIG_FILE", &config).args(["check", "--profile", "nosuch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("profile \"nosuch\""), "{stderr}");
    assert!(out.stdout.is_empty(), "no report from credentials that were not the ones asked for");
}
