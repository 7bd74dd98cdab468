//! The [`Report`]: per-usage, per-cluster and overall verdicts built from the
//! inventory and the checks' findings, plus the exit code they imply.
//!
//! The report *is* the JSON contract (`docs/output.md`): renderers read it,
//! and nothing downstream recomputes a verdict.

use jiff::Timestamp;
use serde::Serialize;

mod dependents;
mod suppress;

use crate::finding::{Finding, Verdict};
use crate::inventory::{ClusterLookup, Fact, Gap, Inventory, KeyRecord, KeyRole, KeyState, Platform};

pub use dependents::{Dependent, DependentEffect, FailingKey};
pub use suppress::{SuppressedFinding, SuppressionReport, SuppressionStatus};

/// Version of the JSON report contract; bumped on breaking changes only
/// (adding a field is not one).
pub const REPORT_SCHEMA_VERSION: u32 = 2;

/// Exit codes. Only `main` turns them into a process exit.
pub mod exit {
    /// Every cluster passes.
    pub const PASS: u8 = 0;
    /// At least one cluster will fail to start new tasks.
    pub const FAIL: u8 = 1;
    /// Nothing fails, but something could not be verified.
    pub const UNKNOWN: u8 = 2;
    /// The tool could not run: bad arguments, unreadable file, no credentials, no region.
    pub const ERROR: u8 = 3;
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub collected_at: Timestamp,
    pub regions: Vec<String>,
    /// The identity the facts were read with (null for a replayed inventory
    /// that did not record it).
    pub identity: Option<Identity>,
    /// Every account of the run: read (with its clusters' verdicts) or
    /// unreadable (with the reason).
    pub accounts: Vec<AccountReport>,
    /// The suppressions file that was applied, if any.
    pub suppressions_file: Option<String>,
    /// What the report wants read besides the verdicts: clusters found in
    /// two merged inventories, and which one was used.
    pub notes: Vec<String>,
    /// The grants-per-key quota the run assumed (`--grant-quota`).
    pub grant_quota: u64,
    pub verdict: Verdict,
    pub exit_code: u8,
    pub summary: Summary,
    /// Facts about the scope that could not be read (e.g. ListClusters denied).
    pub gaps: Vec<Gap>,
    pub clusters: Vec<ClusterReport>,
    /// Every key that makes something fail, with what depends on it: the
    /// blast radius, for deciding what to fix first.
    pub failing_keys: Vec<FailingKey>,
    /// Every described key in use, with the dates and counts that forecast
    /// failures (for cron reports and monitoring).
    pub keys: Vec<KeyReport>,
    /// Each suppression of the configuration, and what became of it.
    pub suppressions: Vec<SuppressionReport>,
}

/// One key in use, as a forecast: what will break it, and when.
#[derive(Debug, Clone, Serialize)]
pub struct KeyReport {
    pub key_arn: String,
    pub key_state: Option<KeyState>,
    /// `PendingDeletion`: when the key is deleted.
    pub deletion_date: Option<Timestamp>,
    /// Imported key material: when it expires.
    pub valid_to: Option<Timestamp>,
    /// Grants on the key, when ListGrants was read.
    pub grants: Option<u64>,
    pub fargate_grants: Option<u64>,
    pub rotation_enabled: Option<bool>,
    /// Whether Fargate can use the key in its state (Enabled or Updating);
    /// decided here, so that no renderer recomputes it from the state text.
    pub usable: Option<bool>,
    /// What it encrypts for the clusters using it, sorted: an unusable
    /// ECS Exec key breaks exec sessions, not launches, and monitoring
    /// must be able to tell them apart.
    pub used_for: Vec<KeyRole>,
    /// Its aliases (`alias/…`), sorted; empty when it has none or they
    /// could not be listed.
    pub aliases: Vec<String>,
    /// Clusters that use it (their own setting or a service's deployment).
    pub clusters: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: String,
}

