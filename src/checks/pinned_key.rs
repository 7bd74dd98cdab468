//! `pinned-key`: a running service deployment created with another key than
//! the cluster's current one. Changing the cluster's key "only takes effect
//! on new service deployments" ([ECS-KEY]): until a service is redeployed,
//! its scale-outs and replacements keep using the key pinned on its
//! deployment, so that key gets every key check too (reported under the
//! other check ids, naming the service). This check only states the fact.

use super::{ANY_USAGE, CheckMeta, ClusterCtx};
use crate::finding::Finding;
use crate::inventory::KeyRole;

pub static META: CheckMeta = CheckMeta {
    id: "pinned-key",
    title: "A service's running deployment uses another key than the cluster's current one",
    usages: ANY_USAGE,
};

pub fn evaluate(ctx: &ClusterCtx<'_>) -> Vec<Finding> {
    let current = ctx
        .cluster
        .usage(KeyRole::FargateEphemeralStorage)
        .and_then(|u| u.configured.as_deref())
        .unwrap_or("no customer managed key (AWS owned key)");
    ctx.usages()
        .filter_map(|u| {
            let p = u.pinned.as_ref()?;
            let counts: Vec<String> = p
                .deployments
                .iter()
                .map(|d| format!("{} {} ({} running, desired {})", d.status, d.id, d.running, d.desired))
                .collect();
            Some(u.attach(Finding::info(&META,
                format!(
                    "Service {} runs deployment {} created with key {}; the cluster now uses {current}. Its scale-outs and replacements keep using {} until its next deployment.",
                    p.service.name,
                    counts.join(", "),
                    u.key_label(),
                    u.key_label()
                ),
            )))
        })
        .collect()
}

#[cfg(test)]
mod tests;
