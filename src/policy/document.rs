//! Parsing an IAM policy document, in all its legal shapes, into a model
//! the evaluator can walk: `Statement` as an object or an array; `Principal`
//! and `NotPrincipal` as `"*"` or a map of `AWS` / `Service` / `Federated` /
//! `CanonicalUser` to a string or an array; `Action`, `NotAction`,
//! `Resource`, `NotResource` and condition values as a string or an array.
//! Anything else is a [`PolicyError`] that says where and what, never a panic.

use serde_json::{Map, Value};

/// A policy document the evaluator cannot read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the document, from 0.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: PrincipalMatch,
    pub action: NameMatch,
    pub resource: NameMatch,
    /// All conditions of the statement; they combine with AND.
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// How a message names the statement: its Sid, else its position.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("Sid \"{sid}\""),
            _ => format!("statement #{} (no Sid)", self.index + 1),
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub enum PrincipalMatch {
    Principal(Principals),
    NotPrincipal(Principals),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Principals {
    /// `"Principal": "*"`.
    Everyone,
    /// `{"AWS": [...], "Service": [...], ...}` flattened to (kind, value).
    Listed(Vec<(PrincipalKind, String)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

/// `Action` / `NotAction`, `Resource` / `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub enum NameMatch {
    Is(Vec<String>),
    Not(Vec<String>),
}

/// One condition key under one operator, with its values (OR-ed).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written in the policy (matching is case-insensitive).
    pub key: String,
    pub values: Vec<String>,
    /// Whether a value holds a policy variable (`${…}`), found once when
    /// the policy is parsed rather than at every evaluation.
    pub has_variable: bool,
    /// The values as a set, for the exact string operators with many
    /// values (a policy listing hundreds of cluster names): one lookup per
    /// evaluation instead of a scan.
    pub exact: Option<std::collections::HashSet<String>>,
}

impl Condition {
    pub fn new(operator: Operator, key: String, values: Vec<String>) -> Self {
        let has_variable = values.iter().any(|v| v.contains("${"));
        let exact = (matches!(operator.base, Base::StringEquals | Base::StringNotEquals) && values.len() > 8)
            .then(|| values.iter().cloned().collect());
        Condition { operator, key, values, has_variable, exact }
    }
}

/// A parsed condition operator: `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// As written, for messages.
    pub name: String,
    pub set: Option<SetOperator>,
    pub base: Base,
    pub if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    ForAllValues,
    ForAnyValue,
}

/// The operator families of the IAM condition grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Base {
    fn parse(name: &str) -> Option<Base> {
        use Base::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators are true when the value matches *none* of the
    /// policy values, and true when the key is absent.
    pub fn is_negated(self) -> bool {
        use Base::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

impl Operator {
    pub fn parse(name: &str) -> Result<Operator, PolicyError> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetOperator::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOperator::ForAnyValue), rest)
        } else {
            (None, name)
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let base = Base::parse(rest).ok_or_else(|| PolicyError(format!("unknown condition operator \"{name}\"")))?;
        if base == Base::Null && (if_exists || set.is_some()) {
            return Err(PolicyError(format!(
                "condition operator \"{name}\" is not valid: Null takes no IfExists or set prefix"
            )));
        }
        Ok(Operator { name: name.to_string(), set, base, if_exists })
    }
}

impl Policy {
    /// Parses a policy document (the JSON string GetKeyPolicy returns).
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        // Duplicate keys are refused at every level: with two "Statement"
        // members, which one KMS reads is not ours to guess.
        let doc: Value = serde_json::from_str::<Strict>(text)
            .map_err(|e| PolicyError(format!("the key policy is not valid JSON: {e}")))?
            .0;
        let Value::Object(doc) = doc else {
            return Err(PolicyError("the key policy is not a JSON object".into()));
        };
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(item @ Value::Object(_)) => vec![item],
            Some(_) => {
                return Err(PolicyError("\"Statement\" must be an object or an array of objects".into()));
            }
            None => return Err(PolicyError("the key policy has no \"Statement\"".into())),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                parse_statement(index, value).map_err(|PolicyError(e)| {
                    let sid =
                        value.get("Sid").and_then(Value::as_str).map(|s| format!(" (Sid \"{s}\")")).unwrap_or_default();
                    PolicyError(format!("statement #{}{sid}: {e}", index + 1))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { statements })
    }
}

