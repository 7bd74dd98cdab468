//! ARN parsing and the normalisation of key references.
//!
//! A cluster may name its key by id, key ARN, alias name or alias ARN. To
//! describe each key once, and in the right account and Region, a bare id or
//! alias is turned into an ARN in the cluster's own partition, account and
//! Region (which is where ECS resolves it).

/// The parts of an ARN this tool needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Parses `arn:partition:service:region:account:resource`; `None` for
    /// anything else.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        if arn.partition.is_empty() || arn.service.is_empty() || arn.resource.is_empty() {
            return None;
        }
        Some(arn)
    }

    /// The resource name after the first `/` (`cluster/NAME` → `NAME`).
    pub fn resource_name(&self) -> &'a str {
        self.resource.split_once('/').map_or(self.resource, |(_, name)| name)
    }
}

/// Whether a key reference names an alias (`alias/x` or an alias ARN).
pub fn is_alias_reference(reference: &str) -> bool {
    match Arn::parse(reference) {
        Some(arn) => arn.resource.starts_with("alias/"),
        None => reference.starts_with("alias/"),
    }
}

/// The reference to send to DescribeKey, and the Region to ask, for a key as
/// configured on a cluster: `(region, reference)`.
pub fn key_lookup_reference(configured: &str, cluster_arn: &str, cluster_region: &str) -> (String, String) {
    let configured = configured.trim();
    if let Some(arn) = Arn::parse(configured) {
        let region = if arn.region.is_empty() { cluster_region } else { arn.region };
        return (region.to_string(), configured.to_string());
    }
    match Arn::parse(cluster_arn) {
        Some(cluster) if !cluster.account.is_empty() => {
            let resource =
                if configured.starts_with("alias/") { configured.to_string() } else { format!("key/{configured}") };
            (
                cluster_region.to_string(),
                format!("arn:{}:kms:{}:{}:{}", cluster.partition, cluster_region, cluster.account, resource),
            )
        }
        _ => (cluster_region.to_string(), configured.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod-api";

    #[test]
    fn lookup_reference_table() {
        // (configured, expected region, expected reference)
        let cases: &[(&str, &str, &str)] = &[
            // A bare key id resolves in the cluster's account and Region.
            (
                "1234abcd-12ab-34cd-56ef-1234567890ab",
                "us-east-1",
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            // An alias name likewise.
            ("alias/fargate", "us-east-1", "arn:aws:kms:us-east-1:123456789012:alias/fargate"),
            // A key ARN is asked in its own Region, even another one.
            ("arn:aws:kms:eu-west-1:111122223333:key/abc", "eu-west-1", "arn:aws:kms:eu-west-1:111122223333:key/abc"),
            // Surrounding whitespace is not part of the reference.
            (" alias/x ", "us-east-1", "arn:aws:kms:us-east-1:123456789012:alias/x"),
        ];
        for (configured, region, reference) in cases {
            let got = key_lookup_reference(configured, CLUSTER, "us-east-1");
            assert_eq!(got, (region.to_string(), reference.to_string()), "{configured}");
        }
    }

    #[test]
    fn other_partitions_are_kept() {
        let got =
            key_lookup_reference("abc", "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/c", "us-gov-west-1");
        assert_eq!(got.1, "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc");
    }

    #[test]
    fn parse_rejects_non_arns() {
        assert!(Arn::parse("alias/x").is_none());
        assert!(Arn::parse("arn:aws").is_none());
        assert!(Arn::parse("arn::kms:r:a:key/x").is_none());
        let arn = Arn::parse(CLUSTER).unwrap();
        assert_eq!(arn.resource_name(), "prod-api");
        assert_eq!(arn.account, "123456789012");
    }

    #[test]
    fn alias_detection() {
        assert!(is_alias_reference("alias/x"));
        assert!(is_alias_reference("arn:aws:kms:us-east-1:123456789012:alias/x"));
        assert!(!is_alias_reference("arn:aws:kms:us-east-1:123456789012:key/x"));
        assert!(!is_alias_reference("1234abcd"));
    }
}
