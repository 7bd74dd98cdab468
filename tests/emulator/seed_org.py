"""Seed an AWS Organization in the emulator for the organization-wide tests.

The caller (the emulator's default account, 123456789012) creates an
organization and four member accounts, then, through STS AssumeRole into a
member role (the emulator does not require the role to exist, and the
credentials it returns act inside the member account), seeds each member
differently:

  healthy   a cluster on a key whose policy lets Fargate in; plus a cluster
            on a key owned by the "policy" account (a cross-account key)
  disabled  a cluster on a disabled key
  pending   a cluster on a key pending deletion
  policy    a cluster on an enabled key whose policy does not let Fargate in;
            and the key the healthy account's cross-account cluster uses

The management account gets a healthy cluster, and the healthy member one
more cluster in eu-west-1. Prints {"management": ID, "members": {role: ID}}.
Usage: seed_org.py ENDPOINT_URL ROLE_NAME
"""

import json
import os
import sys

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from key_policies import fargate_policy, root_only_policy  # noqa: E402

MANAGEMENT = "123456789012"


def clients(endpoint, region, creds=None):
    kwargs = {"aws_access_key_id": "EXAMPLEACCESSKEYID", "aws_secret_access_key": "EXAMPLESECRETACCESSKEY"}
    if creds:
        kwargs = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                  "aws_session_token": creds["SessionToken"]}
    s = boto3.session.Session(region_name=region, **kwargs)
    return s.client("kms", endpoint_url=endpoint), s.client("ecs", endpoint_url=endpoint)


def storage(key_arn):
    return {"managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key_arn}}


def main(endpoint, role):
    mgmt = boto3.session.Session(aws_access_key_id="EXAMPLEACCESSKEYID",
                                 aws_secret_access_key="EXAMPLESECRETACCESSKEY", region_name="us-east-1")
    org = mgmt.client("organizations", endpoint_url=endpoint)
    sts = mgmt.client("sts", endpoint_url=endpoint)
    org.create_organization(FeatureSet="ALL")
    members = {}
    for name in ["healthy", "disabled", "pending", "policy"]:
        status = org.create_account(Email=f"{name}@example.com", AccountName=f"team-{name}")["CreateAccountStatus"]
        members[name] = status["AccountId"]

    def creds(account):
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                               RoleSessionName="seed")["Credentials"]

    # The policy account owns the key the healthy account's cross-account cluster uses.
    kms_p, ecs_p = clients(endpoint, "us-east-1", creds(members["policy"]))
    shared = kms_p.create_key(Policy=fargate_policy(members["healthy"], ["cross-account"]))["KeyMetadata"]["Arn"]
    locked = kms_p.create_key(Policy=root_only_policy(members["policy"]))["KeyMetadata"]["Arn"]
    ecs_p.create_cluster(clusterName="policy-app", configuration=storage(locked))

    kms_h, ecs_h = clients(endpoint, "us-east-1", creds(members["healthy"]))
    good = kms_h.create_key(Policy=fargate_policy(members["healthy"], ["healthy-app", "west-app"]))["KeyMetadata"]["Arn"]
    ecs_h.create_cluster(clusterName="healthy-app", configuration=storage(good))
    ecs_h.create_cluster(clusterName="cross-account", configuration=storage(shared))
    kms_hw, ecs_hw = clients(endpoint, "eu-west-1", creds(members["healthy"]))
    west = kms_hw.create_key(Policy=fargate_policy(members["healthy"], ["west-app"]))["KeyMetadata"]["Arn"]
    ecs_hw.create_cluster(clusterName="west-app", configuration=storage(west))

    kms_d, ecs_d = clients(endpoint, "us-east-1", creds(members["disabled"]))
    key = kms_d.create_key(Policy=fargate_policy(members["disabled"], ["disabled-app"]))["KeyMetadata"]
    kms_d.disable_key(KeyId=key["KeyId"])
    ecs_d.create_cluster(clusterName="disabled-app", configuration=storage(key["Arn"]))

    kms_pd, ecs_pd = clients(endpoint, "us-east-1", creds(members["pending"]))
    key = kms_pd.create_key(Policy=fargate_policy(members["pending"], ["pending-app"]))["KeyMetadata"]
    kms_pd.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    ecs_pd.create_cluster(clusterName="pending-app", configuration=storage(key["Arn"]))

    kms_m, ecs_m = clients(endpoint, "us-east-1")
    key = kms_m.create_key(Policy=fargate_policy(MANAGEMENT, ["mgmt-app"]))["KeyMetadata"]["Arn"]
    ecs_m.create_cluster(clusterName="mgmt-app", configuration=storage(key))
    print(json.dumps({"management": MANAGEMENT, "members": members}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
