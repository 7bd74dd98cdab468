//! The facts a run collected, as our own serde structs.
//!
//! This is the seam between `collect/` (which talks to AWS) and `checks/`
//! (which must not). Nothing here names an SDK type, so an inventory can be
//! saved with `--save-inventory`, replayed with `--inventory`, hand-written as
//! a test fixture, and survive SDK upgrades. Anything that could not be read
//! is recorded as a [`Gap`] in place of the fact, never silently left out:
//! the checks turn gaps into *unknown*.

mod arn;

pub use arn::{Arn, is_alias_reference, key_lookup_reference};

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Version of the inventory file format. Bumped on any change that an older
/// reader would misread; readers refuse versions they do not know.
pub const INVENTORY_SCHEMA_VERSION: u32 = 1;

/// Everything one run knows, for every region and cluster in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub schema_version: u32,
    /// When collection started. Checks use this as "now", never the clock, so
    /// that a replayed inventory gives the same verdicts it gave live.
    pub collected_at: Timestamp,
    /// Regions that were searched for clusters.
    pub regions: Vec<String>,
    /// The identity the facts were read with (`sts:GetCallerIdentity`), when known.
    #[serde(default)]
    pub identity: Option<crate::report::Identity>,
    /// The accounts an organization-wide or multi-account run set out to
    /// read, and whether each was read. Empty for a single-account run.
    #[serde(default)]
    pub accounts: Vec<AccountFacts>,
    /// Cluster names or ARNs the user asked for; empty means "every cluster".
    #[serde(default)]
    pub requested_clusters: Vec<String>,
    /// Service names the user asked for (`--service`, with one cluster).
    #[serde(default)]
    pub requested_services: Vec<String>,
    /// Services asked for that DescribeServices did not find.
    #[serde(default)]
    pub missing_services: Vec<MissingService>,
    /// How many requests of each AWS operation collection made (pages count
    /// one each; the SDK's retries are not counted).
    #[serde(default)]
    pub api_calls: BTreeMap<String, u64>,
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    /// Keys by lookup reference (see [`key_lookup_reference`]): each distinct
    /// key is described once, however many clusters and usages point at it.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyRecord>,
    /// Key policy, grants and rotation by key ARN, read once per distinct key
    /// however many references resolve to it. A key that DescribeKey did not
    /// find has no entry.
    #[serde(default)]
    pub key_details: BTreeMap<String, KeyDetails>,
    /// CloudWatch alarm set-up by Region, read with `--alarms` only.
    #[serde(default)]
    pub alarms: BTreeMap<String, Fact<AlarmFacts>>,
    /// Facts about the scope itself that could not be read (for example
    /// ListClusters denied in one region): the run cannot claim "all pass".
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// The aliases of each key in use, by key ARN, sorted (one paginated
    /// kms:ListAliases per Region). A display aid: on-call engineers know
    /// keys by alias. No verdict depends on it, so an unread list is logged,
    /// not a gap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, Vec<String>>,
}

impl Inventory {
    /// An empty inventory for the given regions, stamped with `collected_at`.
    pub fn new(collected_at: Timestamp, regions: Vec<String>) -> Self {
        Self {
            schema_version: INVENTORY_SCHEMA_VERSION,
            collected_at,
            regions,
            identity: None,
            accounts: Vec::new(),
            requested_clusters: Vec::new(),
            requested_services: Vec::new(),
            missing_services: Vec::new(),
            api_calls: BTreeMap::new(),
            clusters: Vec::new(),
            keys: BTreeMap::new(),
            key_details: BTreeMap::new(),
            alarms: BTreeMap::new(),
            gaps: Vec::new(),
            aliases: BTreeMap::new(),
        }
    }

    /// The aliases of a key ARN (empty when it has none, or none were read).
    pub fn aliases_of(&self, key_arn: &str) -> &[String] {
        self.aliases.get(key_arn).map(Vec::as_slice).unwrap_or_default()
    }

    /// The key record a usage points at, if the usage names a key.
    pub fn key_for(&self, usage: &ClusterKey) -> Option<&KeyRecord> {
        usage.lookup.as_deref().and_then(|k| self.keys.get(k))
    }
}

/// One account of a multi-account run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFacts {
    pub account_id: String,
    /// The name AWS Organizations gave, when it was asked.
    #[serde(default)]
    pub name: Option<String>,
    /// Regions searched in it (`--region all`: the ones enabled there).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Why it could not be read (AssumeRole denied, account suspended, …);
    /// `None` when it was read.
    #[serde(default)]
    pub unreadable: Option<Gap>,
}

