//! KMS reads: DescribeKey, once per distinct key reference, asked in the
//! key's own Region.

use std::collections::BTreeSet;

use futures_util::{StreamExt, stream};

use super::{Clients, gap};
use crate::inventory::{KeyLookup, KeyMetadata, KeyRecord};

/// Describes each `(region, reference)` once.
pub async fn describe_all(
    clients: &dyn Clients,
    wanted: BTreeSet<(String, String)>,
    concurrency: usize,
) -> Vec<KeyRecord> {
    stream::iter(wanted)
        .map(|(region, reference)| async move {
            let describe = describe(clients, &region, &reference).await;
            KeyRecord {
                reference,
                region,
                describe,
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

async fn describe(clients: &dyn Clients, region: &str, reference: &str) -> KeyLookup {
    tracing::debug!(region, key = reference, "kms:DescribeKey");
    match clients
        .kms(region)
        .describe_key()
        .key_id(reference)
        .send()
        .await
    {
        Ok(output) => match output.key_metadata() {
            Some(m) => KeyLookup::Found {
                metadata: Box::new(metadata(m)),
            },
            None => KeyLookup::Unreadable {
                gap: crate::inventory::Gap {
                    operation: "kms:DescribeKey".to_string(),
                    resource: reference.to_string(),
                    code: "EmptyResponse".to_string(),
                    message: "DescribeKey returned no KeyMetadata".to_string(),
                },
            },
        },
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            KeyLookup::NotFound {
                message: err
                    .as_service_error()
                    .and_then(|e| e.meta().message())
                    .unwrap_or_default()
                    .to_string(),
            }
        }
        Err(err) => KeyLookup::Unreadable {
            gap: gap("kms:DescribeKey", reference, &err),
        },
    }
}

fn timestamp(t: &aws_sdk_kms::primitives::DateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

fn metadata(m: &aws_sdk_kms::types::KeyMetadata) -> KeyMetadata {
    KeyMetadata {
        arn: m.arn().unwrap_or(m.key_id()).to_string(),
        key_id: m.key_id().to_string(),
        account_id: m.aws_account_id().map(str::to_string),
        key_state: m.key_state().map(|s| s.as_str().to_string()),
        key_manager: m.key_manager().map(|s| s.as_str().to_string()),
        key_spec: m.key_spec().map(|s| s.as_str().to_string()),
        key_usage: m.key_usage().map(|s| s.as_str().to_string()),
        origin: m.origin().map(|s| s.as_str().to_string()),
        multi_region: m.multi_region(),
        multi_region_key_type: m
            .multi_region_configuration()
            .and_then(|c| c.multi_region_key_type())
            .map(|t| t.as_str().to_string()),
        custom_key_store_id: m.custom_key_store_id().map(str::to_string),
        deletion_date: m.deletion_date().and_then(timestamp),
        pending_deletion_window_in_days: m.pending_deletion_window_in_days(),
        valid_to: m.valid_to().and_then(timestamp),
        expiration_model: m.expiration_model().map(|s| s.as_str().to_string()),
    }
}
