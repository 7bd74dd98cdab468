//! CloudWatch reads for `check --alarms`: the trails that deliver to
//! CloudWatch Logs (DescribeTrails), the metric filters (DescribeMetricFilters)
//! and the metric alarms (DescribeAlarms), all pages, per Region.

use super::{Run, gap, names_next, unfinished};
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
    let mut more = false;
    while let Some(page) = run.page("logs:DescribeMetricFilters", region, pages.next()).await {
        if let Ok(page) = &page {
            more = names_next(page.next_token());
        }
        match page {
            Ok(page) => facts.metric_filters.extend(page.metric_filters().iter().map(|f| {
                MetricFilter {
                    name: f.filter_name().unwrap_or_default().to_string(),
                    log_group: f.log_group_name().unwrap_or_default().to_string(),
                    pattern: f.filter_pattern().unwrap_or_default().to_string(),
                    metrics: f
                        .metric_transformations()
                        .iter()
                        .map(|m| (m.metric_namespace().to_string(), m.metric_name().to_string()))
                        .collect(),
                }
            })),
            Err(e) => return Fact::Unreadable { gap: gap("logs:DescribeMetricFilters", region, &e) },
        }
    }
    if more {
        return Fact::Unreadable { gap: unfinished("logs:DescribeMetricFilters", region) };
    }

    let mut pages = run.clients.cloudwatch(region).describe_alarms().into_paginator().send();
    let mut more = false;
    while let Some(page) = run.page("cloudwatch:DescribeAlarms", region, pages.next()).await {
        if let Ok(page) = &page {
            more = names_next(page.next_token());
        }
        match page {
            Ok(page) => facts.alarms.extend(page.metric_alarms().iter().map(|a| MetricAlarm {
                name: a.alarm_name().unwrap_or_default().to_string(),
                namespace: a.namespace().unwrap_or_default().to_string(),
                metric_name: a.metric_name().unwrap_or_default().to_string(),
                actions_enabled: a.actions_enabled().unwrap_or(true),
                alarm_actions: a.alarm_actions().to_vec(),
            })),
            Err(e) => return Fact::Unreadable { gap: gap("cloudwatch:DescribeAlarms", region, &e) },
        }
    }
    if more {
        return Fact::Unreadable { gap: unfinished("cloudwatch:DescribeAlarms", region) };
    }
    Fact::Read { value: facts }
}