/// The key of a Region's alarm facts in [`Inventory::alarms`]: the Region,
/// prefixed with the account in a multi-account run.
pub fn alarm_key(account: Option<&str>, region: &str) -> String {
    match account {
        Some(a) => format!("{a}/{region}"),
        None => region.to_string(),
    }
}

/// One cluster in scope: found, missing, or unreadable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The cluster name (from the ARN when found, else as requested).
    pub name: String,
    /// The account it was looked for in (a multi-account run; also in its ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The cluster ARN when AWS told us one.
    #[serde(default)]
    pub arn: Option<String>,
    pub region: String,
    pub lookup: ClusterLookup,
    /// The cluster's services and their deployments; `None` when not collected
    /// (an older inventory), `Skipped` with `--no-services`.
    #[serde(default)]
    pub services: Option<Fact<Vec<Service>>>,
}

impl Cluster {
    /// The cluster's key usage for `usage`, when the cluster was found.
    pub fn usage(&self, usage: KeyRole) -> Option<&ClusterKey> {
        match &self.lookup {
            ClusterLookup::Found { key_usages, .. } => key_usages.iter().find(|u| u.usage == usage),
            _ => None,
        }
    }

    /// The account the cluster belongs to: from its ARN, else where it was looked for.
    pub fn account_id(&self) -> Option<&str> {
        self.arn
            .as_deref()
            .and_then(Arn::parse)
            .map(|a| a.account)
            .filter(|a| !a.is_empty())
            .or(self.account.as_deref())
    }

    /// The services, when they were read.
    pub fn services(&self) -> Option<&[Service]> {
        match &self.services {
            Some(Fact::Read { value }) => Some(value),
            _ => None,
        }
    }
}

/// A requested service DescribeServices did not find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingService {
    pub cluster: String,
    pub service: String,
    pub reason: String,
}

/// An ECS service, as far as its tasks' keys are concerned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// `FARGATE`, `EC2`, `EXTERNAL`, or `None` with a capacity provider strategy.
    #[serde(default)]
    pub launch_type: Option<String>,
    #[serde(default)]
    pub capacity_providers: Vec<String>,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// `enableExecuteCommand`: new tasks use the cluster's ECS Exec key.
    #[serde(default)]
    pub exec_enabled: bool,
    /// The PRIMARY and ACTIVE deployments.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
}

/// One deployment of a service. Scale-outs and replacements start tasks from
/// it, with the key it was created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub id: String,
    /// `PRIMARY` or `ACTIVE`.
    pub status: String,
    #[serde(default)]
    pub launch_type: Option<String>,
    #[serde(default)]
    pub capacity_providers: Vec<String>,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// The deployment attaches ECS-managed EBS volumes.
    #[serde(default)]
    pub managed_ebs: bool,
    /// `fargateEphemeralStorage.kmsKeyId`: the key this deployment was
    /// created with (`None` when ECS reported none).
    #[serde(default)]
    pub ephemeral_storage_key: Option<ClusterKey>,
}

/// Where a service's tasks run, as far as the Fargate key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Fargate,
    /// EC2 or EXTERNAL launch type, or capacity providers without Fargate:
    /// the Fargate ephemeral storage key does not apply.
    NotFargate,
    /// Neither launch type nor capacity provider reported: counted as
    /// Fargate, so that nothing is passed unseen.
    Unknown,
}

fn platform_of(launch_type: Option<&str>, capacity_providers: &[String]) -> Platform {
    if launch_type == Some("FARGATE") || capacity_providers.iter().any(|c| c == "FARGATE" || c == "FARGATE_SPOT") {
        Platform::Fargate
    } else if launch_type.is_some() || !capacity_providers.is_empty() {
        Platform::NotFargate
    } else {
        Platform::Unknown
    }
}

impl Service {
    pub fn platform(&self) -> Platform {
        let own = platform_of(self.launch_type.as_deref(), &self.capacity_providers);
        if own != Platform::Unknown {
            return own;
        }
        // Fall back on what the deployments say.
        let mut platforms = self.deployments.iter().map(|d| d.platform());
        if platforms.clone().any(|p| p == Platform::Fargate) {
            Platform::Fargate
        } else if platforms.any(|p| p == Platform::NotFargate) {
            Platform::NotFargate
        } else {
            Platform::Unknown
        }
    }
}

impl Deployment {
    pub fn platform(&self) -> Platform {
        platform_of(self.launch_type.as_deref(), &self.capacity_providers)
    }
}

