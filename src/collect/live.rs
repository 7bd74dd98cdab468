//! Connecting to AWS and collecting a live run: the SDK configuration
//! (credentials, Region, timeouts, retries), the caller's own account, or
//! every account of an organization entered through its member role.
//! `app` hands over what the command line asked for; everything that
//! touches the SDK happens here.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use futures_util::StreamExt;

use super::{Clients, CollectOptions, Scope, SdkClients, Unit, collect, collect_units, org};
use crate::error::AppError;
use crate::inventory::Inventory;

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Regions as given (`all` for every enabled Region); empty: the configured one.
    pub regions: Vec<String>,
    pub profile: Option<String>,
    /// Seconds one AWS call may take, retries included.
    pub timeout: u16,
}

/// Which accounts, beyond the caller's own.
#[derive(Debug, Clone, Default)]
pub struct AccountScope {
    pub org: bool,
    pub accounts: Vec<String>,
    pub exclude_accounts: Vec<String>,
    pub role_name: Option<String>,
    pub external_id: Option<String>,
}

impl AccountScope {
    /// Whether the run reaches beyond the caller's own account.
    pub fn multi(&self) -> bool {
        self.org || !self.accounts.is_empty()
    }
}

/// Everything a live `check` asked for.
#[derive(Debug, Clone)]
pub struct LiveRequest {
    pub conn: Connection,
    pub accounts: AccountScope,
    pub clusters: Vec<String>,
    pub services: Vec<String>,
    pub no_services: bool,
    pub alarms: bool,
    pub options: CollectOptions,
}

/// How long resolving credentials may take before we call it "no credentials".
/// Off EC2 the chain ends at the instance-metadata service, which must not hang us.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// The Regions to search: as given, else the configured Region.
pub fn regions(conn: &Connection, config: &SdkConfig) -> Result<Vec<String>, AppError> {
    if !conn.regions.is_empty() {
        return Ok(conn.regions.clone());
    }
    Ok(vec![config.region().ok_or(AppError::NoRegion)?.to_string()])
}

/// Collects the inventory a live `check` asked for: the caller's own
/// account, or several accounts of an organization.
pub async fn collect_live(args: &LiveRequest) -> Result<Inventory, AppError> {
    let started = jiff::Timestamp::now();
    let all_regions = args.conn.regions.iter().any(|r| r == "all");
    let aws = Connection {
        regions: args.conn.regions.iter().filter(|r| *r != "all").cloned().collect(),
        ..args.conn.clone()
    };
    let config = sdk_config(&aws).await?;
    // One connection pool for every client of the run.
    let config = config.to_builder().http_client(super::http::shared_client()).build();
    let options = args.options.clone();
    let default_regions = if all_regions { Vec::new() } else { regions(&aws, &config)? };
    let scope = Scope {
        regions: default_regions.clone(),
        clusters: args.clusters.clone(),
        services: args.services.clone(),
        skip_services: args.no_services,
        alarms: args.alarms,
    };
    if !args.accounts.multi() {
        if !args.accounts.exclude_accounts.is_empty() || args.accounts.role_name.is_some() {
            return Err(AppError::Usage("--exclude-account and --role-name need --org or --account".into()));
        }
        let mut extra = BTreeMap::new();
        let scope = if all_regions {
            let account = org::caller(&config).await.map(|c| c.account).unwrap_or_default();
            let (found, requests) = org::enabled_regions(&config, &account).await;
            extra.insert("account:ListRegions".to_string(), requests);
            Scope { regions: found.map_err(|g| AppError::Usage(format!("--region all: {}", g.describe())))?, ..scope }
        } else {
            scope
        };
        let clients = SdkClients::new(config);
        let mut inv = collect(&clients, &scope, &options, started).await;
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
    args: &LiveRequest,
    config: SdkConfig,
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
    let caller = org::caller(&config)
        .await
        .map_err(|g| AppError::NoCredentials(format!("whom the credentials belong to is unknown: {}", g.describe())))?;
    *calls.entry("sts:GetCallerIdentity".to_string()).or_default() += 1;
    // (id, name) of every account in scope.
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    if a.org {
        let (listed, requests) = org::list_accounts(&config).await;
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
    let entered: Vec<Result<SdkConfig, crate::inventory::Gap>> =
        futures_util::stream::iter(targets.iter().map(|(id, _)| {
            let config = &config;
            let caller = &caller;
            async move {
                if *id == caller.account {
                    return Ok(config.clone());
                }
                let role = org::role_arn(&caller.arn, id, a.role_name.as_deref().unwrap_or_default());
                org::assume(config, &role, a.external_id.as_deref()).await
            }
        }))
        .buffered(args.options.concurrency)
        .collect()
        .await;
    *calls.entry("sts:AssumeRole".to_string()).or_default() +=
        targets.iter().filter(|(id, _)| *id != caller.account).count() as u64;
    // Regions: as given, or every Region enabled in each account.
    let mut prepared = Vec::new();
    for ((id, name), entered) in targets.into_iter().zip(entered) {
        let regions = match (&entered, all_regions) {
            (Ok(cfg), true) => {
                let (found, requests) = org::enabled_regions(cfg, &id).await;
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
    let units: Vec<Unit<'_>> = prepared
        .iter()
        .map(|(id, name, clients)| Unit {
            account: Some(id.clone()),
            name: name.clone(),
            clients: clients.as_ref().map(|(c, _)| c as &dyn Clients).map_err(Clone::clone),
            regions: clients.as_ref().map(|(_, r)| r.clone()).unwrap_or_default(),
            caller: *id == caller.account,
        })
        .collect();
    let mut inv = collect_units(units, &scope, options, started).await;
    if inv.identity.is_none() {
        inv.identity = Some(caller);
    }
    add_calls(&mut inv, calls);
    Ok(inv)
}

/// The SDK configuration: the standard chain for region and credentials,
/// `--profile` and `--region` on top, and instance-metadata look-ups short
/// enough that a laptop with no credentials fails in seconds, not minutes.
pub async fn sdk_config(args: &Connection) -> Result<SdkConfig, AppError> {
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
            return Err(AppError::ProfileCredentials {
                profile: profile.clone(),
                reason: super::error::error_chain(&e),
            });
        }
        (Ok(Err(e)), None) => {
            // Each source's answer is for -v; the error stays one short line.
            tracing::info!(chain = %crate::render::text::visible(&super::error::error_chain(&e)), "credential sources tried");
            return Err(AppError::NoCredentials(
                "none of the environment, ~/.aws/config and credentials, web identity, the ECS container or EC2 instance metadata gave any (-v shows what each said)"
                    .to_string(),
            ));
        }
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

/// DescribeKey for a key a `what-if` change names that no cluster in the
/// inventory uses (the one read what-if adds to check's): `Ok(None)` when
/// KMS says it does not exist.
pub async fn describe_key(
    conn: &Connection,
    region: &str,
    reference: &str,
) -> Result<Option<crate::inventory::KeyMetadata>, AppError> {
    let config = sdk_config(conn).await?;
    let config = config.to_builder().region(aws_config::Region::new(region.to_string())).build();
    match aws_sdk_kms::Client::new(&config).describe_key().key_id(reference).send().await {
        Ok(out) => Ok(out.key_metadata().map(super::kms::metadata)),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found_exception()) => Ok(None),
        Err(e) => Err(AppError::Usage(format!(
            "key {reference} could not be described: {}",
            super::gap("kms:DescribeKey", reference, &e).describe()
        ))),
    }
}
