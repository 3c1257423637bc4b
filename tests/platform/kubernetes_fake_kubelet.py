"""The fake API server's kubelet and controllers (see ``kubernetes_fake.py``).

Pods run as real local subprocesses (the image is not pulled: the command must exist
here) with the memory limit as RLIMIT_AS (a MemoryError ends the container
``OOMKilled``, exit 137, as the kernel's OOM killer would) and
``activeDeadlineSeconds`` enforced. The Job controller makes a Job's pod, retries a
failed one up to ``backoffLimit`` and ends the Job at its deadline; a Deployment's pod
restarts (``CrashLoopBackOff``). Objects live in the fake's store and change under its
lock, each change stamped with a new ``resourceVersion`` for the watches.
"""

from __future__ import annotations

import base64
import contextlib
import os
import resource
import secrets
import signal
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def now() -> str:
    """A timestamp as the API server writes them."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def owned(obj: dict[str, Any], plural: str, name: str) -> bool:
    """Whether ``obj`` has an owner reference to ``plural``/``name``."""
    refs = obj.get("metadata", {}).get("ownerReferences") or []
    return any(r.get("kind") == plural and r.get("name") == name for r in refs)


def _memory_bytes(q: str | None) -> int | None:
    if not q:
        return None
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, mult in units.items():
        if q.endswith(suffix):
            return int(float(q[: -len(suffix)]) * mult)
    return int(q)


class Proc:
    """One container: its process and log file."""

    def __init__(self, popen: subprocess.Popen[bytes] | None, log: Path):
        self.popen = popen
        self.log = log
        self.deadline_hit = False


class Kubelet:
    """Runs the pods of one fake API server; ``fake`` holds the objects and the lock."""

    def __init__(self, fake: Any):
        self.fake = fake
        self.procs: dict[tuple[str, str], Proc] = {}  # (ns, pod) -> container

    def job_pod(self, job: dict[str, Any]) -> None:
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        labels = {**job["spec"]["template"]["metadata"]["labels"], "job-name": name}
        tmpl = {**job["spec"]["template"], "metadata": {"labels": labels}}
        self.pod(ns, f"{name}-{secrets.token_hex(3)}", tmpl, owner=("jobs", name))

    def pod(self, ns: str, name: str, tmpl: dict[str, Any], owner: tuple[str, str]) -> None:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": tmpl["metadata"]["labels"],
                "uid": secrets.token_hex(8),
                "creationTimestamp": now(),
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": owner[0], "name": owner[1], "uid": "x"}
                ],
            },
            "spec": tmpl["spec"],
        }
        self.fake.objects[("pods", ns, name)] = pod
        self.run(ns, name, pod)
        self.fake._stamp(pod, "pods", "ADDED")

    def run(self, ns: str, name: str, pod: dict[str, Any]) -> None:
        c = pod["spec"]["containers"][0]
        pod["status"] = {"phase": "Pending", "containerStatuses": []}
        image = c.get("image", "")
        if image != image.lower() or " " in image:
            pod["status"]["containerStatuses"] = [
                self._cs(c, {"waiting": {"reason": "InvalidImageName", "message": image}})
            ]
            return
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for src in c.get("envFrom", []):
            secret = self.fake.objects.get(("secrets", ns, src["secretRef"]["name"]))
            if secret is None:
                pod["status"]["containerStatuses"] = [
                    self._cs(c, {"waiting": {"reason": "CreateContainerConfigError"}})
                ]
                return
            env.update({k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()})
        for item in c.get("env", []):
            env[item["name"]] = item.get("value", "")
        log = self.fake.workdir / f"{ns}-{name}.log"
        limit = _memory_bytes((c.get("resources") or {}).get("limits", {}).get("memory"))
        cwd = c.get("workingDir") or str(self.fake.workdir)
        Path(cwd).mkdir(parents=True, exist_ok=True)  # the runtime creates a missing workdir

        def preexec() -> None:
            os.setsid()
            if limit:
                # Python itself needs ~30 MB mapped; a limit below that kills it at start.
                resource.setrlimit(resource.RLIMIT_AS, (limit + 64 * 2**20,) * 2)

        with log.open("wb") as out:
            popen = subprocess.Popen(  # noqa: S603  the pod's command, as a kubelet would
                c["command"],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=preexec,
            )
        proc = Proc(popen, log)
        self.procs[(ns, name)] = proc
        pod["status"] = {
            "phase": "Running",
            "startTime": now(),
            "containerStatuses": [self._cs(c, {"running": {"startedAt": now()}}, ready=True)],
        }
        deadline = pod["spec"].get("activeDeadlineSeconds")
        if deadline:
            threading.Timer(deadline, self.pod_deadline, (ns, name)).start()
        threading.Thread(target=self._wait, args=(ns, name, proc), daemon=True).start()

    @staticmethod
    def _cs(c: dict[str, Any], state: dict[str, Any], ready: bool = False) -> dict[str, Any]:
        return {
            "name": c["name"],
            "image": c.get("image", ""),
            "imageID": "",
            "ready": ready,
            "restartCount": 0,
            "state": state,
        }

    def _wait(self, ns: str, name: str, proc: Proc) -> None:
        assert proc.popen is not None
        code = proc.popen.wait()
        with self.fake.lock:
            pod = self.fake.objects.get(("pods", ns, name))
            if pod is None or self.procs.get((ns, name)) is not proc or proc.deadline_hit:
                return
            tail = proc.log.read_bytes()[-8192:]
            if code != 0 and b"MemoryError" in tail:
                reason, code = "OOMKilled", 137
            else:
                reason = "Completed" if code == 0 else "Error"
                code = code if code >= 0 else 128 - code
            term = {"exitCode": code, "reason": reason, "finishedAt": now()}
            cs = pod["status"]["containerStatuses"][0]
            cs["ready"] = False
            if pod["spec"].get("restartPolicy") == "Always":  # a Deployment's pod restarts
                cs["lastState"] = {"terminated": term}
                cs["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
                cs["restartCount"] = 1
            else:
                cs["state"] = {"terminated": term}
                pod["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
            self.fake._stamp(pod, "pods")
            owner = pod["metadata"].get("ownerReferences", [{}])[0]
            if owner.get("kind") == "jobs":
                self._job_pod_ended(ns, owner["name"], code == 0)

    def _job_pod_ended(self, ns: str, name: str, ok: bool) -> None:
        job = self.fake.objects.get(("jobs", ns, name))
        if job is None or job["status"].get("conditions"):
            return
        st = job["status"]
        st["active"] = 0
        if ok:
            st["succeeded"] = 1
            st["conditions"] = [{"type": "Complete", "status": "True", "reason": "Completed"}]
        else:
            st["failed"] = st.get("failed", 0) + 1
            if st["failed"] > job["spec"].get("backoffLimit", 6):
                st["conditions"] = [
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "BackoffLimitExceeded",
                        "message": "Job has reached the specified backoff limit",
                    }
                ]
            else:
                st["active"] = 1
                self.fake._stamp(job, "jobs")
                self.job_pod(job)
                return
        self.fake._stamp(job, "jobs")

    def job_deadline(self, ns: str, name: str) -> None:
        with self.fake.lock:
            job = self.fake.objects.get(("jobs", ns, name))
            if job is None or job["status"].get("conditions"):
                return
            job["status"]["active"] = 0
            job["status"]["conditions"] = [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "DeadlineExceeded",
                    "message": "Job was active longer than specified deadline",
                }
            ]
            self.fake._stamp(job, "jobs")
            pods = [
                k for k, o in self.fake.objects.items() if k[0] == "pods" and owned(o, "jobs", name)
            ]
        for key in pods:  # the job controller deletes the active pods
            self.fake._delete("pods", key[1], key[2], {})

    def pod_deadline(self, ns: str, name: str) -> None:
        with self.fake.lock:
            pod = self.fake.objects.get(("pods", ns, name))
            proc = self.procs.get((ns, name))
            if pod is None or proc is None or pod["status"].get("phase") != "Running":
                return
            proc.deadline_hit = True
            pod["status"].update(
                {"phase": "Failed", "reason": "DeadlineExceeded", "message": "deadline"}
            )
            cs = pod["status"]["containerStatuses"][0]
            cs["state"] = {"terminated": {"exitCode": 137, "reason": "Error"}}
            self.fake._stamp(pod, "pods")
        self.kill(proc)

    def kill(self, proc: Proc) -> None:
        if proc.popen is not None and proc.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait()
