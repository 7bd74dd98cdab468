"""Seed the local emulator with the small estate `make demo` checks.

One cluster per situation an operator meets: healthy, disabled key, key
pending deletion, key that no longer exists, no key configured at all, a key
that is enabled but whose key policy does not let Fargate in (it fails on
policy alone), an ECS Exec key that is disabled (a warning, not a failure),
and a cluster whose own key is healthy but whose service still runs on the
disabled key it was deployed with (its scale-outs and replacements fail).
Usage: seed_demo.py ENDPOINT_URL
"""

import os
import sys

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from key_policies import fargate_policy, root_only_policy  # noqa: E402

REGION = "us-east-1"


def main(endpoint: str) -> None:
    session = boto3.session.Session(
        aws_access_key_id="EXAMPLEACCESSKEYID",
        aws_secret_access_key="EXAMPLESECRETACCESSKEY",
        region_name=REGION,
    )
    kms = session.client("kms", endpoint_url=endpoint)
    ecs = session.client("ecs", endpoint_url=endpoint)

    account = "123456789012"
    everyone = ["prod-api", "payments", "batch", "reporting", "tools", "checkout"]

    def key(description: str, policy: str = None) -> dict:
        kwargs = {"Description": description, "Policy": policy or fargate_policy(account, everyone)}
        return kms.create_key(**kwargs)["KeyMetadata"]

    healthy = key("prod-api Fargate storage")
    # The name key administrators know it by (make demo's what-if uses it).
    kms.create_alias(AliasName="alias/prod-api-storage", TargetKeyId=healthy["KeyId"])
    disabled = key("payments Fargate storage")
    kms.disable_key(KeyId=disabled["KeyId"])
    doomed = key("batch Fargate storage")
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    # Enabled and healthy, but its policy only delegates to the account:
    # Fargate is not let in, so every launch in "orders" fails.
    locked = key("orders Fargate storage", policy=root_only_policy(account))
    exec_key = key("ECS Exec sessions")
    kms.disable_key(KeyId=exec_key["KeyId"])
    gone = "arn:aws:kms:us-east-1:123456789012:key/0000aaaa-0000-0000-0000-EXAMPLE00000"

    def storage(key_arn: str) -> dict:
        return {"managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key_arn}}

    clusters = {
        "prod-api": storage(healthy["Arn"]),
        "payments": storage(disabled["Arn"]),
        "batch": storage(doomed["Arn"]),
        "reporting": storage(gone),
        "orders": storage(locked["Arn"]),
        "sandbox": None,
        "tools": {
            **storage(healthy["Arn"]),
            "executeCommandConfiguration": {"kmsKeyId": exec_key["Arn"], "logging": "DEFAULT"},
        },
    }
    for name, configuration in clusters.items():
        kwargs = {"clusterName": name}
        if configuration:
            kwargs["configuration"] = configuration
        ecs.create_cluster(**kwargs)

    ecs.register_task_definition(
        family="app", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx", "memory": 512}],
    )

    def service(cluster: str, name: str, tasks: int, launch: str = "FARGATE") -> None:
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition="app", desiredCount=tasks,
                           launchType=launch)
        # The emulator counts tasks as running once the desired count is set again.
        ecs.update_service(cluster=cluster, service=name, desiredCount=tasks)

    service("prod-api", "api", 4)
    service("payments", "ledger", 3)
    service("payments", "reports", 2, launch="EC2")

    # checkout: service api was deployed on an old key; the cluster has since
    # moved to a healthy key, but api has not been redeployed, and the old key
    # was then disabled. The cluster's setting looks fine; api's next
    # replacement task will not start.
    old = key("checkout Fargate storage (old)")
    new = key("checkout Fargate storage")
    ecs.create_cluster(clusterName="checkout", configuration=storage(old["Arn"]))
    service("checkout", "api", 6)
    ecs.update_cluster(cluster="checkout", configuration=storage(new["Arn"]))
    service("checkout", "web", 2)
    kms.disable_key(KeyId=old["KeyId"])
    print(f"seeded {len(clusters) + 1} clusters, 7 keys and 6 services in {REGION}")


if __name__ == "__main__":
    main(sys.argv[1])
