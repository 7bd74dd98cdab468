//! The suppressions file: accepted risks, each with a reason and, ideally,
//! an expiry date.
//!
//! ```toml
//! [[suppress]]
//! check = "key-policy"
//! cluster = "partner-api"
//! reason = "cross-account key; its policy is reviewed by the partner team"
//! expires = 2027-01-31
//! ```
//!
//! Read from `--config FILE`, else `ecs-key-preflight.toml` in the working
//! directory when it exists; `--no-config` ignores it. Unknown fields and
//! unknown check ids are errors (exit 3), so a typo never silently
//! suppresses nothing or everything.

use std::path::Path;

use serde::Deserialize;

use crate::checks::REGISTRY;

/// The default file name, looked for in the working directory.
pub const DEFAULT_FILE: &str = "ecs-key-preflight.toml";

/// The suppressions file as written: what TOML and serde check (shapes,
/// unknown fields). Only [`validate`] turns it into a [`Config`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    suppress: Vec<toml::Spanned<RawSuppression>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    check: String,
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    key: Option<String>,
    reason: String,
    #[serde(default)]
    expires: Option<toml::value::Datetime>,
}

/// A validated configuration: every suppression names a known check, has a
/// reason, and a date for an expiry. Checks and reports only ever see this.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub suppress: Vec<Suppression>,
}

/// One accepted finding. Every field given must match; `check` is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The check id (docs/checks.md).
    pub check: String,
    /// Cluster name or ARN; any cluster when left out.
    pub cluster: Option<String>,
    /// For findings about a key pinned on a service's deployment.
    pub service: Option<String>,
    /// The key as configured, or its ARN.
    pub key: Option<String>,
    /// Why this is accepted; required, and shown in every report.
    pub reason: String,
    /// The day from which the suppression no longer applies (UTC).
    pub expires: Option<jiff::civil::Date>,
}

/// Every problem of a suppressions file, each with its line, found in one
/// pass (cargo-deny's way) rather than one at a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// Reads and validates a suppressions file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = crate::fsio::read_regular(path).map_err(|e| ConfigError { problems: vec![e] })?;
    parse(&text)
}

/// Parses and validates a suppressions file's text.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig =
        toml::from_str(text).map_err(|e| ConfigError { problems: vec![e.to_string().trim().replace('\n', " ")] })?;
    validate(raw, text)
}

fn validate(raw: RawConfig, text: &str) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let mut suppress = Vec::new();
    for (i, spanned) in raw.suppress.into_iter().enumerate() {
        let line = text[..spanned.span().start.min(text.len())].matches('\n').count() + 1;
        let at = format!("line {line}: suppress #{}", i + 1);
        let s = spanned.into_inner();
        let mut ok = true;
        if !REGISTRY.iter().any(|c| c.meta.id == s.check) {
            problems.push(format!("{at}: unknown check id \"{}\" (see docs/checks.md)", s.check));
            ok = false;
        }
        if s.reason.trim().is_empty() {
            problems.push(format!("{at}: a suppression needs a reason"));
            ok = false;
        }
        let expires = match &s.expires {
            None => None,
            Some(dt) => {
                let date = match (dt.date, dt.time) {
                    (Some(d), None) => jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok(),
                    _ => None,
                };
                if date.is_none() {
                    problems.push(format!("{at}: expires must be a date such as 2027-01-31, not {dt}"));
                    ok = false;
                }
                date
            }
        };
        if ok {
            suppress.push(Suppression {
                check: s.check,
                cluster: s.cluster,
                service: s.service,
                key: s.key,
                reason: s.reason,
                expires,
            });
        }
    }
    if problems.is_empty() { Ok(Config { suppress }) } else { Err(ConfigError { problems }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_table() {
        // (file, error text or "" when valid)
        let cases = [
            ("", ""),
            (
                "[[suppress]]\ncheck = \"key-policy\"\ncluster = \"partner\"\nreason = \"reviewed\"\nexpires = 2027-01-31\n",
                "",
            ),
            ("[[suppress]]\ncheck = \"key-polcy\"\nreason = \"typo\"\n", "unknown check id \"key-polcy\""),
            ("[[suppress]]\ncheck = \"key-policy\"\nreason = \" \"\n", "needs a reason"),
            ("[[suppress]]\ncheck = \"key-policy\"\n", "missing field `reason`"),
            ("[[suppress]]\ncheck = \"key-policy\"\nreason = \"r\"\nclustr = \"x\"\n", "unknown field `clustr`"),
            ("[[suppress]]\ncheck = \"key-policy\"\nreason = \"r\"\nexpires = \"next week\"\n", "expires"),
            (
                "[[suppress]]\ncheck = \"key-policy\"\nreason = \"r\"\nexpires = 2027-01-31T10:00:00Z\n",
                "must be a date",
            ),
            ("suppress = 3\n", "invalid type"),
        ];
        for (text, error) in cases {
            match parse(text) {
                Ok(_) => assert!(error.is_empty(), "{text:?} should fail with {error}"),
                Err(e) => assert!(!error.is_empty() && e.to_string().contains(error), "{text:?}: {e}"),
            }
        }
        let c = parse(cases[1].0).unwrap();
        assert_eq!(c.suppress[0].expires.unwrap().to_string(), "2027-01-31");
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_line() {
        let text = "[[suppress]]\ncheck = \"key-polcy\"\nreason = \"typo\"\n\n[[suppress]]\ncheck = \"key-state\"\nreason = \" \"\nexpires = 2027-01-31T10:00:00Z\n";
        let err = parse(text).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.problems[0].starts_with("line 1: suppress #1: unknown check id"), "{err}");
        assert!(err.problems[1].starts_with("line 5: suppress #2: a suppression needs a reason"), "{err}");
        assert!(err.problems[2].starts_with("line 5: suppress #2: expires must be a date"), "{err}");
        // One line, for exit 3's one-line error.
        assert!(!err.to_string().contains('\n'));
    }
}
