//! Case splitting: deciding a request whose condition keys are not all
//! known, when no value they could take changes the answer.
//!
//! Three-valued evaluation treats each statement that hangs on an unconfirmed
//! key (`kms:ViaService`, the EBS volume id, …) as independently uncertain.
//! That is safe but loose: `StringEquals V` in one Allow and `StringNotEquals
//! V` in another together allow whatever V is. Here each unconfirmed key is
//! put through every case it can be in (absent, when its presence is
//! unknown; each literal the policy compares it with; a witness for each
//! wildcard or case-folded pattern; a value matching nothing listed), the
//! policy is evaluated once per combination with the key fixed, and the
//! answer is claimed only when every combination agrees.
//!
//! The witnesses must cover every way a value can relate to the policy's
//! patterns, or a pass could be claimed that some real value would refuse.
//! Where that cannot be guaranteed cheaply (two overlapping wildcard
//! patterns on one key, nested CIDR blocks, a set operator on the key, a
//! documented multivalued key, more than [`MAX_CASES`] combinations), the
//! key is not split and the answer stays Indeterminate.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::condition::{base_match, parse_date};
use super::document::{Base, Condition, Policy};
use super::{Decision, Evaluation, Lookup, Request, Tri, evaluate_fixed, statement_targets};

/// At most this many combinations are evaluated for one request.
pub const MAX_CASES: usize = 256;

/// Keys AWS documents as multivalued: their value is a set, and sets of
/// witnesses are not enumerated.
const MULTIVALUED: &[&str] = &[
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:principalservicenameslist",
    "aws:resourceorgpaths",
    "aws:sourceorgpaths",
    "aws:tagkeys",
    "kms:encryptioncontextkeys",
    "kms:grantoperations",
];

/// One case of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseValue {
    Absent,
    /// Present with `value`; `label` says which class it stands for.
    Value {
        value: String,
        label: String,
    },
}

impl CaseValue {
    fn describe(&self, key: &str) -> String {
        match self {
            CaseValue::Absent => format!("{key} is absent"),
            CaseValue::Value { label, .. } => format!("{key} is {label}"),
        }
    }
}

/// An unconfirmed key and every case it can be in.
#[derive(Debug, Clone)]
pub struct KeyCases {
    /// As first written in the policy (for messages).
    pub key: String,
    pub cases: Vec<CaseValue>,
}

/// The unconfirmed keys the statements that could apply to `request` test,
/// with their cases; `None` when one of them cannot be split soundly.
pub fn plan(policy: &Policy, request: &Request) -> Option<Vec<KeyCases>> {
    // key (lower-cased) → (key as written, presence unknown, its conditions)
    let mut keys: Vec<(String, String, bool, Vec<&Condition>)> = Vec::new();
    for s in &policy.statements {
        if statement_targets(s, request) == Tri::False {
            continue;
        }
        for c in &s.conditions {
            let presence_unknown = match request.lookup(&c.key) {
                Lookup::Unknown => true,
                Lookup::PresentValueUnknown => false,
                _ => continue,
            };
            let lower = c.key.to_lowercase();
            match keys.iter_mut().find(|k| k.0 == lower) {
                Some(k) => k.3.push(c),
                None => keys.push((lower, c.key.clone(), presence_unknown, vec![c])),
            }
        }
    }
    if keys.is_empty() {
        return None;
    }
    keys.into_iter()
        .map(|(lower, key, presence_unknown, conditions)| {
            let mut cases = if presence_unknown { vec![CaseValue::Absent] } else { Vec::new() };
            cases.extend(witnesses(&lower, &conditions)?);
            Some(KeyCases { key, cases })
        })
        .collect()
}

