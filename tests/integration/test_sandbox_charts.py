"""The sandbox's chart switch: the upstream charts when their repositories answer, the test doubles otherwise.

scripts/sandbox.py probes the chart repositories (chart_mode) and writes its choice to <state>/sandbox-charts; the
local inventory reads it: upstream leaves platform_chart_repository empty (each role uses its pinned upstream
repository) and takes the real Gateway API bundle, doubles points both at the local chart repository. Here a
local server that serves an index stands for a repository that answers, a closed port for one that does not.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import sandbox
from tests.support.ansible import REPO_ROOT, run_playbook


class _Index(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path.endswith("/index.yaml")
        self.send_response(200 if found else 404)
        self.end_headers()
        if found:
            self.wfile.write(b"apiVersion: v1\nentries: {}\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def answering() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/charts"
    server.shutdown()


@pytest.fixture(scope="module")
def silent() -> str:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/charts"


def test_the_upstream_charts_when_every_repository_answers(answering: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_CHARTS", raising=False)
    assert sandbox.chart_mode([answering, answering + "/other"]) == ("upstream", "all 2 upstream chart repositories answer")


def test_the_doubles_when_one_repository_is_silent(answering: str, silent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_CHARTS", raising=False)
    mode, why = sandbox.chart_mode([answering, silent])
    assert mode == "doubles"
    assert why == f"1 of 2 upstream chart repositories do not answer ({silent}, ...)"


@pytest.mark.parametrize("forced", ["upstream", "doubles"])
def test_sandbox_charts_forces_either(forced: str, answering: str, silent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_CHARTS", forced)
    assert sandbox.chart_mode([answering, silent]) == (forced, f"SANDBOX_CHARTS={forced}")
    monkeypatch.setenv("SANDBOX_CHARTS", "latest")
    with pytest.raises(SystemExit, match="SANDBOX_CHARTS must be upstream or doubles, not 'latest'"):
        sandbox.chart_mode([answering])


@pytest.mark.parametrize("mode", ["upstream", "doubles"])
def test_the_local_inventory_follows_the_choice(mode: str, answering: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "sandbox-charts").write_text(mode + "\n", encoding="utf-8")
    (state / "chart-repo.url").write_text(answering + "\n", encoding="utf-8")
    plays = [
        {
            "name": "resolve",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "show",
                    "ansible.builtin.debug": {
                        "msg": {
                            "charts": "{{ platform_sandbox_charts }}",
                            "repository": "{{ platform_chart_repository }}",
                            "gateway_api": "{{ linkerd_gateway_api_url }}",
                        }
                    },
                    "vars": {"linkerd_gateway_api_version": "v1.5.1"},
                }
            ],
        }
    ]
    run = run_playbook(plays, tmp_path, inventory=REPO_ROOT / "inventories" / "local", env={"LOCAL_CLUSTER_STATE_DIR": str(state)})
    assert run.rc == 0, run.output[-3000:]
    shown = run.result("show")["msg"]
    if mode == "upstream":
        assert shown == {
            "charts": "upstream",
            "repository": "",
            "gateway_api": "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml",
        }
    else:
        assert shown == {"charts": "doubles", "repository": answering, "gateway_api": f"{answering}/manifests/gateway-api-standard.yaml"}
