//! `key-alarm` (with `--alarms`): does a CloudWatch alarm watch for KMS
//! errors on this key, so that a key pending deletion or disabled is noticed
//! before the next launch needs it? The ECS guide says to "set a CloudWatch
//! alarm or similar"; the KMS guide documents the pending-deletion recipe:
//! a metric filter `{ $.eventSource = kms* && $.errorMessage = "* is
//! pending deletion."}` on a log group a CloudTrail trail delivers to, and an
//! alarm on its metric. There is no documented recipe for disabled keys;
//! `"* is disabled."` is the same recipe extrapolated, and said to be so.
//!
//! A missing alarm is a warning, never a failure: launches do not depend on
//! it. For the same reason an alarm set-up that could not be read is a
//! warning that says so, not an unknown verdict.

use super::{CheckMeta, ClusterCtx, FARGATE_ONLY, UsageCtx};
use crate::finding::Finding;
use crate::inventory::{AlarmFacts, Fact, KeyMetadata, MetricFilter};

pub static META: CheckMeta = CheckMeta {
    id: "key-alarm",
    title: "A CloudWatch alarm watches for KMS errors on the key (pending deletion, disabled); with --alarms",
    usages: FARGATE_ONLY,
};

fn normalized(pattern: &str) -> String {
    pattern.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect()
}

/// Key ids named in a pattern (a filter may be aimed at one key).
fn named_key_ids(n: &str) -> Vec<&str> {
    n.match_indices("key/")
        .map(|(i, _)| &n[i + 4..])
        .map(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).next().unwrap_or(""))
        .collect()
}

/// What a filter pattern watches for this key: (pending deletion, disabled).
pub fn coverage(pattern: &str, key_id: &str) -> (bool, bool) {
    let n = normalized(pattern);
    if !(n.contains("$.eventsource") && n.contains("kms")) {
        return (false, false);
    }
    let ids = named_key_ids(&n);
    if !ids.is_empty() && !ids.contains(&key_id.to_lowercase().as_str()) {
        return (false, false);
    }
    (n.contains("pendingdeletion"), n.contains("isdisabled") || n.contains("disabledexception"))
}

/// The alarms (names) that watch a filter's metrics and notify someone.
fn alarms_on<'a>(facts: &'a AlarmFacts, filter: &MetricFilter) -> Vec<&'a str> {
    facts
        .alarms
        .iter()
        .filter(|a| filter.metrics.iter().any(|(ns, name)| *ns == a.namespace && *name == a.metric_name))
        .filter(|a| a.actions_enabled && !a.alarm_actions.is_empty())
        .map(|a| a.name.as_str())
        .collect()
}

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let key = crate::inventory::alarm_key(ctx.cluster.account.as_deref(), &ctx.cluster.region);
    let Some(facts) = ctx.inventory.alarms.get(&key) else { return Vec::new() };
    ctx.for_each_described(&META, |u, m| {
        if u.pinned.is_some() {
            return None;
        }
        Some(match facts {
            Fact::Read { value } => judge(u, m, value),
            Fact::Unreadable { gap } => u.attach(Finding::warning(
                &META,
                format!("Whether a CloudWatch alarm watches key {} could not be verified: {}.", m.arn, gap.describe()),
            )),
            Fact::Skipped { reason } => {
                u.attach(Finding::info(&META, format!("Alarms for key {} were not checked: {reason}.", m.arn)))
            }
        })
    })
}

