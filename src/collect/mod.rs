//! Collection: the only code that talks to AWS.
//!
//! It reads, never writes: every call here is a List, Describe or Get. It
//! fans out under a concurrency bound, pages through every list, describes
//! each distinct key once however many clusters, services and aliases point
//! at it, and records whatever it could not read as a
//! [`Gap`](crate::inventory::Gap) in the [`Inventory`] instead of failing.

mod alarms;
pub mod cloudtrail;
mod ecs;
mod error;
pub mod http;
mod kms;
pub mod live;
pub mod org;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Notify, Semaphore, SemaphorePermit};

use aws_config::SdkConfig;
use jiff::Timestamp;

use crate::inventory::{
    AlarmFacts, Arn, Cluster, ClusterLookup, Fact, Inventory, KeyDetails, KeyMetadata, KeyRecord, KeyRole,
    MissingService, Service, key_lookup_reference,
};

pub use error::gap;
use error::{names_next, unfinished};

/// What to look at.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Regions to search; at least one.
    pub regions: Vec<String>,
    /// Cluster names or ARNs; empty means every cluster in every region.
    pub clusters: Vec<String>,
    /// Service names within the one cluster of `clusters`; empty means every
    /// service of every cluster in scope.
    pub services: Vec<String>,
    /// Do not read services at all (`--no-services`).
    pub skip_services: bool,
    /// Also read the CloudWatch alarm set-up (`--alarms`).
    pub alarms: bool,
}

/// How hard to push.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// At most this many AWS requests in flight at once.
    pub concurrency: usize,
    /// Show a progress line on stderr (only ever drawn when stderr is a terminal).
    pub progress: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        Self { concurrency: 32, progress: false }
    }
}

/// The progress line: accounts, Regions, clusters and keys done, and
/// throttled attempts so far. Drawn on stderr, never stdout, and not at all
/// when stderr is not a terminal.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    accounts: (AtomicUsize, usize),
    regions: usize,
    clusters: AtomicUsize,
    keys: AtomicUsize,
}

impl Progress {
    fn new(show: bool, accounts: usize, regions: usize) -> Self {
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
                bar.set_style(style);
            }
            bar.set_message(format!("accounts 0/{accounts} · Regions {regions} · starting"));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            accounts: (AtomicUsize::new(0), accounts),
            regions,
            clusters: AtomicUsize::new(0),
            keys: AtomicUsize::new(0),
        }
    }

    fn add(&self, counter: &AtomicUsize, n: usize, throttled: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
        let Some(bar) = &self.bar else { return };
        bar.set_message(format!(
            "accounts {}/{} · Regions {} · clusters {} · keys {} · throttled {}",
            self.accounts.0.load(Ordering::Relaxed),
            self.accounts.1,
            self.regions,
            self.clusters.load(Ordering::Relaxed),
            self.keys.load(Ordering::Relaxed),
            throttled
        ));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Hands out per-Region clients. A trait so that tests can hand out clients
/// wired to `aws-smithy-mocks` instead of the network.
pub trait Clients: Send + Sync {
    fn ecs(&self, region: &str) -> aws_sdk_ecs::Client;
    fn kms(&self, region: &str) -> aws_sdk_kms::Client;
    fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client;
    fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client;
    fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client;
    /// STS, for GetCallerIdentity; `None` where there is none (mocks).
    fn sts(&self, _region: &str) -> Option<aws_sdk_sts::Client> {
        None
    }
    /// Attempts the SDK retried because AWS throttled them, so far.
    fn throttled(&self) -> u64 {
        0
    }
    /// Whether KMS connections are worth opening ahead of need
    /// (`kms::warm`): only where a new one costs a TLS handshake.
    fn warm_kms(&self) -> bool {
        false
    }
}

/// Real clients from one shared SDK configuration, one per service and Region.
pub struct SdkClients {
    config: SdkConfig,
    ecs: Mutex<HashMap<String, aws_sdk_ecs::Client>>,
    kms: Mutex<HashMap<String, aws_sdk_kms::Client>>,
    throttles: ThrottleCounter,
    kms_over_tls: bool,
}

impl SdkClients {
    pub fn new(config: SdkConfig) -> Self {
        let kms_over_tls = over_tls(std::env::var("AWS_ENDPOINT_URL_KMS").ok(), config.endpoint_url());
        Self {
            config,
            ecs: Mutex::default(),
            kms: Mutex::default(),
            throttles: ThrottleCounter::default(),
            kms_over_tls,
        }
    }
}

/// Whether a service's endpoint is reached over TLS: AWS's own endpoints
/// always are; an endpoint URL configured for the service (`service_url`,
/// from `AWS_ENDPOINT_URL_<SERVICE>`) or for all of them (`global_url`)
/// may be plain HTTP, as a local emulator or proxy is, where a new
/// connection costs no handshake worth hiding.
fn over_tls(service_url: Option<String>, global_url: Option<&str>) -> bool {
    let configured = service_url.filter(|u| !u.is_empty()).or_else(|| global_url.map(str::to_string));
    configured.is_none_or(|url| url.to_ascii_lowercase().starts_with("https://"))
}

/// One cached client per Region (`make` builds it from the shared config),
/// so that every request to a Region's endpoint shares its connections.
fn cached<C: Clone>(cache: &Mutex<HashMap<String, C>>, region: &str, make: impl FnOnce() -> C) -> C {
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache.entry(region.to_string()).or_insert_with(make).clone()
}

/// Builds a service client from the shared configuration, in `region`, with
/// the throttle counter; the same for every service crate.
macro_rules! client {
    ($self:ident, $krate:ident, $region:expr) => {{
        let conf = $krate::config::Builder::from(&$self.config)
            .region($krate::config::Region::new($region.to_string()))
            .interceptor($self.throttles.clone())
            .build();
        $krate::Client::from_conf(conf)
    }};
}

impl Clients for SdkClients {
    fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        cached(&self.ecs, region, || client!(self, aws_sdk_ecs, region))
    }

    fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        client!(self, aws_sdk_cloudtrail, region)
    }

    fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        client!(self, aws_sdk_cloudwatch, region)
    }

    fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        client!(self, aws_sdk_cloudwatchlogs, region)
    }

    fn sts(&self, region: &str) -> Option<aws_sdk_sts::Client> {
        Some(client!(self, aws_sdk_sts, region))
    }

    fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        cached(&self.kms, region, || client!(self, aws_sdk_kms, region))
    }

    fn throttled(&self) -> u64 {
        self.throttles.0.load(Ordering::Relaxed)
    }

    fn warm_kms(&self) -> bool {
        self.kms_over_tls
    }
}