/// Evaluates `request` once per combination of the cases of [`plan`], and
/// answers when they agree. `None`: not split, or the cases disagree in a
/// way that leaves `base` (the three-valued answer) as the honest one.
pub fn split(policy: &Policy, request: &Request, base: &Evaluation) -> Option<Evaluation> {
    let keys = plan(policy, request)?;
    let total = keys.iter().try_fold(1usize, |n, k| n.checked_mul(k.cases.len())).filter(|n| *n <= MAX_CASES)?;
    let mut outcomes: Vec<(Vec<&CaseValue>, Evaluation)> = Vec::with_capacity(total);
    for index in 0..total {
        let (fixed, assignment) = fix(request, &keys, index);
        let e = evaluate_fixed(policy, &fixed);
        if e.decision == Decision::Indeterminate {
            // Something else (a policy variable, {"AWS": "*"}) stays open.
            return None;
        }
        outcomes.push((assignment, e));
    }
    let names = keys.iter().map(|k| k.key.as_str()).collect::<Vec<_>>().join(", ");
    let union = |pred: &dyn Fn(&Evaluation) -> bool| -> Vec<String> {
        let set: BTreeSet<&String> = outcomes.iter().filter(|(_, e)| pred(e)).flat_map(|(_, e)| &e.deciding).collect();
        set.into_iter().cloned().collect()
    };
    let allowed = outcomes.iter().filter(|(_, e)| e.decision == Decision::Allow).count();
    let explicit = outcomes.iter().filter(|(_, e)| e.decision == Decision::ExplicitDeny).count();
    if allowed == total {
        return Some(Evaluation {
            decision: Decision::Allow,
            deciding: union(&|_| true),
            unknowns: vec![],
            note: Some(format!("allowed whatever {names} is")),
        });
    }
    if allowed == 0 {
        let (decision, note) = if explicit == total {
            (Decision::ExplicitDeny, format!("denied whatever {names} is"))
        } else if explicit == 0 {
            (Decision::ImplicitDeny, format!("no statement allows it, whatever {names} is"))
        } else {
            let (case, _) = outcomes.iter().find(|(_, e)| e.decision == Decision::ImplicitDeny)?;
            (
                Decision::ExplicitDeny,
                format!(
                    "denied whatever {names} is: explicitly when a Deny applies, and by default otherwise (when {}, no statement allows it)",
                    describe(&keys, case)
                ),
            )
        };
        return Some(Evaluation {
            decision,
            deciding: union(&|e| e.decision == Decision::ExplicitDeny),
            unknowns: vec![],
            note: Some(note),
        });
    }
    let (allow_case, _) = outcomes.iter().find(|(_, e)| e.decision == Decision::Allow)?;
    let (deny_case, _) = outcomes.iter().find(|(_, e)| e.decision != Decision::Allow)?;
    Some(Evaluation {
        decision: Decision::Indeterminate,
        deciding: base.deciding.clone(),
        unknowns: vec![format!(
            "the outcome depends on {names}: allowed when {}, refused when {}; whether and with what value Fargate's request carries it is not documented",
            describe(&keys, allow_case),
            describe(&keys, deny_case)
        )],
        note: None,
    })
}

/// The request with every split key fixed to the case `index` selects
/// (a mixed-radix number over the keys' case counts).
fn fix<'k>(request: &Request, keys: &'k [KeyCases], mut index: usize) -> (Request, Vec<&'k CaseValue>) {
    let mut fixed = request.clone();
    let mut assignment = Vec::with_capacity(keys.len());
    for k in keys {
        let case = &k.cases[index % k.cases.len()];
        index /= k.cases.len();
        fixed = match case {
            CaseValue::Absent => fixed.without(&k.key),
            CaseValue::Value { value, .. } => fixed.with(&k.key, value),
        };
        assignment.push(case);
    }
    (fixed, assignment)
}

fn describe(keys: &[KeyCases], assignment: &[&CaseValue]) -> String {
    keys.iter().zip(assignment).map(|(k, c)| c.describe(&k.key)).collect::<Vec<_>>().join(" and ")
}

