"""Linkerd identity through real ansible-playbook runs: the module, the linkerd_identity role against moto, the playbooks.

Every test reads the outcome back from where it is stored (the moto server, the file store, the
cluster) and checks the certificates with the cryptography library; the canary tests scan the
-vvvv output of whole runs for any private key.
"""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tests.support.ansible import REPO_ROOT, ok, run_playbook
from tests.support.moto import MotoServer

ROLE = "eks_gitops.platform.linkerd_identity"
ANCHOR_SECRET = "platform/test/linkerd/trust-anchor"
ISSUER_SECRET = "platform/test/linkerd/identity-issuer"
ROTATE = REPO_ROOT / "playbooks" / "rotate-linkerd-certs.yml"
CHECK = REPO_ROOT / "playbooks" / "check-linkerd-certs.yml"
NO_CLUSTER = {"linkerd_identity_environment": "test", "linkerd_identity_cluster_enabled": False}
PEM_BODY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\n(.*?)\n-----END", re.S)


def role_play(**variables: Any) -> list[dict[str, Any]]:
    return [{"name": "Linkerd identity", "hosts": "localhost", "gather_facts": False, "vars": {**NO_CLUSTER, **variables}, "roles": [ROLE]}]


def in_role(task: str) -> str:
    """How the json callback names a task of the role."""
    return f"{ROLE} : {task}"


FAILURE_REPORT = in_role("Report why the identity material could not be kept valid")


def stored(aws: MotoServer, name: str) -> dict[str, Any]:
    return dict(json.loads(aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]))


