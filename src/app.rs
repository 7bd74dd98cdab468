//! Orchestration only: arguments → inventory (collected or loaded) → checks →
//! report → renderer → exit code, for `check`; events → audit report for
//! `audit`. No AWS calls of its own beyond resolving the SDK configuration
//! and proving credentials exist.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use crate::audit::{self, Aggregator, Window};
use crate::checks::{self, CheckOptions};
use crate::cli::{AuditArgs, AwsArgs, CheckArgs, ColorMode};
use crate::collect::{self, CollectOptions, Scope, SdkClients};
use crate::error::AppError;
use crate::inventory::{self, Inventory};
use crate::render;
use crate::report::Report;

/// How long resolving credentials may take before we call it "no credentials".
/// Off EC2 the chain ends at the instance-metadata service, which must not hang us.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `check` and returns the exit code its verdict implies.
pub async fn check(args: CheckArgs, verbose: u8) -> Result<u8, AppError> {
    if !args.services.is_empty() && args.clusters.len() != 1 {
        return Err(AppError::Usage("--service needs exactly one --cluster".into()));
    }
    validate_regions(&args.aws.regions)?;
    // Read the configuration and open outputs first: a bad file or path
    // should fail before minutes of collection.
    let config_path = config_path(&args);
    let mut files: Vec<(&str, &Path, bool)> = Vec::new();
    for p in &args.inventory {
        files.push(("--inventory", p, false));
    }
    if let Some(p) = &config_path {
        files.push(("--config", p, false));
    }
    if let Some(p) = &args.out.output {
        files.push(("--output", p, true));
    }
    if let Some(p) = &args.save_inventory {
        files.push(("--save-inventory", p, true));
    }
    crate::fsio::check_distinct(&files).map_err(AppError::Usage)?;
    let config = load_config(config_path.clone())?;
    let mut output = open_output(args.out.output.as_deref(), "report")?;
    let mut saved = match &args.save_inventory {
        Some(path) => Some(create_output(path, "inventory")?),
        None => None,
    };
    let mut notes = Vec::new();
    let inventory = match args.inventory.as_slice() {
        [path] => load_inventory(path)?,
        [_, _, ..] => {
            let shards = args
                .inventory
                .iter()
                .map(|p| Ok((p.display().to_string(), load_inventory(p)?)))
                .collect::<Result<Vec<_>, AppError>>()?;
            let (merged, merge_notes) = inventory::merge(shards);
            notes = merge_notes;
            merged
        }
        [] => {
            let inv = collect_live(&args, verbose).await?;
            if let (Some(path), Some(file)) = (&args.save_inventory, saved.take()) {
                save_inventory(path, file, &inv)?;
            }
            // A gate targeting a service that does not exist is a mistake in
            // the invocation, not a verdict about keys.
            if let Some(missing) = inv.missing_services.first() {
                return Err(AppError::ServiceNotFound {
                    service: missing.service.clone(),
                    cluster: missing.cluster.clone(),
                    reason: missing.reason.clone(),
                });
            }
            inv
        }
    };
    let options = CheckOptions {
        horizon_days: i64::from(args.horizon),
        grant_quota: args.grant_quota,
        grant_warn_percent: u64::from(args.grant_warn_percent),
        require_rotation: args.require_rotation,
    };
    let build = crate::report::BuildOptions { allow_empty: args.allow_empty, grant_quota: options.grant_quota };
    let mut report = Report::build_with(&inventory, checks::run(&inventory, &options), &config.suppress, build);
    if !config.suppress.is_empty() {
        report.suppressions_file = config_path.map(|p| p.display().to_string());
    }
    report.notes = notes;
    let color = use_color(args.out.color, args.out.output.is_some());
    let render_options = render::RenderOptions { color };
    let written = render::render(&report, args.out.format, render_options, &mut output);
    finish(args.out.output.as_deref(), output, written)?;
    Ok(report.exit_code)
}

/// The suppressions file this run reads, if any.
fn config_path(args: &CheckArgs) -> Option<PathBuf> {
    match (&args.config, args.no_config) {
        (_, true) => None,
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(crate::config::DEFAULT_FILE)).filter(|p| p.exists()),
    }
}

fn load_config(path: Option<PathBuf>) -> Result<crate::config::Config, AppError> {
    match path {
        None => Ok(crate::config::Config::default()),
        Some(path) => crate::config::load(&path).map_err(|reason| AppError::Config { path, reason }),
    }
}