/// Counts the attempts AWS throttled (HTTP 429, or an error type naming
/// throttling), which the SDK then retried with backoff: the count goes to
/// the `-v` log and to the inventory's `api_calls` as `throttled`.
#[derive(Debug, Clone, Default)]
struct ThrottleCounter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl aws_sdk_kms::config::Intercept for ThrottleCounter {
    fn name(&self) -> &'static str {
        "ThrottleCounter"
    }

    fn read_after_attempt(
        &self,
        context: &aws_sdk_kms::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _components: &aws_sdk_kms::config::RuntimeComponents,
        _cfg: &mut aws_sdk_kms::config::ConfigBag,
    ) -> Result<(), aws_sdk_kms::error::BoxError> {
        if let Some(response) = context.response() {
            let status = response.status().as_u16();
            let named = |text: &[u8]| text.windows(7).any(|w| w.eq_ignore_ascii_case(b"throttl"));
            let header = response.headers().get("x-amzn-errortype").is_some_and(|h| named(h.as_bytes()));
            let body = status >= 400 && response.body().bytes().is_some_and(named);
            if status == 429 || header || body {
                self.0.fetch_add(1, Ordering::Relaxed);
                tracing::info!(status, "throttled; the SDK retries with backoff");
            }
        }
        Ok(())
    }
}

/// What every account of a run shares: the one in-flight limit, the tally,
/// the fair-share gate, and the keys already asked for (each key is read
/// once, whichever account's cluster names it).
pub(crate) struct Shared<'a> {
    /// The only limit on requests in flight: a place is taken around each
    /// single SDK request (a page counts as one), never around a group, so
    /// `--concurrency N` means at most N requests in flight.
    limit: Semaphore,
    concurrency: usize,
    calls: Mutex<BTreeMap<String, u64>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    /// Accounts still collecting. Each may hold at most ceil(N / active)
    /// places, so one large account cannot queue ahead of all the others.
    active: AtomicUsize,
    released: Notify,
    /// Clients of every readable account, so that a key is read with its
    /// owner's credentials when its owner is in scope.
    owners: BTreeMap<String, &'a dyn Clients>,
    keys_asked: Mutex<BTreeSet<(String, String)>>,
    details_asked: Mutex<BTreeSet<String>>,
    /// Regions whose KMS connections were opened ahead of need: once per
    /// run, the pool being every account's.
    warmed: Mutex<BTreeSet<String>>,
    throttled: Vec<&'a dyn Clients>,
    progress: Progress,
}

impl<'a> Shared<'a> {
    fn new(concurrency: usize, owners: BTreeMap<String, &'a dyn Clients>, clients: Vec<&'a dyn Clients>) -> Self {
        Self::with_progress(concurrency, owners, clients, Progress::new(false, 0, 0))
    }

    fn with_progress(
        concurrency: usize,
        owners: BTreeMap<String, &'a dyn Clients>,
        clients: Vec<&'a dyn Clients>,
        progress: Progress,
    ) -> Self {
        Shared {
            limit: Semaphore::new(concurrency.max(1)),
            concurrency: concurrency.max(1),
            calls: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            active: AtomicUsize::new(clients.len().max(1)),
            released: Notify::new(),
            owners,
            keys_asked: Mutex::default(),
            details_asked: Mutex::default(),
            warmed: Mutex::default(),
            throttled: clients,
            progress,
        }
    }

    fn throttled_so_far(&self) -> u64 {
        self.throttled.iter().map(|c| c.throttled()).sum()
    }

    /// Moves the progress line on.
    fn progressed(&self, what: fn(&Progress) -> &AtomicUsize, n: usize) {
        let p = &self.progress;
        p.add(what(p), n, if p.bar.is_some() { self.throttled_so_far() } else { 0 });
    }

    /// The tally, with the throttled attempts the SDK retried.
    fn finish(&self) -> BTreeMap<String, u64> {
        self.progress.finish();
        let mut calls = std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()));
        let throttled: u64 = self.throttled.iter().map(|c| c.throttled()).sum();
        if throttled > 0 {
            calls.insert("throttled".into(), throttled);
        }
        tracing::info!(peak_in_flight = self.peak.load(Ordering::Relaxed), throttled, "requests in flight at most");
        calls
    }

    /// Whether `key` was not asked for yet (and marks it asked).
    fn first_ask(&self, key: (String, String)) -> bool {
        self.keys_asked.lock().unwrap_or_else(|e| e.into_inner()).insert(key)
    }

    /// Whether `region`'s KMS connections were not opened ahead yet (and
    /// marks them opened).
    fn first_warm(&self, region: &str) -> bool {
        self.warmed.lock().unwrap_or_else(|e| e.into_inner()).insert(region.to_string())
    }

    fn first_details(&self, arn: &str) -> bool {
        self.details_asked.lock().unwrap_or_else(|e| e.into_inner()).insert(arn.to_string())
    }
}

/// One account's collection within a run.
pub(crate) struct Run<'a> {
    clients: &'a dyn Clients,
    shared: &'a Shared<'a>,
    /// This account's requests in flight (for the fair share).
    mine: AtomicUsize,
    /// Ask sts:GetCallerIdentity (the caller's own account only).
    ask_identity: bool,
}

/// A place under the in-flight limit, held while one request is in flight.
pub(crate) struct Slot<'r> {
    _permit: SemaphorePermit<'r>,
    run: &'r Run<'r>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.run.mine.fetch_sub(1, Ordering::Relaxed);
        self.run.shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.run.shared.released.notify_waiters();
    }
}

