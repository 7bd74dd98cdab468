"""Seed the local emulator with the small estate `make demo` checks.

One cluster per situation an operator meets: healthy, disabled key, key
pending deletion, key that no longer exists, no key configured at all, a key
that is enabled but whose key policy does not let Fargate in (it fails on
policy alone), and an ECS Exec key that is disabled (a warning, not a failure).
Usage: seed_demo.py ENDPOINT_URL
"""

import json
import sys

import boto3

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
    everyone = ["prod-api", "payments", "batch", "reporting", "tools"]

    def fargate_policy(clusters: list) -> str:
        """The key policy statements AWS documents for Fargate ephemeral storage."""
        context = {
            "kms:EncryptionContext:aws:ecs:clusterAccount": [account],
            "kms:EncryptionContext:aws:ecs:clusterName": clusters,
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "Allow generate data key access for Fargate tasks.", "Effect": "Allow",
             "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:GenerateDataKeyWithoutPlaintext"],
             "Condition": {"StringEquals": context}, "Resource": "*"},
            {"Sid": "Allow grant creation permission for Fargate tasks.", "Effect": "Allow",
             "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:CreateGrant"],
             "Condition": {"StringEquals": context, "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}},
             "Resource": "*"},
        ]})

    def key(description: str, policy: str = None) -> dict:
        kwargs = {"Description": description, "Policy": policy or fargate_policy(everyone)}
        return kms.create_key(**kwargs)["KeyMetadata"]

    healthy = key("prod-api Fargate storage")
    disabled = key("payments Fargate storage")
    kms.disable_key(KeyId=disabled["KeyId"])
    doomed = key("batch Fargate storage")
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    # Enabled and healthy, but its policy only delegates to the account:
    # Fargate is not let in, so every launch in "orders" fails.
    locked = key("orders Fargate storage", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]}))
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
    print(f"seeded {len(clusters)} clusters and 5 keys in {REGION}")


if __name__ == "__main__":
    main(sys.argv[1])
