//! Orchestration only: arguments → inventory (collected or loaded) → checks →
//! report → renderer → exit code, for `check`; events → audit report for
//! `audit`. No AWS calls of its own beyond resolving the SDK configuration
//! and proving credentials exist.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::audit::{self, Aggregator, Window};
use crate::checks::{self, CheckOptions};
use crate::cli::{AuditArgs, AwsArgs, CheckArgs, ColorMode};
use crate::collect::live::{AccountScope, Connection, LiveRequest};
use crate::collect::{self, CollectOptions, SdkClients};
use crate::error::AppError;
use crate::inventory::{self, Inventory};
use crate::render;
use crate::report::Report;

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
    for (_, p) in &args.out.reports {
        files.push(("--report", p, true));
    }
    if let Some(p) = &args.save_inventory {
        files.push(("--save-inventory", p, true));
    }
    crate::fsio::check_distinct(&files).map_err(AppError::Usage)?;
    let config = load_config(config_path.clone())?;
    let mut output = open_output(args.out.output.as_deref(), "report")?;
    // Every extra report's file is created now, like --output: a bad path
    // fails before any work.
    let mut extra_reports = Vec::new();
    for (format, path) in &args.out.reports {
        extra_reports.push((*format, path.clone(), create_output(path, "report")?));
    }
    let mut saved = match &args.save_inventory {
        Some(path) => Some(create_output(path, "inventory")?),
        None => None,
    };
    let (inventory, notes) = obtain_inventory(&args, verbose, &mut saved).await?;
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
    // More than 50 clusters on a terminal: the compact layout, unless asked otherwise.
    let compact =
        args.out.compact || (report.clusters.len() > 50 && args.out.output.is_none() && io::stdout().is_terminal());
    // Prose is wrapped to the terminal's width, only on a terminal.
    let width = (args.out.output.is_none() && io::stdout().is_terminal())
        .then(|| console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols)))
        .flatten();
    let render_options =
        render::Options { color, listing: render::Listing { only: args.out.only.clone(), compact, width } };
    let written = render::render_listed(&report, args.out.format, &render_options, &mut output);
    finish(args.out.output.as_deref(), output, written)?;
    for (format, path, mut file) in extra_reports {
        let options = render::Options { color: false, listing: render_options.listing.clone() };
        let written = render::render_listed(&report, format, &options, &mut file);
        finish(Some(&path), Sink::File(file), written)?;
    }
    Ok(report.exit_code)
}

/// The inventory of a run, as `check` gets it: loaded (and merged) from
/// `--inventory` files, or collected live (and saved with
/// `--save-inventory`). Also returns the notes the merge left.
async fn obtain_inventory(
    args: &CheckArgs,
    verbose: u8,
    saved: &mut Option<crate::fsio::Output>,
) -> Result<(Inventory, Vec<String>), AppError> {
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
            let request = LiveRequest {
                conn: connection(&args.aws),
                accounts: AccountScope {
                    org: args.accounts.org,
                    accounts: args.accounts.accounts.clone(),
                    exclude_accounts: args.accounts.exclude_accounts.clone(),
                    role_name: args.accounts.role_name.clone(),
                    external_id: args.accounts.external_id.clone(),
                },
                clusters: args.clusters.clone(),
                services: args.services.clone(),
                no_services: args.no_services,
                alarms: args.alarms,
                // A progress line on stderr, only on a terminal and only
                // when no log lines would interleave with it.
                options: CollectOptions {
                    concurrency: usize::from(args.aws.concurrency),
                    progress: io::stderr().is_terminal() && verbose == 0,
                },
            };
            let inv = collect::live::collect_live(&request).await?;
            if let (Some(path), Some(file)) = (&args.save_inventory, saved.take()) {
                save_inventory(path, file, &inv)?;
            }
            // A gate targeting a service that does not exist is a mistake in
            // the invocation, not a verdict about keys.
            if let Some(missing) = inv.missing_services.first() {
                let region = inv.clusters.iter().find(|c| c.name == missing.cluster).map(|c| c.region.clone());
                return Err(AppError::ServiceNotFound {
                    service: missing.service.clone(),
                    cluster: missing.cluster.clone(),
                    region,
                    reason: missing.reason.clone(),
                });
            }
            inv
        }
    };
    Ok((inventory, notes))
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

/// How to reach AWS, from the command line.
fn connection(aws: &AwsArgs) -> Connection {
    Connection { regions: aws.regions.clone(), profile: aws.profile.clone(), timeout: aws.timeout }
}

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
            let conn = connection(&args.aws);
            let config = collect::live::sdk_config(&conn).await?;
            let regions = collect::live::regions(&conn, &config)?;
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