impl<'a> Run<'a> {
    fn new(clients: &'a dyn Clients, shared: &'a Shared<'a>, ask_identity: bool) -> Self {
        Run { clients, shared, mine: AtomicUsize::new(0), ask_identity }
    }

    /// Waits for this account's fair share, then for a place under the limit.
    async fn slot(&self) -> Slot<'_> {
        let shared = self.shared;
        loop {
            // Created before the check, so that a release in between is not missed.
            let released = shared.released.notified();
            if self.within_share() {
                break;
            }
            released.await;
        }
        self.mine.fetch_add(1, Ordering::Relaxed);
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = match shared.limit.acquire().await {
            Ok(p) => p,
            Err(_) => unreachable!("the in-flight semaphore is never closed"),
        };
        self.hold(permit)
    }

    /// Whether this account holds fewer places than its fair share:
    /// ceil(N / k) while k accounts are still being read.
    fn within_share(&self) -> bool {
        let active = self.shared.active.load(Ordering::Relaxed).max(1);
        self.mine.load(Ordering::Relaxed) < self.shared.concurrency.div_ceil(active)
    }

    /// A place taken: counted in flight.
    fn hold(&self, permit: SemaphorePermit<'a>) -> Slot<'_> {
        let now = self.shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.shared.peak.fetch_max(now, Ordering::Relaxed);
        Slot { _permit: permit, run: self }
    }

    /// A place free right now, if any (and within this account's fair
    /// share), without waiting: for requests that are only worth sending
    /// when they delay nothing (the connection warming of `kms::warm`,
    /// asked once every request already pushed has tried for its place).
    /// Requests waiting at the semaphore hold its queue: a place released
    /// while they wait goes to them, never here.
    fn spare_slot(&self) -> Option<Slot<'_>> {
        if !self.within_share() {
            return None;
        }
        let permit = self.shared.limit.try_acquire().ok()?;
        self.mine.fetch_add(1, Ordering::Relaxed);
        Some(self.hold(permit))
    }

    /// Takes a spare place for one request of `operation`, counted; `None`
    /// when no place is free.
    pub(crate) fn spare_call(&self, operation: &str, resource: &str) -> Option<Slot<'_>> {
        let slot = self.spare_slot()?;
        self.count(operation, resource);
        Some(slot)
    }

    /// Counts one request of `operation` (and logs it at debug level).
    fn count(&self, operation: &str, resource: &str) {
        tracing::debug!(resource = %crate::render::text::visible(resource), "{operation}");
        *self.shared.calls.lock().unwrap_or_else(|e| e.into_inner()).entry(operation.to_string()).or_default() += 1;
    }

    /// Takes a place for one request of `operation`, counted; the request
    /// is to be sent while the returned slot lives.
    pub(crate) async fn call(&self, operation: &str, resource: &str) -> Slot<'_> {
        let slot = self.slot().await;
        self.count(operation, resource);
        slot
    }

    /// One page of a paginator (`next` is its `next()`), under the limit;
    /// counted only when a request was made.
    pub(crate) async fn page<T>(
        &self,
        operation: &str,
        resource: &str,
        next: impl std::future::Future<Output = Option<T>>,
    ) -> Option<T> {
        let _slot = self.slot().await;
        let page = next.await;
        if page.is_some() {
            self.count(operation, resource);
        }
        page
    }

    /// Every page of one listing, each page a request under the limit
    /// ([`Run::page`]), as [`every_page`] collects them.
    pub(crate) async fn every_page<O, E, T, I>(
        &self,
        operation: &str,
        resource: &str,
        pages: &mut Pages<O, E>,
        items: impl Fn(&O) -> I,
        more: impl Fn(&O) -> bool,
    ) -> Result<Vec<T>, crate::inventory::Gap>
    where
        I: IntoIterator<Item = T>,
        E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        every_page(Some(self), operation, resource, pages, items, more).await.0
    }

    /// The KMS client for a key: its owner's when the owner is an account
    /// of the run, else this account's.
    pub(crate) fn kms_for(&self, reference: &str, region: &str) -> aws_sdk_kms::Client {
        let owner = Arn::parse(reference).and_then(|a| self.shared.owners.get(a.account).copied());
        owner.unwrap_or(self.clients).kms(region)
    }

    /// This account is done: the others' fair share grows.
    fn done(&self) {
        self.shared.progressed(|p| &p.accounts.0, 1);
        self.shared.active.fetch_sub(1, Ordering::Relaxed);
        self.shared.released.notify_waiters();
    }
}

/// An SDK paginator's stream of pages.
pub(crate) type Pages<O, E> = aws_smithy_async::future::pagination_stream::PaginationStream<
    Result<O, aws_sdk_kms::error::SdkError<E, aws_sdk_kms::config::http::HttpResponse>>,
>;

/// Every page of one listing, as one list of what `items` takes from each
/// page, with the number of requests made; each page under `run`'s limit
/// when there is one. Fails closed: an error on any page is its gap, and
/// so is a listing that did not end, whose last page still names a next
/// one (`more`): the SDK's paginators stop there without an error when an
/// endpoint repeats a page token, which would read as the whole list.
pub(crate) async fn every_page<O, E, T, I>(
    run: Option<&Run<'_>>,
    operation: &str,
    resource: &str,
    pages: &mut Pages<O, E>,
    items: impl Fn(&O) -> I,
    more: impl Fn(&O) -> bool,
) -> (Result<Vec<T>, crate::inventory::Gap>, u64)
where
    I: IntoIterator<Item = T>,
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let (mut out, mut requests, mut unended) = (Vec::new(), 0, false);
    loop {
        let page = match run {
            Some(run) => run.page(operation, resource, pages.next()).await,
            None => pages.next().await,
        };
        let Some(page) = page else { break };
        requests += 1;
        match page {
            Ok(page) => {
                unended = more(&page);
                out.extend(items(&page));
            }
            Err(e) => return (Err(gap(operation, resource, &e)), requests),
        }
    }
    if unended {
        return (Err(unfinished(operation, resource)), requests);
    }
    (Ok(out), requests)
}