/// What DescribeClusters said about a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClusterLookup {
    Found {
        /// `ACTIVE`, `PROVISIONING`, `DEPROVISIONING`, `FAILED` or `INACTIVE`.
        status: String,
        /// Always the three usages, in [`KeyRole`] order, configured or not.
        key_usages: Vec<ClusterKey>,
    },
    /// DescribeClusters listed it under `failures` (reason `MISSING`, usually).
    Missing {
        reason: String,
        #[serde(default)]
        detail: Option<String>,
        /// Names of existing clusters in its Region close to the one asked
        /// for (a mistyped `--cluster`), nearest first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        similar: Vec<String>,
    },
    /// DescribeClusters itself failed for the batch holding this cluster.
    Unreadable { gap: Gap },
}

/// The roles a KMS key plays for new tasks in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// `managedStorageConfiguration.fargateEphemeralStorageKmsKeyId`.
    FargateEphemeralStorage,
    /// `managedStorageConfiguration.kmsKeyId`: ECS-managed EBS volumes.
    ManagedStorage,
    /// `executeCommandConfiguration.kmsKeyId`: ECS Exec session data.
    ExecuteCommand,
}

impl KeyRole {
    pub const ALL: [KeyRole; 3] = [KeyRole::FargateEphemeralStorage, KeyRole::ManagedStorage, KeyRole::ExecuteCommand];

    /// The snake_case name used in JSON and on the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::FargateEphemeralStorage => "fargate_ephemeral_storage",
            KeyRole::ManagedStorage => "managed_storage",
            KeyRole::ExecuteCommand => "execute_command",
        }
    }

    /// The usage in words.
    pub fn describe(self) -> &'static str {
        match self {
            KeyRole::FargateEphemeralStorage => "Fargate ephemeral storage",
            KeyRole::ManagedStorage => "ECS-managed EBS storage",
            KeyRole::ExecuteCommand => "ECS Exec",
        }
    }

    /// The cluster configuration field the key is read from.
    pub fn config_field(self) -> &'static str {
        match self {
            KeyRole::FargateEphemeralStorage => "managedStorageConfiguration.fargateEphemeralStorageKmsKeyId",
            KeyRole::ManagedStorage => "managedStorageConfiguration.kmsKeyId",
            KeyRole::ExecuteCommand => "executeCommandConfiguration.kmsKeyId",
        }
    }

    /// Whether a broken key stops new tasks from starting. An ECS Exec key
    /// only breaks exec sessions; tasks start without it.
    pub fn blocks_launch(self) -> bool {
        !matches!(self, KeyRole::ExecuteCommand)
    }
}

/// One usage of one cluster and the key it names, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterKey {
    pub usage: KeyRole,
    /// The key reference exactly as the cluster configuration holds it.
    #[serde(default)]
    pub configured: Option<String>,
    /// The key's entry in [`Inventory::keys`].
    #[serde(default)]
    pub lookup: Option<String>,
    /// Why a configured key was deliberately not checked (a `--service` run
    /// whose services do not use it). The key reference is in the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// What DescribeKey said about one key reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// The reference sent to DescribeKey (an ARN wherever one can be built).
    pub reference: String,
    /// The region whose KMS endpoint was asked.
    pub region: String,
    pub describe: KeyLookup,
}

/// Outcome of DescribeKey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyLookup {
    Found {
        metadata: Box<KeyMetadata>,
    },
    /// KMS answered NotFoundException: the key (or alias) does not exist.
    NotFound {
        message: String,
    },
    Unreadable {
        gap: Gap,
    },
}

/// A KMS key state (DescribeKey's `KeyState`). An enumeration, so that a
/// check matching on it is exhaustive; a state this version does not know
/// is kept as `Other` with AWS's text, so that a saved inventory round-trips
/// and the check can say "unknown state" rather than guess. Stored as the
/// string AWS sends, so the inventory format is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingReplicaDeletion,
    PendingImport,
    Unavailable,
    Creating,
    Updating,
    Other(String),
}

impl KeyState {
    pub fn parse(s: &str) -> Self {
        match s {
            "Enabled" => KeyState::Enabled,
            "Disabled" => KeyState::Disabled,
            "PendingDeletion" => KeyState::PendingDeletion,
            "PendingReplicaDeletion" => KeyState::PendingReplicaDeletion,
            "PendingImport" => KeyState::PendingImport,
            "Unavailable" => KeyState::Unavailable,
            "Creating" => KeyState::Creating,
            "Updating" => KeyState::Updating,
            other => KeyState::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingReplicaDeletion => "PendingReplicaDeletion",
            KeyState::PendingImport => "PendingImport",
            KeyState::Unavailable => "Unavailable",
            KeyState::Creating => "Creating",
            KeyState::Updating => "Updating",
            KeyState::Other(s) => s,
        }
    }

