//! A pure IAM policy evaluator for the question this tool asks of a key
//! policy: would KMS allow *this* request from *this* principal?
//!
//! It knows nothing of AWS SDKs or of Fargate: it takes a [`Policy`] (parsed
//! from the JSON GetKeyPolicy returns) and a [`Request`] (principal, action,
//! resource and condition keys), and answers [`Decision::Allow`],
//! [`Decision::ImplicitDeny`], [`Decision::ExplicitDeny`], or
//! [`Decision::Indeterminate`] when the outcome hangs on a condition key whose
//! presence or value in the real request is not known. An explicit Deny
//! always wins. The rules and their sources: `docs/policy-evaluation.md`.

mod cases;
mod condition;
mod document;
mod wildcard;

use std::collections::{BTreeMap, BTreeSet};

pub use document::{
    Base, Condition, Effect, NameMatch, Operator, Policy, PolicyError, PrincipalKind, PrincipalMatch, Principals,
    SetOperator, Statement,
};

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// A service principal name (`fargate.amazonaws.com`) or an AWS ARN.
    pub id: String,
}

impl Principal {
    pub fn service(name: &str) -> Self {
        Self { kind: PrincipalKind::Service, id: name.to_string() }
    }
}

/// What a condition key is in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Present, with these values: one for a single-valued key; any number,
    /// none included, for a multivalued key (`multi`).
    Values { values: &'a [String], multi: bool },
    /// Present, but with a value not known in advance (e.g. a volume id).
    PresentValueUnknown,
    /// Known to be absent.
    Absent,
    /// Not known whether it is present.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyFact {
    Values { values: Vec<String>, multi: bool },
    PresentValueUnknown,
    Absent,
}

/// A request to evaluate. Condition key names are case-insensitive, so they
/// are stored lower-cased; keys not described are *unknown*, not absent,
/// unless they fall under a prefix declared complete with
/// [`Request::absent_unless_listed`].
#[derive(Debug, Clone)]
pub struct Request {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    keys: BTreeMap<String, KeyFact>,
    complete_prefixes: BTreeSet<String>,
}

impl Request {
    pub fn new(principal: Principal, action: &str, resource: &str) -> Self {
        Self {
            principal,
            action: action.to_string(),
            resource: resource.to_string(),
            keys: BTreeMap::new(),
            complete_prefixes: BTreeSet::new(),
        }
    }

    /// A single-valued key, present with `value`.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        let fact = KeyFact::Values { values: vec![value.to_string()], multi: false };
        self.keys.insert(key.to_lowercase(), fact);
        self
    }

    /// A multivalued key (`kms:EncryptionContextKeys`, `kms:GrantOperations`),
    /// present with these values (possibly none).
    pub fn with_multi(mut self, key: &str, values: &[&str]) -> Self {
        let values = values.iter().map(|v| v.to_string()).collect();
        self.keys.insert(key.to_lowercase(), KeyFact::Values { values, multi: true });
        self
    }

    /// The key is present, but its value cannot be known in advance.
    pub fn with_unknown_value(mut self, key: &str) -> Self {
        self.keys.insert(key.to_lowercase(), KeyFact::PresentValueUnknown);
        self
    }

    /// The key is known to be absent.
    pub fn without(mut self, key: &str) -> Self {
        self.keys.insert(key.to_lowercase(), KeyFact::Absent);
        self
    }

    /// Every key under `prefix` that is not listed is absent (the request's
    /// whole encryption context is known, say).
    pub fn absent_unless_listed(mut self, prefix: &str) -> Self {
        self.complete_prefixes.insert(prefix.to_lowercase());
        self
    }

    pub fn lookup(&self, key: &str) -> Lookup<'_> {
        let key = key.to_lowercase();
        match self.keys.get(&key) {
            Some(KeyFact::Values { values, multi }) => Lookup::Values { values, multi: *multi },
            Some(KeyFact::PresentValueUnknown) => Lookup::PresentValueUnknown,
            Some(KeyFact::Absent) => Lookup::Absent,
            None if self.complete_prefixes.iter().any(|p| key.starts_with(p)) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

/// Three-valued truth, for statements whose match depends on unknowns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    /// Could be either; the reason says on what it depends.
    Unknown(String),
}

impl From<bool> for Tri {
    fn from(b: bool) -> Self {
        if b { Tri::True } else { Tri::False }
    }
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            u => u,
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allows it.
    ImplicitDeny,
    /// A Deny statement matches.
    ExplicitDeny,
    /// It depends on a condition key whose presence or value is not known.
    Indeterminate,
}

/// A decision with the statements that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// Labels (Sid or position) of the deciding statements: the matching
    /// Deny statements, the Allow statements that grant it, or the
    /// statements whose outcome is unknown. Empty for an implicit deny.
    pub deciding: Vec<String>,
    /// For an indeterminate result: what it depends on.
    pub unknowns: Vec<String>,
    /// How case splitting decided it, when it did ("allowed whatever
    /// kms:ViaService is").
    pub note: Option<String>,
}