/// What one finished piece of collection work brought back.
enum Done {
    Identity(Option<crate::report::Identity>),
    /// One page of a Region's clusters, and the token of the next page.
    Listed(String, Result<(Vec<String>, Option<String>), crate::inventory::Gap>),
    Described(Vec<Cluster>),
    Services {
        region: String,
        cluster: String,
        fact: Fact<Vec<Service>>,
        missing: Vec<MissingService>,
    },
    Key(Box<KeyRecord>),
    Details(Box<(kms::DetailPlan, KeyDetails)>),
    Alarms(String, Fact<AlarmFacts>),
    Aliases(Option<Vec<(String, String)>>),
    /// Connections opened ahead of need (`kms::warm`): nothing to keep.
    Warmed,
}

/// What reading one cluster's services gave.
type ServicesRead = (Fact<Vec<Service>>, Vec<MissingService>);

type Work<'r> = FuturesUnordered<Pin<Box<dyn std::future::Future<Output = Done> + Send + 'r>>>;

/// The state of a pipelined collection: what was asked, what came back.
struct Pipeline<'r, 's> {
    run: &'r Run<'r>,
    scope: &'s Scope,
    work: Work<'r>,
    clusters: Vec<Cluster>,
    /// Services by (Region, cluster name), as they come back.
    services: BTreeMap<(String, String), ServicesRead>,
    /// (Region, cluster name) of services asked for.
    services_asked: BTreeSet<(String, String)>,
    keys: BTreeMap<String, KeyRecord>,
    details: BTreeMap<String, (kms::DetailPlan, KeyDetails)>,
    alarms_asked: BTreeSet<String>,
    alarms: BTreeMap<String, Fact<AlarmFacts>>,
    /// Regions whose aliases were asked for (once each: with the first key
    /// asked for there, or up front in a targeted run).
    aliases_asked: BTreeSet<String>,
    aliases: BTreeMap<String, Vec<String>>,
    /// (Region, ListClusters page token) already followed.
    list_tokens: BTreeSet<(String, String)>,
    /// Cluster ARNs listed so far.
    listed: BTreeSet<String>,
    gaps: Vec<crate::inventory::Gap>,
    identity: Option<crate::report::Identity>,
    missing_services: Vec<MissingService>,
}

impl<'r, 's> Pipeline<'r, 's>
where
    's: 'r,
{
    fn push(&mut self, f: impl std::future::Future<Output = Done> + Send + 'r) {
        self.work.push(Box::pin(f));
    }

    fn describe_clusters(&mut self, region: &str, refs: &[String]) {
        for batch in ecs::batches(refs) {
            let (run, region) = (self.run, region.to_string());
            self.push(async move { Done::Described(ecs::describe_batch(run, &region, batch).await) });
        }
    }

    /// Services are read alongside DescribeClusters: their cluster's name
    /// is already known.
    fn read_services(&mut self, region: &str, cluster: &str) {
        if self.scope.skip_services {
            return;
        }
        let name = ecs::cluster_name(cluster).to_string();
        if !self.services_asked.insert((region.to_string(), name.clone())) {
            return;
        }
        let (run, region, cluster, requested) =
            (self.run, region.to_string(), cluster.to_string(), &self.scope.services);
        self.push(async move {
            let (fact, missing) = ecs::services_of(run, &region, &cluster, requested).await;
            Done::Services { region, cluster: name, fact, missing }
        });
    }

    /// DescribeKey once per reference; for a key ARN, its policy, grants
    /// and rotation are read alongside (DescribeKey's answer then decides
    /// what is kept).
    fn read_key(&mut self, region: &str, reference: &str, cluster_account: Option<&str>) {
        if !self.run.shared.first_ask((region.to_string(), reference.to_string())) {
            return;
        }
        // The Region's aliases with its first key, queued ahead of the key's
        // reads: asked for only after a DescribeKey returned, they would
        // queue behind the other keys' reads and end the run a round trip late.
        let key_region = Arn::parse(reference).map_or(region, |a| a.region).to_string();
        if self.aliases_asked.insert(key_region.clone()) {
            let run = self.run;
            self.push(async move { Done::Aliases(kms::list_aliases(run, &key_region).await) });
        }
        let (run, r, k) = (self.run, region.to_string(), reference.to_string());
        self.push(async move { Done::Key(Box::new(kms::describe_one(run, r, k).await)) });
        if let Some(arn) = Arn::parse(reference).filter(|a| a.service == "kms" && a.resource.starts_with("key/")) {
            let accounts: BTreeSet<String> =
                cluster_account.map(str::to_string).into_iter().chain(self.run.shared.owners.keys().cloned()).collect();
            let m = KeyMetadata {
                arn: reference.to_string(),
                account_id: Some(arn.account.to_string()),
                ..KeyMetadata::default()
            };
            self.read_details(kms::plan(region, &m, &accounts));
        }
    }

    fn read_details(&mut self, plan: kms::DetailPlan) {
        if !self.run.shared.first_details(&plan.arn) {
            return;
        }
        let run = self.run;
        self.push(async move { Done::Details(Box::new(kms::details_one(run, plan).await)) });
    }

    /// The keys a described cluster names, asked for at once. In a
    /// `--service` run, the ECS-managed EBS and ECS Exec keys wait for the
    /// services: they are read only when a targeted service uses them.
    fn cluster_keys(&mut self, cluster: &Cluster) {
        let ClusterLookup::Found { key_usages, .. } = &cluster.lookup else { return };
        let account = cluster.arn.as_deref().and_then(Arn::parse).map(|a| a.account.to_string());
        for u in key_usages {
            if !self.scope.services.is_empty() && u.usage != KeyRole::FargateEphemeralStorage {
                continue;
            }
            if let Some(reference) = &u.lookup {
                let region = self.key_region(reference, &cluster.region);
                self.read_key(&region, reference, account.as_deref());
            }
        }
        if self.scope.alarms && self.alarms_asked.insert(cluster.region.clone()) {
            let (run, region) = (self.run, cluster.region.clone());
            self.push(async move {
                let facts = alarms::read(run, &region).await;
                Done::Alarms(region, facts)
            });
        }
    }

    fn key_region(&self, reference: &str, cluster_region: &str) -> String {
        Arn::parse(reference)
            .map(|a| a.region.to_string())
            .filter(|r| !r.is_empty())
            .unwrap_or(cluster_region.to_string())
    }

    /// Once both a cluster and its services are in: the keys its running
    /// deployments pin (and, in a `--service` run, the cluster keys the
    /// targeted services use).
    fn join_services(&mut self, region: &str, name: &str) {
        let Some(index) = self.clusters.iter().position(|c| {
            c.region == region
                && c.name == name
                && matches!(&c.lookup, ClusterLookup::Found { status, .. } if status != "INACTIVE")
        }) else {
            return;
        };
        if self.clusters[index].services.is_some() {
            return;
        }
        let Some((fact, missing)) = self.services.remove(&(region.to_string(), name.to_string())) else { return };
        let mut cluster = self.clusters[index].clone();
        let arn = cluster.arn.clone().unwrap_or_default();
        let fact = match fact {
            Fact::Read { mut value } => {
                // Pinned key references resolve in the cluster's account.
                for d in value.iter_mut().flat_map(|s| s.deployments.iter_mut()) {
                    if let Some(pin) = d.ephemeral_storage_key.as_mut()
                        && let Some(configured) = pin.configured.as_deref()
                    {
                        pin.lookup = Some(key_lookup_reference(configured, &arn, &cluster.region).1);
                    }
                }
                Fact::Read { value }
            }
            other => other,
        };
        cluster.services = Some(fact);
        self.missing_services.extend(missing);
        if !self.scope.services.is_empty() {
            ecs::narrow_to_services(&mut cluster);
            if let ClusterLookup::Found { key_usages, .. } = &cluster.lookup {
                let account = Arn::parse(&arn).map(|a| a.account.to_string());
                for u in key_usages.iter().filter(|u| u.usage != KeyRole::FargateEphemeralStorage) {
                    if let Some(reference) = &u.lookup {
                        let region = self.key_region(reference, &cluster.region);
                        self.read_key(&region, reference, account.as_deref());
                    }
                }
            }
        }
        let account = Arn::parse(&arn).map(|a| a.account.to_string());
        for (region, reference) in ecs::key_lookups(&cluster) {
            self.read_key(&region, &reference, account.as_deref());
        }
        self.clusters[index] = cluster;
    }
}

