"""Seed the emulator for the `check --alarms` end-to-end tests.

Usage: seed_alarms.py ENDPOINT_URL REGION MODE
MODE: "both" (trail to CloudWatch Logs, the pending-deletion and disabled
filters, alarms with an SNS action), "pending-only" (no disabled filter), or
"no-trail" (nothing delivers CloudTrail to CloudWatch Logs).
Prints the ARN of the Fargate key it created for the cluster "alarmed".
"""

import json
import sys

import boto3

ACCOUNT = "123456789012"


def main(endpoint, region, mode):
    session = boto3.session.Session(
        aws_access_key_id="EXAMPLEACCESSKEYID", aws_secret_access_key="EXAMPLESECRETACCESSKEY", region_name=region
    )
    client = lambda name: session.client(name, endpoint_url=endpoint)
    kms, ecs = client("kms"), client("ecs")
    context = {"kms:EncryptionContext:aws:ecs:clusterAccount": [ACCOUNT],
               "kms:EncryptionContext:aws:ecs:clusterName": ["alarmed", "alarmed-2"]}
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Fargate", "Effect": "Allow", "Principal": {"Service": "fargate.amazonaws.com"},
         "Action": ["kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"], "Resource": "*",
         "Condition": {"StringEquals": context}}]}
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    ecs.create_cluster(clusterName="alarmed", configuration={
        "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key["Arn"]}})
    if mode == "no-trail":
        # A second cluster on its own key: the Region-wide fix is printed once.
        other = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
        ecs.create_cluster(clusterName="alarmed-2", configuration={
            "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": other["Arn"]}})
    if mode != "no-trail":
        group = "CloudTrail/kms-events"
        client("s3").create_bucket(Bucket=f"trail-{region}", **({} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}))
        logs = client("logs")
        logs.create_log_group(logGroupName=group)
        client("cloudtrail").create_trail(
            Name="management", S3BucketName=f"trail-{region}",
            CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{group}:*",
            CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role")
        topic = client("sns").create_topic(Name="kms-alarms")["TopicArn"]
        filters = [("KMSKeyPendingDeletionErrorCount", "* is pending deletion.")]
        if mode == "both":
            filters.append(("KMSKeyDisabledErrorCount", "* is disabled."))
        for metric, message in filters:
            logs.put_metric_filter(
                logGroupName=group, filterName=f"{metric}Filter",
                filterPattern='{ $.eventSource = kms* && $.errorMessage = "%s" }' % message,
                metricTransformations=[{"metricName": metric, "metricNamespace": "CloudTrailLogMetrics",
                                        "metricValue": "1"}])
            client("cloudwatch").put_metric_alarm(
                AlarmName=f"{metric}Alarm", Namespace="CloudTrailLogMetrics", MetricName=metric,
                Statistic="Sum", Period=300, EvaluationPeriods=1, DatapointsToAlarm=1, Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
                AlarmActions=[topic])
    print(key["Arn"])


if __name__ == "__main__":
    main(*sys.argv[1:4])
