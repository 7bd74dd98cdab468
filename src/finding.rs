//! What a check says: a [`Finding`] with its severity and its effect on the
//! verdict.
//!
//! Severity says how loud a finding is; [`Verdict`] says what it does to the
//! cluster's answer. They are separate because a warning (a key in another
//! Region, say) is worth reading without making a pipeline gate fail.

use std::borrow::Cow;

use serde::Serialize;

use crate::inventory::KeyRole;

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

/// A check's identity and the data about it that is not code: shared by
/// every finding it makes, every renderer and the docs.
#[derive(Debug)]
pub struct CheckMeta {
    /// Stable kebab-case id; a `## \`id\`` heading in `docs/checks.md`.
    pub id: &'static str,
    /// One line saying what the check looks at (rendered in JUnit).
    pub title: &'static str,
    /// The key usages it judges ([`ANY_USAGE`] for every one).
    pub usages: &'static [KeyRole],
}

/// Every key usage.
pub const ANY_USAGE: &[KeyRole] = &KeyRole::ALL;
/// The Fargate ephemeral storage key only: what only Fargate's own
/// requirements (customer managed, single-Region, its key policy) concern.
pub const FARGATE_ONLY: &[KeyRole] = &[KeyRole::FargateEphemeralStorage];

impl CheckMeta {
    /// Where the check is documented.
    pub fn docs(&self) -> String {
        format!("docs/checks.md#{}", self.id)
    }

    /// Whether the check judges `usage`.
    pub fn judges(&self, usage: KeyRole) -> bool {
        self.usages.contains(&usage)
    }
}

impl PartialEq for CheckMeta {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for CheckMeta {}

impl std::fmt::Display for CheckMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

fn check_id<S: serde::Serializer>(check: &&'static CheckMeta, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(check.id)
}

/// One statement about one cluster, from one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check that made it: only a check's own `META` can be named here,
    /// so a finding cannot claim another check's id. Serialized as the id.
    #[serde(serialize_with = "check_id")]
    pub check: &'static CheckMeta,
    pub severity: Severity,
    /// What this finding does to the verdict.
    pub verdict: Verdict,
    /// The key usage it is about; `None` for the cluster as a whole.
    pub usage: Option<KeyRole>,
    /// The key reference as configured, when the finding is about a key.
    pub key: Option<String>,
    /// The service whose running deployment pins the key, when the finding
    /// is about such a key rather than the cluster's own setting.
    pub service: Option<String>,
    /// Borrowed when the text is the same for every cluster (most passes):
    /// an estate of 100,000 clusters then holds one copy, not 100,000.
    pub message: Cow<'static, str>,
    /// The command (or steps) that fix it. Printed, never run.
    pub remediation: Option<String>,
}

impl Finding {
    /// A finding that makes the verdict fail.
    pub fn fail(check: &'static CheckMeta, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(check, Severity::Error, Verdict::Fail, message)
    }

    /// A finding that makes the verdict unknown.
    pub fn unknown(check: &'static CheckMeta, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(check, Severity::Warning, Verdict::Unknown, message)
    }

    /// A warning that leaves the verdict alone.
    pub fn warning(check: &'static CheckMeta, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(check, Severity::Warning, Verdict::Pass, message)
    }

    /// Information that leaves the verdict alone.
    pub fn info(check: &'static CheckMeta, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(check, Severity::Info, Verdict::Pass, message)
    }

    fn new(
        check: &'static CheckMeta,
        severity: Severity,
        verdict: Verdict,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        let mut message = message.into();
        // A formatted message grows by doubling: the slack, kept for every
        // cluster of a large estate, is given back.
        if let Cow::Owned(text) = &mut message {
            text.shrink_to_fit();
        }
        Self { check, severity, verdict, usage: None, key: None, service: None, message, remediation: None }
    }

    pub fn with_usage(mut self, usage: KeyRole, key: Option<&str>) -> Self {
        self.usage = Some(usage);
        self.key = key.map(str::to_string);
        self
    }

    /// Whether a reader must look at it: anything but plain information.
    pub fn needs_attention(&self) -> bool {
        self.severity > Severity::Info || self.verdict != Verdict::Pass
    }

    pub fn with_remediation(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = Some(remediation.into());
        self
    }
}
