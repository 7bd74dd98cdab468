//! Errors that stop a run (exit code 3). Everything AWS could not tell us is
//! *not* an error: it is a gap in the inventory, and the verdict is unknown.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Source(String),
    #[error("no service named {service} exists in cluster {cluster}{}", ecs_says(reason))]
    ServiceNotFound { service: String, cluster: String, region: Option<String>, reason: String },
    #[error("no AWS Region configured")]
    NoRegion,
    #[error("no usable AWS credentials: {0}")]
    NoCredentials(String),
    #[error("profile \"{profile}\" gives no usable credentials: {reason}")]
    ProfileCredentials { profile: String, reason: String },
    #[error("invalid configuration {}: {reason}", path.display())]
    Config { path: PathBuf, reason: crate::config::ConfigError },
    #[error("cannot read inventory {}: {reason}", path.display())]
    Inventory { path: PathBuf, reason: String },
    #[error("cannot write {what} {}: {source}", path.display())]
    Write {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AppError {
    /// A one-line hint on what to do next, when there is one.
    pub fn hint(&self) -> Option<String> {
        if let AppError::ServiceNotFound { cluster, region, .. } = self {
            let region = region.as_deref().map(|r| format!(" --region {r}")).unwrap_or_default();
            return Some(format!("list the cluster's services: aws ecs list-services --cluster {cluster}{region}"));
        }
        self.static_hint().map(str::to_string)
    }

    fn static_hint(&self) -> Option<&'static str> {
        match self {
            AppError::NoRegion => Some("pass --region, set AWS_REGION, or set a region in your AWS profile"),
            AppError::NoCredentials(_) => Some(
                "set AWS_PROFILE or pass --profile (run `aws sso login` for SSO profiles), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ),
            AppError::ProfileCredentials { .. } => Some(
                "check the profile's name in ~/.aws/config (or AWS_CONFIG_FILE); for SSO profiles run `aws sso login --profile NAME`",
            ),
            AppError::Inventory { .. } => Some("an inventory is the JSON written by --save-inventory"),
            AppError::Config { .. } => Some("see docs/configuration.md; --no-config ignores the file"),
            AppError::Write { .. } | AppError::Usage(_) => None,
            AppError::Source(_) => {
                Some("--from takes a CloudTrail log file (.json or .json.gz), a directory of them, JSON lines, or -")
            }
            AppError::ServiceNotFound { .. } => None,
        }
    }
}

/// ECS's reason for a missing resource, unless it is the usual `MISSING`,
/// which the message already says in words.
fn ecs_says(reason: &str) -> String {
    if reason == "MISSING" { String::new() } else { format!(" (ECS says: {reason})") }
}
