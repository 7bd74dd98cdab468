//! Condition operators, evaluated in three-valued logic: a condition is true,
//! false, or unknown when it depends on a key whose presence or value in the
//! request is not known. The rules, with their AWS sources, are in
//! `docs/policy-evaluation.md`.

use std::net::IpAddr;

use super::document::{Base, Condition, SetOperator};
use super::wildcard;
use super::{Lookup, Request, Tri};

/// Evaluates one condition (one operator, one key, its values) against the request.
pub fn evaluate(c: &Condition, request: &Request) -> Tri {
    let op = &c.operator;
    if c.has_variable {
        // Policy variables are resolved from the request; this evaluator does
        // not model them, so it does not pretend to know the answer.
        return Tri::Unknown(format!("{} on {} uses a policy variable", op.name, c.key));
    }
    match request.lookup(&c.key) {
        Lookup::Unknown => Tri::Unknown(format!(
            "{} on {}: whether Fargate's request carries {} is not documented",
            op.name, c.key, c.key
        )),
        Lookup::PresentValueUnknown => {
            if op.base == Base::Null {
                // Present: {"Null": "false"} holds, {"Null": "true"} does not.
                Tri::from(c.values.iter().any(|v| v.eq_ignore_ascii_case("false")))
            } else {
                Tri::Unknown(format!("{} on {}: the value Fargate sends is not known in advance", op.name, c.key))
            }
        }
        Lookup::Absent => {
            if op.base == Base::Null {
                return Tri::from(c.values.iter().any(|v| v.eq_ignore_ascii_case("true")));
            }
            // The set operator decides before `IfExists` does: a ForAnyValue
            // condition needs at least one value, so it is false on a missing
            // key even with `IfExists` (AWS re:Post, "ForAnyValue:
            // StringEqualsIfExists behaving unexpectedly"; iam-simulate
            // agrees); ForAllValues is true either way. See
            // docs/policy-evaluation.md.
            Tri::from(match op.set {
                // "ForAllValues ... also returns true if there are no context keys in the request."
                Some(SetOperator::ForAllValues) => true,
                Some(SetOperator::ForAnyValue) => false,
                // `IfExists`: a missing key makes the condition true.
                None if op.if_exists => true,
                // A missing key makes a condition false, a negated one true.
                None => op.base.is_negated(),
            })
        }
        Lookup::Values { values, multi } => {
            if op.base == Base::Null {
                return Tri::from(c.values.iter().any(|v| v.eq_ignore_ascii_case("false")));
            }
            let negated = op.base.is_negated();
            // A request value satisfies the operator when it matches any policy
            // value (OR); for a negated operator, when it matches none of them.
            let satisfies = |value: &str| {
                let any = match &c.exact {
                    Some(set) => set.contains(value),
                    None => c.values.iter().any(|policy| base_match(op.base, value, policy)),
                };
                any != negated
            };
            Tri::from(match op.set {
                Some(SetOperator::ForAllValues) => values.iter().all(|v| satisfies(v)),
                Some(SetOperator::ForAnyValue) => values.iter().any(|v| satisfies(v)),
                None if !multi => values.iter().all(|v| satisfies(v)),
                // "Multivalued context keys require a condition set operator";
                // AWS does not document what happens without one (iam-simulate
                // treats it as no match), so the answer is not claimed.
                None => {
                    return Tri::Unknown(format!(
                        "{} on the multivalued key {} without ForAllValues/ForAnyValue: AWS does not document the outcome",
                        op.name, c.key
                    ));
                }
            })
        }
    }
}

/// The positive form of each operator: does request `value` match policy `pattern`?
pub(super) fn base_match(base: Base, value: &str, pattern: &str) -> bool {
    use Base::*;
    match base {
        StringEquals | StringNotEquals => value == pattern,
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => value.to_lowercase() == pattern.to_lowercase(),
        StringLike | StringNotLike => wildcard::matches(pattern, value),
        NumericEquals | NumericNotEquals => numeric(value, pattern, |a, b| a == b),
        NumericLessThan => numeric(value, pattern, |a, b| a < b),
        NumericLessThanEquals => numeric(value, pattern, |a, b| a <= b),
        NumericGreaterThan => numeric(value, pattern, |a, b| a > b),
        NumericGreaterThanEquals => numeric(value, pattern, |a, b| a >= b),
        DateEquals | DateNotEquals => date(value, pattern, |a, b| a == b),
        DateLessThan => date(value, pattern, |a, b| a < b),
        DateLessThanEquals => date(value, pattern, |a, b| a <= b),
        DateGreaterThan => date(value, pattern, |a, b| a > b),
        DateGreaterThanEquals => date(value, pattern, |a, b| a >= b),
        Bool => value.eq_ignore_ascii_case(pattern),
        BinaryEquals => value == pattern,
        IpAddress | NotIpAddress => ip_in(value, pattern),
        // ArnEquals and ArnLike behave alike: each of the six ARN parts is
        // matched on its own, with wildcards, case-sensitively.
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => arn_like(value, pattern),
        Null => false,
    }
}

fn numeric(value: &str, pattern: &str, cmp: fn(f64, f64) -> bool) -> bool {
    match (value.trim().parse::<f64>(), pattern.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => cmp(a, b),
        _ => false,
    }
}

pub(super) fn parse_date(s: &str) -> Option<jiff::Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    // Epoch seconds are accepted too ("aws:EpochTime").
    if let Ok(secs) = s.parse::<i64>() {
        return jiff::Timestamp::from_second(secs).ok();
    }
    // A bare date means midnight UTC.
    s.parse::<jiff::civil::Date>().ok().and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok()).map(|z| z.timestamp())
}

fn date(value: &str, pattern: &str, cmp: fn(jiff::Timestamp, jiff::Timestamp) -> bool) -> bool {
    match (parse_date(value), parse_date(pattern)) {
        (Some(a), Some(b)) => cmp(a, b),
        _ => false,
    }
}

fn ip_in(value: &str, cidr: &str) -> bool {
    let Ok(ip) = value.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.trim().split_once('/') {
        Some((net, bits)) => (net, bits.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            (u128::from(a) & mask) == (u128::from(b) & mask)
        }
        _ => false,
    }
}

fn arn_like(value: &str, pattern: &str) -> bool {
    let v: Vec<&str> = value.splitn(6, ':').collect();
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    if p.len() == 1 && p[0] == "*" {
        return true;
    }
    v.len() == 6 && p.len() == 6 && v.iter().zip(&p).all(|(v, p)| wildcard::matches(p, v))
}
