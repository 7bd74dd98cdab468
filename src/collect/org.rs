//! Reaching beyond one account, read-only: the accounts of an AWS
//! Organization (`organizations:ListAccounts`), the credentials of a
//! read-only role in each member account (`sts:AssumeRole`), and the
//! Regions enabled in an account (`account:ListRegions`, for `--region all`).
//!
//! Each failure is a [`Gap`] naming the operation and the account, so that
//! the account comes out *unknown* with the reason while the rest of the
//! run goes on.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use crate::inventory::{Arn, Gap};
use crate::report::Identity;

/// The session name the member roles see in CloudTrail.
pub const SESSION_NAME: &str = "ecs-key-preflight";

/// How long assuming one role may take.
const ASSUME_TIMEOUT: Duration = Duration::from_secs(30);

/// One account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED` (State, else the
    /// older Status field).
    pub state: String,
}

impl OrgAccount {
    pub fn active(&self) -> bool {
        self.state == "ACTIVE"
    }
}

/// Whom `config`'s credentials belong to.
pub async fn caller(config: &SdkConfig) -> Result<Identity, Gap> {
    match aws_sdk_sts::Client::new(config).get_caller_identity().send().await {
        Ok(out) => Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        }),
        Err(e) => Err(super::gap("sts:GetCallerIdentity", "caller", &e)),
    }
}

/// Every account of the organization (every page), with the number of
/// requests made. Needs the management account or a delegated administrator.
pub async fn list_accounts(config: &SdkConfig) -> (Result<Vec<OrgAccount>, Gap>, u64) {
    let client = aws_sdk_organizations::Client::new(config);
    let mut pages = client.list_accounts().into_paginator().send();
    let accounts = |page: &aws_sdk_organizations::operation::list_accounts::ListAccountsOutput| -> Vec<OrgAccount> {
        page.accounts()
            .iter()
            .filter_map(|a| {
                let state = a
                    .state()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.status().map(|s| s.as_str().to_string()))
                    .unwrap_or_default();
                Some(OrgAccount { id: a.id()?.to_string(), name: a.name().map(str::to_string), state })
            })
            .collect()
    };
    let more = |page: &aws_sdk_organizations::operation::list_accounts::ListAccountsOutput| {
        super::names_next(page.next_token())
    };
    super::every_page(None, "organizations:ListAccounts", "organization", &mut pages, accounts, more).await
}

/// The ARN of role `role_name` in `account`, in the caller's partition.
pub fn role_arn(caller_arn: &str, account: &str, role_name: &str) -> String {
    let partition = Arn::parse(caller_arn).map(|a| a.partition).filter(|p| !p.is_empty()).unwrap_or("aws");
    format!("arn:{partition}:iam::{account}:role/{role_name}")
}

/// `base` with the credentials of `role_arn`, assumed now so that a refusal
/// is known before collection starts (and refreshed by the SDK after).
pub async fn assume(base: &SdkConfig, role_arn: &str, external_id: Option<&str>) -> Result<SdkConfig, Gap> {
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(SESSION_NAME).configure(base);
    if let Some(id) = external_id {
        builder = builder.external_id(id);
    }
    let provider = builder.build().await;
    let failed = |code: &str, message: String| Gap {
        operation: "sts:AssumeRole".into(),
        resource: role_arn.to_string(),
        code: code.to_string(),
        message,
    };
    match tokio::time::timeout(ASSUME_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(base.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()),
        Ok(Err(e)) => {
            let text = super::error::error_chain(&e);
            let code = ["AccessDenied", "RegionDisabled", "ExpiredToken", "InvalidClientTokenId"]
                .into_iter()
                .find(|c| text.contains(c))
                .unwrap_or("AssumeRoleFailed");
            tracing::warn!(role = role_arn, code, "{}", crate::render::text::visible(&text));
            Err(failed(code, text))
        }
        Err(_) => Err(failed("Timeout", "AssumeRole did not answer in time".into())),
    }
}

/// The Regions enabled in the account whose credentials `config` holds
/// (opted in, or enabled by default), with the number of requests made.
pub async fn enabled_regions(config: &SdkConfig, account: &str) -> (Result<Vec<String>, Gap>, u64) {
    use aws_sdk_account::types::RegionOptStatus;
    let client = aws_sdk_account::Client::new(config);
    let mut pages = client
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
    let regions = |page: &aws_sdk_account::operation::list_regions::ListRegionsOutput| -> Vec<String> {
        page.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect()
    };
    let more =
        |page: &aws_sdk_account::operation::list_regions::ListRegionsOutput| super::names_next(page.next_token());
    let (listed, requests) = super::every_page(None, "account:ListRegions", account, &mut pages, regions, more).await;
    (
        listed.map(|mut regions| {
            regions.sort();
            regions
        }),
        requests,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_follows_the_callers_partition() {
        let cases = [
            ("arn:aws:sts::123456789012:assumed-role/ci/x", "arn:aws:iam::111122223333:role/Preflight"),
            ("arn:aws-us-gov:iam::123456789012:user/me", "arn:aws-us-gov:iam::111122223333:role/Preflight"),
            ("", "arn:aws:iam::111122223333:role/Preflight"),
        ];
        for (caller, want) in cases {
            assert_eq!(role_arn(caller, "111122223333", "Preflight"), want);
        }
    }
}
