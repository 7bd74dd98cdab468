"""`make bench`: time a whole-Region `check` against a seeded emulator.

Seeds 300 clusters sharing 50 keys (some disabled), then runs the release
binary several times and prints wall-clock times. Speed is measured here,
never asserted in tests.
Usage: bench.py ENDPOINT_URL BINARY
"""

import os
import statistics
import subprocess
import sys
import time

import boto3

REGION = "us-east-1"
CLUSTERS = 300
KEYS = 50
RUNS = 5


def main(endpoint: str, binary: str) -> None:
    session = boto3.session.Session(
        aws_access_key_id="EXAMPLEACCESSKEYID", aws_secret_access_key="EXAMPLESECRETACCESSKEY", region_name=REGION
    )
    kms = session.client("kms", endpoint_url=endpoint)
    ecs = session.client("ecs", endpoint_url=endpoint)
    keys = []
    for i in range(KEYS):
        m = kms.create_key()["KeyMetadata"]
        if i % 10 == 0:
            kms.disable_key(KeyId=m["KeyId"])
        keys.append(m["Arn"])
    for i in range(CLUSTERS):
        ecs.create_cluster(
            clusterName=f"bench-{i:04d}",
            configuration={"managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": keys[i % KEYS]}},
        )
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run([binary, "check", "--format", "json"], env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        if done.returncode != 1:
            sys.exit(f"unexpected exit code {done.returncode} (expected 1: some keys are disabled)")
    print(f"check over {CLUSTERS} clusters / {KEYS} keys, {RUNS} runs:")
    print(f"  min {min(times):.3f}s  median {statistics.median(times):.3f}s  max {max(times):.3f}s")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
