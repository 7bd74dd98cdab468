//! What a check says: a [`Finding`] with its severity and its effect on the
//! verdict.
//!
//! Severity says how loud a finding is; [`Verdict`] says what it does to the
//! cluster's answer. They are separate because a warning (a key in another
//! Region, say) is worth reading without making a pipeline gate fail.

use serde::Serialize;

use crate::inventory::Usage;

/// The answer for a key usage, a cluster, or the whole run. Ordered so that
/// the worst of several is their `max`: a failure outranks unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// New tasks will start, as far as the checked facts go.
    Pass,
    /// A fact needed for the answer could not be read.
    Unknown,
    /// New tasks will fail to start.
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Unknown => "unknown",
            Verdict::Fail => "fail",
        }
    }
}

/// How loud a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One statement about one cluster, from one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check id (kebab-case, documented in `docs/checks.md`).
    pub check: &'static str,
    pub severity: Severity,
    /// What this finding does to the verdict.
    pub verdict: Verdict,
    /// The key usage it is about; `None` for the cluster as a whole.
    pub usage: Option<Usage>,
    /// The key reference as configured, when the finding is about a key.
    pub key: Option<String>,
    /// The service whose running deployment pins the key, when the finding
    /// is about such a key rather than the cluster's own setting.
    pub service: Option<String>,
    pub message: String,
    /// The command (or steps) that fix it. Printed, never run.
    pub remediation: Option<String>,
}

impl Finding {
    /// A finding that makes the verdict fail.
    pub fn fail(check: &'static str, message: impl Into<String>) -> Self {
        Self::new(check, Severity::Error, Verdict::Fail, message)
    }

    /// A finding that makes the verdict unknown.
    pub fn unknown(check: &'static str, message: impl Into<String>) -> Self {
        Self::new(check, Severity::Warning, Verdict::Unknown, message)
    }

    /// A warning that leaves the verdict alone.
    pub fn warning(check: &'static str, message: impl Into<String>) -> Self {
        Self::new(check, Severity::Warning, Verdict::Pass, message)
    }

    /// Information that leaves the verdict alone.
    pub fn info(check: &'static str, message: impl Into<String>) -> Self {
        Self::new(check, Severity::Info, Verdict::Pass, message)
    }

    fn new(check: &'static str, severity: Severity, verdict: Verdict, message: impl Into<String>) -> Self {
        Self {
            check,
            severity,
            verdict,
            usage: None,
            key: None,
            service: None,
            message: message.into(),
            remediation: None,
        }
    }

    pub fn with_usage(mut self, usage: Usage, key: Option<&str>) -> Self {
        self.usage = Some(usage);
        self.key = key.map(str::to_string);
        self
    }

    pub fn with_remediation(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = Some(remediation.into());
        self
    }
}