/// Whether the principal, action and resource of `statement` match
/// `request`, conditions aside.
pub(crate) fn statement_targets(statement: &Statement, request: &Request) -> Tri {
    let principal = principal_matches(&statement.principal, &request.principal);
    if principal == Tri::False
        || !name_matches(&statement.action, &request.action, true)
        || !name_matches(&statement.resource, &request.resource, false)
    {
        return Tri::False;
    }
    principal
}

/// Whether `statement` applies to `request`.
pub fn statement_applies(statement: &Statement, request: &Request) -> Tri {
    let mut unknowns = Vec::new();
    let parts = std::iter::once(statement_targets(statement, request))
        .chain(statement.conditions.iter().map(|c| condition::evaluate(c, request)));
    for part in parts {
        match part {
            Tri::False => return Tri::False,
            Tri::Unknown(why) => unknowns.push(why),
            Tri::True => {}
        }
    }
    if unknowns.is_empty() { Tri::True } else { Tri::Unknown(unknowns.join("; ")) }
}

/// Evaluates `request` against `policy` with IAM's rules: default deny, an
/// explicit Allow is needed, and an explicit Deny overrides any Allow. When
/// the three-valued answer is Indeterminate because of unconfirmed condition
/// keys, every case those keys can be in is evaluated, and the answer is
/// decided when the cases agree (see [`cases`]).
pub fn evaluate(policy: &Policy, request: &Request) -> Evaluation {
    let base = evaluate_fixed(policy, request);
    if base.decision != Decision::Indeterminate {
        return base;
    }
    cases::split(policy, request, &base).unwrap_or(base)
}

/// The three-valued evaluation, without case splitting.
pub(crate) fn evaluate_fixed(policy: &Policy, request: &Request) -> Evaluation {
    let mut deny_true = Vec::new();
    let mut deny_unknown = Vec::new();
    let mut allow_true = Vec::new();
    let mut allow_unknown = Vec::new();
    for s in &policy.statements {
        let applies = statement_applies(s, request);
        match (s.effect, applies) {
            (_, Tri::False) => {}
            (Effect::Deny, Tri::True) => deny_true.push(s.label()),
            (Effect::Deny, Tri::Unknown(why)) => deny_unknown.push((s.label(), why)),
            (Effect::Allow, Tri::True) => allow_true.push(s.label()),
            (Effect::Allow, Tri::Unknown(why)) => allow_unknown.push((s.label(), why)),
        }
    }
    let split = |v: Vec<(String, String)>| -> (Vec<String>, Vec<String>) { v.into_iter().unzip() };
    let done = |decision, deciding, unknowns| Evaluation { decision, deciding, unknowns, note: None };
    if !deny_true.is_empty() {
        return done(Decision::ExplicitDeny, deny_true, vec![]);
    }
    if !allow_true.is_empty() {
        if deny_unknown.is_empty() {
            return done(Decision::Allow, allow_true, vec![]);
        }
        // Allowed, unless a Deny whose match is unknown applies.
        let (deciding, unknowns) = split(deny_unknown);
        return done(Decision::Indeterminate, deciding, unknowns);
    }
    if !allow_unknown.is_empty() {
        let (deciding, unknowns) = split(allow_unknown);
        return done(Decision::Indeterminate, deciding, unknowns);
    }
    // No Allow can apply: denied whether or not an uncertain Deny applies.
    done(Decision::ImplicitDeny, vec![], vec![])
}

fn principal_matches(spec: &PrincipalMatch, principal: &Principal) -> Tri {
    match spec {
        PrincipalMatch::Principal(p) => principals_include(p, principal),
        PrincipalMatch::NotPrincipal(p) => principals_include(p, principal).not(),
    }
}

fn principals_include(principals: &Principals, principal: &Principal) -> Tri {
    let listed = match principals {
        // "*" matches every principal, service principals included (the KMS
        // resource-control-policy examples rely on it).
        Principals::Everyone => return Tri::True,
        Principals::Listed(listed) => listed,
    };
    let mut unknown = None;
    for (kind, value) in listed {
        if *kind == principal.kind {
            // Compared exactly, as iam-simulate does; AWS documents no case rule.
            let hit = value == &principal.id || (*kind == PrincipalKind::Aws && value == "*");
            if hit {
                return Tri::True;
            }
        } else if *kind == PrincipalKind::Aws && value == "*" && principal.kind == PrincipalKind::Service {
            unknown = Some(
                "{\"AWS\": \"*\"} is documented for IAM principals; whether it covers a service principal is unconfirmed"
                    .to_string(),
            );
        }
    }
    unknown.map_or(Tri::False, Tri::Unknown)
}

fn name_matches(spec: &NameMatch, name: &str, ignore_case: bool) -> bool {
    let hit = |patterns: &[String]| {
        patterns
            .iter()
            .any(|p| if ignore_case { wildcard::matches_ignore_case(p, name) } else { wildcard::matches(p, name) })
    };
    match spec {
        NameMatch::Is(patterns) => hit(patterns),
        NameMatch::Not(patterns) => !hit(patterns),
    }
}

#[cfg(test)]
mod tests;