/// Region names are lower-case letters, digits and single hyphens
/// (`us-east-1`, `us-gov-west-1`): anything else is a typo, refused before
/// the SDK turns it into an endpoint.
fn validate_regions(regions: &[String]) -> Result<(), AppError> {
    for r in regions {
        let ok = !r.is_empty()
            && r.len() <= 40
            && r.starts_with(|c: char| c.is_ascii_lowercase())
            && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !r.contains("--")
            && !r.ends_with('-');
        if !ok {
            return Err(AppError::Usage(format!(
                "--region {:?} is not an AWS Region name (such as us-east-1)",
                crate::render::text::visible(r)
            )));
        }
    }
    Ok(())
}

/// Maps a render result to the run's outcome, and puts the report in place.
fn finish(path: Option<&Path>, sink: Sink, written: io::Result<()>) -> Result<(), AppError> {
    let written = written.and_then(|()| sink.finish());
    match written {
        Ok(()) => Ok(()),
        // A reader that went away (`| head`) is not the tool failing.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(AppError::Write {
            what: "report",
            path: path.map(Path::to_path_buf).unwrap_or_else(|| "<stdout>".into()),
            source,
        }),
    }
}

/// LookupEvents reaches back 90 days at most.
const LOOKUP_MAX_DAYS: i64 = 90;

/// Runs `audit` and returns its exit code.
pub async fn audit(args: AuditArgs) -> Result<u8, AppError> {
    let now = jiff::Timestamp::now();
    let parse = |t: &Option<String>| -> Result<Option<jiff::Timestamp>, AppError> {
        t.as_deref().map(|t| audit::parse_time(t, now)).transpose().map_err(AppError::Usage)
    };
    let (since, until) = (parse(&args.since)?, parse(&args.until)?);
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(AppError::Usage("--since is after --until: the window ends before it starts".into()));
    }
    validate_regions(&args.aws.regions)?;
    if let (Some(from), Some(out)) = (&args.from, &args.out.output)
        && from != Path::new("-")
    {
        crate::fsio::check_distinct(&[("--from", from, false), ("--output", out, true)]).map_err(AppError::Usage)?;
    }
    let mut output = open_output(args.out.output.as_deref(), "report")?;

    let report = match &args.from {
        Some(path) => {
            let mut agg = Aggregator::new(Window { since, until });
            let stats = audit::source::read(path, &mut |record| agg.add(&record))
                .map_err(|e| AppError::Source(e.to_string()))?;
            if args.strict
                && let Some(skipped) = stats.skipped.first()
            {
                return Err(AppError::Source(format!("{}: {} (--strict)", skipped.file, skipped.reason)));
            }
            // Nothing readable is not evidence of health.
            let mut gaps = Vec::new();
            if stats.events == 0 {
                if let Some(first) = stats.skipped.first() {
                    return Err(AppError::Source(format!(
                        "no CloudTrail record could be read from {} ({} file(s) skipped; first: {}: {})",
                        path.display(),
                        stats.skipped.len(),
                        first.file,
                        first.reason
                    )));
                }
                gaps.push(crate::inventory::Gap {
                    operation: "read".into(),
                    resource: path.display().to_string(),
                    code: "NoRecords".into(),
                    message: "the source holds no CloudTrail record: nothing to judge".into(),
                });
            }
            agg.finish(vec![path.display().to_string()], stats, gaps, None)
        }
        None => {
            let since = since.unwrap_or(now - jiff::SignedDuration::from_hours(24));
            let until = until.unwrap_or(now);
            if now.as_second() - since.as_second() > LOOKUP_MAX_DAYS * 86_400 {
                return Err(AppError::Usage(format!(
                    "CloudTrail LookupEvents reaches back {LOOKUP_MAX_DAYS} days at most; for older events, audit exported log files with --from"
                )));
            }
            if since > until {
                return Err(AppError::Usage("--since is after --until: the window ends before it starts".into()));
            }
            let config = sdk_config(&args.aws).await?;
            let regions = regions(&args.aws, &config)?;
            let clients = SdkClients::new(config);
            let mut agg = Aggregator::new(Window { since: Some(since), until: Some(until) });
            let mut gaps = Vec::new();
            for region in &regions {
                let lookup = collect::cloudtrail::lookup_kms_events(
                    &clients,
                    region,
                    since,
                    until,
                    collect::cloudtrail::LOOKUP_INTERVAL,
                    &mut |record| agg.add(&record),
                )
                .await;
                tracing::info!(region, requests = lookup.requests, events = lookup.events, "cloudtrail:LookupEvents");
                gaps.extend(lookup.gap);
            }
            // Live configuration maps key changes to the clusters using the key.
            let (live, cluster_gaps) =
                collect::cluster_keys(&clients, &regions, usize::from(args.aws.concurrency)).await;
            for gap in &cluster_gaps {
                tracing::warn!("{}", gap.describe());
            }
            let source = regions.iter().map(|r| format!("cloudtrail:LookupEvents in {r}")).collect();
            let live = if cluster_gaps.is_empty() { Some(live) } else { None };
            agg.finish(source, audit::source::ReadStats::default(), gaps, live)
        }
    };
    let color = use_color(args.out.color, args.out.output.is_some());
    let written = render::render_audit(&report, args.out.format, color, &mut output);
    finish(args.out.output.as_deref(), output, written)?;
    Ok(report.exit_code)
}