def version(aws: MotoServer, name: str) -> str:
    return str(aws.client("secretsmanager").describe_secret(SecretId=name)["VersionIdsToStages"])


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def certs(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def assert_no_private_key(output: str, keys: list[str]) -> None:
    """No PEM private key, no line of one, and no base64 of one appears in ``output``."""
    assert "PRIVATE KEY" not in output
    for key in keys:
        for line in PEM_BODY.search(key).group(1).splitlines():  # type: ignore[union-attr]
            assert line not in output
        encoded = base64.b64encode(key.encode()).decode()
        for start in range(64, len(encoded) - 104, 40):  # past the BEGIN/END lines every EC key shares
            assert encoded[start : start + 40] not in output


# --- the module through ansible-playbook -----------------------------------------------------

SAVE = {
    "name": "Save the material (no_log: it holds keys)",
    "ansible.builtin.copy": {"content": "{{ material | to_nice_json }}", "dest": "{{ store }}", "mode": "0600"},
    "vars": {
        "material": "{{ previous | combine(certs | dict2items | selectattr('key', 'match', '.*_pem$') | items2dict) }}",
    },
    "no_log": True,
}


def module_play(store: Path, **options: Any) -> list[dict[str, Any]]:
    given = {
        name: f"{{{{ previous.{name} | default(omit) }}}}"
        for name in ("trust_anchor_pem", "trust_anchor_key_pem", "trust_bundle_pem", "issuer_cert_pem", "issuer_key_pem")
    }
    return [
        {
            "name": "linkerd_certificates",
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {
                "store": str(store),
                "previous": f"{{{{ lookup('ansible.builtin.file', '{store}', errors='ignore') | default('{{}}', true) | from_json }}}}",
            },
            "tasks": [
                {"name": "Certificates", "eks_gitops.platform.linkerd_certificates": {**given, **options}, "register": "certs", "no_log": True},
                SAVE,
                {"name": "Summary", "ansible.builtin.debug": {"msg": "{{ certs | dict2items | rejectattr('key', 'match', '.*_pem$') | items2dict }}"}},
            ],
        }
    ]


def test_module_second_run_unchanged_and_check_mode_honoured(tmp_path: Path) -> None:
    store = tmp_path / "material.json"
    first = ok(run_playbook(module_play(store), tmp_path))
    assert first.result("Certificates")["changed"] is True
    assert first.result("Certificates")["censored"]  # no_log is in force
    saved = json.loads(store.read_text())
    assert set(saved) == {"trust_anchor_pem", "trust_anchor_key_pem", "trust_bundle_pem", "issuer_cert_pem", "issuer_key_pem"}
    cert(saved["issuer_cert_pem"]).verify_directly_issued_by(cert(saved["trust_anchor_pem"]))

    second = ok(run_playbook(module_play(store), tmp_path))
    assert second.result("Certificates")["changed"] is False
    assert second.result("Save the material (no_log: it holds keys)")["changed"] is False
    assert second.result("Summary")["msg"]["changes"] == []
    assert json.loads(store.read_text()) == saved

    checked = ok(run_playbook(module_play(store, force_issuer_rotation=True), tmp_path, check=True))
    assert checked.result("Certificates")["changed"] is True
    summary = checked.result("Summary")["msg"]
    assert summary["issuer_changed"] is True
    assert summary["anchor_changed"] is False
    assert json.loads(store.read_text()) == saved  # check mode: the (check-mode) save wrote nothing

    rotated = ok(run_playbook(module_play(store, force_issuer_rotation=True), tmp_path))
    assert rotated.result("Certificates")["changed"] is True
    after = json.loads(store.read_text())
    assert after["trust_anchor_pem"] == saved["trust_anchor_pem"]
    assert after["issuer_cert_pem"] != saved["issuer_cert_pem"]
    cert(after["issuer_cert_pem"]).verify_directly_issued_by(cert(saved["trust_anchor_pem"]))


def test_module_failure_names_the_input_without_leaking(tmp_path: Path) -> None:
    store, other = tmp_path / "material.json", tmp_path / "other.json"
    ok(run_playbook(module_play(store), tmp_path))
    ok(run_playbook(module_play(other), tmp_path))
    saved = json.loads(store.read_text())
    saved["issuer_key_pem"] = json.loads(other.read_text())["issuer_key_pem"]  # a key that does not match the issuer
    store.write_text(json.dumps(saved))
    failed = run_playbook(module_play(store), tmp_path, verbosity=4, json_output=False)
    assert failed.rc != 0
    # no_log hides the message of the task itself: the role shows it with a separate task (see below).
    assert_no_private_key(failed.output, [saved["issuer_key_pem"], saved["trust_anchor_key_pem"]])


# --- the role against moto --------------------------------------------------------------------


def test_role_stores_the_anchor_and_reuses_it(aws: MotoServer, tmp_path: Path) -> None:
    kms_key = aws.client("kms").create_key(Description="linkerd identity")["KeyMetadata"]["KeyId"]
    first = ok(run_playbook(role_play(linkerd_identity_kms_key_id=kms_key, linkerd_identity_secret_tags={"team": "platform"}), tmp_path, env=aws.env()))
    assert first.stats["changed"] >= 2
    anchor, issuer = stored(aws, ANCHOR_SECRET), stored(aws, ISSUER_SECRET)
    assert set(anchor) == {"trust_anchor_pem", "trust_anchor_key_pem", "trust_bundle_pem"}
    assert set(issuer) == {"issuer_cert_pem", "issuer_key_pem"}
    assert anchor["trust_anchor_key_pem"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert anchor["trust_bundle_pem"] == anchor["trust_anchor_pem"]
    cert(issuer["issuer_cert_pem"]).verify_directly_issued_by(cert(anchor["trust_anchor_pem"]))
    key = serialization.load_pem_private_key(anchor["trust_anchor_key_pem"].encode(), None)
    assert key.public_key() == cert(anchor["trust_anchor_pem"]).public_key()
    for name in (ANCHOR_SECRET, ISSUER_SECRET):
        described = aws.client("secretsmanager").describe_secret(SecretId=name)
        assert described["KmsKeyId"].endswith(kms_key)
        assert {"Key": "team", "Value": "platform"} in described["Tags"]
    facts = first.result(in_role("Export the trust bundle, the certificates and their dates"))["ansible_facts"]
    assert facts["linkerd_identity_trust_bundle_pem"] == anchor["trust_bundle_pem"]
    assert facts["linkerd_identity_trust_anchor_days_left"] == 3650
    assert facts["linkerd_identity_issuer_days_left"] == 365
    assert facts["linkerd_identity_anchor_rotation_phase"] == "none"
    assert not any("PRIVATE KEY" in str(value) for value in facts.values())

    anchor_version, issuer_version = version(aws, ANCHOR_SECRET), version(aws, ISSUER_SECRET)
    (tmp_path / "elsewhere").mkdir()  # another machine: a fresh Ansible home and temp directory
    second = ok(
        run_playbook(role_play(linkerd_identity_kms_key_id=kms_key, linkerd_identity_secret_tags={"team": "platform"}), tmp_path / "elsewhere", env=aws.env())
    )
    assert second.stats["changed"] == 0
    assert (version(aws, ANCHOR_SECRET), version(aws, ISSUER_SECRET)) == (anchor_version, issuer_version)
    assert stored(aws, ANCHOR_SECRET) == anchor

    # Read back and reused: the next issuer comes from the stored anchor, which is not rewritten.
    rotated = ok(run_playbook(role_play(linkerd_identity_force_issuer_rotation=True), tmp_path, env=aws.env()))
    assert rotated.stats["changed"] >= 2
    assert stored(aws, ANCHOR_SECRET) == anchor
    new_issuer = stored(aws, ISSUER_SECRET)
    assert new_issuer["issuer_cert_pem"] != issuer["issuer_cert_pem"]
    assert new_issuer["issuer_key_pem"] != issuer["issuer_key_pem"]
    cert(new_issuer["issuer_cert_pem"]).verify_directly_issued_by(cert(anchor["trust_anchor_pem"]))


def test_role_check_mode_writes_nothing(aws: MotoServer, tmp_path: Path) -> None:
    checked = ok(run_playbook(role_play(), tmp_path, env=aws.env(), check=True, diff=True))
    assert checked.stats["changed"] >= 1
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []
    ok(run_playbook(role_play(), tmp_path, env=aws.env()))
    anchor = stored(aws, ANCHOR_SECRET)
    again = ok(run_playbook(role_play(linkerd_identity_force_issuer_rotation=True), tmp_path, env=aws.env(), check=True))
    assert again.stats["changed"] >= 1
    assert stored(aws, ANCHOR_SECRET) == anchor


def test_role_fails_with_the_modules_message(aws: MotoServer, tmp_path: Path) -> None:
    failed = run_playbook(role_play(linkerd_identity_issuer_validity="30d"), tmp_path, env=aws.env())
    assert failed.rc != 0
    message = failed.result(FAILURE_REPORT)["msg"]
    assert "issuer_validity: '30d' must be longer than renew_before" in message
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []


def test_role_file_store(tmp_path: Path) -> None:
    path = tmp_path / "state" / "dev" / "linkerd-identity.json"
    play = role_play(linkerd_identity_store="file", linkerd_identity_file_path=str(path))
    first = ok(run_playbook(play, tmp_path))
    assert first.stats["changed"] >= 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    material = json.loads(path.read_text())
    cert(material["issuer_cert_pem"]).verify_directly_issued_by(cert(material["trust_anchor_pem"]))
    second = ok(run_playbook(play, tmp_path))
    assert second.stats["changed"] == 0
    assert json.loads(path.read_text()) == material


# --- the canary: -vvvv output never carries a private key -------------------------------------


def test_canary_no_private_key_in_vvvv_output(aws: MotoServer, tmp_path: Path) -> None:
    runs = [run_playbook(role_play(), tmp_path, env=aws.env(), verbosity=4, diff=True, json_output=False)]
    runs.append(run_playbook(role_play(linkerd_identity_force_issuer_rotation=True), tmp_path, env=aws.env(), verbosity=4, diff=True, json_output=False))
    keys = [stored(aws, ANCHOR_SECRET)["trust_anchor_key_pem"], stored(aws, ISSUER_SECRET)["issuer_key_pem"]]
    for anchor_phase in ("start", "issue", "finish"):
        runs.append(run_playbook(role_play(linkerd_identity_anchor_rotation=anchor_phase), tmp_path, env=aws.env(), verbosity=4, diff=True, json_output=False))
        keys += [stored(aws, ANCHOR_SECRET)["trust_anchor_key_pem"], stored(aws, ISSUER_SECRET)["issuer_key_pem"]]
    runs.append(
        run_playbook(CHECK, tmp_path, env=aws.env(), verbosity=4, json_output=False, extra_vars={**NO_CLUSTER, "linkerd_identity_check_cluster": False})
    )
    module_store = tmp_path / "module.json"
    runs.append(run_playbook(module_play(module_store), tmp_path, verbosity=4, diff=True, json_output=False))
    keys += [json.loads(module_store.read_text())[name] for name in ("trust_anchor_key_pem", "issuer_key_pem")]
    for run in runs:
        assert run.rc == 0, run.output[-4000:]
        assert "<ESTABLISH LOCAL CONNECTION" in run.output or "ESTABLISH" in run.output  # -vvvv really was on
        assert_no_private_key(run.output, keys)
    assert len(set(keys)) >= 6  # the runs made new keys: the canary looked for real ones


# --- the playbooks without a cluster ----------------------------------------------------------


def test_rotate_playbook_phases_against_moto(aws: MotoServer, tmp_path: Path) -> None:
    offline = {**NO_CLUSTER, "publish_bundle": False, "restart": False}
    ok(run_playbook(role_play(), tmp_path, env=aws.env()))
    first_anchor, first_issuer = stored(aws, ANCHOR_SECRET), stored(aws, ISSUER_SECRET)

    issuer_run = ok(run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars=offline))
    assert stored(aws, ANCHOR_SECRET) == first_anchor
    assert stored(aws, ISSUER_SECRET)["issuer_cert_pem"] != first_issuer["issuer_cert_pem"]
    assert issuer_run.result("Say what comes next")["msg"].startswith("anchor rotation phase: none")

    started = ok(run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars={**offline, "phase": "start"}))
    anchor = stored(aws, ANCHOR_SECRET)
    bundle = [item.fingerprint(hashes.SHA256()) for item in certs(anchor["trust_bundle_pem"])]
    assert bundle == [cert(anchor["trust_anchor_pem"]).fingerprint(hashes.SHA256()), cert(first_anchor["trust_anchor_pem"]).fingerprint(hashes.SHA256())]
    assert anchor["trust_anchor_key_pem"] != first_anchor["trust_anchor_key_pem"]
    assert "run -e phase=issue" in started.result("Say what comes next")["msg"]
    again = ok(run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars={**offline, "phase": "start"}))
    assert again.stats["changed"] == 0
    assert stored(aws, ANCHOR_SECRET) == anchor

    ok(run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars={**offline, "phase": "issue"}))
    cert(stored(aws, ISSUER_SECRET)["issuer_cert_pem"]).verify_directly_issued_by(cert(anchor["trust_anchor_pem"]))
    finished = ok(run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars={**offline, "phase": "finish"}))
    assert stored(aws, ANCHOR_SECRET)["trust_bundle_pem"] == anchor["trust_anchor_pem"]
    assert "complete" in finished.result("Say what comes next")["msg"]
    assert ok(run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars={**offline, "phase": "finish"})).stats["changed"] == 0

    wrong = run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars={**offline, "phase": "issue"})
    assert wrong.rc != 0
    assert "anchor_rotation: issue needs an anchor rotation in progress" in wrong.result(FAILURE_REPORT)["msg"]
    bad = run_playbook(ROTATE, tmp_path, env=aws.env(), extra_vars={**offline, "phase": "begin"})
    assert bad.rc != 0
    assert "phase must be issuer" in bad.result("Check the requested phase")["msg"]


def test_check_playbook_exit_status(aws: MotoServer, tmp_path: Path) -> None:
    offline = {**NO_CLUSTER, "linkerd_identity_check_cluster": False}
    nothing = run_playbook(CHECK, tmp_path, env=aws.env(), extra_vars=offline)
    assert nothing.rc != 0
    assert "no Linkerd identity material is stored" in nothing.result(in_role("Check that material is stored"))["msg"]

    ok(run_playbook(role_play(), tmp_path, env=aws.env()))
    healthy = ok(run_playbook(CHECK, tmp_path, env=aws.env(), extra_vars=offline))
    report = healthy.result(in_role("Report the days left"))["msg"]
    assert re.search(r"valid until \S+, 36(49|50) days left", report[0])  # whole days: a few seconds after issuing, 3649
    assert re.search(r"valid until \S+, 36[45] days left", report[1])
    assert healthy.result(in_role("Fail below the threshold"))["msg"] == "Linkerd identity certificates are valid for at least 60 days."

    due = run_playbook(CHECK, tmp_path, env=aws.env(), extra_vars={**offline, "min_days": 400})
    assert due.rc == 2
    assert re.search(r"issuer 36[45] days left \(threshold 400\)", due.result(in_role("Fail below the threshold"))["msg"])