fn judge(u: &UsageCtx<'_>, m: &KeyMetadata, facts: &AlarmFacts) -> Finding {
    let region = &u.cluster.region;
    let group = facts.trail_log_groups.first().map(String::as_str).unwrap_or("<trail-log-group>");
    if facts.trail_log_groups.is_empty() {
        return u
            .attach(Finding::warning(&META,
                format!(
                    "No CloudTrail trail in {region} delivers to CloudWatch Logs, so no metric filter can see KMS errors on key {}: a key disabled or pending deletion goes unnoticed until a launch fails.",
                    m.arn
                ),
            ))
            .with_remediation(format!(
                "Send a trail to CloudWatch Logs (aws cloudtrail update-trail --name TRAIL --cloud-watch-logs-log-group-arn LOG_GROUP_ARN --cloud-watch-logs-role-arn ROLE_ARN), then:\n{}",
                recipe(group, region)
            ));
    }
    let mut pending = Vec::new();
    let mut disabled = Vec::new();
    for f in facts.metric_filters.iter().filter(|f| facts.trail_log_groups.contains(&f.log_group)) {
        let (p, d) = coverage(&f.pattern, &m.key_id);
        let alarms = alarms_on(facts, f);
        if p {
            pending.extend(alarms.iter().map(|a| a.to_string()));
        }
        if d {
            disabled.extend(alarms.iter().map(|a| a.to_string()));
        }
    }
    if !pending.is_empty() && !disabled.is_empty() {
        return u.attach(Finding::info(
            &META,
            format!(
                "Alarms watch KMS errors on key {}: pending deletion ({}), disabled ({}).",
                m.arn,
                pending.join(", "),
                disabled.join(", ")
            ),
        ));
    }
    let missing = match (pending.is_empty(), disabled.is_empty()) {
        (true, true) => "pending deletion or disabled",
        (true, false) => "pending deletion",
        _ => "disabled",
    };
    u.attach(Finding::warning(&META,
        format!(
            "No CloudWatch alarm (with an action) watches for KMS errors on key {} while it is {missing}: it would go unnoticed until a Fargate launch fails.",
            m.arn
        ),
    ))
    .with_remediation(recipe(group, region))
}