fn regions(aws: &AwsArgs, config: &aws_config::SdkConfig) -> Result<Vec<String>, AppError> {
    if !aws.regions.is_empty() {
        return Ok(aws.regions.clone());
    }
    Ok(vec![config.region().ok_or(AppError::NoRegion)?.to_string()])
}

async fn collect_live(args: &CheckArgs, verbose: u8) -> Result<Inventory, AppError> {
    let started = jiff::Timestamp::now();
    let all_regions = args.aws.regions.iter().any(|r| r == "all");
    let aws =
        AwsArgs { regions: args.aws.regions.iter().filter(|r| *r != "all").cloned().collect(), ..args.aws.clone() };
    let config = sdk_config(&aws).await?;
    let default_regions = if all_regions { Vec::new() } else { regions(&aws, &config)? };
    let scope = Scope {
        regions: default_regions.clone(),
        clusters: args.clusters.clone(),
        services: args.services.clone(),
        skip_services: args.no_services,
        alarms: args.alarms,
    };
    // A progress line on stderr, only on a terminal and only when no log
    // lines would interleave with it.
    let progress = io::stderr().is_terminal() && verbose == 0;
    let options = CollectOptions { concurrency: usize::from(args.aws.concurrency), progress };
    if !args.accounts.multi() {
        if !args.accounts.exclude_accounts.is_empty() || args.accounts.role_name.is_some() {
            return Err(AppError::Usage("--exclude-account and --role-name need --org or --account".into()));
        }
        let mut extra = BTreeMap::new();
        let scope = if all_regions {
            let account = collect::org::caller(&config).await.map(|c| c.account).unwrap_or_default();
            let (found, requests) = collect::org::enabled_regions(&config, &account).await;
            extra.insert("account:ListRegions".to_string(), requests);
            Scope { regions: found.map_err(|g| AppError::Usage(format!("--region all: {}", g.describe())))?, ..scope }
        } else {
            scope
        };
        let clients = SdkClients::new(config);
        let mut inv = collect::collect(&clients, &scope, &options, started).await;
        add_calls(&mut inv, extra);
        return Ok(inv);
    }
    collect_accounts(args, config, scope, &options, all_regions, started).await
}

fn add_calls(inv: &mut Inventory, calls: BTreeMap<String, u64>) {
    for (op, n) in calls {
        *inv.api_calls.entry(op).or_default() += n;
    }
}

/// A 12-digit AWS account id.
fn validate_account(flag: &str, id: &str) -> Result<(), AppError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AppError::Usage(format!(
            "{flag} {:?} is not an AWS account id (12 digits)",
            crate::render::text::visible(id)
        )))
    }
}

