//! End to end: organization-wide runs against the emulator, which
//! implements Organizations (CreateOrganization, CreateAccount,
//! ListAccounts) and STS AssumeRole whose credentials act inside the member
//! account. AssumeRole never fails there, so a refusal is injected by
//! tests/emulator/proxy.py (a 403 AccessDenied for one member's role).
//! Seeded by tests/emulator/seed_org.py (see there for each account).

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

const ROLE: &str = "PreflightRead";

struct Org {
    members: BTreeMap<String, String>,
}

fn org() -> &'static Org {
    static ORG: OnceLock<Org> = OnceLock::new();
    ORG.get_or_init(|| {
        let out: Value = serde_json::from_str(&seed_script("seed_org.py", &[ROLE])).unwrap();
        let members =
            out["members"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().into())).collect();
        Org { members }
    })
}

fn member(role: &str) -> &'static str {
    &org().members[role]
}

fn verdicts(report: &Value) -> BTreeMap<String, (String, String)> {
    report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cluster_name"].as_str().unwrap().to_string(),
                (c["account_id"].as_str().unwrap_or_default().to_string(), c["verdict"].as_str().unwrap().to_string()),
            )
        })
        .collect()
}

fn account<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["accounts"].as_array().unwrap().iter().find(|a| a["account_id"] == id).unwrap_or(&Value::Null)
}

#[test]
fn org_run_gives_each_accounts_clusters_their_verdict() {
    org();
    let (exit, report) =
        run_json(bin_aws("us-east-1").args(["check", "--org", "--role-name", ROLE, "--format", "json"]));
    assert_eq!(exit, 1, "{report:#}");
    let v = verdicts(&report);
    let want = [
        ("mgmt-app", ACCOUNT, "pass"),
        ("healthy-app", member("healthy"), "pass"),
        ("cross-account", member("healthy"), "pass"),
        ("disabled-app", member("disabled"), "fail"),
        ("pending-app", member("pending"), "fail"),
        ("policy-app", member("policy"), "fail"),
    ];
    for (name, acct, verdict) in want {
        assert_eq!(v.get(name), Some(&(acct.to_string(), verdict.to_string())), "{name}: {v:?}");
    }
    assert_eq!(report["accounts"].as_array().unwrap().len(), 5, "four members and the management account");
    assert!(report["accounts"].as_array().unwrap().iter().all(|a| a["status"] == "read"));
    assert_eq!(account(&report, member("healthy"))["name"], "team-healthy");
    // The management account is read with its own credentials, each member through the role.
    let inv_calls = &report["summary"];
    assert_eq!(inv_calls["clusters"], 6);
}

#[test]
fn a_cross_account_key_is_read_with_its_owners_role() {
    org();
    let (_, report) = run_json(bin_aws("us-east-1").args(["check", "--org", "--role-name", ROLE, "--format", "json"]));
    let cluster = report["clusters"].as_array().unwrap().iter().find(|c| c["cluster_name"] == "cross-account").unwrap();
    let policy = cluster["findings"].as_array().unwrap().iter().find(|f| f["check"] == "key-policy").unwrap();
    // Read with the owning account's role: the policy is evaluated, with the
    // cluster's account as aws:ecs:clusterAccount.
    assert_eq!(policy["verdict"], "pass", "{policy:#}");
    assert!(policy["message"].as_str().unwrap().contains("lets Fargate use"), "{policy:#}");
    assert!(cluster["key_usages"][0]["key_arn"].as_str().unwrap().contains(member("policy")));
}