fn recipe(group: &str, region: &str) -> String {
    format!(
        "The KMS guide's alarm for keys pending deletion:
aws logs put-metric-filter --region {region} --log-group-name {group} --filter-name KMSKeyPendingDeletionErrorFilter --filter-pattern '{{ $.eventSource = kms* && $.errorMessage = \"* is pending deletion.\" }}' --metric-transformations metricName=KMSKeyPendingDeletionErrorCount,metricNamespace=CloudTrailLogMetrics,metricValue=1
aws cloudwatch put-metric-alarm --region {region} --alarm-name KMSKeyPendingDeletionErrorAlarm --namespace CloudTrailLogMetrics --metric-name KMSKeyPendingDeletionErrorCount --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching --alarm-actions SNS_TOPIC_ARN
For disabled keys (not an AWS-documented pattern: the same recipe with \"* is disabled.\"):
aws logs put-metric-filter --region {region} --log-group-name {group} --filter-name KMSKeyDisabledErrorFilter --filter-pattern '{{ $.eventSource = kms* && $.errorMessage = \"* is disabled.\" }}' --metric-transformations metricName=KMSKeyDisabledErrorCount,metricNamespace=CloudTrailLogMetrics,metricValue=1
aws cloudwatch put-metric-alarm --region {region} --alarm-name KMSKeyDisabledErrorAlarm --namespace CloudTrailLogMetrics --metric-name KMSKeyDisabledErrorCount --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching --alarm-actions SNS_TOPIC_ARN"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOptions;
    use crate::checks::testing::*;
    use crate::finding::{Severity, Verdict};
    use crate::inventory::MetricAlarm;

    const PENDING: &str = r#"{ $.eventSource = kms* && $.errorMessage = "* is pending deletion."}"#;
    const DISABLED: &str = r#"{ $.eventSource = kms* && $.errorMessage = "* is disabled."}"#;

    #[test]
    fn coverage_table() {
        // (pattern, key id, (pending, disabled))
        let cases = [
            (PENDING, "k", (true, false)),
            (DISABLED, "k", (false, true)),
            (r#"{ ($.eventSource = "kms.amazonaws.com") && ($.errorCode = "DisabledException") }"#, "k", (false, true)),
            (
                r#"{ $.eventSource = kms* && ($.errorMessage = "* is pending deletion." || $.errorMessage = "* is disabled.") }"#,
                "k",
                (true, true),
            ),
            // Aimed at another key: covers nothing here.
            (
                r#"{ $.eventSource = kms* && $.errorMessage = "* is pending deletion." && $.resources[0].ARN = "arn:aws:kms:us-east-1:123456789012:key/other-key" }"#,
                "k",
                (false, false),
            ),
            (
                r#"{ $.eventSource = kms* && $.errorMessage = "* is pending deletion." && $.resources[0].ARN = "arn:aws:kms:us-east-1:123456789012:key/k" }"#,
                "k",
                (true, false),
            ),
            (r#"{ $.eventSource = s3* && $.errorMessage = "* is pending deletion."}"#, "k", (false, false)),
            ("ERROR", "k", (false, false)),
        ];
        for (pattern, key, want) in cases {
            assert_eq!(coverage(pattern, key), want, "{pattern}");
        }
    }

    fn facts(filters: &[(&str, &str)], alarms: &[(&str, &str, bool)]) -> AlarmFacts {
        AlarmFacts {
            trail_log_groups: vec!["CloudTrail/logs".into()],
            metric_filters: filters
                .iter()
                .map(|(pattern, metric)| MetricFilter {
                    name: format!("{metric}Filter"),
                    log_group: "CloudTrail/logs".into(),
                    pattern: pattern.to_string(),
                    metrics: vec![("CloudTrailLogMetrics".into(), metric.to_string())],
                })
                .collect(),
            alarms: alarms
                .iter()
                .map(|(name, metric, actions)| MetricAlarm {
                    name: name.to_string(),
                    namespace: "CloudTrailLogMetrics".into(),
                    metric_name: metric.to_string(),
                    actions_enabled: true,
                    alarm_actions: if *actions {
                        vec!["arn:aws:sns:us-east-1:123456789012:ops".into()]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn alarm_table() {
        // (facts, severity, text)
        let both = facts(&[(PENDING, "P"), (DISABLED, "D")], &[("PA", "P", true), ("DA", "D", true)]);
        let pending_only = facts(&[(PENDING, "P")], &[("PA", "P", true)]);
        let silent = facts(&[(PENDING, "P"), (DISABLED, "D")], &[("PA", "P", false), ("DA", "D", false)]);
        let no_alarm = facts(&[(PENDING, "P")], &[]);
        let mut no_trail = both.clone();
        no_trail.trail_log_groups.clear();
        let mut other_group = both.clone();
        other_group.trail_log_groups = vec!["elsewhere".into()];
        let cases = [
            (both, Severity::Info, "pending deletion (PA), disabled (DA)"),
            (pending_only, Severity::Warning, "while it is disabled"),
            (silent, Severity::Warning, "while it is pending deletion or disabled"),
            (no_alarm, Severity::Warning, "pending deletion or disabled"),
            (no_trail, Severity::Warning, "No CloudTrail trail"),
            (other_group, Severity::Warning, "pending deletion or disabled"),
        ];
        for (f, severity, text) in cases {
            let mut inv = fargate_key(healthy("k"));
            inv.alarms.insert(REGION.into(), Fact::Read { value: f });
            let findings = eval(evaluate, &inv, &CheckOptions::default());
            assert_eq!(findings.len(), 1);
            assert_eq!(findings[0].severity, severity, "{text}");
            assert_eq!(findings[0].verdict, Verdict::Pass, "never more than a warning");
            assert!(findings[0].message.contains(text), "{}", findings[0].message);
            if severity == Severity::Warning {
                assert!(findings[0].remediation.as_deref().unwrap().contains("put-metric-alarm"));
            }
        }
    }

    #[test]
    fn not_requested_or_unreadable() {
        let inv = fargate_key(healthy("k"));
        assert!(eval(evaluate, &inv, &CheckOptions::default()).is_empty(), "without --alarms");
        let mut inv = fargate_key(healthy("k"));
        inv.alarms.insert(REGION.into(), Fact::Unreadable { gap: gap("AccessDeniedException") });
        let f = &eval(evaluate, &inv, &CheckOptions::default())[0];
        assert_eq!((f.severity, f.verdict), (Severity::Warning, Verdict::Pass));
        assert!(f.message.contains("could not be verified"));
    }
}
