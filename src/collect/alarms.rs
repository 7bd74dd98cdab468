//! CloudWatch reads for `check --alarms`: the trails that deliver to
//! CloudWatch Logs (DescribeTrails), the metric filters (DescribeMetricFilters)
//! and the metric alarms (DescribeAlarms), all pages, per Region.

use super::{Run, gap, names_next};
use crate::inventory::{AlarmFacts, Fact, MetricAlarm, MetricFilter};

/// The alarm set-up of one Region.
pub async fn read(run: &Run<'_>, region: &str) -> Fact<AlarmFacts> {
    let mut facts = AlarmFacts::default();

    let slot = run.call("cloudtrail:DescribeTrails", region).await;
    let trails = run.clients.cloudtrail(region).describe_trails().send().await;
    drop(slot);
    match trails {
        Ok(out) => {
            for trail in out.trail_list() {
                // arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*
                if let Some(arn) = trail.cloud_watch_logs_log_group_arn() {
                    let name = arn.split(":log-group:").nth(1).map(|n| n.trim_end_matches(":*"));
                    if let Some(name) = name {
                        facts.trail_log_groups.push(name.to_string());
                    }
                }
            }
        }
        Err(e) => return Fact::Unreadable { gap: gap("cloudtrail:DescribeTrails", region, &e) },
    }

    let mut pages = run.clients.logs(region).describe_metric_filters().into_paginator().send();
    let filters = |page: &aws_sdk_cloudwatchlogs::operation::describe_metric_filters::DescribeMetricFiltersOutput| {
        page.metric_filters()
            .iter()
            .map(|f| MetricFilter {
                name: f.filter_name().unwrap_or_default().to_string(),
                log_group: f.log_group_name().unwrap_or_default().to_string(),
                pattern: f.filter_pattern().unwrap_or_default().to_string(),
                metrics: f
                    .metric_transformations()
                    .iter()
                    .map(|m| (m.metric_namespace().to_string(), m.metric_name().to_string()))
                    .collect(),
            })
            .collect::<Vec<_>>()
    };
    let listed =
        run.every_page("logs:DescribeMetricFilters", region, &mut pages, filters, |p| names_next(p.next_token()));
    match listed.await {
        Ok(filters) => facts.metric_filters.extend(filters),
        Err(gap) => return Fact::Unreadable { gap },
    }

    let mut pages = run.clients.cloudwatch(region).describe_alarms().into_paginator().send();
    let alarms = |page: &aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput| {
        page.metric_alarms()
            .iter()
            .map(|a| MetricAlarm {
                name: a.alarm_name().unwrap_or_default().to_string(),
                namespace: a.namespace().unwrap_or_default().to_string(),
                metric_name: a.metric_name().unwrap_or_default().to_string(),
                actions_enabled: a.actions_enabled().unwrap_or(true),
                alarm_actions: a.alarm_actions().to_vec(),
            })
            .collect::<Vec<_>>()
    };
    let listed =
        run.every_page("cloudwatch:DescribeAlarms", region, &mut pages, alarms, |p| names_next(p.next_token()));
    match listed.await {
        Ok(alarms) => facts.alarms.extend(alarms),
        Err(gap) => return Fact::Unreadable { gap },
    }
    Fact::Read { value: facts }
}
