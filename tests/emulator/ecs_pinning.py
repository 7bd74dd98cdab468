"""ECS behaviour the emulator lacks, added for the tests and the demo.

Real ECS records on each service deployment the Fargate ephemeral storage key
the cluster had when the deployment was created
(`deployments[].fargateEphemeralStorage.kmsKeyId`), and "updates to the
fargateEphemeralStorageKmsKeyId configuration only take effect on new service
deployments". moto 5.2 leaves the field out. This module patches moto's ECS
models so that:

- a new service's deployment records the cluster's current key;
- `update-service --force-new-deployment` records the cluster's key again;
- a deployment's task counts follow its service's (moto leaves them at 0);
- ListClusters pages as ECS does (`maxResults`, at most 100, and `nextToken`;
  moto returns every cluster at once), so that listings of more than 100
  clusters take more than one page here too.

Everything else is moto's. Written against the pinned moto version
(tests/emulator/requirements.txt); `install()` fails loudly if moto changes.
"""

from moto.core.responses import ActionResult
from moto.ecs import models, responses


def _cluster_key(backend, cluster_name):
    cluster = backend._get_cluster(cluster_name)
    storage = (cluster.configuration or {}).get("managedStorageConfiguration") or {}
    return storage.get("fargateEphemeralStorageKmsKeyId")


def _pin(service, key):
    for deployment in service.deployments:
        if key and service.launch_type != "EC2":
            deployment["fargateEphemeralStorage"] = {"kmsKeyId": key}
        else:
            deployment.pop("fargateEphemeralStorage", None)


def _sync_counts(service):
    for deployment in service.deployments:
        deployment["desiredCount"] = service.desired_count
        deployment["runningCount"] = service.running_count
        deployment["pendingCount"] = service.pending_count


def install():
    backend_class = models.EC2ContainerServiceBackend
    original_create = backend_class.create_service
    original_update = backend_class.update_service
    for name in ("create_service", "update_service", "_get_cluster"):
        if not hasattr(backend_class, name):
            raise RuntimeError(f"moto's ECS backend has no {name}: tests/emulator/ecs_pinning.py needs updating")

    def create_service(self, cluster_str, service_name, *args, **kwargs):
        service = original_create(self, cluster_str, service_name, *args, **kwargs)
        _pin(service, _cluster_key(self, service.cluster_name))
        _sync_counts(service)
        return service

    def update_service(self, service_properties):
        force = service_properties.get("force_new_deployment", False)
        service = original_update(self, service_properties)
        if force:
            _pin(service, _cluster_key(self, service.cluster_name))
        _sync_counts(service)
        return service

    backend_class.create_service = create_service
    backend_class.update_service = update_service

    response_class = responses.EC2ContainerServiceResponse
    if not hasattr(response_class, "list_clusters"):
        raise RuntimeError("moto's ECS responses have no list_clusters: tests/emulator/ecs_pinning.py needs updating")

    def list_clusters(self):
        arns = self.ecs_backend.list_clusters()
        size = min(int(self._get_param("maxResults") or 100), 100)
        start = int(self._get_param("nextToken") or 0)
        page = {"clusterArns": arns[start:start + size]}
        if start + size < len(arns):
            page["nextToken"] = str(start + size)
        return ActionResult(page)

    response_class.list_clusters = list_clusters
