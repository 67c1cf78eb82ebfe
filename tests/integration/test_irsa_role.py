"""irsa_role against the moto server over HTTP, with real ansible-playbook runs.

Every test reads the result back from the server with boto3: the OIDC provider, the
trust policy, the attached and inline policies, the tags.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

from tests.support.ansible import PlaybookRun, run_playbook
from tests.support.moto import MotoServer

CLUSTER = "platform"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"


def create_cluster(aws: MotoServer, name: str = CLUSTER) -> str:
    """An EKS cluster on moto; returns its OIDC issuer URL."""
    cluster = aws.client("eks").create_cluster(name=name, roleArn=f"arn:aws:iam::{aws.account_id}:role/eks-cluster", resourcesVpcConfig={})["cluster"]
    return str(cluster["identity"]["oidc"]["issuer"])


def host_path(issuer: str) -> str:
    return issuer[len("https://") :]


def provider_arn(aws: MotoServer, issuer: str) -> str:
    return f"arn:aws:iam::{aws.account_id}:oidc-provider/{host_path(issuer)}"


def irsa(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "eks_gitops.platform.irsa_role": args, "register": "out"}


def run(aws: MotoServer, tmp_path: Path, *tasks: dict[str, Any], **kwargs: Any) -> PlaybookRun:
    plays = [{"name": "irsa_role", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]
    return run_playbook(plays, tmp_path, env=aws.env(), **kwargs)


def task_ok(playbook: PlaybookRun, task: str) -> dict[str, Any]:
    result = playbook.result(task)
    assert not result.get("failed"), result.get("msg")
    return result


def trust_policy(aws: MotoServer, role: str) -> dict[str, Any]:
    return dict(aws.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])


def attached(aws: MotoServer, role: str) -> list[str]:
    return sorted(p["PolicyArn"] for p in aws.client("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"])


def inline(aws: MotoServer, role: str) -> dict[str, Any]:
    iam = aws.client("iam")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return {name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"] for name in names}


def role_names(aws: MotoServer) -> list[str]:
    return sorted(r["RoleName"] for r in aws.client("iam").list_roles()["Roles"])


def providers(aws: MotoServer) -> list[str]:
    return [p["Arn"] for p in aws.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def test_cluster_name_to_oidc_provider_and_exact_trust_policy(aws: MotoServer, tmp_path: Path) -> None:
    issuer = create_cluster(aws)
    task = {"role_name": "shop-checkout", "cluster_name": CLUSTER, "service_accounts": [{"namespace": "shop", "name": "checkout"}]}
    playbook = run(aws, tmp_path, irsa("create", **task), irsa("again", **task))
    assert playbook.rc == 0, playbook.output

    arn = provider_arn(aws, issuer)
    assert providers(aws) == [arn]
    provider = aws.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["Url"] == host_path(issuer)

    assert trust_policy(aws, "shop-checkout") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host_path(issuer)}:sub": "system:serviceaccount:shop:checkout",
                        f"{host_path(issuer)}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
    created = task_ok(playbook, "create")
    role_arn = f"arn:aws:iam::{aws.account_id}:role/shop-checkout"
    assert created["changed"] is True
    assert created["role_arn"] == role_arn == aws.client("iam").get_role(RoleName="shop-checkout")["Role"]["Arn"]
    assert created["role_name"] == "shop-checkout"
    assert created["role_id"] == aws.client("iam").get_role(RoleName="shop-checkout")["Role"]["RoleId"]
    assert created["oidc_provider_arn"] == arn
    assert created["service_account_annotations"] == {"eks.amazonaws.com/role-arn": role_arn}
    again = task_ok(playbook, "again")
    assert again["changed"] is False
    assert again["service_account_annotations"] == created["service_account_annotations"]


def test_roles_share_the_provider_and_wildcards_use_string_like(aws: MotoServer, tmp_path: Path) -> None:
    issuer = create_cluster(aws)
    accounts = [{"namespace": "jobs", "name": "batch"}, {"namespace": "jobs", "name": "worker-*"}]
    playbook = run(
        aws,
        tmp_path,
        irsa("first", role_name="one", cluster_name=CLUSTER, service_accounts=[{"namespace": "a", "name": "a"}]),
        irsa("second", role_name="two", cluster_name=CLUSTER, service_accounts=accounts),
    )
    assert playbook.rc == 0, playbook.output
    assert providers(aws) == [provider_arn(aws, issuer)]
    exact, wildcard = trust_policy(aws, "two")["Statement"]
    prefix = host_path(issuer)
    assert exact["Condition"] == {"StringEquals": {f"{prefix}:sub": "system:serviceaccount:jobs:batch", f"{prefix}:aud": "sts.amazonaws.com"}}
    assert wildcard["Condition"] == {
        "StringLike": {f"{prefix}:sub": "system:serviceaccount:jobs:worker-*"},
        "StringEquals": {f"{prefix}:aud": "sts.amazonaws.com"},
    }


def test_oidc_issuer_url_and_create_oidc_provider(aws: MotoServer, tmp_path: Path) -> None:
    issuer = "https://issuer.example.com/clusters/on-prem"
    accounts = [{"namespace": "ci", "name": "runner"}]
    playbook = run(
        aws,
        tmp_path,
        {**irsa("no provider", role_name="ci", oidc_issuer_url=issuer, service_accounts=accounts, create_oidc_provider=False), "ignore_errors": True},
        irsa("with provider", role_name="ci", oidc_issuer_url=issuer + "/", service_accounts=accounts),
        irsa("existing provider", role_name="ci", oidc_issuer_url=issuer, service_accounts=accounts, create_oidc_provider=False),
    )
    refused = playbook.result("no provider")
    assert refused["failed"] is True
    assert refused["msg"].startswith("create_oidc_provider: the IAM OIDC provider ")
    arn = f"arn:aws:iam::{aws.account_id}:oidc-provider/issuer.example.com/clusters/on-prem"
    assert task_ok(playbook, "with provider")["oidc_provider_arn"] == arn
    assert task_ok(playbook, "existing provider")["changed"] is False
    assert providers(aws) == [arn]
    assert trust_policy(aws, "ci")["Statement"][0]["Condition"]["StringEquals"]["issuer.example.com/clusters/on-prem:sub"] == "system:serviceaccount:ci:runner"


def test_managed_policies_attach_detach_and_purge(aws: MotoServer, tmp_path: Path) -> None:
    create_cluster(aws)
    base = {"role_name": "ctl", "cluster_name": CLUSTER, "service_accounts": [{"namespace": "kube-system", "name": "controller"}]}

    first = run(aws, tmp_path, irsa("attach", **base, managed_policy_arns=[READ_ONLY, SECURITY_AUDIT]))
    assert task_ok(first, "attach")["changed"] is True
    assert attached(aws, "ctl") == sorted([READ_ONLY, SECURITY_AUDIT])

    keep = run(aws, tmp_path, irsa("add without purge", **base, managed_policy_arns=[VIEW_ONLY], purge_policies=False))
    assert task_ok(keep, "add without purge")["changed"] is True
    assert attached(aws, "ctl") == sorted([READ_ONLY, SECURITY_AUDIT, VIEW_ONLY])

    purge = run(aws, tmp_path, irsa("purge", **base, managed_policy_arns=[VIEW_ONLY]), irsa("not given", **base))
    assert task_ok(purge, "purge")["changed"] is True
    assert task_ok(purge, "purge")["role"]["managed_policy_arns"] == [VIEW_ONLY]
    assert task_ok(purge, "not given")["changed"] is False
    assert attached(aws, "ctl") == [VIEW_ONLY]

    detach_all = run(aws, tmp_path, irsa("detach all", **base, managed_policy_arns=[]))
    assert task_ok(detach_all, "detach all")["changed"] is True
    assert attached(aws, "ctl") == []


def test_inline_policies_and_purge(aws: MotoServer, tmp_path: Path) -> None:
    create_cluster(aws)
    base = {"role_name": "app", "cluster_name": CLUSTER, "service_accounts": [{"namespace": "shop", "name": "app"}]}
    read = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}],
    }
    reordered = {
        "Statement": [{"Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"], "Action": ["s3:ListBucket", "s3:GetObject"], "Effect": "Allow"}],
        "Version": "2012-10-17",
    }
    queue = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:eu-west-1:123456789012:q"}]}

    first = run(aws, tmp_path, irsa("two", **base, inline_policies={"read": read, "queue": json.dumps(queue)}))
    assert task_ok(first, "two")["changed"] is True
    assert inline(aws, "app") == {"read": read, "queue": queue}

    same = run(aws, tmp_path, irsa("reordered", **base, inline_policies={"read": reordered}, purge_inline_policies=False))
    assert task_ok(same, "reordered")["changed"] is False
    assert sorted(inline(aws, "app")) == ["queue", "read"]

    purge = run(aws, tmp_path, irsa("purge", **base, inline_policies={"read": reordered}))
    assert task_ok(purge, "purge")["changed"] is True
    assert inline(aws, "app") == {"read": read}

    write = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}]}
    update = run(aws, tmp_path, irsa("update", **base, inline_policies={"read": write}), irsa("not given", **base))
    assert task_ok(update, "update")["changed"] is True
    assert task_ok(update, "not given")["changed"] is False
    assert inline(aws, "app") == {"read": write}


def test_secrets_read_is_exactly_scoped(aws: MotoServer, tmp_path: Path) -> None:
    create_cluster(aws)
    sm = aws.client("secretsmanager")
    database = sm.create_secret(Name="shop/checkout/database", SecretString="x")["ARN"]
    stripe = sm.create_secret(Name="shop/checkout/stripe", SecretString="x")["ARN"]
    decoys = [sm.create_secret(Name=name, SecretString="x")["ARN"] for name in ("shop/checkout/database-old", "shop/checkout/databases", "shop/checkout/datab")]
    key = aws.client("kms").create_key(Description="checkout")["KeyMetadata"]["Arn"]

    task = {
        "role_name": "shop-checkout",
        "cluster_name": CLUSTER,
        "service_accounts": [{"namespace": "shop", "name": "checkout"}],
        "secrets_read": ["shop/checkout/database", stripe],
        "kms_key_arns": [key],
    }
    playbook = run(aws, tmp_path, irsa("read two secrets", **task), irsa("again", **task))
    assert task_ok(playbook, "read two secrets")["changed"] is True
    assert task_ok(playbook, "again")["changed"] is False

    policies = inline(aws, "shop-checkout")
    assert list(policies) == ["secrets-read"]
    pattern = f"arn:aws:secretsmanager:{aws.region}:{aws.account_id}:secret:shop/checkout/database-??????"
    assert policies["secrets-read"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                "Resource": [pattern, stripe],
            },
            {
                "Sid": "DecryptSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{aws.region}.amazonaws.com"}},
            },
        ],
    }
    # IAM matches ? as one character and * as any run: the pattern is the real secret's ARN and nothing else.
    assert fnmatch.fnmatchcase(database, pattern)
    assert not any(fnmatch.fnmatchcase(decoy, pattern) for decoy in decoys)
    assert "*" not in json.dumps(policies)


def test_role_settings_and_tags(aws: MotoServer, tmp_path: Path) -> None:
    create_cluster(aws)
    boundary = aws.client("iam").create_policy(
        PolicyName="boundary", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    )["Policy"]["Arn"]
    base = {"role_name": "app", "path": "/platform/", "cluster_name": CLUSTER, "service_accounts": [{"namespace": "shop", "name": "app"}]}

    first = run(
        aws,
        tmp_path,
        irsa("create", **base, description="reads shop secrets", max_session_duration=7200, permissions_boundary=boundary, tags={"team": "shop", "tier": 1}),
    )
    created = task_ok(first, "create")
    assert created["role_arn"] == f"arn:aws:iam::{aws.account_id}:role/platform/app"
    role = aws.client("iam").get_role(RoleName="app")["Role"]
    assert (role["Path"], role["Description"], role["MaxSessionDuration"]) == ("/platform/", "reads shop secrets", 7200)
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert {t["Key"]: t["Value"] for t in aws.client("iam").list_role_tags(RoleName="app")["Tags"]} == {"team": "shop", "tier": "1"}

    second = run(
        aws,
        tmp_path,
        irsa("update", **base, description="reads more", max_session_duration=43200, permissions_boundary="", tags={"team": "shop", "owner": "ops"}),
        irsa("add tag", **base, tags={"extra": "yes"}, purge_tags=False),
        irsa("unchanged", **base, description="reads more", tags={"team": "shop", "owner": "ops", "extra": "yes"}),
    )
    assert task_ok(second, "update")["changed"] is True
    assert task_ok(second, "add tag")["changed"] is True
    assert task_ok(second, "unchanged")["changed"] is False
    role = aws.client("iam").get_role(RoleName="app")["Role"]
    assert (role["Description"], role["MaxSessionDuration"], role.get("PermissionsBoundary")) == ("reads more", 43200, None)
    assert {t["Key"]: t["Value"] for t in aws.client("iam").list_role_tags(RoleName="app")["Tags"]} == {"team": "shop", "owner": "ops", "extra": "yes"}

    moved = run(aws, tmp_path, {**irsa("move", **{**base, "path": "/other/"}), "ignore_errors": True})
    assert moved.result("move")["failed"] is True
    assert moved.result("move")["msg"].startswith("path: role 'app' exists with path '/platform/'")


def test_check_mode_and_diff(aws: MotoServer, tmp_path: Path) -> None:
    issuer = create_cluster(aws)
    prefix = host_path(issuer)
    task = {"role_name": "app", "cluster_name": CLUSTER, "service_accounts": [{"namespace": "shop", "name": "app"}], "secrets_read": ["shop/app/db"]}

    planned = run(aws, tmp_path, irsa("plan", **task), check=True, diff=True)
    result = task_ok(planned, "plan")
    assert result["changed"] is True
    assert role_names(aws) == []
    assert providers(aws) == []
    assert result["role_arn"] == f"arn:aws:iam::{aws.account_id}:role/app"
    assert result["role_id"] is None
    assert result["diff"]["before"] == ""
    after = json.loads(result["diff"]["after"])
    assert after["oidc_provider"] == {"arn": provider_arn(aws, issuer), "client_ids": ["sts.amazonaws.com"]}
    assert after["role"]["trust_policy"]["Statement"][0]["Condition"]["StringEquals"][f"{prefix}:sub"] == "system:serviceaccount:shop:app"
    assert after["role"]["inline_policies"]["secrets-read"]["Statement"][0]["Resource"].endswith(":secret:shop/app/db-??????")
    assert "IAM role app (after)" in result["diff"]["after_header"]

    applied = run(aws, tmp_path, irsa("apply", **task))
    assert task_ok(applied, "apply")["changed"] is True
    trust_before = trust_policy(aws, "app")

    changed_task = {**task, "service_accounts": [*task["service_accounts"], {"namespace": "shop", "name": "app-batch"}], "secrets_read": ["shop/app/db2"]}
    replanned = run(aws, tmp_path, irsa("replan", **changed_task), irsa("same", **task), check=True, diff=True)
    result = task_ok(replanned, "replan")
    assert result["changed"] is True
    assert trust_policy(aws, "app") == trust_before
    assert inline(aws, "app")["secrets-read"]["Statement"][0]["Resource"].endswith(":secret:shop/app/db-??????")
    before, after = json.loads(result["diff"]["before"]), json.loads(result["diff"]["after"])
    sub = f"{prefix}:sub"
    assert before["role"]["trust_policy"]["Statement"][0]["Condition"]["StringEquals"][sub] == "system:serviceaccount:shop:app"
    assert after["role"]["trust_policy"]["Statement"][0]["Condition"]["StringEquals"][sub] == [
        "system:serviceaccount:shop:app",
        "system:serviceaccount:shop:app-batch",
    ]
    assert after["role"]["inline_policies"]["secrets-read"]["Statement"][0]["Resource"].endswith(":secret:shop/app/db2-??????")
    same = task_ok(replanned, "same")
    assert same["changed"] is False
    assert same["diff"]["before"] == same["diff"]["after"]


def test_state_absent_keeps_the_oidc_provider(aws: MotoServer, tmp_path: Path) -> None:
    issuer = create_cluster(aws)
    iam = aws.client("iam")
    own = iam.create_policy(
        PolicyName="own", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
    )["Policy"]["Arn"]
    create = run(
        aws,
        tmp_path,
        irsa(
            "create",
            role_name="app",
            cluster_name=CLUSTER,
            service_accounts=[{"namespace": "shop", "name": "app"}],
            managed_policy_arns=[READ_ONLY, own],
            secrets_read=["shop/app/db"],
            inline_policies={"extra": {"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:eu-west-1:123456789012:q"}}},
        ),
    )
    assert task_ok(create, "create")["changed"] is True

    planned = run(aws, tmp_path, irsa("plan removal", role_name="app", state="absent"), check=True, diff=True)
    result = task_ok(planned, "plan removal")
    assert result["changed"] is True
    assert json.loads(result["diff"]["before"])["role"]["managed_policy_arns"] == sorted([READ_ONLY, own])
    assert result["diff"]["after"] == ""
    assert role_names(aws) == ["app"]

    removed = run(aws, tmp_path, irsa("remove", role_name="app", state="absent"), irsa("again", role_name="app", state="absent"))
    result = task_ok(removed, "remove")
    assert result["changed"] is True
    assert result["role_arn"] is None
    assert result["service_account_annotations"] == {}
    assert task_ok(removed, "again")["changed"] is False
    assert role_names(aws) == []
    assert providers(aws) == [provider_arn(aws, issuer)]
    assert iam.get_policy(PolicyArn=own)["Policy"]["AttachmentCount"] == 0


def test_pod_identity_trust(aws: MotoServer, tmp_path: Path) -> None:
    task = {"role_name": "shop-orders", "trust": "pod_identity", "secrets_read": ["shop/orders/db"]}
    playbook = run(aws, tmp_path, irsa("create", **task), irsa("again", **task))
    created = task_ok(playbook, "create")
    assert created["changed"] is True
    assert created["oidc_provider_arn"] is None
    assert created["service_account_annotations"] == {}
    assert task_ok(playbook, "again")["changed"] is False
    assert trust_policy(aws, "shop-orders") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    assert providers(aws) == []
    assert list(inline(aws, "shop-orders")) == ["secrets-read"]

    create_cluster(aws)
    switch = run(aws, tmp_path, irsa("to irsa", role_name="shop-orders", cluster_name=CLUSTER, service_accounts=[{"namespace": "shop", "name": "orders"}]))
    assert task_ok(switch, "to irsa")["changed"] is True
    assert trust_policy(aws, "shop-orders")["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("namespace", {"service_accounts": [{"namespace": "Shop", "name": "app"}]}, "service_accounts[0].namespace: 'Shop' is not a valid DNS-1123 label"),
    (
        "service account",
        {"service_accounts": [{"namespace": "shop", "name": "app_1"}]},
        "service_accounts[0].name: 'app_1' is not a valid service account name",
    ),
    ("long role name", {"role_name": "r" * 65}, "role_name: must be at most 64 characters, got 65"),
    ("role name characters", {"role_name": "app/role"}, "role_name: 'app/role' is not a valid IAM role name"),
    ("policy JSON", {"inline_policies": {"p": '{"Statement": ['}}, "inline_policies.p: is not valid JSON"),
    ("policy shape", {"inline_policies": {"p": {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}}, "inline_policies.p: Statement[0] needs exactly one"),
    ("policy ARN", {"managed_policy_arns": ["ReadOnlyAccess"]}, "managed_policy_arns[0]: 'ReadOnlyAccess' is not a valid ARN"),
    ("boundary ARN", {"permissions_boundary": "arn:aws:iam::123456789012:role/x"}, "permissions_boundary: "),
    ("secret ARN", {"secrets_read": ["arn:aws:s3:::bucket"]}, "secrets_read[0]: 'arn:aws:s3:::bucket' is not a Secrets Manager secret ARN"),
    ("KMS ARN", {"secrets_read": ["db"], "kms_key_arns": ["alias/db"]}, "kms_key_arns[0]: 'alias/db' is not a KMS key ARN"),
    ("short session", {"max_session_duration": 3599}, "max_session_duration: must be between 3600 and 43200 seconds, got 3599"),
    ("long session", {"max_session_duration": 43201}, "max_session_duration: must be between 3600 and 43200 seconds, got 43201"),
    (
        "http issuer",
        {"cluster_name": None, "oidc_issuer_url": "http://issuer.example.com"},
        "oidc_issuer_url: 'http://issuer.example.com' is not an https:// URL",
    ),
    ("both issuers", {"oidc_issuer_url": "https://issuer.example.com"}, "parameters are mutually exclusive: cluster_name|oidc_issuer_url"),
    ("unknown cluster", {"cluster_name": "nope"}, "cluster_name: EKS cluster 'nope' was not found in region 'eu-west-1'"),
    ("missing policy", {"managed_policy_arns": ["arn:aws:iam::123456789012:policy/missing"]}, "managed_policy_arns: managed policy"),
    ("every secret", {"secrets_read": ["*"]}, "secrets_read[0]: '*' is a wildcard: it grants read on every secret of the account"),
    (
        "every secret by ARN",
        {"secrets_read": ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:*"]},
        "it grants read on every secret of the account; name the secrets, or set allow_wildcards: true",
    ),
    (
        "KMS key of another region",
        {"secrets_read": ["shop/db"], "kms_key_arns": ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]},
        "kms_key_arns[0]: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' is in region us-east-1, the secrets are in eu-west-1",
    ),
]


def test_wildcards_and_cross_region_keys_are_granted_only_when_asked_for(aws: MotoServer, tmp_path: Path) -> None:
    create_cluster(aws)
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    task = {
        "role_name": "batch",
        "cluster_name": CLUSTER,
        "service_accounts": [{"namespace": "shop", "name": "batch"}],
        "secrets_read": ["shop/*"],
        "allow_wildcards": True,
        "kms_key_arns": [key],
        "allow_cross_region_kms": True,
    }
    playbook = run(aws, tmp_path, irsa("asked for", **task))
    assert playbook.rc == 0, playbook.output
    read, decrypt = inline(aws, "batch")["secrets-read"]["Statement"]
    assert read["Resource"] == f"arn:aws:secretsmanager:eu-west-1:{aws.account_id}:secret:shop/*-??????"
    assert decrypt["Resource"] == key


def test_bad_inputs_fail_before_any_write(aws: MotoServer, tmp_path: Path) -> None:
    create_cluster(aws)
    base = {"role_name": "app", "cluster_name": CLUSTER, "service_accounts": [{"namespace": "shop", "name": "app"}]}
    tasks = [{**irsa(name, **{k: v for k, v in {**base, **change}.items() if v is not None}), "ignore_errors": True} for name, change, _message in BAD_INPUTS]
    playbook = run(aws, tmp_path, *tasks)
    for name, _change, message in BAD_INPUTS:
        result = playbook.result(name)
        assert result.get("failed") is True, (name, result)
        assert message in result["msg"], (name, result["msg"])
        assert result.get("changed") is not True, name
    assert role_names(aws) == []
    assert providers(aws) == []
