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

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub suppress: Vec<Suppression>,
}

/// One accepted finding. Every field given must match; `check` is required.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// The check id (docs/checks.md).
    pub check: String,
    /// Cluster name or ARN; any cluster when left out.
    #[serde(default)]
    pub cluster: Option<String>,
    /// For findings about a key pinned on a service's deployment.
    #[serde(default)]
    pub service: Option<String>,
    /// The key as configured, or its ARN.
    #[serde(default)]
    pub key: Option<String>,
    /// Why this is accepted; required, and shown in every report.
    pub reason: String,
    /// The day from which the suppression no longer applies (UTC), as a
    /// TOML date (`expires = 2027-01-31`).
    #[serde(default, rename = "expires")]
    expires_toml: Option<toml::value::Datetime>,
    /// `expires`, validated.
    #[serde(skip)]
    pub expires: Option<jiff::civil::Date>,
}

/// Reads and validates a suppressions file.
pub fn load(path: &Path) -> Result<Config, String> {
    let text = crate::fsio::read_regular(path)?;
    parse(&text)
}

/// Parses and validates a suppressions file's text.
pub fn parse(text: &str) -> Result<Config, String> {
    let mut config: Config = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
    for (i, s) in config.suppress.iter_mut().enumerate() {
        let at = format!("suppress #{}", i + 1);
        if !REGISTRY.iter().any(|c| c.meta.id == s.check) {
            return Err(format!("{at}: unknown check id \"{}\" (see docs/checks.md)", s.check));
        }
        if s.reason.trim().is_empty() {
            return Err(format!("{at}: a suppression needs a reason"));
        }
        if let Some(dt) = &s.expires_toml {
            let date = match (dt.date, dt.time) {
                (Some(d), None) => jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok(),
                _ => None,
            };
            s.expires = Some(date.ok_or_else(|| format!("{at}: expires must be a date such as 2027-01-31, not {dt}"))?);
        }
    }
    Ok(config)
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
                Err(e) => assert!(!error.is_empty() && e.contains(error), "{text:?}: {e}"),
            }
        }
        let c = parse(cases[1].0).unwrap();
        assert_eq!(c.suppress[0].expires.unwrap().to_string(), "2027-01-31");
    }
}
