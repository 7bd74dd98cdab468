//! `audit`: what CloudTrail says Fargate did with its keys, and which key
//! changes hit which clusters.
//!
//! Events arrive as CloudTrail records (from files via [`source`], or from
//! LookupEvents via `collect/`), are classified one at a time by
//! [`classify`], and folded into an [`Aggregator`]; nothing here calls AWS.
//! The result is an [`AuditReport`], rendered like `check`'s report.

pub mod classify;
pub mod source;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::finding::Verdict;
use classify::{Classified, ClusterRef, LaunchEvent, LifecycleEvent, Phase, classify};

/// Version of the audit JSON contract (docs/audit.md).
pub const AUDIT_SCHEMA_VERSION: u32 = 1;

/// The events' time window; events outside it are counted but not used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl Window {
    fn contains(&self, t: Option<Timestamp>) -> bool {
        match t {
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
            // An event without a readable time is kept only when no window is set.
            None => self.since.is_none() && self.until.is_none(),
        }
    }
}

/// Failures of one kind, for one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    pub operation: String,
    pub phase: Phase,
    pub error_code: String,
    /// The latest error message of this kind.
    pub message: String,
    pub key: Option<String>,
    pub count: u64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterAudit {
    pub cluster_account: String,
    pub cluster_name: String,
    /// `fail` when launches failed in the window: they are failing *now*.
    pub verdict: Verdict,
    /// Successful DryRun validations (from `fargate.amazonaws.com`).
    pub dry_run_calls: u64,
    /// Successful real calls (through `ec2-frontend-api.amazonaws.com`).
    pub real_calls: u64,
    /// Grants created by real CreateGrant calls: one per task started.
    pub tasks_started: u64,
    /// Of those, grants seen retired in the window (tasks ended).
    pub grants_retired: u64,
    pub last_successful_launch: Option<Timestamp>,
    pub keys: Vec<String>,
    pub failures: Vec<FailureGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecycleEntry {
    pub time: Option<Timestamp>,
    pub event_name: String,
    pub actor: Option<String>,
    pub detail: Option<String>,
    /// `Some((code, message))` when the change itself failed.
    pub error: Option<(String, String)>,
    /// The clusters that use the key (live configuration, or contexts seen).
    pub clusters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyAudit {
    pub key: String,
    pub last_fargate_use: Option<Timestamp>,
    /// Clusters whose Fargate calls named this key in the window.
    pub clusters_seen: Vec<String>,
    pub lifecycle: Vec<LifecycleEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventCounts {
    /// Records read from the source.
    pub read: u64,
    /// Records inside the window.
    pub in_window: u64,
    /// Fargate launch calls (DryRun and real), failed or not.
    pub fargate: u64,
    /// Key lifecycle changes.
    pub lifecycle: u64,
    pub retire_grant: u64,
}

/// Fargate calls whose encryption context names no cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unattributed {
    pub calls: u64,
    pub failures: Vec<FailureGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub schema_version: u32,
    pub tool: crate::report::Tool,
    /// What was read: "cloudtrail:LookupEvents in us-east-1", or the paths.
    pub source: Vec<String>,
    pub window: Window,
    /// Where lifecycle events were mapped to clusters from.
    pub cluster_mapping: &'static str,
    pub verdict: Verdict,
    pub exit_code: u8,
    pub events: EventCounts,
    pub files: source::ReadStats,
    /// Parts of the source that could not be read (LookupEvents denied, …).
    pub gaps: Vec<crate::inventory::Gap>,
    pub clusters: Vec<ClusterAudit>,
    pub unattributed: Unattributed,
    pub keys: Vec<KeyAudit>,
}

#[derive(Default)]
struct ClusterAcc {
    dry_run: u64,
    real: u64,
    tasks: u64,
    retired: u64,
    last_ok: Option<Timestamp>,
    keys: BTreeSet<String>,
    failures: Vec<FailureGroup>,
}

/// Folds classified events into per-cluster and per-key summaries.
#[derive(Default)]
pub struct Aggregator {
    window: Window,
    counts: EventCounts,
    clusters: BTreeMap<ClusterRef, ClusterAcc>,
    unattributed: Unattributed,
    /// Grant id → cluster, to match RetireGrant to the task's CreateGrant.
    grants: HashMap<String, ClusterRef>,
    retires: Vec<String>,
    last_use: BTreeMap<String, Timestamp>,
    lifecycle: Vec<(String, LifecycleEvent)>,
}

fn add_failure(failures: &mut Vec<FailureGroup>, e: &LaunchEvent, code: &str, message: &str) {
    let group = failures.iter_mut().find(|g| g.operation == e.operation && g.phase == e.phase && g.error_code == code);
    match group {
        Some(g) => {
            g.count += 1;
            if e.time >= g.last_seen {
                g.last_seen = e.time;
                g.message = message.to_string();
            }
            if g.first_seen.is_none() || e.time < g.first_seen {
                g.first_seen = e.time;
            }
        }
        None => failures.push(FailureGroup {
            operation: e.operation.clone(),
            phase: e.phase,
            error_code: code.to_string(),
            message: message.to_string(),
            key: e.key.clone(),
            count: 1,
            first_seen: e.time,
            last_seen: e.time,
        }),
    }
}

impl Aggregator {
    pub fn new(window: Window) -> Self {
        Self { window, ..Self::default() }
    }

    /// Takes one CloudTrail record.
    pub fn add(&mut self, record: &Value) {
        self.counts.read += 1;
        if !self.window.contains(classify::event_time(record)) {
            return;
        }
        self.counts.in_window += 1;
        match classify(record) {
            Classified::Launch(e) => self.launch(e),
            Classified::Retire { grant_id } => {
                self.counts.retire_grant += 1;
                self.retires.push(grant_id);
            }
            Classified::Lifecycle(e) => {
                self.counts.lifecycle += 1;
                // DisconnectCustomKeyStore names a store, not a key: it is
                // listed under the store.
                if let Some(subject) = e.key.clone().or_else(|| e.detail.clone()) {
                    self.lifecycle.push((subject, e));
                }
            }
            Classified::Ignored => {}
        }
    }

    fn launch(&mut self, e: LaunchEvent) {
        self.counts.fargate += 1;
        if e.error.is_none()
            && let (Some(key), Some(t)) = (&e.key, e.time)
        {
            let last = self.last_use.entry(key.clone()).or_insert(t);
            *last = (*last).max(t);
        }
        let Some(cluster) = e.cluster.clone() else {
            self.unattributed.calls += 1;
            if let Some((code, message)) = &e.error {
                add_failure(&mut self.unattributed.failures, &e, code, message);
            }
            return;
        };
        let acc = self.clusters.entry(cluster.clone()).or_default();
        if let Some(key) = &e.key {
            acc.keys.insert(key.clone());
        }
        match &e.error {
            Some((code, message)) => add_failure(&mut acc.failures, &e, code, message),
            None => {
                match e.phase {
                    Phase::DryRun => acc.dry_run += 1,
                    Phase::Real => {
                        acc.real += 1;
                        acc.last_ok = acc.last_ok.max(e.time);
                    }
                }
                if e.phase == Phase::Real && e.operation == "CreateGrant" {
                    acc.tasks += 1;
                    if let Some(id) = e.grant_id {
                        self.grants.insert(id, cluster);
                    }
                }
            }
        }
    }

    /// The report. `live_clusters` maps key ARNs to the clusters configured
    /// with them (from AWS); without it, the clusters seen using each key in
    /// the events stand in.
    pub fn finish(
        mut self,
        source: Vec<String>,
        files: source::ReadStats,
        gaps: Vec<crate::inventory::Gap>,
        live_clusters: Option<BTreeMap<String, BTreeSet<String>>>,
    ) -> AuditReport {
        for id in std::mem::take(&mut self.retires) {
            if let Some(cluster) = self.grants.get(&id)
                && let Some(acc) = self.clusters.get_mut(cluster)
            {
                acc.retired += 1;
            }
        }
        let seen: BTreeMap<String, BTreeSet<String>> = self.clusters.iter().fold(BTreeMap::new(), |mut m, (c, acc)| {
            for k in &acc.keys {
                m.entry(k.clone()).or_default().insert(c.name.clone());
            }
            m
        });
        let mapping = if live_clusters.is_some() {
            "live cluster configuration"
        } else {
            "encryption contexts seen in the events"
        };
        let users = live_clusters.unwrap_or_else(|| seen.clone());

        let clusters: Vec<ClusterAudit> = self
            .clusters
            .into_iter()
            .map(|(c, acc)| ClusterAudit {
                cluster_account: c.account,
                cluster_name: c.name,
                verdict: if acc.failures.is_empty() { Verdict::Pass } else { Verdict::Fail },
                dry_run_calls: acc.dry_run,
                real_calls: acc.real,
                tasks_started: acc.tasks,
                grants_retired: acc.retired,
                last_successful_launch: acc.last_ok,
                keys: acc.keys.into_iter().collect(),
                failures: acc.failures,
            })
            .collect();

        let mut keys: BTreeMap<String, KeyAudit> = BTreeMap::new();
        fn key_entry<'k>(
            keys: &'k mut BTreeMap<String, KeyAudit>,
            seen: &BTreeMap<String, BTreeSet<String>>,
            key: &str,
        ) -> &'k mut KeyAudit {
            keys.entry(key.to_string()).or_insert_with(|| KeyAudit {
                key: key.to_string(),
                last_fargate_use: None,
                clusters_seen: seen.get(key).map(|s| s.iter().cloned().collect()).unwrap_or_default(),
                lifecycle: vec![],
            })
        }
        for (key, t) in &self.last_use {
            key_entry(&mut keys, &seen, key).last_fargate_use = Some(*t);
        }
        for key in seen.keys() {
            key_entry(&mut keys, &seen, key);
        }
        self.lifecycle.sort_by_key(|(_, e)| e.time);
        for (key, e) in self.lifecycle {
            let clusters = users.get(&key).map(|s| s.iter().cloned().collect()).unwrap_or_default();
            key_entry(&mut keys, &seen, &key).lifecycle.push(LifecycleEntry {
                time: e.time,
                event_name: e.event_name,
                actor: e.actor,
                detail: e.detail,
                error: e.error,
                clusters,
            });
        }

        // The same meanings as check's: a failure seen outranks anything
        // not read; a source not read in full is unknown, never a pass.
        let failing = clusters.iter().any(|c| c.verdict == Verdict::Fail) || !self.unattributed.failures.is_empty();
        let verdict = if failing {
            Verdict::Fail
        } else if !gaps.is_empty() || !files.complete() {
            Verdict::Unknown
        } else {
            Verdict::Pass
        };
        let exit_code = verdict.exit_code();
        AuditReport {
            schema_version: AUDIT_SCHEMA_VERSION,
            tool: crate::report::Tool::this(),
            source,
            window: self.window,
            cluster_mapping: mapping,
            verdict,
            exit_code,
            events: self.counts,
            files,
            gaps,
            clusters,
            unattributed: self.unattributed,
            keys: keys.into_values().collect(),
        }
    }
}

/// Parses `--since` / `--until`: a duration back from `now` (`90m`, `24h`,
/// `7d`, `2w`) or a timestamp (`2026-11-29T00:00:00Z`, or a bare date).
pub fn parse_time(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = t.parse::<jiff::civil::Date>() {
        return date.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| e.to_string());
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("\"{text}\" is neither a duration (24h, 7d) nor a timestamp"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("\"{text}\": unknown unit \"{unit}\" (use s, m, h, d or w)")),
    };
    now.checked_sub(jiff::SignedDuration::from_secs(n.saturating_mul(seconds))).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