/// Collects the inventory for `scope`. Never fails: what cannot be read is a gap.
///
/// The reads are pipelined: each request is sent as soon as what it needs
/// is known, not when a phase ends. A cluster's keys are described as soon
/// as its DescribeClusters batch returns; a key's policy, grants and
/// rotation are read alongside DescribeKey when the reference is a key ARN
/// (else as soon as DescribeKey names it); services are read alongside
/// DescribeClusters; only deployment-pinned keys wait for DescribeServices.
pub async fn collect(
    clients: &dyn Clients,
    scope: &Scope,
    options: &CollectOptions,
    collected_at: Timestamp,
) -> Inventory {
    let unit = Unit { account: None, name: None, clients: Ok(clients), regions: scope.regions.clone(), caller: true };
    collect_units(vec![unit], scope, options, collected_at).await
}

/// One account of a run, with the clients to read it (or why there are
/// none: AssumeRole denied, say).
pub struct Unit<'a> {
    /// `None` for a single-account run (the caller's own).
    pub account: Option<String>,
    pub name: Option<String>,
    pub clients: Result<&'a dyn Clients, crate::inventory::Gap>,
    pub regions: Vec<String>,
    /// The caller's own account: asked for the identity.
    pub caller: bool,
}

/// Collects every account of `units`, concurrently, under the one
/// in-flight limit of `options` shared fairly between them. An account
/// that cannot be read is recorded as such, and the others go on.
pub async fn collect_units(
    units: Vec<Unit<'_>>,
    scope: &Scope,
    options: &CollectOptions,
    collected_at: Timestamp,
) -> Inventory {
    let readable: Vec<&dyn Clients> = units.iter().filter_map(|u| u.clients.as_ref().ok().copied()).collect();
    let owners: BTreeMap<String, &dyn Clients> =
        units.iter().filter_map(|u| Some((u.account.clone()?, *u.clients.as_ref().ok()?))).collect();
    let regions: BTreeSet<&String> = units.iter().flat_map(|u| &u.regions).collect();
    let progress = Progress::new(options.progress, units.len(), regions.len());
    let shared = Shared::with_progress(options.concurrency, owners, readable, progress);
    let shared = &shared;
    let results = futures_util::future::join_all(units.iter().map(|u| async move {
        let Ok(clients) = &u.clients else { return None };
        let run = Run::new(*clients, shared, u.caller);
        let scope = Scope { regions: u.regions.clone(), ..scope.clone() };
        let mut p = pipeline(&run, &scope).await;
        // Only names asked for can be mistyped: a whole-Region run listed
        // the names it described.
        if !scope.clusters.is_empty() {
            suggest_similar(&run, &mut p.clusters).await;
        }
        run.done();
        Some(Collected {
            clusters: p.clusters,
            keys: p.keys,
            details: p.details,
            alarms: p.alarms,
            aliases: p.aliases,
            gaps: p.gaps,
            identity: p.identity,
            missing_services: p.missing_services,
        })
    }))
    .await;

    let mut inventory = Inventory::new(collected_at, scope.regions.clone());
    inventory.requested_clusters = scope.clusters.clone();
    inventory.requested_services = scope.services.clone();
    let multi = units.iter().any(|u| u.account.is_some());
    let mut regions: BTreeSet<String> = scope.regions.iter().cloned().collect();
    let mut details = BTreeMap::new();
    let mut clusters = Vec::new();
    for (unit, collected) in units.iter().zip(results) {
        regions.extend(unit.regions.iter().cloned());
        if let Some(account) = &unit.account {
            inventory.accounts.push(crate::inventory::AccountFacts {
                account_id: account.clone(),
                name: unit.name.clone(),
                regions: unit.regions.clone(),
                unreadable: unit.clients.as_ref().err().cloned(),
            });
        }
        let Some(c) = collected else { continue };
        let mut own: Vec<Cluster> = c.clusters;
        own.sort_by(|a, b| (&a.region, &a.name, &a.arn).cmp(&(&b.region, &b.name, &b.arn)));
        own.dedup_by(|a, b| a.arn.is_some() && a.arn == b.arn);
        drop_missing_found_elsewhere(&mut own, &scope.clusters);
        for cluster in &mut own {
            cluster.account = unit.account.clone().filter(|_| multi);
        }
        clusters.extend(own);
        inventory.keys.extend(c.keys);
        details.extend(c.details);
        for (region, facts) in c.alarms {
            inventory
                .alarms
                .insert(crate::inventory::alarm_key(unit.account.as_deref().filter(|_| multi), &region), facts);
        }
        inventory.gaps.extend(c.gaps);
        inventory.missing_services.extend(c.missing_services);
        for (key, names) in c.aliases {
            inventory.aliases.entry(key).or_default().extend(names);
        }
        if inventory.identity.is_none() {
            inventory.identity = c.identity;
        }
    }
    inventory.regions = if multi { regions.into_iter().collect() } else { scope.regions.clone() };
    for c in &mut clusters {
        let live = matches!(&c.lookup, ClusterLookup::Found { status, .. } if status != "INACTIVE");
        if live && scope.skip_services {
            c.services = Some(Fact::Skipped { reason: "--no-services".into() });
        }
    }
    clusters.sort_by(|a, b| (a.account_id(), &a.region, &a.name).cmp(&(b.account_id(), &b.region, &b.name)));
    inventory.clusters = clusters;
    // Details are kept as DescribeKey's answer says: once per key ARN,
    // dropped for a key DescribeKey did not find, and with the reads that
    // cannot apply to this key (rotation of an asymmetric key, say) marked
    // as skipped rather than failed. A key whose owner is an account of the
    // run was read with the owner's credentials, so its policy is readable.
    let readable_accounts: BTreeSet<String> = inventory
        .clusters
        .iter()
        .filter_map(|c| c.account_id().map(str::to_string))
        .chain(shared.owners.keys().cloned())
        .collect();
    for record in inventory.keys.values() {
        let Some(metadata) = record.metadata() else { continue };
        if inventory.key_details.contains_key(&metadata.arn) {
            continue;
        }
        let Some((_, mut d)) = details.remove(&metadata.arn) else { continue };
        let plan = kms::plan(&record.region, metadata, &readable_accounts);
        if let Some(reason) = plan.skip_rotation {
            d.rotation = Fact::Skipped { reason };
        }
        if let Some(reason) = plan.skip_policy {
            d.policy = Fact::Skipped { reason };
        }
        inventory.key_details.insert(metadata.arn.clone(), d);
    }
    // Only the aliases of keys in use are kept, sorted.
    let in_use: BTreeSet<&str> = inventory.keys.values().filter_map(|r| r.metadata()).map(|m| m.arn.as_str()).collect();
    inventory.aliases.retain(|key, _| in_use.contains(key.as_str()));
    for names in inventory.aliases.values_mut() {
        names.sort();
        names.dedup();
    }
    inventory.api_calls = shared.finish();
    let total: u64 = inventory.api_calls.values().sum();
    tracing::info!(total, calls = ?inventory.api_calls, "AWS requests made");
    inventory
}

