"""Key policies for the emulator's seeding scripts and the fixture generator.

`fargate_policy` is the statement set the ECS guide documents for Fargate
ephemeral storage, preceded by the usual statement that delegates to the
account; `root_only_policy` is that delegation alone (KMS's default policy),
which does not let Fargate in.
"""

import json


def root_statement(account):
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}


def fargate_policy(account, clusters):
    context = {
        "kms:EncryptionContext:aws:ecs:clusterAccount": [account],
        "kms:EncryptionContext:aws:ecs:clusterName": list(clusters),
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [
        root_statement(account),
        {"Sid": "Allow generate data key access for Fargate tasks.", "Effect": "Allow",
         "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:GenerateDataKeyWithoutPlaintext"],
         "Condition": {"StringEquals": context}, "Resource": "*"},
        {"Sid": "Allow grant creation permission for Fargate tasks.", "Effect": "Allow",
         "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:CreateGrant"],
         "Condition": {"StringEquals": context, "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}},
         "Resource": "*"},
    ]})


def root_only_policy(account):
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [root_statement(account)]})
