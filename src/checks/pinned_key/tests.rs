//! Keys pinned on running deployments: the cases of the blast-radius issue.

use super::*;
use crate::checks::testing::*;
use crate::checks::{CheckOptions, run};
use crate::finding::{Severity, Verdict};
use crate::inventory::{Fact, Inventory, KeyMetadata, Service};
use crate::report::{DependentEffect as Effect, Report};

/// Cluster prod on key `current`, with `services`; both keys described.
fn estate(current: KeyMetadata, old: KeyMetadata, services: Vec<Service>) -> Inventory {
    let mut inv = with_details(fargate_key(current), healthy_details());
    add_key(&mut inv, old, healthy_details());
    inv.clusters[0].services = Some(Fact::Read { value: services });
    inv
}

fn disabled(id: &str) -> KeyMetadata {
    KeyMetadata { key_state: Some("Disabled".into()), ..healthy(id) }
}

fn report(inv: &Inventory) -> Report {
    Report::build(inv, run(inv, &CheckOptions::default()))
}

#[test]
fn pinned_key_disabled_while_cluster_key_is_fine() {
    let old = key_arn("old");
    let api = service("api", "FARGATE", vec![deployment("ecs-svc/1", "PRIMARY", 6, 6, Some(&old))]);
    let inv = estate(healthy("new"), disabled("old"), vec![api]);
    let r = report(&inv);
    assert_eq!(r.verdict, Verdict::Fail);
    let c = &r.clusters[0];
    // The cluster's own key passes; the failure is the pinned key's.
    assert_eq!(c.key_usages[0].verdict, Verdict::Pass);
    let f = c.findings.iter().find(|f| f.check.id == "key-state").unwrap();
    assert_eq!(f.service.as_deref(), Some("api"));
    assert!(f.message.starts_with(&format!("Scale-outs and replacements of service api use Fargate ephemeral storage key {old}, pinned on its deployment ecs-svc/1, which is Disabled.")), "{}", f.message);
    assert!(f.message.contains("a new deployment would pick up the cluster's current key"), "{}", f.message);
    let fix = f.remediation.as_deref().unwrap();
    assert!(
        fix.contains("aws kms enable-key")
            && fix.contains("update-service --cluster prod --service api --region us-east-1 --force-new-deployment"),
        "{fix}"
    );
    // The fact of the pin is stated, with both keys.
    let info = c.findings.iter().find(|f| f.check.id == "pinned-key").unwrap();
    assert_eq!(info.severity, Severity::Info);
    assert!(info.message.contains(&old) && info.message.contains(&key_arn("new")), "{}", info.message);
    // Blast radius: the old key, with the service and its counts.
    assert_eq!(r.failing_keys.len(), 1);
    assert_eq!(r.failing_keys[0].key, old);
    let d = &r.failing_keys[0].dependents[0];
    assert_eq!(
        (d.service.as_deref(), d.running, d.desired, d.effect),
        (Some("api"), Some(6), Some(6), Effect::ScaleOutsAndReplacements)
    );
    assert_eq!(
        d.describe(),
        "prod (us-east-1), service api: 6 running, desired 6: no replacement or scale-out task can start"
    );
    assert_eq!(c.services.as_ref().unwrap()[0].verdict, Verdict::Fail);
}

#[test]
fn cluster_key_disabled_while_pinned_key_is_fine() {
    let old = key_arn("old");
    let api = service("api", "FARGATE", vec![deployment("ecs-svc/1", "PRIMARY", 6, 6, Some(&old))]);
    let inv = estate(disabled("new"), healthy("old"), vec![api]);
    let r = report(&inv);
    assert_eq!(r.verdict, Verdict::Fail, "new deployments fail");
    let c = &r.clusters[0];
    let f = c.findings.iter().find(|f| f.check.id == "key-state").unwrap();
    assert_eq!(f.service, None);
    // The message tells the two apart: new deployments fail, api's scale-outs still start.
    assert!(f.message.contains("new deployments and standalone tasks will fail to start"), "{}", f.message);
    assert!(f.message.contains("Scale-outs and replacements of api still start for now"), "{}", f.message);
    let d = &r.failing_keys[0].dependents[0];
    assert_eq!(d.effect, Effect::NextDeployment);
    assert!(d.describe().contains("its next deployment will fail"), "{}", d.describe());
    assert!(c.findings.iter().all(|f| f.service.is_none() || f.verdict == Verdict::Pass));
}

