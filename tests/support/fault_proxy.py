"""A small threaded HTTP proxy on 127.0.0.1 in front of the moto server: counts requests, injects faults.

Point a client's endpoint at ``FaultProxy.endpoint_url`` instead of moto's. Every request
is counted by its AWS operation: the ``X-Amz-Target`` header of JSON services (``ListSecrets``), the
``Action`` of query services such as IAM and STS (``CreateRole``), else method and path (EKS's REST API).
Then, in this order:

- with probability ``failure_share`` (only for ``fault_operations`` when given) the request gets a fault,
  alternating between the ``faults`` given: ``throttle`` (a ``ThrottlingException``, HTTP 400, AWS JSON
  error) and ``503`` (a bare HTTP 503 with a plain-text body, which botocore cannot parse for the XML
  services) are answered by the proxy itself, never reaching moto; ``lost`` forwards the request to moto
  and then answers 503, so the call took effect but its answer was lost; at most ``max_faults`` in all.
  With ``first_attempts`` the first request of every operation gets the fault instead of a random share
  (``faulted`` counts the faults by operation);
- a request naming a secret in ``deny`` (``SecretId`` or ``Name`` equal to the name or
  an ARN of it) is answered with ``AccessDeniedException``, as IAM would for a policy
  that denies that one secret; ``BatchGetSecretValue`` is forwarded and the denied ids
  are moved from ``SecretValues`` to ``Errors``, as AWS reports them. ``deny_operations``
  limits this to some operations (``{"PutSecretValue"}``: the secret can be read, not written);
- everything else is forwarded to moto and its answer relayed.

``start()`` serves on a free port in a daemon thread; ``stop()`` shuts it down.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

THROTTLE_BODY = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded (injected by the test proxy)"}).encode()
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


@dataclass
class FaultProxy:
    upstream: str
    failure_share: float = 0.0
    faults: tuple[str, ...] = ("throttle", "503")
    fault_operations: set[str] | None = None
    max_faults: int | None = None
    first_attempts: bool = False
    faulted: Counter[str] = field(default_factory=Counter)
    deny: set[str] = field(default_factory=set)
    deny_operations: set[str] | None = None
    seed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _next_fault: int = 0

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.faults_injected.clear()
            self.faulted.clear()

    def start(self) -> FaultProxy:
        self._rng.seed(self.seed)
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- decisions (under the lock) ---

    def _record(self, operation: str) -> str | None:
        """Count the request; return the fault to inject, if any."""
        with self._lock:
            self.counts[operation] += 1
            targeted = self.fault_operations is None or operation in self.fault_operations
            spent = self.max_faults is not None and sum(self.faults_injected.values()) >= self.max_faults
            chosen = self.counts[operation] == 1 if self.first_attempts else self.failure_share > 0 and self._rng.random() < self.failure_share
            if targeted and not spent and chosen:
                fault = self.faults[self._next_fault % len(self.faults)]
                self._next_fault += 1
                self.faults_injected[fault] += 1
                self.faulted[operation] += 1
                return fault
        return None

    def denies(self, operation: str) -> bool:
        return bool(self.deny) and (self.deny_operations is None or operation in self.deny_operations)

    def _denied(self, body: dict[str, Any]) -> str | None:
        for key in ("SecretId", "Name"):
            value = body.get(key)
            if isinstance(value, str) and (name := self._denied_name(value)):
                return name
        return None

    def _denied_name(self, secret_id: str) -> str | None:
        for name in self.deny:
            if secret_id == name or (":secret:" in secret_id and secret_id.split(":secret:", 1)[1].rsplit("-", 1)[0] == name):
                return name
        return None


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0] if b"Action=" in body else ""
        operation = target.rsplit(".", 1)[-1] if target else action or f"{self.command} {self.path.split('?', 1)[0]}"
        fault = self.owner._record(operation)
        if fault == "throttle":
            self._reply(400, THROTTLE_BODY, "application/x-amz-json-1.1")
            return
        if fault == "503":
            self._reply(503, b"Service Unavailable (injected by the test proxy)", "text/plain")
            return
        if fault == "lost":
            self._forward(body)
            self._reply(503, b"Service Unavailable (the answer was lost, injected by the test proxy)", "text/plain")
            return
        request = _json(body)
        if operation != "BatchGetSecretValue" and self.owner.denies(operation) and (name := self.owner._denied(request)):
            message = (
                f"User: arn:aws:iam::123456789012:user/test is not authorized to perform: secretsmanager:{operation} on resource: {name} with an explicit deny"
            )
            self._reply(400, json.dumps({"__type": "AccessDeniedException", "message": message}).encode(), "application/x-amz-json-1.1")
            return
        status, headers, answer = self._forward(body)
        if operation == "BatchGetSecretValue" and self.owner.denies(operation) and status == 200:
            answer = self._deny_values(answer)
        self._reply(status, answer, headers.get("content-type", "application/x-amz-json-1.1"), headers)

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        upstream = urlsplit(self.owner.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        try:
            headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, {key.lower(): value for key, value in response.getheaders()}, response.read()
        finally:
            connection.close()

    def _deny_values(self, answer: bytes) -> bytes:
        document = _json(answer)
        kept, errors = [], list(document.get("Errors", []))
        for item in document.get("SecretValues", []):
            name = self.owner._denied_name(item.get("ARN", "")) or self.owner._denied_name(item.get("Name", ""))
            if name:
                errors.append(
                    {
                        "SecretId": item.get("ARN"),
                        "ErrorCode": "AccessDeniedException",
                        "Message": f"not authorized to perform secretsmanager:GetSecretValue on {name}",
                    }
                )
            else:
                kept.append(item)
        document["SecretValues"], document["Errors"] = kept, errors
        return json.dumps(document).encode()

    def _reply(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            if key not in HOP_BY_HOP and key not in ("content-type", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