#[test]
fn account_subsets_exclusions_and_two_regions() {
    org();
    let (exit, report) = run_json(bin_aws("us-east-1").args([
        "check",
        "--account",
        member("healthy"),
        "--account",
        member("disabled"),
        "--exclude-account",
        member("disabled"),
        "--role-name",
        ROLE,
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        "--format",
        "json",
    ]));
    let v = verdicts(&report);
    let names: Vec<&String> = v.keys().collect();
    assert_eq!(names, ["cross-account", "healthy-app", "west-app"]);
    assert_eq!(v["healthy-app"].1, "pass");
    assert_eq!(v["west-app"].1, "pass", "the second Region is read too");
    // The key of cross-account belongs to an account out of scope: it is read
    // with this account's credentials, which the emulator (unlike AWS, where
    // the key policy decides) never lets read another account's key.
    assert_eq!(exit, 1, "{report:#}");
    let accounts: Vec<&str> =
        report["accounts"].as_array().unwrap().iter().map(|a| a["account_id"].as_str().unwrap()).collect();
    assert_eq!(accounts, [member("healthy")]);
}

#[test]
fn an_account_whose_role_cannot_be_assumed_is_unknown_and_the_rest_go_on() {
    org();
    let proxy = Proxy::start(0);
    // STS's query protocol form-encodes the role ARN in the request body.
    let refused = format!("arn%3Aaws%3Aiam%3A%3A{}%3Arole", member("healthy"));
    let body = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole (EXAMPLE)</Message></Error><RequestId>EXAMPLE</RequestId></ErrorResponse>"#;
    proxy.fail(&refused, 403, body, "text/xml");
    let (exit, report) = run_json(bin_aws("us-east-1").env("AWS_ENDPOINT_URL", &proxy.endpoint).args([
        "check",
        "--org",
        "--role-name",
        ROLE,
        "--format",
        "json",
    ]));
    // Others still fail on their own keys: 1 outranks the unknown.
    assert_eq!(exit, 1, "{report:#}");
    let healthy = account(&report, member("healthy"));
    assert_eq!(healthy["status"], "unreadable", "{report:#}");
    assert_eq!(healthy["check"], "account-unreadable");
    assert!(healthy["reason"].as_str().unwrap().contains("AccessDenied"), "{healthy:#}");
    let v = verdicts(&report);
    assert!(!v.contains_key("healthy-app"), "nothing of the unread account is passed");
    assert_eq!(v["disabled-app"].1, "fail");
    assert_eq!(v["mgmt-app"].1, "pass");
    // Without the failing accounts, the unread one makes the run unknown, never a pass.
    let (exit, report) = run_json(bin_aws("us-east-1").env("AWS_ENDPOINT_URL", &proxy.endpoint).args([
        "check",
        "--account",
        member("healthy"),
        "--account",
        ACCOUNT,
        "--role-name",
        ROLE,
        "--format",
        "json",
    ]));
    assert_eq!((exit, report["verdict"].as_str()), (2, Some("unknown")), "{report:#}");
    let out = bin_aws("us-east-1")
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(["check", "--account", member("healthy"), "--account", ACCOUNT, "--role-name", ROLE, "--color", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("not read [account-unreadable]"), "{stdout}");
    assert!(stdout.contains("in 2 accounts, 1 of them not read"), "{stdout}");
}

#[test]
fn inventories_of_separate_runs_merge_into_one_report() {
    org();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    for (account, path) in [(member("disabled"), &a), (member("pending"), &b)] {
        let out = bin_aws("us-east-1")
            .args(["check", "--account", account, "--role-name", ROLE, "--format", "json", "--save-inventory"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (exit, report) =
        run_json(bin().args(["check", "--format", "json", "--inventory"]).arg(&a).arg("--inventory").arg(&b));
    assert_eq!(exit, 1);
    let names: Vec<String> = verdicts(&report).into_keys().collect();
    assert_eq!(names, ["disabled-app", "pending-app"]);
    // The same shard twice: one cluster each, and the report says which file was used.
    let (_, report) =
        run_json(bin().args(["check", "--format", "json", "--inventory"]).arg(&a).arg("--inventory").arg(&a));
    assert_eq!(report["clusters"].as_array().unwrap().len(), 1);
    assert!(report["notes"][0].as_str().unwrap().contains("disabled-app"), "{report:#}");
}

#[test]
fn scope_mistakes_are_one_line_errors() {
    org();
    // Another account without a role: no silent default.
    let out = bin_aws("us-east-1").args(["check", "--org"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--role-name is required"), "{err}");
    for bad in ["12345", "12345678901x", ""] {
        let out = bin_aws("us-east-1").args(["check", "--account", bad, "--role-name", ROLE]).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{bad:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("is not an AWS account id"));
    }
}

#[test]
fn progress_goes_to_a_terminal_only_and_never_to_stdout() {
    org();
    // Not a terminal (a pipe, as in CI): no progress line at all.
    let out = bin_aws("us-east-1").args(["check", "--org", "--role-name", ROLE, "--format", "json"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("accounts "), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).expect("stdout holds the report only");
    // On a terminal (script(1) gives stderr a pseudo-terminal, stdout goes to a file): the line
    // appears on the terminal, and the report file is untouched by it.
    let script = std::process::Command::new("script").arg("--version").output();
    if script.is_err() {
        eprintln!("script(1) not installed: the terminal half of this test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let binary = assert_cmd::cargo::cargo_bin("ecs-key-preflight");
    let command =
        format!("{} check --org --role-name {ROLE} --format json --output {}", binary.display(), report.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &emulator().endpoint)
        .env("AWS_ACCESS_KEY_ID", "EXAMPLEACCESSKEYID")
        .env("AWS_SECRET_ACCESS_KEY", "EXAMPLESECRETACCESSKEY")
        .env("AWS_REGION", "us-east-1")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(terminal.contains("accounts "), "{terminal}");
    let written: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(written["accounts"].as_array().unwrap().len(), 5);
}

#[test]
fn region_all_reads_every_region_enabled_in_each_account() {
    org();
    // The emulator does not implement account:ListRegions: the proxy answers
    // it with a recorded response of the API's shape (REST-JSON, POST
    // /listRegions), for every account.
    let proxy = Proxy::start(0);
    let regions = r#"{"Regions":[{"RegionName":"us-east-1","RegionOptStatus":"ENABLED_BY_DEFAULT"},{"RegionName":"eu-west-1","RegionOptStatus":"ENABLED"}]}"#;
    proxy.fail("RegionOptStatusContains", 200, regions, "application/json");
    let (exit, report) = run_json(bin_aws("us-east-1").env("AWS_ENDPOINT_URL", &proxy.endpoint).args([
        "check",
        "--account",
        member("healthy"),
        "--role-name",
        ROLE,
        "--region",
        "all",
        "--format",
        "json",
    ]));
    assert_eq!(report["regions"], serde_json::json!(["eu-west-1", "us-east-1"]), "{report:#}");
    let v = verdicts(&report);
    assert_eq!(v["west-app"].1, "pass", "the cluster in eu-west-1 is found");
    assert_eq!(v["healthy-app"].1, "pass");
    assert!(exit == 0 || exit == 1, "{report:#}");
}

#[test]
fn every_format_names_the_account() {
    org();
    let run = |format: &str| {
        let out =
            bin_aws("us-east-1").args(["check", "--org", "--role-name", ROLE, "--format", format]).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let prom = run("prometheus");
    assert!(
        prom.contains(&format!(
            "ecs_key_preflight_cluster_verdict{{account=\"{}\",cluster=\"disabled-app\"",
            member("disabled")
        )),
        "{prom}"
    );
    assert!(
        prom.contains(&format!(
            "ecs_key_preflight_account_read{{account=\"{}\",name=\"team-healthy\"}} 1",
            member("healthy")
        )),
        "{prom}"
    );
    let junit = run("junit");
    assert!(
        junit.contains(&format!("ecs-key-preflight account {} (team-disabled)", member("disabled"))),
        "one suite per account: {junit}"
    );
    let human = run("human");
    assert!(human.contains(&format!("disabled-app ({}/us-east-1)", member("disabled"))), "{human}");
    assert!(human.contains("Accounts:"), "{human}");
    let md = run("markdown");
    assert!(md.contains(&format!("{} / us-east-1", member("disabled"))), "{md}");
}
