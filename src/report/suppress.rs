//! Applying the suppressions of the configuration: a matching finding is
//! moved out of the verdicts into `suppressed`, with its reason; an expired
//! suppression no longer applies, and one that matched nothing is reported,
//! so that stale entries do not pile up unseen.

use serde::Serialize;

use crate::config::Suppression;
use crate::finding::Finding;
use crate::inventory::{Cluster, Inventory, key_lookup_reference};

/// A finding that a suppression accepted.
#[derive(Debug, Clone, Serialize)]
pub struct SuppressedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// The suppression's reason.
    pub suppressed_because: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionStatus {
    /// It matched findings and took them out of the verdicts.
    Applied,
    /// Its date has passed: it no longer applies, and its findings count.
    Expired,
    /// It matched no finding: stale, or mistyped.
    Unused,
}

/// One suppression of the configuration, and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct SuppressionReport {
    pub check: String,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub key: Option<String>,
    pub reason: String,
    pub expires: Option<String>,
    pub status: SuppressionStatus,
    /// Findings it matched (taken out of the verdicts when applied).
    pub matched: usize,
}

pub(super) struct Tally<'a> {
    inventory: &'a Inventory,
    suppressions: &'a [Suppression],
    matched: Vec<usize>,
    expired: Vec<bool>,
}

impl<'a> Tally<'a> {
    pub(super) fn new(inventory: &'a Inventory, suppressions: &'a [Suppression]) -> Self {
        let today = inventory.collected_at.to_zoned(jiff::tz::TimeZone::UTC).date();
        let expired = suppressions.iter().map(|s| s.expires.is_some_and(|d| d <= today)).collect();
        Self { inventory, suppressions, matched: vec![0; suppressions.len()], expired }
    }

    /// Splits a cluster's findings into kept and suppressed.
    pub(super) fn split(
        &mut self,
        cluster: &Cluster,
        findings: Vec<Finding>,
    ) -> (Vec<Finding>, Vec<SuppressedFinding>) {
        // Without suppressions, the findings are kept as they are: no copy.
        if self.suppressions.is_empty() {
            return (findings, Vec::new());
        }
        // Sized up front: a report holds these for every cluster at once.
        let mut kept = Vec::with_capacity(findings.len());
        let mut suppressed = Vec::new();
        for f in findings {
            // Only problems are accepted; information stays as it is.
            let problem = f.needs_attention();
            let hit = problem.then(|| self.suppressions.iter().position(|s| self.matches(s, cluster, &f))).flatten();
            match hit {
                Some(i) => {
                    self.matched[i] += 1;
                    if self.expired[i] {
                        kept.push(f);
                    } else {
                        suppressed.push(SuppressedFinding {
                            finding: f,
                            suppressed_because: self.suppressions[i].reason.clone(),
                        });
                    }
                }
                None => kept.push(f),
            }
        }
        (kept, suppressed)
    }

    fn matches(&self, s: &Suppression, cluster: &Cluster, f: &Finding) -> bool {
        if s.check != f.check.id {
            return false;
        }
        if let Some(c) = &s.cluster
            && *c != cluster.name
            && Some(c) != cluster.arn.as_ref()
        {
            return false;
        }
        if s.service.is_some() && s.service != f.service {
            return false;
        }
        match &s.key {
            None => true,
            Some(k) => f.key.as_deref() == Some(k.as_str()) || self.key_arn(cluster, f).as_deref() == Some(k.as_str()),
        }
    }

    /// The ARN the finding's key resolved to, when it was described.
    fn key_arn(&self, cluster: &Cluster, f: &Finding) -> Option<String> {
        let configured = f.key.as_deref()?;
        let (_, reference) =
            key_lookup_reference(configured, cluster.arn.as_deref().unwrap_or_default(), &cluster.region);
        self.inventory.keys.get(&reference)?.metadata().map(|m| m.arn.clone())
    }

    pub(super) fn finish(self) -> Vec<SuppressionReport> {
        self.suppressions
            .iter()
            .enumerate()
            .map(|(i, s)| SuppressionReport {
                check: s.check.clone(),
                cluster: s.cluster.clone(),
                service: s.service.clone(),
                key: s.key.clone(),
                reason: s.reason.clone(),
                expires: s.expires.map(|d| d.to_string()),
                status: if self.expired[i] {
                    SuppressionStatus::Expired
                } else if self.matched[i] == 0 {
                    SuppressionStatus::Unused
                } else {
                    SuppressionStatus::Applied
                },
                matched: self.matched[i],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::checks::{CheckOptions, run};
    use crate::finding::Verdict;
    use crate::inventory::KeyMetadata;
    use crate::report::Report;

    fn suppression(text: &str) -> Vec<Suppression> {
        crate::config::parse(text).unwrap().suppress
    }

    #[test]
    fn suppression_table() {
        let inv = with_details(
            fargate_key(KeyMetadata { key_state: Some("Disabled".into()), ..healthy("k") }),
            healthy_details(),
        );
        let arn = key_arn("k");
        // (suppressions file, verdict, status)
        let cases = [
            (
                "[[suppress]]\ncheck = \"key-state\"\nreason = \"known\"\n".to_string(),
                Verdict::Pass,
                SuppressionStatus::Applied,
            ),
            (
                "[[suppress]]\ncheck = \"key-state\"\ncluster = \"prod\"\nreason = \"known\"\n".to_string(),
                Verdict::Pass,
                SuppressionStatus::Applied,
            ),
            (
                format!("[[suppress]]\ncheck = \"key-state\"\nkey = \"{arn}\"\nreason = \"known\"\n"),
                Verdict::Pass,
                SuppressionStatus::Applied,
            ),
            (
                "[[suppress]]\ncheck = \"key-state\"\ncluster = \"other\"\nreason = \"known\"\n".to_string(),
                Verdict::Fail,
                SuppressionStatus::Unused,
            ),
            (
                "[[suppress]]\ncheck = \"key-policy\"\nreason = \"known\"\n".to_string(),
                Verdict::Fail,
                SuppressionStatus::Unused,
            ),
            // The inventory was collected on 2026-11-30.
            (
                "[[suppress]]\ncheck = \"key-state\"\nreason = \"known\"\nexpires = 2026-11-30\n".to_string(),
                Verdict::Fail,
                SuppressionStatus::Expired,
            ),
            (
                "[[suppress]]\ncheck = \"key-state\"\nreason = \"known\"\nexpires = 2026-12-01\n".to_string(),
                Verdict::Pass,
                SuppressionStatus::Applied,
            ),
        ];
        for (file, verdict, status) in cases {
            let s = suppression(&file);
            let r = Report::build_with(
                &inv,
                run(&inv, &CheckOptions::default()),
                &s,
                crate::report::BuildOptions::default(),
            );
            assert_eq!(r.verdict, verdict, "{file}");
            assert_eq!(r.suppressions[0].status, status, "{file}");
            if status == SuppressionStatus::Applied {
                assert_eq!(r.clusters[0].suppressed[0].finding.check.id, "key-state");
                assert_eq!(r.clusters[0].suppressed[0].suppressed_because, "known");
                assert!(r.clusters[0].findings.iter().all(|f| f.check.id != "key-state"));
            }
        }
    }
}