    /// Whether Fargate can use a key in this state: Enabled, or the
    /// transient Updating ([KMS:key-state]).
    pub fn usable(&self) -> bool {
        matches!(self, KeyState::Enabled | KeyState::Updating)
    }
}

impl std::ops::Deref for KeyState {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for KeyState {
    fn from(s: &str) -> Self {
        KeyState::parse(s)
    }
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for KeyState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KeyState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(KeyState::parse(&String::deserialize(d)?))
    }
}

/// The DescribeKey fields the checks use. Enumerations are kept as the strings
/// AWS sent, so a value this version does not know survives a save/replay and
/// the checks can say "unknown value" rather than guess.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyMetadata {
    pub arn: String,
    pub key_id: String,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub key_state: Option<KeyState>,
    #[serde(default)]
    pub key_manager: Option<String>,
    #[serde(default)]
    pub key_spec: Option<String>,
    #[serde(default)]
    pub key_usage: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub multi_region: Option<bool>,
    #[serde(default)]
    pub multi_region_key_type: Option<String>,
    #[serde(default)]
    pub custom_key_store_id: Option<String>,
    #[serde(default)]
    pub deletion_date: Option<Timestamp>,
    #[serde(default)]
    pub pending_deletion_window_in_days: Option<i32>,
    #[serde(default)]
    pub valid_to: Option<Timestamp>,
    #[serde(default)]
    pub expiration_model: Option<String>,
}

/// What the key policy, grant and rotation reads gave for one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyDetails {
    /// The key policy document, as the JSON string GetKeyPolicy returned.
    pub policy: Fact<String>,
    pub grants: Fact<GrantSummary>,
    pub rotation: Fact<Rotation>,
}

impl KeyLookup {
    /// DescribeKey's answer, when it found the key.
    pub fn metadata(&self) -> Option<&KeyMetadata> {
        match self {
            KeyLookup::Found { metadata } => Some(metadata),
            _ => None,
        }
    }
}

impl KeyRecord {
    /// DescribeKey's answer, when it found the key.
    pub fn metadata(&self) -> Option<&KeyMetadata> {
        self.describe.metadata()
    }
}

impl Inventory {
    /// The DescribeKey answer for the key `usage` names, when found.
    pub fn metadata_for(&self, usage: &ClusterKey) -> Option<&KeyMetadata> {
        self.key_for(usage).and_then(KeyRecord::metadata)
    }
}

impl Cluster {
    /// The cluster's own key usages, then the keys its services' running
    /// deployments were created with (not deduplicated).
    pub fn usages_with_pinned(&self) -> impl Iterator<Item = &ClusterKey> {
        let own: &[ClusterKey] = match &self.lookup {
            ClusterLookup::Found { key_usages, .. } => key_usages,
            _ => &[],
        };
        let pinned = self
            .services()
            .unwrap_or_default()
            .iter()
            .flat_map(|s| &s.deployments)
            .filter_map(|d| d.ephemeral_storage_key.as_ref());
        own.iter().chain(pinned)
    }
}

/// Running and desired tasks summed over `deployments`, as 64-bit numbers:
/// ECS counts are 32-bit, and a hostile inventory must not wrap them.
pub fn task_counts<'d>(deployments: impl IntoIterator<Item = &'d Deployment>) -> (i64, i64) {
    deployments.into_iter().fold((0, 0), |(r, d), dep| (r + i64::from(dep.running), d + i64::from(dep.desired)))
}

/// A fact that was read, could not be read, or was deliberately not asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fact<T> {
    Read {
        value: T,
    },
    Unreadable {
        gap: Gap,
    },
    /// Not asked, because AWS would refuse or it cannot apply (GetKeyPolicy
    /// across accounts, rotation of an imported key).
    Skipped {
        reason: String,
    },
}

/// ListGrants, counted (a key may hold 50,000 grants; the inventory keeps
/// the numbers the checks need, not the list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSummary {
    pub total: u64,
    /// Grants whose grantee is a Fargate service principal (`fargate.<region>.amazonaws.com`).
    pub fargate: u64,
    /// Fargate's grants by the `aws:ecs:clusterName` in their constraints.
    #[serde(default)]
    pub fargate_by_cluster: BTreeMap<String, u64>,
}

/// GetKeyRotationStatus.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    pub enabled: bool,
    #[serde(default)]
    pub period_days: Option<i32>,
    #[serde(default)]
    pub next_rotation: Option<Timestamp>,
}

