//! Orchestration only: arguments → inventory (collected or loaded) → checks →
//! report → renderer → exit code. No AWS calls of its own beyond resolving
//! the SDK configuration and proving credentials exist.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::ProvideCredentials;

use crate::checks::{self, CheckOptions};
use crate::cli::{CheckArgs, ColorMode};
use crate::collect::{self, CollectOptions, Scope, SdkClients};
use crate::error::AppError;
use crate::inventory::{self, Inventory};
use crate::render;
use crate::report::Report;

/// How long resolving credentials may take before we call it "no credentials".
/// Off EC2 the chain ends at the instance-metadata service, which must not hang us.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `check` and returns the exit code its verdict implies.
pub async fn check(args: CheckArgs) -> Result<u8, AppError> {
    if !args.services.is_empty() && args.clusters.len() != 1 {
        return Err(AppError::Usage("--service needs exactly one --cluster".into()));
    }
    // Open outputs first: a bad path should fail before minutes of collection.
    let mut output = open_output(args.output.as_deref(), "report")?;
    let inventory = match &args.inventory {
        Some(path) => load_inventory(path)?,
        None => {
            let inv = collect_live(&args).await?;
            if let Some(path) = &args.save_inventory {
                save_inventory(path, &inv)?;
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
    let report = Report::build(&inventory, checks::run(&inventory, &options));
    let color = use_color(args.color, args.output.is_some());
    let written = render::render(&report, args.format, color, &mut output).and_then(|()| output.flush());
    match written {
        Ok(()) => {}
        // A reader that went away (`| head`) is not the tool failing.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(source) => {
            return Err(AppError::Write {
                what: "report",
                path: args.output.clone().unwrap_or_else(|| "<stdout>".into()),
                source,
            });
        }
    }
    Ok(report.exit_code)
}

async fn collect_live(args: &CheckArgs) -> Result<Inventory, AppError> {
    let started = jiff::Timestamp::now();
    let config = sdk_config(args).await?;
    let mut regions = args.regions.clone();
    if regions.is_empty() {
        regions.push(config.region().ok_or(AppError::NoRegion)?.to_string());
    }
    let scope = Scope {
        regions,
        clusters: args.clusters.clone(),
        services: args.services.clone(),
        skip_services: args.no_services,
    };
    let options = CollectOptions { concurrency: usize::from(args.concurrency) };
    let clients = SdkClients::new(config);
    Ok(collect::collect(&clients, &scope, &options, started).await)
}

/// The SDK configuration: the standard chain for region and credentials,
/// `--profile` and `--region` on top, and instance-metadata look-ups short
/// enough that a laptop with no credentials fails in seconds, not minutes.
async fn sdk_config(args: &CheckArgs) -> Result<aws_config::SdkConfig, AppError> {
    let imds = aws_config::imds::Client::builder()
        .connect_timeout(Duration::from_secs(1))
        .read_timeout(Duration::from_secs(1))
        .max_attempts(1)
        .build();

    let mut profile_region = aws_config::profile::ProfileFileRegionProvider::builder();
    let mut credentials = DefaultCredentialsChain::builder().imds_client(imds.clone());
    if let Some(profile) = &args.profile {
        profile_region = profile_region.profile_name(profile);
        credentials = credentials.profile_name(profile);
    }
    let region_chain = RegionProviderChain::first_try(args.regions.first().cloned().map(aws_config::Region::new))
        .or_else(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .or_else(profile_region.build())
        .or_else(aws_config::imds::region::ImdsRegionProvider::builder().imds_client(imds).build());
    let region = region_chain.region().await;
    if region.is_none() && args.regions.is_empty() {
        return Err(AppError::NoRegion);
    }
    let credentials = credentials.region(region.clone()).build().await;

    let provided = tokio::time::timeout(CREDENTIALS_TIMEOUT, credentials.provide_credentials()).await;
    match provided {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(AppError::NoCredentials(error_chain(&e))),
        Err(_) => {
            return Err(AppError::NoCredentials("timed out resolving credentials".to_string()));
        }
    }

    let mut loader = aws_config::defaults(BehaviorVersion::latest()).credentials_provider(credentials).timeout_config(
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
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::Inventory { path: path.to_path_buf(), reason: e.to_string() })?;
    inventory::from_json(&text).map_err(|reason| AppError::Inventory { path: path.to_path_buf(), reason })
}

fn save_inventory(path: &Path, inventory: &Inventory) -> Result<(), AppError> {
    let err = |source| AppError::Write { what: "inventory", path: path.to_path_buf(), source };
    let mut out = BufWriter::new(File::create(path).map_err(err)?);
    serde_json::to_writer_pretty(&mut out, inventory).map_err(io::Error::from).map_err(err)?;
    out.write_all(b"\n").and_then(|()| out.flush()).map_err(err)
}

fn open_output(path: Option<&Path>, what: &'static str) -> Result<Box<dyn Write>, AppError> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(File::create(path).map_err(|source| AppError::Write {
            what,
            path: path.to_path_buf(),
            source,
        })?)),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

fn use_color(mode: ColorMode, to_file: bool) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !to_file && !no_color && io::stdout().is_terminal()
        }
    }
}