/// What one account's pipeline brought back.
struct Collected {
    clusters: Vec<Cluster>,
    keys: BTreeMap<String, KeyRecord>,
    details: BTreeMap<String, (kms::DetailPlan, KeyDetails)>,
    alarms: BTreeMap<String, Fact<AlarmFacts>>,
    aliases: BTreeMap<String, Vec<String>>,
    gaps: Vec<crate::inventory::Gap>,
    identity: Option<crate::report::Identity>,
    missing_services: Vec<MissingService>,
}

async fn pipeline<'r, 's: 'r>(run: &'r Run<'r>, scope: &'s Scope) -> Pipeline<'r, 's> {
    let mut p = Pipeline {
        run,
        scope,
        work: FuturesUnordered::new(),
        clusters: Vec::new(),
        services: BTreeMap::new(),
        services_asked: BTreeSet::new(),
        keys: BTreeMap::new(),
        details: BTreeMap::new(),
        alarms_asked: BTreeSet::new(),
        alarms: BTreeMap::new(),
        aliases_asked: BTreeSet::new(),
        aliases: BTreeMap::new(),
        list_tokens: BTreeSet::new(),
        listed: BTreeSet::new(),
        gaps: Vec::new(),
        identity: None,
        missing_services: Vec::new(),
    };
    // Whom the facts are read as, asked alongside the first reads.
    if run.ask_identity {
        let first_region = scope.regions.first().cloned().unwrap_or_else(|| "us-east-1".into());
        p.push(async move { Done::Identity(identity(run, &first_region).await) });
    }
    if scope.clusters.is_empty() {
        for region in &scope.regions {
            let region = region.clone();
            p.push(async move {
                let listed = ecs::list_clusters_page(run, &region, None).await;
                Done::Listed(region, listed)
            });
        }
    } else {
        // A cluster ARN names its own Region; a bare name is looked for in
        // every Region in scope.
        let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for reference in &scope.clusters {
            match Arn::parse(reference) {
                Some(arn) if !arn.region.is_empty() => {
                    targets.entry(arn.region.to_string()).or_default().push(reference.clone())
                }
                _ => {
                    for region in &scope.regions {
                        targets.entry(region.clone()).or_default().push(reference.clone());
                    }
                }
            }
        }
        // A targeted run (a pipeline gate) is latency-bound: the aliases are
        // asked for now, alongside DescribeClusters, not after DescribeKey,
        // where they would add a round trip.
        for region in targets.keys() {
            if p.aliases_asked.insert(region.clone()) {
                let region = region.clone();
                p.push(async move { Done::Aliases(kms::list_aliases(run, &region).await) });
            }
        }
        let regions: Vec<String> = targets.keys().cloned().collect();
        for (region, mut refs) in targets {
            let mut seen = BTreeSet::new();
            refs.retain(|r| seen.insert(r.clone()));
            p.describe_clusters(&region, &refs);
            for r in &refs {
                p.read_services(&region, r);
            }
        }
        // Last, so that every request above has taken its place first: the
        // KMS connections the key reads will need, opened during this round
        // trip with what places are left.
        for region in regions {
            p.push(async move {
                kms::warm(run, &region).await;
                Done::Warmed
            });
        }
    }
    while let Some(done) = p.work.next().await {
        match done {
            Done::Identity(identity) => p.identity = identity,
            Done::Listed(region, Ok((mut arns, next))) => {
                // Each page is described as it comes, while the next is
                // listed; a cluster an endpoint lists twice, once.
                arns.retain(|arn| p.listed.insert(arn.clone()));
                p.describe_clusters(&region, &arns);
                for arn in &arns {
                    p.read_services(&region, arn);
                }
                if let Some(token) = next {
                    if p.list_tokens.insert((region.clone(), token.clone())) {
                        p.push(async move {
                            let listed = ecs::list_clusters_page(run, &region, Some(token)).await;
                            Done::Listed(region, listed)
                        });
                    } else {
                        // An endpoint naming a page already asked for would be
                        // asked for it forever: the listing did not end.
                        p.gaps.push(error::unfinished("ecs:ListClusters", &region));
                    }
                }
            }
            Done::Listed(_, Err(gap)) => p.gaps.push(gap),
            Done::Described(clusters) => {
                run.shared.progressed(|p| &p.clusters, clusters.len());
                for c in clusters {
                    p.cluster_keys(&c);
                    let (region, name) = (c.region.clone(), c.name.clone());
                    p.clusters.push(c);
                    p.join_services(&region, &name);
                }
            }
            Done::Services { region, cluster, fact, missing } => {
                p.services.insert((region.clone(), cluster.clone()), (fact, missing));
                p.join_services(&region, &cluster);
            }
            Done::Key(record) => {
                let record = *record;
                run.shared.progressed(|p| &p.keys, 1);
                if let Some(metadata) = record.metadata() {
                    // A reference that was not a key ARN (an alias, a bare
                    // id): its details are read now that the ARN is known.
                    let accounts: BTreeSet<String> =
                        Arn::parse(&metadata.arn).map(|a| a.account.to_string()).into_iter().collect();
                    let plan = kms::plan(&record.region, metadata, &accounts);
                    p.read_details(plan);
                    let key_region = Arn::parse(&metadata.arn).map(|a| a.region.to_string());
                    if let Some(region) = key_region.filter(|r| p.aliases_asked.insert(r.clone())) {
                        p.push(async move { Done::Aliases(kms::list_aliases(run, &region).await) });
                    }
                }
                p.keys.insert(record.reference.clone(), record);
            }
            Done::Details(done) => {
                let (plan, details) = *done;
                p.details.insert(plan.arn.clone(), (plan, details));
            }
            Done::Alarms(region, facts) => {
                p.alarms.insert(region, facts);
            }
            Done::Warmed => {}
            Done::Aliases(listed) => {
                for (key, alias) in listed.into_iter().flatten() {
                    p.aliases.entry(key).or_default().push(alias);
                }
            }
        }
    }
    // Services read for a cluster that turned out missing or inactive stay
    // unjoined: they say nothing about a cluster that starts no task.
    p
}

