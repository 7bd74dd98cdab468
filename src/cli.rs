//! The command line: clap derive, with the doc comments as `--help`.
//!
//! Parsing only validates; `app` turns the arguments into a run.

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

use crate::render::{AuditFormat, Format};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every cluster passes: new tasks can start
  1  at least one cluster will fail to start new tasks (outranks 2)
  2  nothing fails, but something could not be verified (unknown)
  3  the tool could not run: bad arguments, unreadable file, no credentials, no region";

pub const AUDIT_EXIT_CODES: &str = "\
Exit codes:
  0  the whole source was read, and no Fargate launch call failed in the window
  1  Fargate launch calls failed in the window: launches are failing now (outranks 2)
  2  no failure seen, but part of the source could not be read (or it held no record)
  3  the tool could not run: bad arguments, or no record could be read at all";

/// Would new Amazon ECS tasks on Fargate fail to start because of their KMS key?
///
/// Reads each cluster's storage-encryption configuration, follows every key
/// that new tasks would use, and says per cluster: pass, fail (with the fix),
/// or unknown (with what could not be read). Read-only: it only calls
/// Describe, List and Get APIs, and prints remediation without running it.
#[derive(Debug, Parser)]
#[command(name = "ecs-key-preflight", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More logs on stderr (-v: info, -vv: debug, -vvv: trace, AWS SDK included).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check clusters and their keys, and report a verdict per cluster.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// What CloudTrail says Fargate did with its keys: failed launches, and key changes by cluster.
    #[command(after_help = AUDIT_EXIT_CODES)]
    Audit(AuditArgs),
    /// Which clusters and services a key change would break, before anyone makes it (nothing is changed in AWS).
    #[command(name = "what-if", after_help = WHATIF_EXIT_CODES)]
    WhatIf(WhatIfArgs),
}

pub const WHATIF_EXIT_CODES: &str = "\
Exit codes:
  0  no cluster or service would newly fail
  1  at least one cluster or service would newly fail
  2  nothing would newly fail, but something could not be judged after the change
  3  could not run: a bad change, a key that does not exist, an unreadable plan";

/// `what-if`: the scope and source flags of `check`, and the changes.
#[derive(Debug, clap::Args)]
pub struct WhatIfArgs {
    #[command(flatten)]
    pub check: CheckArgs,

    /// Disable KEY (key id, key ARN or alias; repeatable).
    #[arg(long = "disable-key", value_name = "KEY")]
    pub disable_keys: Vec<String>,

    /// Schedule KEY for deletion (repeatable); the report says when it would be deleted.
    #[arg(long = "schedule-key-deletion", value_name = "KEY")]
    pub delete_keys: Vec<String>,

    /// The waiting period of --schedule-key-deletion, 7 to 30 days.
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u8).range(7..=30))]
    pub pending_window_days: u8,

    /// Replace KEY's key policy with the document in FILE (repeatable).
    #[arg(long = "put-key-policy", value_name = "KEY=FILE")]
    pub put_key_policies: Vec<String>,

    /// Point CLUSTER's Fargate ephemeral storage at KEY (repeatable); its services keep their
    /// pinned key until redeployed.
    #[arg(long = "set-cluster-key", value_name = "CLUSTER=KEY")]
    pub set_cluster_keys: Vec<String>,

    /// The changes of a Terraform plan: the JSON of `terraform show -json PLAN`.
    #[arg(long, value_name = "FILE")]
    pub terraform_plan: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Cluster name or ARN to check (repeatable). Default: every cluster in the Region(s).
    #[arg(short, long = "cluster", value_name = "NAME|ARN")]
    pub clusters: Vec<String>,

    /// Service name to check (repeatable; needs exactly one --cluster): only the keys its next
    /// tasks would use, for a new deployment and for scale-outs of the current one.
    #[arg(short, long = "service", value_name = "NAME", requires = "clusters")]
    pub services: Vec<String>,

    /// Do not read services and their deployments (fewer calls; the keys pinned on running
    /// deployments are then not checked).
    #[arg(long, conflicts_with = "services")]
    pub no_services: bool,

    /// An empty scope (no cluster found) passes instead of exiting 2 ("nothing was checked").
    #[arg(long)]
    pub allow_empty: bool,

    /// Also check that a CloudWatch alarm watches for KMS errors on a key pending deletion or
    /// disabled (reads trails, metric filters and alarms).
    #[arg(long)]
    pub alarms: bool,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub accounts: AccountArgs,

    #[command(flatten)]
    pub out: OutputArgs,

    /// Imported key material expiring within DAYS makes the cluster fail (beyond it: a warning).
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u16).range(0..=3650))]
    pub horizon: u16,

    /// Grants a key may hold: the KMS "Grants per KMS key" quota, if you had it raised.
    #[arg(long, value_name = "N", default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub grant_quota: u64,

    /// Warn when a key holds PERCENT of its grant quota (each running Fargate task holds one grant).
    #[arg(long, value_name = "PERCENT", default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub grant_warn_percent: u8,

    /// Fail keys whose automatic rotation is disabled (keys that cannot rotate are never judged).
    #[arg(long)]
    pub require_rotation: bool,

    /// Suppressions file (accepted risks, each with a reason and an expiry).
    /// Default: ecs-key-preflight.toml in the working directory, when it exists.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore any suppressions file.
    #[arg(long)]
    pub no_config: bool,

    /// Also write the collected facts to FILE (JSON), for --inventory or a bug report.
    #[arg(long, value_name = "FILE")]
    pub save_inventory: Option<PathBuf>,

    /// Evaluate a saved inventory FILE instead of calling AWS (no AWS call is made).
    /// Repeatable: inventories saved by separate runs (one per OU, account list or Region) are
    /// merged into one report; for a cluster in two files, the later collected_at wins.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["clusters", "services", "no_services", "alarms", "regions", "profile", "save_inventory", "org", "accounts"])]
    pub inventory: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Read events from CloudTrail log files instead of LookupEvents: a file (.json or .json.gz),
    /// a directory tree as CloudTrail writes it to S3, JSON lines, or - for stdin. No AWS call.
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,

    /// Start of the window: a duration back from now (90m, 24h, 7d, 2w) or a timestamp.
    /// Default with LookupEvents: 24h (at most 90 days back); with --from: no limit.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// End of the window (same forms as --since). Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// A file that is not valid CloudTrail JSON stops the run (exit 3) instead of being skipped.
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub out: AuditOutputArgs,
}

