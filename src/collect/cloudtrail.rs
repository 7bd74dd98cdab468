//! CloudTrail LookupEvents for `audit`: every KMS management event in a
//! window, all pages, never faster than the API's 2 requests per second per
//! account and Region ([BC-CT]). Events are handed to a callback one by one.

use std::time::Duration;

use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use jiff::Timestamp;
use serde_json::Value;
use tokio::time::Instant;

use super::{Clients, gap, unfinished};
use crate::inventory::Gap;

/// LookupEvents allows 2 requests per second per account and Region.
pub const LOOKUP_INTERVAL: Duration = Duration::from_millis(500);

/// How long to wait before the next request so that requests are at least
/// `interval` apart.
pub fn wait_before(last: Option<Instant>, now: Instant, interval: Duration) -> Duration {
    last.map_or(Duration::ZERO, |last| interval.saturating_sub(now.saturating_duration_since(last)))
}

/// What one Region's lookup gave.
#[derive(Debug, Default)]
pub struct Lookup {
    pub requests: u64,
    pub events: u64,
    /// Set when a request failed (after the SDK's retries); events read
    /// before it are kept.
    pub gap: Option<Gap>,
}

/// Reads every `EventSource=kms.amazonaws.com` event between `start` and
/// `end` in `region`, passing each parsed CloudTrail record to `sink`.
pub async fn lookup_kms_events(
    clients: &dyn Clients,
    region: &str,
    start: Timestamp,
    end: Timestamp,
    interval: Duration,
    sink: &mut (dyn FnMut(Value) + Send),
) -> Lookup {
    let client = clients.cloudtrail(region);
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value("kms.amazonaws.com")
        .build();
    let attribute = match attribute {
        Ok(a) => a,
        Err(e) => {
            return Lookup {
                gap: Some(Gap {
                    operation: "cloudtrail:LookupEvents".into(),
                    resource: region.into(),
                    code: "RequestConstructionFailed".into(),
                    message: e.to_string(),
                }),
                ..Lookup::default()
            };
        }
    };
    let mut out = Lookup::default();
    let mut token: Option<String> = None;
    // Tokens already followed: an endpoint that repeats one would
    // otherwise be asked the same page forever.
    let mut followed = std::collections::HashSet::new();
    let mut last: Option<Instant> = None;
    loop {
        let wait = wait_before(last, Instant::now(), interval);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        last = Some(Instant::now());
        out.requests += 1;
        tracing::debug!(region, page = out.requests, "cloudtrail:LookupEvents");
        // Every page is asked with the same parameters as the first (the
        // API requires it), plus the token.
        let response = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .start_time(DateTime::from_secs(start.as_second()))
            .end_time(DateTime::from_secs(end.as_second()))
            .max_results(50)
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match response {
            Ok(page) => page,
            Err(e) => {
                out.gap = Some(gap("cloudtrail:LookupEvents", region, &e));
                return out;
            }
        };
        for event in page.events() {
            let parsed = event.cloud_trail_event().and_then(|raw| serde_json::from_str::<Value>(raw).ok());
            if let Some(record) = parsed {
                out.events += 1;
                sink(record);
            }
        }
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
        match &token {
            None => return out,
            Some(t) if !followed.insert(t.clone()) => {
                out.gap = Some(unfinished("cloudtrail:LookupEvents", region));
                return out;
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_table() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // (last request, now, wait)
        let cases = [
            (None, t0, ms(0)),
            (Some(t0), t0, ms(500)),
            (Some(t0), t0 + ms(200), ms(300)),
            (Some(t0), t0 + ms(500), ms(0)),
            (Some(t0), t0 + ms(900), ms(0)),
        ];
        for (last, now, want) in cases {
            assert_eq!(wait_before(last, now, LOOKUP_INTERVAL), want);
        }
    }
}
