"""`make bench`: the collector against its physical bound, and offline
evaluation at scale. Speed is measured here, never asserted in tests.

Live cases run the release binary against the emulator through
tests/emulator/proxy.py, which adds RTT_MS of round-trip time to every
request and counts the requests in flight. The bound of a case is

    max(critical round trips, requests / concurrency) x RTT

where the critical round trips are those that must follow one another
(DescribeClusters, then the key reads: 2 for a targeted run whose cluster
key is a key ARN; for a fleet, the ListClusters pages of 100 clusters, then
the last page's DescribeClusters and key reads), and requests / concurrency is how many full waves of requests the
in-flight limit allows; in the TLS cases (the proxy speaks HTTPS and
answers each new connection's handshake HANDSHAKE_MS late) one handshake is
added, the first connection's, which nothing can avoid. Each live case also
reports the bound with the round trip the requests were observed to take
(RTT plus the emulator's own time, from the proxy's log):

    max(critical round trips x observed round trip [+ handshake],
        sum of request times / concurrency)

the second term being the time if every place under the limit were busy
all the time. Offline cases time `check --inventory` on generated
inventories and read the peak RSS of the process (GNU time's %M).

Usage: bench.py ENDPOINT_URL BINARY
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_ca  # noqa: E402
from key_policies import fargate_policy  # noqa: E402

ACCOUNT = "123456789012"
RTT_MS = 50
# TCP and TLS 1.3 set-up of a new connection: two round trips.
HANDSHAKE_MS = 2 * RTT_MS
RUNS = 5
HERE = os.path.dirname(os.path.abspath(__file__))


def session(region):
    return boto3.session.Session(
        aws_access_key_id="EXAMPLEACCESSKEYID", aws_secret_access_key="EXAMPLESECRETACCESSKEY", region_name=region
    )


def seed_fleet(endpoint, region, clusters, keys):
    s = session(region)
    kms, ecs = s.client("kms", endpoint_url=endpoint), s.client("ecs", endpoint_url=endpoint)
    names = [f"bench-{i:04d}" for i in range(clusters)]
    arns = []
    for i in range(keys):
        users = names[i::keys]
        arns.append(kms.create_key(Policy=fargate_policy(ACCOUNT, users))["KeyMetadata"]["Arn"])
    for i, name in enumerate(names):
        ecs.create_cluster(clusterName=name, configuration={
            "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": arns[i % keys]}})
    return names


def seed_targeted(endpoint, region):
    s = session(region)
    kms, ecs = s.client("kms", endpoint_url=endpoint), s.client("ecs", endpoint_url=endpoint)
    key = kms.create_key(Policy=fargate_policy(ACCOUNT, ["target"]))["KeyMetadata"]["Arn"]
    ecs.create_cluster(clusterName="target", configuration={
        "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key}})
    ecs.register_task_definition(
        family="app", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx", "memory": 512}])
    ecs.create_service(cluster="target", serviceName="api", taskDefinition="app", desiredCount=1, launchType="FARGATE")


class Proxy:
    """The latency-adding proxy. With `handshake_ms`, it speaks HTTPS and
    answers each new connection's TLS handshake that much late, and the tool
    reaches ECS (and STS) at 127.0.0.1 and KMS at localhost: two endpoints,
    two connection pools, as ecs.REGION.amazonaws.com and kms.REGION.amazonaws.com are."""

    def __init__(self, endpoint, handshake_ms=0):
        cmd = [sys.executable, os.path.join(HERE, "proxy.py"), endpoint, "--delay-ms", str(RTT_MS)]
        self.tmp, self.cert = None, None
        if handshake_ms:
            self.tmp = tempfile.TemporaryDirectory()
            self.cert, cert, key = test_ca.make(self.tmp.name)
            cmd += ["--tls-cert", cert, "--tls-key", key, "--connect-delay-ms", str(handshake_ms)]
        self.handshake_ms = handshake_ms
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = self.proc.stdout.readline().split()[1]
        self.url = ("https" if handshake_ms else "http") + "://127.0.0.1:" + port

    def env(self, region):
        """The tool's environment: endpoints through the proxy."""
        env = dict(os.environ, AWS_REGION=region)
        if not self.cert:
            return dict(env, AWS_ENDPOINT_URL=self.url)
        env.pop("AWS_ENDPOINT_URL", None)
        # The test CA is the only one trusted (rustls-native-certs reads SSL_CERT_FILE).
        return dict(env, SSL_CERT_FILE=self.cert, AWS_ENDPOINT_URL_ECS=self.url, AWS_ENDPOINT_URL_STS=self.url,
                    AWS_ENDPOINT_URL_KMS=self.url.replace("127.0.0.1", "localhost"))

    def control(self, path, method="GET"):
        import ssl
        import urllib.request
        context = ssl.create_default_context(cafile=self.cert) if self.cert else None
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, context=context) as r:
            return json.loads(r.read() or b"{}")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        if self.tmp:
            self.tmp.cleanup()