/// Where and how the audit report goes.
#[derive(Debug, clap::Args)]
pub struct AuditOutputArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// When to color the human report. NO_COLOR is honoured under "auto".
    #[arg(long, value_enum, default_value_t = ColorMode::Auto, value_name = "WHEN")]
    pub color: ColorMode,
}

/// Which accounts: the caller's own by default; several, or a whole AWS
/// Organization, through a read-only role in each member account.
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    /// Read this account (12-digit id; repeatable). Any account but the caller's needs --role-name.
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,

    /// Read every ACTIVE account of the AWS Organization (organizations:ListAccounts: run it from
    /// the management account or a delegated administrator).
    #[arg(long)]
    pub org: bool,

    /// Leave this account out (repeatable).
    #[arg(long = "exclude-account", value_name = "ID")]
    pub exclude_accounts: Vec<String>,

    /// The read-only role to assume in each member account (the caller's own account is read
    /// with its own credentials). Required as soon as another account is in scope.
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,

    /// The external id the member role's trust policy requires (sts:ExternalId).
    #[arg(long, value_name = "ID", requires = "role_name")]
    pub external_id: Option<String>,
}

impl AccountArgs {
    /// Whether the run reaches beyond the caller's own account.
    pub fn multi(&self) -> bool {
        self.org || !self.accounts.is_empty()
    }
}

/// How to reach AWS.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// AWS Region (repeatable), or `all`: every Region enabled in each account (account:ListRegions).
    /// Default: AWS_REGION, or the profile's region.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// Named profile from the AWS config files. Default: AWS_PROFILE, or "default".
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// At most N AWS requests in flight at once (one limit for the whole run; see docs/performance.md).
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Give up on one AWS call (retries included) after SECONDS; it is then reported as unknown.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=3600))]
    pub timeout: u16,
}

/// Where and how the report goes.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human, env = "ECS_KEY_PREFLIGHT_FORMAT")]
    pub format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// When to color the human report. NO_COLOR is honoured under "auto".
    #[arg(long, value_enum, default_value_t = ColorMode::Auto, value_name = "WHEN")]
    pub color: ColorMode,

    /// Also write the report in FORMAT to FILE (repeatable), beside the one on stdout or
    /// --output: e.g. `--report junit=preflight.xml --report json=preflight.json` with the
    /// human report in the CI log.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report_spec)]
    pub reports: Vec<(Format, PathBuf)>,

    /// List only clusters in these categories (comma-separated: fail, unknown, warning, pass).
    /// The verdict, the summary and the exit code stay the whole run's.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub only: Vec<crate::render::Category>,

    /// One line per cluster, findings beneath failing ones only. Chosen on its own when more than
    /// 50 clusters go to a terminal.
    #[arg(long)]
    pub compact: bool,
}

/// The `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

/// `FORMAT=FILE` for `--report`.
fn parse_report_spec(spec: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = spec.split_once('=').ok_or_else(|| format!("expected FORMAT=FILE, got {spec:?}"))?;
    let format = <Format as ValueEnum>::from_str(format, true)
        .map_err(|_| format!("unknown format {format:?} (human, json, junit, prometheus, markdown, github, asff)"))?;
    if file.is_empty() {
        return Err("FILE is empty".into());
    }
    Ok((format, PathBuf::from(file)))
}