#[test]
fn ec2_services_are_not_counted() {
    let old = key_arn("old");
    let legacy = service("legacy", "EC2", vec![deployment("ecs-svc/9", "PRIMARY", 3, 3, Some(&old))]);
    let web = service("web", "FARGATE", vec![deployment("ecs-svc/2", "PRIMARY", 2, 2, None)]);
    let inv = estate(disabled("new"), disabled("old"), vec![legacy, web]);
    let r = report(&inv);
    // The EC2 service's pinned key is not judged at all.
    assert!(r.clusters[0].findings.iter().all(|f| f.service.is_none()), "{:#?}", r.clusters[0].findings);
    let deps = &r.failing_keys[0].dependents;
    let legacy = deps.iter().find(|d| d.service.as_deref() == Some("legacy")).unwrap();
    assert_eq!((legacy.effect, legacy.running), (Effect::NotAffected, None));
    assert!(legacy.describe().contains("not affected by the Fargate key"));
    // A deployment with no reported key is taken to use the cluster's key.
    let web = deps.iter().find(|d| d.service.as_deref() == Some("web")).unwrap();
    assert_eq!(web.effect, Effect::ScaleOutsAndReplacements);
}

#[test]
fn pinned_usage_table() {
    let cur = key_arn("new");
    let old = key_arn("old");
    // (deployments of service api, number of pinned usages yielded)
    let cases: Vec<(Vec<crate::inventory::Deployment>, usize)> = vec![
        (vec![deployment("d1", "PRIMARY", 1, 1, Some(&cur))], 0),
        (vec![deployment("d1", "PRIMARY", 1, 1, None)], 0),
        (vec![deployment("d1", "PRIMARY", 1, 1, Some(&old))], 1),
        // Two deployments on the same old key: one usage, both deployments.
        (vec![deployment("d1", "PRIMARY", 1, 1, Some(&old)), deployment("d2", "ACTIVE", 2, 0, Some(&old))], 1),
        (vec![deployment("d1", "PRIMARY", 1, 1, Some(&cur)), deployment("d2", "ACTIVE", 2, 0, Some(&old))], 1),
    ];
    for (deployments, n) in cases {
        let inv = estate(healthy("new"), healthy("old"), vec![service("api", "FARGATE", deployments.clone())]);
        let ctx = crate::checks::ClusterCtx {
            inventory: &inv,
            cluster: &inv.clusters[0],
            options: &CheckOptions::default(),
            policies: &crate::checks::Policies::parse(&inv),
        };
        let pinned: Vec<_> = ctx.usages().filter(|u| u.pinned.is_some()).collect();
        assert_eq!(pinned.len(), n, "{deployments:?}");
        let infos = eval(evaluate, &inv, &CheckOptions::default());
        assert_eq!(infos.len(), n);
        if let Some(u) = pinned.first() {
            let p = u.pinned.as_ref().unwrap();
            assert_eq!(p.deployments.len(), deployments.iter().filter(|d| d.ephemeral_storage_key.as_ref().and_then(|k| k.lookup.as_deref()) == Some(old.as_str())).count());
        }
    }
}

#[test]
fn pinned_key_gets_every_key_check() {
    // A pinned key whose policy shuts Fargate out fails through key-policy, naming the service.
    let old = key_arn("old");
    let mut inv = estate(
        healthy("new"),
        healthy("old"),
        vec![service("api", "FARGATE", vec![deployment("d1", "PRIMARY", 4, 4, Some(&old))])],
    );
    inv.key_details.get_mut(&old).unwrap().policy = Fact::Read { value: r#"{"Statement":[]}"#.into() };
    let r = report(&inv);
    let f = r.clusters[0].findings.iter().find(|f| f.check.id == "key-policy" && f.verdict == Verdict::Fail).unwrap();
    assert_eq!(f.service.as_deref(), Some("api"));
    assert!(f.message.starts_with("Scale-outs and replacements of service api use key"), "{}", f.message);
}
