"""Seed the emulator for the permissions test, create IAM users, then turn
on the emulator's IAM enforcement.

Reads the policy documented in docs/permissions.md (its first JSON block),
creates one user holding exactly that policy, and one user per action of it
holding the policy minus that action. Seeds two clusters (one healthy key,
one disabled) with a service each. Then POSTs /moto-api/reset-auth so that
every later request is authenticated and authorized against IAM (moto's
INITIAL_NO_AUTH_ACTION_COUNT, set to 0 at run time); the default
credentials stop working from then on.

Prints a JSON object: {"full": [key, secret], "minus": {action: [key, secret]}}.
Usage: seed_permissions.py ENDPOINT_URL seed|lock
"""

import json
import os
import re
import sys
import urllib.request

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from key_policies import fargate_policy  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def documented_policy() -> dict:
    with open(os.path.join(ROOT, "docs", "permissions.md")) as f:
        text = f.read()
    block = re.search(r"```json\n(.*?)```", text, re.S)
    return json.loads(block.group(1))


def without(policy: dict, action: str) -> dict:
    statements = []
    for s in policy["Statement"]:
        actions = [a for a in s["Action"] if a != action]
        if actions:
            statements.append({**s, "Action": actions})
    return {"Version": policy["Version"], "Statement": statements}


def main(endpoint: str, phase: str) -> None:
    session = boto3.session.Session(
        aws_access_key_id="EXAMPLEACCESSKEYID", aws_secret_access_key="EXAMPLESECRETACCESSKEY", region_name=REGION
    )
    kms = session.client("kms", endpoint_url=endpoint)
    ecs = session.client("ecs", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)

    if phase == "seed":
        seed(kms, ecs)
        return

    def user(name: str, policy: dict) -> list:
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="preflight", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return [key["AccessKeyId"], key["SecretAccessKey"]]

    policy = documented_policy()
    out = {"full": user("preflight-full", policy), "minus": {}}
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    for i, action in enumerate(actions):
        out["minus"][action] = user(f"preflight-minus-{i}", without(policy, action))

    # The body is the new count, as text (a form content type would hide it from moto).
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10)
    print(json.dumps(out))


def seed(kms, ecs) -> None:
    clusters = ["perm-healthy", "perm-disabled"]
    healthy = kms.create_key(Policy=fargate_policy(ACCOUNT, clusters))["KeyMetadata"]
    disabled = kms.create_key(Policy=fargate_policy(ACCOUNT, clusters))["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    ecs.register_task_definition(
        family="app", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx", "memory": 512}],
    )
    for name, key in zip(clusters, [healthy, disabled]):
        ecs.create_cluster(clusterName=name, configuration={
            "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key["Arn"]}})
        ecs.create_service(cluster=name, serviceName="api", taskDefinition="app", desiredCount=1, launchType="FARGATE")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