/// An organization-wide or multi-account run: the accounts in scope, each
/// read with its own credentials (the caller's) or a member role's, under
/// one in-flight limit. An account that cannot be entered is recorded as
/// unreadable, and the rest go on.
async fn collect_accounts(
    args: &CheckArgs,
    config: aws_config::SdkConfig,
    scope: Scope,
    options: &CollectOptions,
    all_regions: bool,
    started: jiff::Timestamp,
) -> Result<Inventory, AppError> {
    let a = &args.accounts;
    for id in &a.accounts {
        validate_account("--account", id)?;
    }
    for id in &a.exclude_accounts {
        validate_account("--exclude-account", id)?;
    }
    let mut calls = BTreeMap::new();
    let caller = collect::org::caller(&config)
        .await
        .map_err(|g| AppError::NoCredentials(format!("whom the credentials belong to is unknown: {}", g.describe())))?;
    *calls.entry("sts:GetCallerIdentity".to_string()).or_default() += 1;
    // (id, name) of every account in scope.
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    if a.org {
        let (listed, requests) = collect::org::list_accounts(&config).await;
        calls.insert("organizations:ListAccounts".to_string(), requests);
        let listed = listed.map_err(|g| {
            AppError::Usage(format!(
                "--org: the organization's accounts could not be listed ({}); run from the management account or a delegated administrator, or name accounts with --account",
                g.describe()
            ))
        })?;
        for acct in listed {
            if acct.active() {
                targets.push((acct.id, acct.name));
            } else {
                tracing::info!(account = acct.id, state = acct.state, "not ACTIVE: left out");
            }
        }
    }
    for id in &a.accounts {
        if !targets.iter().any(|(t, _)| t == id) {
            targets.push((id.clone(), None));
        }
    }
    targets.retain(|(id, _)| !a.exclude_accounts.contains(id));
    targets.sort();
    if targets.is_empty() {
        return Err(AppError::Usage("no account is left in scope (--exclude-account removed them all?)".into()));
    }
    let others: Vec<&str> = targets.iter().map(|(id, _)| id.as_str()).filter(|id| *id != caller.account).collect();
    if !others.is_empty() && a.role_name.is_none() {
        return Err(AppError::Usage(format!(
            "--role-name is required to read account {} ({} account(s) besides the caller's {}): name the read-only role deployed in each member account (docs/permissions.md)",
            others[0],
            others.len(),
            caller.account
        )));
    }
    // Enter every account: the caller's with its own credentials, the
    // others through the member role.
    // At most --concurrency AssumeRole requests in flight too (in order, so
    // that results line up with the targets).
    let entered: Vec<Result<aws_config::SdkConfig, crate::inventory::Gap>> =
        futures_util::stream::iter(targets.iter().map(|(id, _)| {
            let config = &config;
            let caller = &caller;
            async move {
                if *id == caller.account {
                    return Ok(config.clone());
                }
                let role = collect::org::role_arn(&caller.arn, id, a.role_name.as_deref().unwrap_or_default());
                collect::org::assume(config, &role, a.external_id.as_deref()).await
            }
        }))
        .buffered(usize::from(args.aws.concurrency))
        .collect()
        .await;
    *calls.entry("sts:AssumeRole".to_string()).or_default() +=
        targets.iter().filter(|(id, _)| *id != caller.account).count() as u64;
    // Regions: as given, or every Region enabled in each account.
    let mut prepared = Vec::new();
    for ((id, name), entered) in targets.into_iter().zip(entered) {
        let regions = match (&entered, all_regions) {
            (Ok(cfg), true) => {
                let (found, requests) = collect::org::enabled_regions(cfg, &id).await;
                *calls.entry("account:ListRegions".to_string()).or_default() += requests;
                found
            }
            _ => Ok(scope.regions.clone()),
        };
        let clients = match (entered, regions) {
            (Ok(cfg), Ok(regions)) => Ok((SdkClients::new(cfg), regions)),
            (Err(gap), _) | (_, Err(gap)) => Err(gap),
        };
        prepared.push((id, name, clients));
    }
    let units: Vec<collect::Unit<'_>> = prepared
        .iter()
        .map(|(id, name, clients)| collect::Unit {
            account: Some(id.clone()),
            name: name.clone(),
            clients: clients.as_ref().map(|(c, _)| c as &dyn collect::Clients).map_err(Clone::clone),
            regions: clients.as_ref().map(|(_, r)| r.clone()).unwrap_or_default(),
            caller: *id == caller.account,
        })
        .collect();
    let mut inv = collect::collect_units(units, &scope, options, started).await;
    if inv.identity.is_none() {
        inv.identity = Some(caller);
    }
    add_calls(&mut inv, calls);
    Ok(inv)
}