fn parse_statement(index: usize, value: &Value) -> Result<Statement, PolicyError> {
    let Value::Object(obj) = value else {
        return Err(PolicyError("a statement must be a JSON object".into()));
    };
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError("\"Sid\" must be a string".into())),
    };
    let effect = match obj.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(PolicyError(format!("\"Effect\" must be \"Allow\" or \"Deny\", found \"{other}\"")));
        }
        None => return Err(PolicyError("\"Effect\" is missing".into())),
    };
    let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(p), None) => PrincipalMatch::Principal(parse_principals(p)?),
        (None, Some(p)) => PrincipalMatch::NotPrincipal(parse_principals(p)?),
        (Some(_), Some(_)) => {
            return Err(PolicyError("has both \"Principal\" and \"NotPrincipal\"".into()));
        }
        (None, None) => {
            return Err(PolicyError(
                "has neither \"Principal\" nor \"NotPrincipal\" (a key policy statement needs one)".into(),
            ));
        }
    };
    let action = name_match(obj, "Action", "NotAction")?;
    let resource = name_match(obj, "Resource", "NotResource")?;
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(ops)) => parse_conditions(ops)?,
        Some(_) => return Err(PolicyError("\"Condition\" must be an object".into())),
    };
    Ok(Statement { index, sid, effect, principal, action, resource, conditions })
}

fn parse_principals(value: &Value) -> Result<Principals, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Everyone),
        Value::String(s) => {
            Err(PolicyError(format!("principal \"{s}\" must be \"*\" or a map such as {{\"AWS\": ...}}")))
        }
        Value::Object(map) => {
            let mut listed = Vec::new();
            for (kind, values) in map {
                let kind = match kind.as_str() {
                    "AWS" => PrincipalKind::Aws,
                    "Service" => PrincipalKind::Service,
                    "Federated" => PrincipalKind::Federated,
                    "CanonicalUser" => PrincipalKind::CanonicalUser,
                    other => {
                        return Err(PolicyError(format!("unknown principal type \"{other}\"")));
                    }
                };
                for v in strings(values, "principal")? {
                    listed.push((kind, v));
                }
            }
            Ok(Principals::Listed(listed))
        }
        _ => Err(PolicyError("a principal must be \"*\" or an object".into())),
    }
}

fn name_match(obj: &Map<String, Value>, is: &str, not: &str) -> Result<NameMatch, PolicyError> {
    match (obj.get(is), obj.get(not)) {
        (Some(v), None) => Ok(NameMatch::Is(strings(v, is)?)),
        (None, Some(v)) => Ok(NameMatch::Not(strings(v, not)?)),
        (Some(_), Some(_)) => Err(PolicyError(format!("has both \"{is}\" and \"{not}\""))),
        (None, None) => Err(PolicyError(format!("has neither \"{is}\" nor \"{not}\""))),
    }
}

fn parse_conditions(ops: &Map<String, Value>) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for (op, keys) in ops {
        let operator = Operator::parse(op)?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError(format!("condition \"{op}\" must map keys to values")));
        };
        for (key, values) in keys {
            out.push(Condition::new(operator.clone(), key.clone(), strings(values, key)?));
        }
    }
    Ok(out)
}

/// A string, number or boolean, or an array of them, as strings.
fn strings(value: &Value, what: &str) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(PolicyError(format!("\"{what}\" values must be strings, numbers or booleans"))),
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        v => Ok(vec![one(v)?]),
    }
}

/// A JSON value that refuses duplicate object keys.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if out.insert(key.clone(), v).is_some() {
                return Err(serde::de::Error::custom(format!("duplicate key \"{key}\"")));
            }
        }
        Ok(Value::Object(out))
    }
}