/// The values standing for every class of values the conditions on one key
/// can tell apart; `None` when that cannot be guaranteed.
fn witnesses(key: &str, conditions: &[&Condition]) -> Option<Vec<CaseValue>> {
    if MULTIVALUED.contains(&key) || conditions.iter().any(|c| c.operator.set.is_some()) {
        return None;
    }
    if conditions.iter().any(|c| c.has_variable) {
        return None;
    }
    let atoms: Vec<(Base, &str)> = conditions
        .iter()
        .filter(|c| c.operator.base != Base::Null)
        .flat_map(|c| c.values.iter().map(move |v| (c.operator.base, v.as_str())))
        .collect();
    let families: BTreeSet<Family> = atoms.iter().map(|(b, _)| family(*b)).collect();
    match families.len() {
        // Only Null conditions: any present value will do.
        0 => Some(vec![value("any value", "x")]),
        1 => match families.first()? {
            Family::Text => text_witnesses(&atoms),
            Family::Numeric => ordered_witnesses(&atoms, |p| {
                p.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(OrderedPoint::Number)
            }),
            Family::Date => ordered_witnesses(&atoms, |p| parse_date(p).map(OrderedPoint::Time)),
            Family::Ip => ip_witnesses(&atoms),
        },
        // A key compared as a number and as text: not worth the risk.
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Text,
    Numeric,
    Date,
    Ip,
}

fn family(base: Base) -> Family {
    use Base::*;
    match base {
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => Family::Numeric,
        DateEquals | DateNotEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => {
            Family::Date
        }
        IpAddress | NotIpAddress => Family::Ip,
        _ => Family::Text,
    }
}

fn value(label: &str, v: &str) -> CaseValue {
    CaseValue::Value { value: v.to_string(), label: label.to_string() }
}

/// A set of values a text pattern matches, beyond exact literals.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TextSet {
    /// Equal ignoring case (StringEqualsIgnoreCase), Unicode lower case.
    Folded(String),
    /// Equal ignoring ASCII case (Bool).
    AsciiFolded(String),
    /// A `*`/`?` pattern: StringLike (`arn: false`) or ArnLike.
    Wildcard { pattern: String, arn: bool },
}

impl TextSet {
    fn contains(&self, v: &str) -> bool {
        match self {
            TextSet::Folded(l) => v.to_lowercase() == *l,
            TextSet::AsciiFolded(l) => v.to_ascii_lowercase() == *l,
            TextSet::Wildcard { pattern, arn: false } => base_match(Base::StringLike, v, pattern),
            TextSet::Wildcard { pattern, arn: true } => base_match(Base::ArnLike, v, pattern),
        }
    }

