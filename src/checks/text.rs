//! The words of the checks: what a broken key does to the tasks that use
//! it, how a usage is named, the commands that fix a cluster, and the one
//! step that finishes every finding before it leaves the checks.

use super::{CheckMeta, UsageCtx};
use crate::finding::{Finding, Verdict};
use crate::inventory::{Cluster, KeyRole, Platform, Service};

/// Finishes a finding once, as it leaves the checks: any failure of a
/// pinned key has a second way out, a new deployment that moves the service
/// to the cluster's current key.
pub fn finish(cluster: &Cluster, mut f: Finding) -> Finding {
    if let (Some(service), Verdict::Fail) = (&f.service, f.verdict) {
        let redeploy = format!(
            "or move service {service} to the cluster's current key with a new deployment:\naws ecs update-service --cluster {} --service {service} --region {} --force-new-deployment",
            cluster.name, cluster.region
        );
        f.remediation = Some(match f.remediation.take() {
            Some(fix) => format!("{fix}\n{redeploy}"),
            None => redeploy,
        });
    }
    f
}

/// The two commands that re-import key material into `arn`, after `intro`.
pub fn reimport_key_material(intro: &str, arn: &str, region: &str) -> String {
    format!(
        "{intro}\naws kms get-parameters-for-import --key-id {arn} --region {region} --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_2048\naws kms import-key-material --key-id {arn} --region {region} --encrypted-key-material fileb://EncryptedKeyMaterial.bin --import-token fileb://ImportToken.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE"
    )
}

impl<'a> UsageCtx<'a> {
    /// What a broken key does to this usage, for the end of a message.
    pub fn impact(&self) -> String {
        if let Some(p) = &self.pinned {
            let (running, desired) = crate::inventory::task_counts(p.deployments.iter().copied());
            let (tasks, keep) = if running == 1 { ("task", "keeps") } else { ("tasks", "keep") };
            return format!(
                "Its {running} running {tasks} {keep} running (desired {desired}), but no replacement or additional task can start; a new deployment would pick up the cluster's current key."
            );
        }
        match self.usage.usage {
            KeyRole::FargateEphemeralStorage => self.cluster_fargate_impact(),
            KeyRole::ManagedStorage => "Running tasks keep running, but new tasks, scale-outs and replacements that attach ECS-managed EBS volumes will fail to start.".to_string(),
            KeyRole::ExecuteCommand => {
                "Tasks still start, but ECS Exec sessions (aws ecs execute-command) into them will fail.".to_string()
            }
        }
    }

    /// For the cluster's own Fargate key: who it really breaks. Deployments
    /// created with another key keep starting tasks with that key until their
    /// next deployment ([ECS-KEY]: the setting "only takes effect on new
    /// service deployments").
    fn cluster_fargate_impact(&self) -> String {
        let default =
            "Running tasks keep running, but new Fargate tasks, scale-outs and replacements will fail to start.";
        let Some(services) = self.cluster.services() else { return default.to_string() };
        let mine = self.usage.lookup.as_deref();
        let (elsewhere, here): (Vec<&Service>, Vec<&Service>) =
            services.iter().filter(|s| s.platform() != Platform::NotFargate).partition(|s| {
                !s.deployments.is_empty()
                    && s.deployments
                        .iter()
                        .all(|d| d.ephemeral_storage_key.as_ref().is_some_and(|k| k.lookup.as_deref() != mine))
            });
        if elsewhere.is_empty() {
            return default.to_string();
        }
        let names = |v: &[&Service]| v.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
        let mut text =
            "Running tasks keep running, but new deployments and standalone tasks will fail to start".to_string();
        if !here.is_empty() {
            text.push_str(&format!(", and so will scale-outs and replacements of {}", names(&here)));
        }
        text.push_str(&format!(
            ". Scale-outs and replacements of {} still start for now: their current deployment was created with another key, until their next deployment.",
            names(&elsewhere)
        ));
        text
    }

    /// A finding for a key that cannot be used: it fails the cluster when the
    /// usage blocks task launches, and is a warning when it does not (ECS Exec).
    pub fn broken(&self, check: &'static CheckMeta, message: impl Into<String>) -> Finding {
        let message = match &self.pinned {
            Some(p) => format!(
                "Scale-outs and replacements of service {} use Fargate ephemeral storage key {}, pinned on its deployment {}, which {} {}",
                p.service.name,
                self.key_label(),
                p.deployment_ids(),
                message.into(),
                self.impact()
            ),
            None => format!("{} key {} {} {}", self.role(), self.key_label(), message.into(), self.impact()),
        };
        let finding = if self.usage.usage.blocks_launch() {
            Finding::fail(check, message)
        } else {
            Finding::warning(check, message)
        };
        self.attach(finding)
    }

    /// Ties a finding to this usage, its configured key, and the service
    /// whose deployment pins it.
    pub fn attach(&self, finding: Finding) -> Finding {
        let mut f = finding.with_usage(self.usage.usage, self.configured());
        f.service = self.pinned.as_ref().map(|p| p.service.name.clone());
        f
    }

    /// For a pinned key, the sentence that says whose tasks use it (empty
    /// for the cluster's own keys); for checks that build their own message.
    pub fn pinned_prefix(&self) -> String {
        match &self.pinned {
            Some(p) => format!(
                "Scale-outs and replacements of service {} use key {}, pinned on its deployment {}. ",
                p.service.name,
                self.key_label(),
                p.deployment_ids()
            ),
            None => String::new(),
        }
    }

    /// The usage in words, for the start of a message.
    pub fn role(&self) -> String {
        match (&self.pinned, self.usage.usage) {
            (Some(p), _) => {
                format!(
                    "Fargate ephemeral storage (pinned on service {}, deployment {})",
                    p.service.name,
                    p.deployment_ids()
                )
            }
            (None, KeyRole::FargateEphemeralStorage) => "Fargate ephemeral storage".to_string(),
            (None, KeyRole::ManagedStorage) => "ECS-managed EBS storage".to_string(),
            (None, KeyRole::ExecuteCommand) => "ECS Exec".to_string(),
        }
    }

    /// `aws ecs update-cluster` pointing this usage at `key`.
    pub fn update_cluster_command(&self, key: &str) -> String {
        let inner = match self.usage.usage {
            KeyRole::FargateEphemeralStorage => {
                format!(r#"{{"managedStorageConfiguration":{{"fargateEphemeralStorageKmsKeyId":"{key}"}}}}"#)
            }
            KeyRole::ManagedStorage => {
                format!(r#"{{"managedStorageConfiguration":{{"kmsKeyId":"{key}"}}}}"#)
            }
            KeyRole::ExecuteCommand => {
                format!(r#"{{"executeCommandConfiguration":{{"kmsKeyId":"{key}"}}}}"#)
            }
        };
        let mut cmd = format!(
            "aws ecs update-cluster --cluster {} --region {} --configuration '{inner}'",
            self.cluster.name, self.cluster.region
        );
        if self.usage.usage == KeyRole::FargateEphemeralStorage {
            cmd.push_str("\n(then redeploy each service: the new key applies only to new deployments)");
        }
        cmd
    }
}