/// The SDK configuration: the standard chain for region and credentials,
/// `--profile` and `--region` on top, and instance-metadata look-ups short
/// enough that a laptop with no credentials fails in seconds, not minutes.
async fn sdk_config(args: &AwsArgs) -> Result<aws_config::SdkConfig, AppError> {
    let imds = aws_config::imds::Client::builder()
        .connect_timeout(Duration::from_secs(1))
        .read_timeout(Duration::from_secs(1))
        .max_attempts(1)
        .build();

    let mut profile_region = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(profile) = &args.profile {
        profile_region = profile_region.profile_name(profile);
    }
    let region_chain = RegionProviderChain::first_try(args.regions.first().cloned().map(aws_config::Region::new))
        .or_else(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .or_else(profile_region.build())
        .or_else(aws_config::imds::region::ImdsRegionProvider::builder().imds_client(imds.clone()).build());
    let region = region_chain.region().await;
    if region.is_none() && args.regions.is_empty() {
        return Err(AppError::NoRegion);
    }
    // `--profile` wins over credentials in the environment, as with the AWS
    // CLI (command line, then environment, then files): with a profile
    // named, only that profile's credentials are used. Without one, the
    // standard chain (environment first).
    let credentials = match &args.profile {
        Some(profile) => SharedCredentialsProvider::new(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&aws_config::provider_config::ProviderConfig::default().with_region(region.clone()))
                .profile_name(profile)
                .build(),
        ),
        None => SharedCredentialsProvider::new(
            DefaultCredentialsChain::builder().imds_client(imds).region(region.clone()).build().await,
        ),
    };

    let provided = tokio::time::timeout(CREDENTIALS_TIMEOUT, credentials.provide_credentials()).await;
    match (provided, &args.profile) {
        (Ok(Ok(_)), _) => {}
        (Ok(Err(e)), Some(profile)) => {
            return Err(AppError::ProfileCredentials { profile: profile.clone(), reason: error_chain(&e) });
        }
        (Ok(Err(e)), None) => return Err(AppError::NoCredentials(error_chain(&e))),
        (Err(_), _) => {
            return Err(AppError::NoCredentials("timed out resolving credentials".to_string()));
        }
    }

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(credentials)
        .retry_config(retry_config())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(u64::from(args.timeout)))
                .build(),
        );
    if let Some(region) = region {
        loader = loader.region(region);
    }
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    Ok(loader.load().await)
}

/// The SDK's adaptive retry mode: on throttling it backs off and also
/// slows the client's own request rate (a token bucket), so a fleet run
/// converges on what AWS allows instead of retrying into the limit.
/// `AWS_RETRY_MODE` and `AWS_MAX_ATTEMPTS` are honoured when set.
fn retry_config() -> aws_config::retry::RetryConfig {
    let attempts = std::env::var("AWS_MAX_ATTEMPTS").ok().and_then(|n| n.parse::<u32>().ok()).filter(|n| *n > 0);
    let config = match std::env::var("AWS_RETRY_MODE").ok().as_deref() {
        Some("standard" | "legacy") => aws_config::retry::RetryConfig::standard(),
        _ => aws_config::retry::RetryConfig::adaptive(),
    };
    config.with_max_attempts(attempts.unwrap_or(3))
}

/// An error and its sources on one line ("a: b: c").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ").replace('\n', " ")
}

fn load_inventory(path: &Path) -> Result<Inventory, AppError> {
    let text =
        crate::fsio::read_regular(path).map_err(|reason| AppError::Inventory { path: path.to_path_buf(), reason })?;
    inventory::from_json(&text).map_err(|reason| AppError::Inventory { path: path.to_path_buf(), reason })
}

fn create_output(path: &Path, what: &'static str) -> Result<crate::fsio::Output, AppError> {
    crate::fsio::Output::create(path).map_err(|source| AppError::Write { what, path: path.to_path_buf(), source })
}

fn save_inventory(path: &Path, mut out: crate::fsio::Output, inventory: &Inventory) -> Result<(), AppError> {
    let err = |source| AppError::Write { what: "inventory", path: path.to_path_buf(), source };
    serde_json::to_writer_pretty(&mut out, inventory).map_err(io::Error::from).map_err(err)?;
    out.write_all(b"\n").map_err(err)?;
    out.commit().map_err(err)
}

/// Where the report goes: stdout, or a file put in place only on success.
enum Sink {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    File(crate::fsio::Output),
}

impl Sink {
    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::File(f) => f.commit(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

fn open_output(path: Option<&Path>, what: &'static str) -> Result<Sink, AppError> {
    Ok(match path {
        Some(path) => Sink::File(create_output(path, what)?),
        None => Sink::Stdout(BufWriter::new(io::stdout().lock())),
    })
}

/// Whether the human report is colored. Decided once, here: the `colored`
/// crate is then told the same, so that no renderer changes process state.
fn use_color(mode: ColorMode, to_file: bool) -> bool {
    let color = decide_color(mode, to_file);
    colored::control::set_override(color);
    color
}

fn decide_color(mode: ColorMode, to_file: bool) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !to_file && !no_color && io::stdout().is_terminal()
        }
    }
}