    /// Values to try for a member of the set.
    fn candidates(&self, n: usize) -> Vec<String> {
        match self {
            TextSet::Folded(l) | TextSet::AsciiFolded(l) => {
                let upper = l.to_uppercase();
                let mut first_up: String = l.chars().take(1).flat_map(char::to_uppercase).collect();
                first_up.extend(l.chars().skip(1));
                vec![l.clone(), upper, first_up]
            }
            TextSet::Wildcard { pattern, .. } => (0..n + 3)
                .map(|i| {
                    let q = char::from(b'a' + (i % 26) as u8);
                    pattern
                        .chars()
                        .map(|c| match c {
                            '*' => "x".repeat(i),
                            '?' => q.to_string(),
                            c => c.to_string(),
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// Witnesses for string, Bool, binary and ARN operators: every literal, one
/// non-literal member of each pattern's set, and one value in none of them.
/// Sound when the non-literal sets are pairwise disjoint or identical: at
/// most one wildcard pattern, or only case-folded sets of one kind.
fn text_witnesses(atoms: &[(Base, &str)]) -> Option<Vec<CaseValue>> {
    use Base::*;
    let mut literals: BTreeSet<&str> = BTreeSet::new();
    let mut sets: Vec<TextSet> = Vec::new();
    let is_wild = |p: &str| p.contains(['*', '?']);
    for &(base, p) in atoms {
        let set = match base {
            StringEquals | StringNotEquals | BinaryEquals => {
                literals.insert(p);
                continue;
            }
            StringLike | StringNotLike if p.chars().all(|c| c == '*') => continue, // matches every value
            StringLike | StringNotLike if !is_wild(p) => {
                literals.insert(p);
                continue;
            }
            StringLike | StringNotLike => TextSet::Wildcard { pattern: p.to_string(), arn: false },
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike if p == "*" => continue, // matches every value
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                if p.splitn(6, ':').count() != 6 {
                    continue; // matches no value
                }
                if !is_wild(p) {
                    literals.insert(p);
                    continue;
                }
                TextSet::Wildcard { pattern: p.to_string(), arn: true }
            }
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => TextSet::Folded(p.to_lowercase()),
            Bool => TextSet::AsciiFolded(p.to_ascii_lowercase()),
            _ => return None,
        };
        if !sets.contains(&set) {
            sets.push(set);
        }
    }
    let wildcards = sets.iter().filter(|s| matches!(s, TextSet::Wildcard { .. })).count();
    let folded = sets.iter().any(|s| matches!(s, TextSet::Folded(_)));
    let ascii = sets.iter().any(|s| matches!(s, TextSet::AsciiFolded(_)));
    let disjoint = if wildcards > 0 { sets.len() == 1 } else { !(folded && ascii) };
    if !disjoint {
        return None;
    }
    let mut out: Vec<CaseValue> = literals.iter().map(|l| value(&format!("\"{l}\""), l)).collect();
    for set in &sets {
        let member =
            set.candidates(literals.len()).into_iter().find(|c| set.contains(c) && !literals.contains(c.as_str()))?;
        let label = match set {
            TextSet::Wildcard { pattern, .. } => format!("another value matching \"{pattern}\" (\"{member}\")"),
            _ => format!("\"{member}\""),
        };
        out.push(CaseValue::Value { value: member, label });
    }
    let other = ["", "other-value", "\u{1}", "~~"]
        .into_iter()
        .find(|c| !literals.contains(c) && !sets.iter().any(|s| s.contains(c)))?;
    out.push(value("any other value", other));
    Some(out)
}

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum OrderedPoint {
    Number(f64),
    Time(jiff::Timestamp),
}

impl OrderedPoint {
    fn render(self) -> String {
        match self {
            OrderedPoint::Number(n) => n.to_string(),
            OrderedPoint::Time(t) => t.to_string(),
        }
    }

    fn between(a: OrderedPoint, b: OrderedPoint) -> Option<OrderedPoint> {
        match (a, b) {
            (OrderedPoint::Number(a), OrderedPoint::Number(b)) => {
                let mid = a / 2.0 + b / 2.0;
                (mid > a && mid < b).then_some(OrderedPoint::Number(mid))
            }
            (OrderedPoint::Time(a), OrderedPoint::Time(b)) => {
                let mid = (a.as_nanosecond() + b.as_nanosecond()) / 2;
                let mid = jiff::Timestamp::from_nanosecond(mid).ok()?;
                (mid > a && mid < b).then_some(OrderedPoint::Time(mid))
            }
            _ => None,
        }
    }

    fn shifted(self, by: i64) -> Option<OrderedPoint> {
        match self {
            OrderedPoint::Number(n) => Some(OrderedPoint::Number(n + by as f64)),
            OrderedPoint::Time(t) => t.checked_add(jiff::SignedDuration::from_secs(by)).ok().map(OrderedPoint::Time),
        }
    }
}

/// Witnesses for numeric and date operators: comparisons with constants cut
/// the line into the constants and the open intervals between them, so
/// each constant, a point inside each interval, one beyond each end, and a
/// value that does not parse cover every class.
fn ordered_witnesses(atoms: &[(Base, &str)], parse: impl Fn(&str) -> Option<OrderedPoint>) -> Option<Vec<CaseValue>> {
    let mut points: Vec<OrderedPoint> = atoms.iter().filter_map(|(_, p)| parse(p)).collect();
    points.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    points.dedup();
    let mut out = Vec::new();
    let mut push = |p: OrderedPoint| {
        let v = p.render();
        if parse(&v) != Some(p) {
            return false;
        }
        out.push(value(&format!("\"{v}\""), &v));
        true
    };
    match (points.first(), points.last()) {
        (Some(&first), Some(&last)) => {
            let (below, above) = (first.shifted(-1)?, last.shifted(1)?);
            // A shift lost to rounding would stand for no class at all.
            if below >= first || above <= last || !push(below) || !push(above) {
                return None;
            }
            for w in points.windows(2) {
                if !push(w[0]) || !push(OrderedPoint::between(w[0], w[1])?) {
                    return None;
                }
            }
            if !push(last) {
                return None;
            }
        }
        _ => {
            if !push(OrderedPoint::Number(0.0)) {
                return None;
            }
        }
    }
    out.push(value("a value that is not a number or a date", "not-a-value"));
    Some(out)
}

/// Witnesses for IpAddress / NotIpAddress: one address in each block and a
/// value in none; sound when the blocks are pairwise disjoint or identical.
fn ip_witnesses(atoms: &[(Base, &str)]) -> Option<Vec<CaseValue>> {
    let mut blocks: Vec<(IpAddr, u32)> = Vec::new();
    for (_, p) in atoms {
        let (net, bits) = match p.trim().split_once('/') {
            Some((n, b)) => (n, Some(b.parse::<u32>().ok()?)),
            None => (p.trim(), None),
        };
        let Ok(ip) = net.parse::<IpAddr>() else { continue };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max).min(max);
        let block = (mask(ip, bits), bits);
        if !blocks.contains(&block) {
            blocks.push(block);
        }
    }
    for (i, a) in blocks.iter().enumerate() {
        for b in &blocks[i + 1..] {
            let shorter = a.1.min(b.1);
            if a.0.is_ipv4() == b.0.is_ipv4() && mask(a.0, shorter) == mask(b.0, shorter) {
                return None; // nested blocks
            }
        }
    }
    let mut out: Vec<CaseValue> = blocks.iter().map(|(ip, _)| value(&format!("\"{ip}\""), &ip.to_string())).collect();
    out.push(value("a value in none of the blocks", "not-an-address"));
    Some(out)
}

fn mask(ip: IpAddr, bits: u32) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            IpAddr::from(std::net::Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            IpAddr::from(std::net::Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Principal, Request};
    use proptest::prelude::*;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// The real GenerateDataKeyWithoutPlaintext of a Fargate launch: the
    /// volume id present with an unknown value; kms:ViaService and
    /// kms:CallerAccount of unknown presence.
    fn request() -> Request {
        Request::new(Principal::service("fargate.amazonaws.com"), "kms:GenerateDataKeyWithoutPlaintext", KEY)
            .with("kms:EncryptionContext:aws:ecs:clusterName", "prod-api")
            .with_unknown_value("kms:EncryptionContext:aws:ebs:id")
    }

    const KEYS: [&str; 4] = [
        "kms:ViaService",
        "kms:CallerAccount",
        "kms:EncryptionContext:aws:ebs:id",
        "kms:EncryptionContext:aws:ecs:clusterName",
    ];
    const OPERATORS: [&str; 12] = [
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "StringEqualsIfExists",
        "StringNotEqualsIfExists",
        "StringLikeIfExists",
        "StringEqualsIgnoreCase",
        "Null",
        "ForAnyValue:StringEquals",
        "ForAllValues:StringNotEquals",
        "ArnLike",
    ];
    const PATTERNS: [&str; 9] = [
        "ec2.us-east-1.amazonaws.com",
        "EC2.us-east-1.amazonaws.com",
        "ec2.*",
        "*",
        "*.amazonaws.com",
        "111122223333",
        "prod-api",
        "vol-?",
        "arn:aws:ec2:*:*:volume/*",
    ];
    /// Values a brute-force check tries for each unconfirmed key, beyond the
    /// patterns themselves: near misses, case variants, the empty string.
    const POOL: [&str; 8] = [
        "",
        "zzz",
        "ec2.us-east-1.amazonaws.comX",
        "EC2.US-EAST-1.AMAZONAWS.COM",
        "ec2.eu-west-1.amazonaws.com",
        "vol-1",
        "vol-12",
        "arn:aws:ec2:us-east-1:111122223333:volume/vol-1",
    ];

    fn condition() -> impl Strategy<Value = String> {
        (0..OPERATORS.len(), 0..KEYS.len(), proptest::collection::vec(0..PATTERNS.len(), 1..3), any::<bool>()).prop_map(
            |(op, key, values, null)| {
                let op = OPERATORS[op];
                let values: Vec<&str> = if op == "Null" {
                    vec![if null { "true" } else { "false" }]
                } else {
                    values.into_iter().map(|v| PATTERNS[v]).collect()
                };
                format!(r#""{op}":{{"{}":{}}}"#, KEYS[key], serde_json::to_string(&values).unwrap())
            },
        )
    }

    fn statement() -> impl Strategy<Value = String> {
        (any::<bool>(), any::<bool>(), any::<bool>(), proptest::collection::vec(condition(), 0..3)).prop_map(
            |(allow, star, all_actions, conditions)| {
                let effect = if allow { "Allow" } else { "Deny" };
                let principal = if star { r#""*""# } else { r#"{"Service":"fargate.amazonaws.com"}"# };
                let action = if all_actions { "kms:*" } else { "kms:GenerateDataKeyWithoutPlaintext" };
                // Two conditions under one operator would be one JSON object
                // with a duplicate key: keep the first of each operator.
                let mut seen = Vec::new();
                let conditions: Vec<String> = conditions
                    .into_iter()
                    .filter(|c| {
                        let op = c.split(':').next().unwrap_or_default().to_string();
                        let fresh = !seen.contains(&op);
                        seen.push(op);
                        fresh
                    })
                    .collect();
                format!(
                    r#"{{"Effect":"{effect}","Principal":{principal},"Action":"{action}","Resource":"*","Condition":{{{}}}}}"#,
                    conditions.join(",")
                )
            },
        )
    }

    fn policy() -> impl Strategy<Value = Policy> {
        proptest::collection::vec(statement(), 1..4).prop_map(|s| {
            Policy::parse(&format!(r#"{{"Statement":[{}]}}"#, s.join(","))).expect("generated policies parse")
        })
    }

    fn allows(d: Decision) -> Option<bool> {
        match d {
            Decision::Allow => Some(true),
            Decision::ImplicitDeny | Decision::ExplicitDeny => Some(false),
            Decision::Indeterminate => None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
        ))]

        /// A decided answer agrees with every enumerated case.
        #[test]
        fn decided_answers_hold_in_every_enumerated_case(policy in policy()) {
            let req = request();
            let got = crate::policy::evaluate(&policy, &req);
            let Some(want) = allows(got.decision) else { return Ok(()) };
            let Some(keys) = plan(&policy, &req) else { return Ok(()) };
            let total: usize = keys.iter().map(|k| k.cases.len()).product();
            prop_assume!(total <= MAX_CASES);
            for index in 0..total {
                let (fixed, _) = fix(&req, &keys, index);
                let case = evaluate_fixed(&policy, &fixed);
                prop_assert_eq!(allows(case.decision), Some(want), "case {} of {:?}: {:?}", index, keys, case);
            }
        }

        /// A decided answer holds for values the witnesses never named: a
        /// brute force over a pool of near misses, for every unconfirmed key.
        #[test]
        fn decided_answers_hold_for_values_beyond_the_witnesses(policy in policy()) {
            let req = request();
            let got = crate::policy::evaluate(&policy, &req);
            let Some(want) = allows(got.decision) else { return Ok(()) };
            let mut choices: Vec<Option<&str>> = vec![None];
            choices.extend(POOL.iter().chain(PATTERNS.iter()).map(|v| Some(*v)));
            // kms:ViaService and kms:CallerAccount may be absent; the volume id is always present.
            for via in &choices {
                for caller in &choices {
                    for volume in choices.iter().skip(1) {
                        let mut fixed = req.clone();
                        for (key, v) in [("kms:ViaService", via), ("kms:CallerAccount", caller), ("kms:EncryptionContext:aws:ebs:id", volume)] {
                            fixed = match v { Some(v) => fixed.with(key, v), None => fixed.without(key) };
                        }
                        let case = evaluate_fixed(&policy, &fixed);
                        prop_assert_eq!(allows(case.decision), Some(want), "{:?} {:?} {:?}: {:?} vs {:?}", via, caller, volume, case, got);
                    }
                }
            }
        }
    }

    #[test]
    fn overlapping_patterns_are_not_split() {
        let doc = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringLike":{"kms:ViaService":["ec2.*","*.amazonaws.com"]}}}]}"#;
        assert!(plan(&Policy::parse(doc).unwrap(), &request()).is_none());
    }

    #[test]
    fn numeric_and_date_witnesses_cover_each_interval() {
        let doc = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"ex:n":["10","20"]}}}]}"#;
        let keys = plan(&Policy::parse(doc).unwrap(), &request()).unwrap();
        let values: Vec<String> = keys[0]
            .cases
            .iter()
            .filter_map(|c| match c {
                CaseValue::Value { value, .. } => Some(value.clone()),
                CaseValue::Absent => None,
            })
            .collect();
        assert_eq!(values, ["9", "21", "10", "15", "20", "not-a-value"]);
        assert_eq!(keys[0].cases[0], CaseValue::Absent);
    }
}