/// What watches for KMS errors in one Region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmFacts {
    /// CloudWatch Logs log groups that trails deliver to.
    pub trail_log_groups: Vec<String>,
    pub metric_filters: Vec<MetricFilter>,
    pub alarms: Vec<MetricAlarm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricFilter {
    pub name: String,
    pub log_group: String,
    pub pattern: String,
    /// (namespace, metric name) of each metric transformation.
    pub metrics: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricAlarm {
    pub name: String,
    pub namespace: String,
    pub metric_name: String,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
}

/// A fact that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// The AWS operation, e.g. `kms:DescribeKey`.
    pub operation: String,
    /// What it was about: a key reference, a cluster, a region.
    pub resource: String,
    /// The AWS error code (`AccessDeniedException`, `ThrottlingException`) or
    /// our own for transport failures (`Timeout`, `EndpointUnreachable`).
    pub code: String,
    pub message: String,
}

impl Gap {
    /// A one-line account of the gap for messages.
    pub fn describe(&self) -> String {
        if self.message.is_empty() {
            format!("{} on {} failed: {}", self.operation, self.resource, self.code)
        } else {
            format!("{} on {} failed: {}: {}", self.operation, self.resource, self.code, self.message)
        }
    }
}

/// Parsed inventory plus the check that it is a version we understand.
pub fn from_json(text: &str) -> Result<Inventory, String> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: Option<u32>,
    }
    let version: Version = serde_json::from_str(text).map_err(|e| format!("not an inventory JSON file: {e}"))?;
    match version.schema_version {
        Some(INVENTORY_SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "inventory schema_version {v} is not supported (this build reads {INVENTORY_SCHEMA_VERSION})"
            ));
        }
        None => return Err("not an inventory: schema_version is missing".to_string()),
    }
    serde_json::from_str(text).map_err(|e| format!("invalid inventory: {e}"))
}

/// Merges inventories saved by separate runs (shards of an organization:
/// one per OU, account list or Region) into one, deterministically: the
/// inventories are taken in `collected_at` order (then in the order given),
/// and for a fact in two of them the later one wins. Returns the notes the
/// report shows: which clusters were in more than one file.
pub fn merge(inventories: Vec<(String, Inventory)>) -> (Inventory, Vec<String>) {
    let mut shards = inventories;
    shards.sort_by_key(|(_, inv)| inv.collected_at);
    let mut notes = Vec::new();
    let mut iter = shards.into_iter();
    let Some((first_name, mut merged)) = iter.next() else {
        return (Inventory::new(Timestamp::UNIX_EPOCH, Vec::new()), notes);
    };
    let key = |c: &Cluster| (c.account_id().map(str::to_string), c.region.clone(), c.name.clone());
    let mut origin: BTreeMap<(Option<String>, String, String), String> =
        merged.clusters.iter().map(|c| (key(c), first_name.clone())).collect();
    for (name, inv) in iter {
        merged.collected_at = merged.collected_at.max(inv.collected_at);
        for r in inv.regions {
            if !merged.regions.contains(&r) {
                merged.regions.push(r);
            }
        }
        if merged.identity.is_none() {
            merged.identity = inv.identity;
        }
        for a in inv.accounts {
            merged.accounts.retain(|m| m.account_id != a.account_id);
            merged.accounts.push(a);
        }
        for c in inv.clusters {
            let k = key(&c);
            if let Some(pos) = merged.clusters.iter().position(|m| key(m) == k) {
                notes.push(format!(
                    "cluster {} ({}) is in {} and {}: the later ({}, collected {}) is used",
                    c.name,
                    c.region,
                    origin.get(&k).cloned().unwrap_or_default(),
                    name,
                    name,
                    inv.collected_at
                ));
                merged.clusters[pos] = c;
            } else {
                merged.clusters.push(c);
            }
            origin.insert(k, name.clone());
        }
        merged.keys.extend(inv.keys);
        merged.key_details.extend(inv.key_details);
        merged.alarms.extend(inv.alarms);
        merged.aliases.extend(inv.aliases);
        for g in inv.gaps {
            if !merged.gaps.contains(&g) {
                merged.gaps.push(g);
            }
        }
        merged.missing_services.extend(inv.missing_services);
        merged.requested_clusters.extend(inv.requested_clusters);
        merged.requested_services.extend(inv.requested_services);
        for (op, n) in inv.api_calls {
            *merged.api_calls.entry(op).or_default() += n;
        }
    }
    merged.regions.sort();
    merged.accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    merged.clusters.sort_by(|a, b| (a.account_id(), &a.region, &a.name).cmp(&(b.account_id(), &b.region, &b.name)));
    (merged, notes)
}