fn load_inventory(path: &Path) -> Result<Inventory, AppError> {
    let text =
        crate::fsio::read_regular(path).map_err(|reason| AppError::Inventory { path: path.to_path_buf(), reason })?;
    let mut inventory =
        inventory::from_json(&text).map_err(|reason| AppError::Inventory { path: path.to_path_buf(), reason })?;
    // Deserializing grows the cluster list by doubling: give the slack back.
    inventory.clusters.shrink_to_fit();
    Ok(inventory)
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

/// Runs `what-if` and returns its exit code.
pub async fn what_if(args: crate::cli::WhatIfArgs, verbose: u8) -> Result<u8, AppError> {
    use crate::whatif::{self, Change, ChangeReport};
    let c = &args.check;
    if !matches!(c.out.format, render::Format::Human | render::Format::Json | render::Format::Markdown) {
        return Err(AppError::Usage("what-if writes human, json or markdown reports".into()));
    }
    validate_regions(&c.aws.regions)?;
    // Every change is read and checked before anything is collected.
    let mut wanted: Vec<(String, Change, bool)> = Vec::new(); // (source, change, named by a flag)
    for key in &args.disable_keys {
        wanted.push(("--disable-key".into(), Change::DisableKey { key: key.clone() }, true));
    }
    for key in &args.delete_keys {
        let days = i64::from(args.pending_window_days);
        wanted.push((
            "--schedule-key-deletion".into(),
            Change::ScheduleKeyDeletion { key: key.clone(), pending_window_days: days },
            true,
        ));
    }
    for spec in &args.put_key_policies {
        let (key, file) = spec
            .split_once('=')
            .ok_or_else(|| AppError::Usage(format!("--put-key-policy {spec:?}: expected KEY=FILE")))?;
        let text = crate::fsio::read_regular(Path::new(file))
            .map_err(|e| AppError::Usage(format!("--put-key-policy: cannot read {file}: {e}")))?;
        crate::policy::Policy::parse(&text)
            .map_err(|e| AppError::Usage(format!("--put-key-policy: {file} is not a key policy document: {e}")))?;
        wanted.push(("--put-key-policy".into(), Change::PutKeyPolicy { key: key.to_string(), policy: text }, true));
    }
    for spec in &args.set_cluster_keys {
        let (cluster, key) = spec
            .split_once('=')
            .ok_or_else(|| AppError::Usage(format!("--set-cluster-key {spec:?}: expected CLUSTER=KEY")))?;
        let change = Change::SetClusterKey {
            cluster: cluster.to_string(),
            usage: crate::inventory::KeyRole::FargateEphemeralStorage,
            key: key.to_string(),
        };
        wanted.push(("--set-cluster-key".into(), change, true));
    }
    if let Some(plan) = &args.terraform_plan {
        let text = crate::fsio::read_regular(plan)
            .map_err(|e| AppError::Usage(format!("--terraform-plan {}: {e}", plan.display())))?;
        let planned = whatif::terraform::changes(&text)
            .map_err(|e| AppError::Usage(format!("--terraform-plan {}: {e}", plan.display())))?;
        wanted.extend(planned.into_iter().map(|p| (p.address, p.change, false)));
    }
    if wanted.is_empty() && args.terraform_plan.is_none() {
        return Err(AppError::Usage(
            "what-if needs a change: --disable-key, --schedule-key-deletion, --put-key-policy, --set-cluster-key or --terraform-plan".into(),
        ));
    }
    let mut output = open_output(c.out.output.as_deref(), "report")?;
    let mut saved = match &c.save_inventory {
        Some(path) => Some(create_output(path, "inventory")?),
        None => None,
    };
    let (inventory, _) = obtain_inventory(c, verbose, &mut saved).await?;
    // Resolve each key as check does; a key named by a flag that no cluster
    // uses is described once (the one read what-if adds), and must exist.
    let mut changes = Vec::new();
    let mut extra = Vec::new();
    for (source, change, named) in wanted {
        let key = match &change {
            Change::DisableKey { key }
            | Change::ScheduleKeyDeletion { key, .. }
            | Change::PutKeyPolicy { key, .. }
            | Change::KeyUnknown { key, .. }
            | Change::SetClusterKey { key, .. } => Some(key.clone()),
            Change::ClusterKeyUnknown { .. } | Change::SetClusterPlannedKey { .. } => None,
        };
        let mut key_arn = key.as_deref().and_then(|k| whatif::resolve(&inventory, k));
        if let (Some(key), None, true) = (&key, &key_arn, named) {
            if !c.inventory.is_empty() {
                return Err(AppError::Usage(format!(
                    "key {key} is not in the inventory: no cluster in it uses the key, or it does not exist"
                )));
            }
            let conn = connection(&c.aws);
            let region = crate::inventory::Arn::parse(key)
                .map(|a| a.region.to_string())
                .filter(|r| !r.is_empty())
                .or_else(|| inventory.regions.first().cloned())
                .unwrap_or_else(|| "us-east-1".into());
            match collect::live::describe_key(&conn, &region, key).await? {
                Some(m) => {
                    key_arn = Some(m.arn.clone());
                    extra.push(crate::inventory::KeyRecord {
                        reference: m.arn.clone(),
                        region,
                        describe: crate::inventory::KeyLookup::Found { metadata: Box::new(m) },
                    });
                }
                None => return Err(AppError::Usage(format!("key {key} does not exist (KMS NotFoundException)"))),
            }
        }
        let deletion_date = match &change {
            Change::ScheduleKeyDeletion { pending_window_days, .. } => {
                inventory.collected_at.checked_add(jiff::SignedDuration::from_hours(24 * pending_window_days)).ok()
            }
            _ => None,
        };
        changes.push(ChangeReport { source, change, key_arn, deletion_date });
    }
    let options = CheckOptions {
        horizon_days: i64::from(c.horizon),
        grant_quota: c.grant_quota,
        grant_warn_percent: u64::from(c.grant_warn_percent),
        require_rotation: c.require_rotation,
    };
    let mut after = inventory.clone();
    whatif::apply(&mut after, &changes, &extra);
    let report = whatif::compare(&inventory, &after, changes, &options);
    let color = use_color(c.out.color, c.out.output.is_some());
    let written = render::render_whatif(&report, c.out.format, color, &mut output);
    finish(c.out.output.as_deref(), output, written)?;
    Ok(report.exit_code)
}