impl Tool {
    /// This build of the tool.
    pub fn this() -> Self {
        Tool { name: env!("CARGO_PKG_NAME"), version: env!("CARGO_PKG_VERSION").to_string() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub clusters: usize,
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
    /// Findings a suppression took out of the verdicts (by `suppressions_file`).
    pub suppressed: usize,
    /// Clusters whose services were not read (`--no-services`): the keys
    /// pinned on their running deployments were not checked.
    pub pinned_keys_unchecked: usize,
}

/// One account of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReport {
    pub account_id: String,
    /// The name AWS Organizations gave, when it was asked.
    pub name: Option<String>,
    /// `read`, or `unreadable` (never counted as passing).
    pub status: &'static str,
    /// For an unreadable account: the check id (`account-unreadable`) and why.
    pub check: Option<&'static str>,
    pub reason: Option<String>,
    pub clusters: usize,
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
}

/// Who the run checked as, when it asked (`sts:GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// How a report is built beyond the inventory and the findings.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// An empty scope (no cluster at all) is a pass rather than unknown.
    pub allow_empty: bool,
    /// The grants-per-key quota the run assumed (`--grant-quota`).
    pub grant_quota: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { allow_empty: false, grant_quota: 50_000 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterReport {
    pub cluster_name: String,
    /// The account the cluster belongs to.
    pub account_id: Option<String>,
    /// Its name in AWS Organizations, when known.
    pub account_name: Option<String>,
    pub cluster_arn: Option<String>,
    pub region: String,
    /// The ECS status when the cluster was found.
    pub status: Option<String>,
    pub verdict: Verdict,
    pub key_usages: Vec<UsageReport>,
    /// The cluster's services; `null` when they were not read (see the
    /// `services-unreadable` finding, or `--no-services`).
    pub services: Option<Vec<ServiceReport>>,
    /// Worst first: failures, then unknowns, then warnings, then information.
    pub findings: Vec<Finding>,
    /// Findings a suppression accepted: shown, but left out of every verdict.
    pub suppressed: Vec<SuppressedFinding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceReport {
    pub service_name: String,
    /// `fargate`, `not_fargate` (EC2 or EXTERNAL: the Fargate key does not
    /// apply) or `unknown` (judged as Fargate).
    pub platform: Platform,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// Worst verdict of the findings about keys pinned on its deployments.
    pub verdict: Verdict,
    pub deployments: Vec<DeploymentReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentReport {
    pub id: String,
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// `fargateEphemeralStorage.kmsKeyId` of the deployment, `null` when ECS
    /// reported none.
    pub pinned_key: Option<String>,
    pub key_arn: Option<String>,
    pub key_state: Option<KeyState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub usage: KeyRole,
    pub verdict: Verdict,
    /// The key reference exactly as configured on the cluster (`null`: none,
    /// the AWS owned key is used).
    pub configured_key: Option<String>,
    /// The key ARN DescribeKey resolved it to.
    pub key_arn: Option<String>,
    /// The KeyState DescribeKey reported.
    pub key_state: Option<KeyState>,
}

impl Verdict {
    /// The exit code a run with this overall verdict ends with.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => exit::PASS,
            Verdict::Fail => exit::FAIL,
            Verdict::Unknown => exit::UNKNOWN,
        }
    }
}

fn worst<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Verdict {
    findings.into_iter().map(|f| f.verdict).max().unwrap_or(Verdict::Pass)
}

impl Report {
    /// Builds the report from an inventory and the findings of
    /// [`crate::checks::run`] (one list per cluster, in cluster order).
    pub fn build(inventory: &Inventory, findings: Vec<Vec<Finding>>) -> Self {
        Self::build_with(inventory, findings, &[], BuildOptions::default())
    }

    /// [`Report::build`], with the accepted risks of the configuration taken
    /// out of the verdicts (and reported as suppressed).
    pub fn build_with(
        inventory: &Inventory,
        findings: Vec<Vec<Finding>>,
        suppressions: &[crate::config::Suppression],
        options: BuildOptions,
    ) -> Self {
        let mut tally = suppress::Tally::new(inventory, suppressions);
        let clusters: Vec<ClusterReport> = inventory
            .clusters
            .iter()
            .zip(findings)
            .map(|(cluster, findings)| {
                let (mut findings, suppressed) = tally.split(cluster, findings);
                findings.sort_by(|a, b| b.verdict.cmp(&a.verdict).then(b.severity.cmp(&a.severity)));
                let (status, usages) = match &cluster.lookup {
                    ClusterLookup::Found { status, key_usages } => (Some(status.clone()), key_usages.as_slice()),
                    _ => (None, &[][..]),
                };
                let key_usages = usages
                    .iter()
                    .map(|u| {
                        let metadata = inventory.metadata_for(u);
                        UsageReport {
                            usage: u.usage,
                            verdict: worst(findings.iter().filter(|f| f.usage == Some(u.usage) && f.service.is_none())),
                            configured_key: u.configured.clone(),
                            key_arn: metadata.map(|m| m.arn.clone()),
                            key_state: metadata.and_then(|m| m.key_state.clone()),
                        }
                    })
                    .collect();
                let services = cluster.services().map(|services| {
                    services
                        .iter()
                        .map(|s| ServiceReport {
                            service_name: s.name.clone(),
                            platform: s.platform(),
                            desired: s.desired,
                            running: s.running,
                            pending: s.pending,
                            verdict: worst(findings.iter().filter(|f| f.service.as_deref() == Some(s.name.as_str()))),
                            deployments: s
                                .deployments
                                .iter()
                                .map(|d| {
                                    let pin = d.ephemeral_storage_key.as_ref();
                                    let metadata = pin.and_then(|p| inventory.metadata_for(p));
                                    DeploymentReport {
                                        id: d.id.clone(),
                                        status: d.status.clone(),
                                        desired: d.desired,
                                        running: d.running,
                                        pending: d.pending,
                                        pinned_key: pin.and_then(|p| p.configured.clone()),
                                        key_arn: metadata.map(|m| m.arn.clone()),
                                        key_state: metadata.and_then(|m| m.key_state.clone()),
                                    }
                                })
                                .collect(),
                        })
                        .collect()
                });
                ClusterReport {
                    cluster_name: cluster.name.clone(),
                    account_id: cluster.account_id().map(str::to_string),
                    account_name: cluster.account_id().and_then(|a| {
                        inventory.accounts.iter().find(|f| f.account_id == a).and_then(|f| f.name.clone())
                    }),
                    cluster_arn: cluster.arn.clone(),
                    region: cluster.region.clone(),
                    status,
                    verdict: worst(&findings),
                    key_usages,
                    services,
                    findings,
                    suppressed,
                }
            })
            .collect();

        let mut summary = Summary { clusters: clusters.len(), ..Summary::default() };
        for c in &clusters {
            match c.verdict {
                Verdict::Pass => summary.pass += 1,
                Verdict::Fail => summary.fail += 1,
                Verdict::Unknown => summary.unknown += 1,
            }
            summary.suppressed += c.suppressed.len();
        }
        summary.pinned_keys_unchecked =
            inventory.clusters.iter().filter(|c| matches!(c.services, Some(Fact::Skipped { .. }))).count();
        let mut gaps = inventory.gaps.clone();
        // An account that could not be entered is a fact not read: never passing.
        for a in &inventory.accounts {
            if let Some(gap) = &a.unreadable {
                gaps.push(Gap {
                    operation: gap.operation.clone(),
                    resource: format!("account {}", a.account_id),
                    code: gap.code.clone(),
                    message: format!("account-unreadable: {}", gap.message),
                });
            }
        }
        // Nothing checked is not "all pass": a gate pointed at the wrong
        // Region or account would stay green forever.
        if clusters.is_empty() && gaps.is_empty() && !options.allow_empty {
            gaps.push(Gap {
                operation: "scope".into(),
                resource: inventory.regions.join(", "),
                code: "NothingChecked".into(),
                message: format!(
                    "no ECS cluster found in {}: nothing was checked (pass --allow-empty if that is expected)",
                    inventory.regions.join(", ")
                ),
            });
        }
        let scope = if gaps.is_empty() { Verdict::Pass } else { Verdict::Unknown };
        let verdict = clusters.iter().map(|c| c.verdict).fold(scope, Verdict::max);
        let accounts = account_reports(inventory, &clusters);
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: Tool::this(),
            collected_at: inventory.collected_at,
            regions: inventory.regions.clone(),
            identity: inventory.identity.clone(),
            accounts,
            suppressions_file: None,
            notes: Vec::new(),
            grant_quota: options.grant_quota,
            verdict,
            exit_code: verdict.exit_code(),
            summary,
            gaps,
            failing_keys: dependents::failing_keys(inventory, &clusters),
            keys: key_reports(inventory),
            suppressions: tally.finish(),
            clusters,
        }
    }
}

/// Every account of the run with its clusters' verdicts: the accounts the
/// run set out to read (read or not), and any other account a cluster
/// belongs to (a single-account run, a replayed inventory).
fn account_reports(inventory: &Inventory, clusters: &[ClusterReport]) -> Vec<AccountReport> {
    let mut out: Vec<AccountReport> = inventory
        .accounts
        .iter()
        .map(|a| AccountReport {
            account_id: a.account_id.clone(),
            name: a.name.clone(),
            status: if a.unreadable.is_some() { "unreadable" } else { "read" },
            check: a.unreadable.as_ref().map(|_| "account-unreadable"),
            reason: a.unreadable.as_ref().map(Gap::describe),
            clusters: 0,
            pass: 0,
            fail: 0,
            unknown: 0,
        })
        .collect();
    for c in clusters {
        let Some(id) = &c.account_id else { continue };
        let entry = match out.iter().position(|a| &a.account_id == id) {
            Some(i) => &mut out[i],
            None => {
                out.push(AccountReport {
                    account_id: id.clone(),
                    name: None,
                    status: "read",
                    check: None,
                    reason: None,
                    clusters: 0,
                    pass: 0,
                    fail: 0,
                    unknown: 0,
                });
                out.last_mut().expect("just pushed")
            }
        };
        entry.clusters += 1;
        match c.verdict {
            Verdict::Pass => entry.pass += 1,
            Verdict::Fail => entry.fail += 1,
            Verdict::Unknown => entry.unknown += 1,
        }
    }
    out.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    out
}

fn key_reports(inventory: &Inventory) -> Vec<KeyReport> {
    use crate::inventory::Fact;
    use std::collections::{BTreeMap, BTreeSet};
    let mut users: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut roles: BTreeMap<&str, BTreeSet<KeyRole>> = BTreeMap::new();
    for c in &inventory.clusters {
        for u in c.usages_with_pinned() {
            if let Some(metadata) = inventory.metadata_for(u) {
                users.entry(metadata.arn.as_str()).or_default().insert(c.name.as_str());
                roles.entry(metadata.arn.as_str()).or_default().insert(u.usage);
            }
        }
    }
    let mut seen = BTreeSet::new();
    inventory
        .keys
        .values()
        .filter_map(KeyRecord::metadata)
        .filter(|m| seen.insert(m.arn.clone()))
        .map(|m| {
            let details = inventory.key_details.get(&m.arn);
            let grants = details.and_then(|d| match &d.grants {
                Fact::Read { value } => Some(value),
                _ => None,
            });
            KeyReport {
                key_arn: m.arn.clone(),
                key_state: m.key_state.clone(),
                deletion_date: m.deletion_date,
                valid_to: m.valid_to,
                grants: grants.map(|g| g.total),
                fargate_grants: grants.map(|g| g.fargate),
                usable: m.key_state.as_ref().map(KeyState::usable),
                rotation_enabled: details.and_then(|d| match &d.rotation {
                    Fact::Read { value } => Some(value.enabled),
                    _ => None,
                }),
                used_for: roles.get(m.arn.as_str()).map(|r| r.iter().copied().collect()).unwrap_or_default(),
                aliases: inventory.aliases_of(&m.arn).to_vec(),
                clusters: users
                    .get(m.arn.as_str())
                    .map(|s| s.iter().map(|c| c.to_string()).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::checks::{CheckOptions, run};
    use crate::inventory::{KeyLookup, KeyMetadata};

    /// Runs every check; described keys get a key policy that lets Fargate in.
    fn report(inv: &Inventory) -> Report {
        let grants = crate::inventory::Fact::Read { value: Default::default() };
        let inv = with_details(inv.clone(), details(policy_allowing("prod"), grants));
        Report::build(&inv, run(&inv, &CheckOptions::default()))
    }

    #[test]
    fn verdict_and_exit_code_table() {
        let disabled = KeyMetadata { key_state: Some("Disabled".into()), ..healthy("k") };
        let unreadable = KeyLookup::Unreadable { gap: gap("AccessDeniedException") };
        // (inventory, overall verdict, exit code)
        let cases = [
            (fargate_key(healthy("k")), Verdict::Pass, 0),
            (one_usage(KeyRole::FargateEphemeralStorage, None, None), Verdict::Pass, 0),
            (fargate_key(disabled.clone()), Verdict::Fail, 1),
            (one_usage(KeyRole::FargateEphemeralStorage, Some(&key_arn("x")), Some(unreadable)), Verdict::Unknown, 2),
        ];
        for (inv, verdict, code) in cases {
            let r = report(&inv);
            assert_eq!(r.verdict, verdict);
            assert_eq!(r.exit_code, code);
        }
    }

    #[test]
    fn failure_outranks_unknown() {
        let mut inv = fargate_key(KeyMetadata { key_state: Some("Disabled".into()), ..healthy("k") });
        let mut other = one_usage(
            KeyRole::FargateEphemeralStorage,
            Some(&key_arn("y")),
            Some(KeyLookup::Unreadable { gap: gap("ThrottlingException") }),
        );
        other.clusters[0].name = "other".into();
        inv.clusters.extend(other.clusters);
        inv.keys.extend(other.keys);
        let r = report(&inv);
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.exit_code, exit::FAIL);
        assert_eq!(r.summary, Summary { clusters: 2, pass: 0, fail: 1, unknown: 1, ..Summary::default() });
    }

    #[test]
    fn scope_gap_makes_an_empty_run_unknown() {
        let mut inv = Inventory::new(NOW.parse().unwrap(), vec![REGION.into()]);
        // Nothing checked is unknown, unless an empty scope is expected.
        assert_eq!(report(&inv).verdict, Verdict::Unknown);
        assert_eq!(report(&inv).gaps[0].code, "NothingChecked");
        let allowed =
            Report::build_with(&inv, vec![], &[], BuildOptions { allow_empty: true, ..BuildOptions::default() });
        assert_eq!((allowed.verdict, allowed.exit_code), (Verdict::Pass, 0));
        inv.gaps.push(gap("AccessDeniedException"));
        assert_eq!(report(&inv).verdict, Verdict::Unknown);
        assert_eq!(report(&inv).exit_code, exit::UNKNOWN);
    }

    #[test]
    fn usage_verdicts_and_key_facts() {
        let r = report(&fargate_key(KeyMetadata { key_state: Some("Disabled".into()), ..healthy("k") }));
        let c = &r.clusters[0];
        assert_eq!(c.key_usages.len(), 3);
        let fargate = &c.key_usages[0];
        assert_eq!(fargate.usage, KeyRole::FargateEphemeralStorage);
        assert_eq!(fargate.verdict, Verdict::Fail);
        assert_eq!(fargate.key_state.as_deref(), Some("Disabled"));
        assert_eq!(fargate.key_arn.as_deref(), Some(key_arn("k").as_str()));
        assert_eq!(c.key_usages[1].verdict, Verdict::Pass);
        // Worst first.
        assert_eq!(c.findings[0].verdict, Verdict::Fail);
    }
}