/// For a requested cluster that exists in none of the Regions searched (a
/// mistyped `--cluster`), the Region's cluster names closest to it: one
/// ListClusters per Region with such a cluster, only on this failure path.
/// A failure to list just leaves no suggestion.
async fn suggest_similar(run: &Run<'_>, clusters: &mut [Cluster]) {
    let found: BTreeSet<String> =
        clusters.iter().filter(|c| matches!(c.lookup, ClusterLookup::Found { .. })).map(|c| c.name.clone()).collect();
    let lost = |c: &Cluster| matches!(c.lookup, ClusterLookup::Missing { .. }) && !found.contains(&c.name);
    let regions: BTreeSet<String> = clusters.iter().filter(|c| lost(c)).map(|c| c.region.clone()).collect();
    let listed = futures_util::future::join_all(regions.into_iter().map(|region| async move {
        let names = ecs::list_clusters(run, &region).await.unwrap_or_default();
        (region, names.iter().map(|arn| ecs::cluster_name(arn).to_string()).collect::<Vec<_>>())
    }))
    .await;
    let listed: BTreeMap<String, Vec<String>> = listed.into_iter().collect();
    for c in clusters.iter_mut() {
        let name = c.name.clone();
        if found.contains(&name) {
            continue;
        }
        if let ClusterLookup::Missing { similar, .. } = &mut c.lookup {
            *similar = closest(&name, listed.get(&c.region).map(Vec::as_slice).unwrap_or_default());
        }
    }
}