def timed(cmd, env):
    """(seconds, exit code) of one run, by wait4: no polling, which would add
    up to its interval to every time."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, _ = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, proc.returncode


def peak_rss_mb(cmd, env):
    """Peak RSS of one run in MiB. Not wait4's ru_maxrss: the kernel keeps
    across exec the peak of the forked copy of this (large) Python process.
    GNU time's child is forked from GNU time, so its %M is the tool's own;
    without GNU time, /proc/PID/status VmHWM is polled (it may miss a peak
    in the last interval before exit)."""
    if os.path.exists("/usr/bin/time"):
        with tempfile.NamedTemporaryFile("r") as out:
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            return int(out.read().split()[-1]) / 1024
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                peak = max([peak] + [int(line.split()[1]) for line in f if line.startswith("VmHWM:")])
        except OSError:
            pass
        time.sleep(0.001)
    return peak / 1024


def live(binary, proxy, region, args, bound_rtts, concurrency=32):
    env = proxy.env(region)
    handshake = proxy.handshake_ms / 1000
    cmd = [binary, "check", "--format", "json", "--concurrency", str(concurrency), *args]
    times, peaks = [], []
    for _ in range(RUNS):
        proxy.control("/__reset", "POST")
        elapsed, code = timed(cmd, env)
        if code not in (0, 1):
            sys.exit(f"{cmd}: exit {code}")
        stats = proxy.control("/__stats")
        times.append(elapsed)
        peaks.append(stats["max_in_flight"])
    requests = stats["requests"]
    waves = -(-requests // concurrency)
    bound = max(bound_rtts, waves) * RTT_MS / 1000 + handshake
    med = statistics.median(times)
    # The same bound with the round trip each request was observed to take
    # (RTT plus the emulator's own time, queueing included), from the last
    # run's log: the critical round trips one after the other, or every
    # place under the limit busy all the time (Little's law), whichever is
    # larger.
    spans = [end - start for _, start, end in stats["log"]]
    observed_rt = statistics.median(spans)
    observed = max(bound_rtts * observed_rt + handshake, sum(spans) / concurrency)
    return {"median_s": round(med, 3), "bound_s": round(bound, 3), "ratio": round(med / bound, 2),
            "observed_rt_ms": round(observed_rt * 1000, 1), "observed_bound_s": round(observed, 3),
            "observed_ratio": round(med / observed, 2), "requests": requests,
            "connections": stats.get("connections"), "max_in_flight": max(peaks), "concurrency": concurrency}


def offline_inventory(clusters, keys, path):
    names = [f"c{i:06d}" for i in range(clusters)]
    inv = {"schema_version": 1, "collected_at": "2026-11-30T12:00:00Z", "regions": ["us-east-1"],
           "clusters": [], "keys": {}, "key_details": {}}
    arns = [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{i:08d}-0000-0000-0000-EXAMPLE00000" for i in range(keys)]
    for i, arn in enumerate(arns):
        inv["keys"][arn] = {"reference": arn, "region": "us-east-1", "describe": {"outcome": "found", "metadata": {
            "arn": arn, "key_id": arn.split("/")[1], "key_state": "Enabled", "key_manager": "CUSTOMER",
            "key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS", "multi_region": False}}}
        inv["key_details"][arn] = {
            "policy": {"outcome": "read", "value": fargate_policy(ACCOUNT, names[i::keys])},
            "grants": {"outcome": "read", "value": {"total": 0, "fargate": 0}},
            "rotation": {"outcome": "read", "value": {"enabled": True}}}
    for i, name in enumerate(names):
        usages = [{"usage": "fargate_ephemeral_storage", "configured": arns[i % keys], "lookup": arns[i % keys]},
                  {"usage": "managed_storage"}, {"usage": "execute_command"}]
        inv["clusters"].append({"name": name, "arn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{name}",
                                "region": "us-east-1", "lookup": {"outcome": "found", "status": "ACTIVE", "key_usages": usages},
                                "services": {"outcome": "read", "value": []}})
    with open(path, "w") as f:
        json.dump(inv, f)


def offline(binary, clusters, keys):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "inv.json")
        offline_inventory(clusters, keys, path)
        cmd = [binary, "check", "--format", "json", "--inventory", path]
        times = [timed(cmd, dict(os.environ))[0] for _ in range(3)]
        peak = peak_rss_mb(cmd, dict(os.environ))
    return {"median_s": round(statistics.median(times), 3), "peak_rss_mb": round(peak, 1)}


def seed_org(endpoint, accounts, regions, clusters):
    """An organization of `accounts` members, each with `clusters` clusters on one key per Region."""
    mgmt = session("us-east-1")
    org, sts = mgmt.client("organizations", endpoint_url=endpoint), mgmt.client("sts", endpoint_url=endpoint)
    org.create_organization(FeatureSet="ALL")
    for i in range(accounts):
        account = org.create_account(Email=f"bench-{i}@example.com", AccountName=f"bench-{i}")["CreateAccountStatus"]["AccountId"]
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/bench-read", RoleSessionName="seed")["Credentials"]
        member = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                       aws_session_token=creds["SessionToken"])
        for region in regions:
            kms = member.client("kms", endpoint_url=endpoint, region_name=region)
            ecs = member.client("ecs", endpoint_url=endpoint, region_name=region)
            names = [f"org-{j:02d}" for j in range(clusters)]
            key = kms.create_key(Policy=fargate_policy(account, names))["KeyMetadata"]["Arn"]
            for name in names:
                ecs.create_cluster(clusterName=name, configuration={
                    "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key}})


def fleet_rtts(clusters):
    """The round trips that follow one another in a whole-Region run: the
    ListClusters pages (100 clusters each), then the last page's
    DescribeClusters, then its keys' reads."""
    return -(-clusters // 100) + 2


def main(endpoint, binary):
    seed_org(endpoint, 50, ["ap-south-1", "sa-east-1"], 10)
    seed_targeted(endpoint, "us-west-2")
    seed_fleet(endpoint, "eu-west-1", 200, 20)
    seed_fleet(endpoint, "eu-central-1", 1000, 100)
    proxy = Proxy(endpoint)
    tls = Proxy(endpoint, handshake_ms=HANDSHAKE_MS)
    # TLS with (almost) no handshake delay: what the handshakes' computation
    # costs on this machine, at both ends, so that the TLS cases' extra time
    # over it shows what the handshake delay itself adds to the run.
    tls_fast = Proxy(endpoint, handshake_ms=1)
    results = {
        # DescribeClusters and DescribeServices, then the key's four reads alongside each other.
        "targeted --cluster C --service S": live(binary, proxy, "us-west-2", ["--cluster", "target", "--service", "api"], 2),
        "targeted --cluster C": live(binary, proxy, "us-west-2", ["--cluster", "target"], 2),
        # The same over TLS, each new connection's handshake answered HANDSHAKE_MS late.
        "targeted --cluster C --service S, TLS": live(
            binary, tls, "us-west-2", ["--cluster", "target", "--service", "api"], 2),
        "targeted --cluster C, TLS": live(binary, tls, "us-west-2", ["--cluster", "target"], 2),
        "targeted --cluster C --service S, TLS, 1 ms handshake": live(
            binary, tls_fast, "us-west-2", ["--cluster", "target", "--service", "api"], 2),
        "fleet 200 clusters / 20 keys, TLS": live(binary, tls, "eu-west-1", [], fleet_rtts(200)),
        # ListClusters (one page per 100 clusters, one after the other), then the
        # last page's DescribeClusters (with ListServices alongside), its key reads.
        "fleet 200 clusters / 20 keys": live(binary, proxy, "eu-west-1", [], fleet_rtts(200)),
        "fleet 1,000 clusters / 100 keys": live(binary, proxy, "eu-central-1", [], fleet_rtts(1000)),
        "fleet 1,000 clusters / 100 keys, --concurrency 16": live(binary, proxy, "eu-central-1", [], fleet_rtts(1000), 16),
        "fleet 1,000 clusters / 100 keys, --concurrency 64": live(binary, proxy, "eu-central-1", [], fleet_rtts(1000), 64),
        # ListAccounts, AssumeRole, ListClusters, DescribeClusters, the key reads.
        "organization 50 accounts x 2 Regions x 10 clusters": live(
            binary, proxy, "ap-south-1",
            ["--org", "--role-name", "bench-read", "--region", "ap-south-1", "--region", "sa-east-1"], 5),
        "offline 10,000 clusters": offline(binary, 10_000, 100),
        "offline 100,000 clusters": offline(binary, 100_000, 1000),
    }
    proxy.close()
    tls.close()
    tls_fast.close()
    print(f"round trip {RTT_MS} ms added by the proxy ({HANDSHAKE_MS} ms more per new connection in the TLS cases); "
          f"{RUNS} runs each (median)")
    for name, r in results.items():
        print(f"  {name}: {json.dumps(r)}")
    ratio = results["offline 100,000 clusters"]["median_s"] / max(results["offline 10,000 clusters"]["median_s"], 1e-9)
    print(f"  offline 100k / 10k time ratio: {ratio:.1f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