/// Up to three of `names` within a small edit distance of `wanted`
/// (a third of its length, at least 2), nearest first.
fn closest(wanted: &str, names: &[String]) -> Vec<String> {
    let limit = (wanted.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &String)> = names
        .iter()
        .map(|n| (edit_distance(&wanted.to_lowercase(), &n.to_lowercase()), n))
        .filter(|(d, n)| *d <= limit && n.as_str() != wanted)
        .collect();
    near.sort();
    near.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Whom the credentials belong to (sts:GetCallerIdentity, which needs no
/// permission). A failure is logged, not a gap: the checks do not need it.
async fn identity(run: &Run<'_>, region: &str) -> Option<crate::report::Identity> {
    let client = run.clients.sts(region)?;
    let slot = run.call("sts:GetCallerIdentity", region).await;
    let answer = client.get_caller_identity().send().await;
    drop(slot);
    match answer {
        Ok(out) => Some(crate::report::Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        }),
        Err(err) => {
            tracing::warn!("sts:GetCallerIdentity failed: {}", aws_sdk_sts::error::DisplayErrorContext(&err));
            None
        }
    }
}

/// A bare cluster name is looked for in every Region in scope: it is missing
/// only if no Region has it, so its MISSING answers from the other Regions
/// are dropped once one Region found it.
fn drop_missing_found_elsewhere(clusters: &mut Vec<crate::inventory::Cluster>, requested: &[String]) {
    let found: BTreeSet<String> =
        clusters.iter().filter(|c| matches!(c.lookup, ClusterLookup::Found { .. })).map(|c| c.name.clone()).collect();
    let names: BTreeSet<&String> = requested.iter().filter(|r| Arn::parse(r).is_none()).collect();
    clusters.retain(|c| {
        !(matches!(c.lookup, ClusterLookup::Missing { .. }) && names.contains(&c.name) && found.contains(&c.name))
    });
}

/// For `audit`: the clusters configured with each Fargate key, by key ARN
/// (bare ids and aliases normalised as for `check`), with the gaps met.
pub async fn cluster_keys(
    clients: &dyn Clients,
    regions: &[String],
    concurrency: usize,
) -> (BTreeMap<String, BTreeSet<String>>, Vec<crate::inventory::Gap>) {
    let shared = Shared::new(concurrency, BTreeMap::new(), vec![clients]);
    let run = Run::new(clients, &shared, false);
    let mut gaps = Vec::new();
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (region, result) in ecs::list_all(&run, regions).await {
        match result {
            Ok(arns) => targets.entry(region).or_default().extend(arns),
            Err(gap) => gaps.push(gap),
        }
    }
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for cluster in ecs::describe_all(&run, targets).await {
        if let ClusterLookup::Unreadable { gap } = &cluster.lookup {
            gaps.push(gap.clone());
        }
        for (_, reference) in ecs::key_lookups(&cluster) {
            map.entry(reference).or_default().insert(cluster.name.clone());
        }
    }
    gaps.dedup();
    (map, gaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clients for tests of the limit alone: no request is ever sent.
    struct Unused;

    impl Clients for Unused {
        fn ecs(&self, _: &str) -> aws_sdk_ecs::Client {
            unreachable!("no request in this test")
        }
        fn kms(&self, _: &str) -> aws_sdk_kms::Client {
            unreachable!("no request in this test")
        }
        fn cloudtrail(&self, _: &str) -> aws_sdk_cloudtrail::Client {
            unreachable!("no request in this test")
        }
        fn cloudwatch(&self, _: &str) -> aws_sdk_cloudwatch::Client {
            unreachable!("no request in this test")
        }
        fn logs(&self, _: &str) -> aws_sdk_cloudwatchlogs::Client {
            unreachable!("no request in this test")
        }
    }

    #[tokio::test]
    async fn spare_places_are_only_the_free_ones() {
        let clients = Unused;
        let shared = Shared::new(3, BTreeMap::new(), vec![&clients]);
        let run = Run::new(&clients, &shared, false);
        let held = run.slot().await;
        let spare: Vec<_> = std::iter::from_fn(|| run.spare_slot()).take(5).collect();
        assert_eq!(spare.len(), 2, "what is free, no more");
        assert!(run.spare_slot().is_none());
        assert_eq!(shared.peak.load(Ordering::Relaxed), 3, "spare places count in flight");
        drop(spare);
        // A request waiting at the semaphore gets the place released, not a spare ask.
        let other = Run::new(&clients, &shared, false);
        let (a, b) = (other.slot().await, other.slot().await);
        let mut waiting = std::pin::pin!(other.slot());
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        drop(a);
        assert!(run.spare_slot().is_none(), "the released place is the waiting request's");
        assert!(futures_util::poll!(waiting.as_mut()).is_ready());
        drop((held, b));
    }

    #[test]
    fn endpoints_over_tls() {
        assert!(over_tls(None, None), "AWS's own endpoints");
        assert!(over_tls(None, Some("https://vpce-EXAMPLE.kms.us-east-1.vpce.amazonaws.com")));
        assert!(!over_tls(None, Some("http://127.0.0.1:5000")), "a local emulator");
        // The service's own URL wins over the global one, as in the SDK.
        assert!(!over_tls(Some("http://localhost:4566".into()), Some("https://example.com")));
        assert!(over_tls(Some("HTTPS://kms.example.com".into()), Some("http://127.0.0.1:5000")));
        assert!(!over_tls(Some(String::new()), Some("http://127.0.0.1:5000")), "empty is unset");
    }
    use crate::inventory::Cluster;

    #[test]
    fn close_names_are_suggested_nearest_first() {
        let names: Vec<String> =
            ["checkout", "checkout-v2", "payments", "check"].iter().map(|s| s.to_string()).collect();
        assert_eq!(closest("chekout", &names), ["checkout"]);
        assert_eq!(closest("paymnts", &names), ["payments"]);
        assert_eq!(closest("chck", &names), ["check"]);
        assert_eq!(closest("CHECKOUT", &names), ["checkout"]);
        assert!(closest("zzz", &names).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    fn cluster(name: &str, region: &str, found: bool) -> Cluster {
        let lookup = if found {
            ClusterLookup::Found { status: "ACTIVE".into(), key_usages: vec![] }
        } else {
            ClusterLookup::Missing { reason: "MISSING".into(), detail: None, similar: vec![] }
        };
        Cluster { name: name.into(), account: None, arn: None, region: region.into(), lookup, services: None }
    }

    #[test]
    fn missing_only_when_no_region_has_it() {
        let mut clusters = vec![
            cluster("prod", "us-east-1", true),
            cluster("prod", "eu-west-1", false),
            cluster("gone", "us-east-1", false),
            cluster("gone", "eu-west-1", false),
        ];
        drop_missing_found_elsewhere(&mut clusters, &["prod".into(), "gone".into()]);
        let left: Vec<(&str, &str, bool)> = clusters
            .iter()
            .map(|c| (c.name.as_str(), c.region.as_str(), matches!(c.lookup, ClusterLookup::Found { .. })))
            .collect();
        assert_eq!(left, [("prod", "us-east-1", true), ("gone", "us-east-1", false), ("gone", "eu-west-1", false)]);
    }
}
