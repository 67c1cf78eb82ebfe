"""The Git work tree of the GitOps repository: init, fetch and fast-forward, commit only owned files, push, credentials."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ansible_collections.eks_gitops.platform.plugins.plugin_utils.git_checkout import Author, Checkout, GitError, Remote

AUTHOR = Author("test", "test@example.org")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    return bare


def checkout(path: Path, remote: Path, **kwargs: str) -> Checkout:
    return Checkout(path, Remote("origin", "main", f"file://{remote}", **kwargs), AUTHOR)


def push_from_elsewhere(tmp_path: Path, remote: Path, name: str, content: str) -> str:
    """A commit another party (the CI workflow) pushes to the remote."""
    other = tmp_path / f"other-{name}"
    if not other.exists():
        git(tmp_path, "clone", "--quiet", f"file://{remote}", str(other))
    git(other, "pull", "--quiet", "origin", "main") if git(other, "branch", "--list", "main") else None
    (other / name).write_text(content)
    git(other, "add", name)
    git(other, "-c", "user.name=ci", "-c", "user.email=ci@example.org", "commit", "--quiet", "-m", f"ci: {name}")
    git(other, "push", "--quiet", "origin", "HEAD:main")
    return git(other, "rev-parse", "HEAD")


def test_a_new_directory_becomes_a_work_tree_that_commits_only_owned_files_and_pushes(tmp_path: Path, remote: Path) -> None:
    work = checkout(tmp_path / "work", remote)
    work.init()
    (work.path / "owned.yaml").write_text("a: 1\n")
    (work.path / "scratch.txt").write_text("not ours\n")
    commit = work.commit(["owned.yaml"], "render")
    assert commit
    assert git(work.path, "show", "--name-only", "--format=", commit).split() == ["owned.yaml"]
    assert git(work.path, "log", "-1", "--format=%an <%ae> %s") == "test <test@example.org> render"
    assert work.push() is True
    assert git(remote, "rev-parse", "main") == commit
    # Nothing changed: no commit, no push.
    assert work.commit(["owned.yaml"], "render") == ""
    assert work.push() is False


def test_a_removed_owned_file_is_committed_as_a_deletion(tmp_path: Path, remote: Path) -> None:
    work = checkout(tmp_path / "work", remote)
    work.init()
    (work.path / "a.yaml").write_text("a\n")
    (work.path / "b.yaml").write_text("b\n")
    work.commit(["a.yaml", "b.yaml"], "first")
    (work.path / "b.yaml").unlink()
    commit = work.commit(["a.yaml", "b.yaml"], "second")
    assert git(work.path, "show", "--name-status", "--format=", commit) == "D\tb.yaml"


def test_fetch_fast_forwards_to_what_the_ci_pushed(tmp_path: Path, remote: Path) -> None:
    work = checkout(tmp_path / "work", remote)
    work.init()
    (work.path / "a.yaml").write_text("a\n")
    work.commit(["a.yaml"], "render")
    work.push()
    pushed = push_from_elsewhere(tmp_path, remote, "tag.yaml", "tag: sha-1\n")
    assert work.update_from(work.fetch()) is True
    assert work.head() == pushed
    assert (work.path / "tag.yaml").read_text() == "tag: sha-1\n"
    assert work.update_from(work.fetch()) is False


def test_an_empty_remote_is_no_error_and_a_new_work_tree_takes_the_remote_history(tmp_path: Path, remote: Path) -> None:
    empty = checkout(tmp_path / "empty", remote)
    empty.init()
    assert empty.fetch() == ""
    pushed = push_from_elsewhere(tmp_path, remote, "x.yaml", "x\n")
    fresh = checkout(tmp_path / "fresh", remote)
    fresh.path.mkdir()
    (fresh.path / "rendered.yaml").write_text("from an earlier render\n")
    fresh.init()
    assert fresh.update_from(fresh.fetch()) is True
    assert fresh.head() == pushed
    assert (fresh.path / "rendered.yaml").read_text() == "from an earlier render\n"
    assert git(fresh.path, "status", "--porcelain") == "?? rendered.yaml"


def test_a_diverged_branch_stops_with_a_message(tmp_path: Path, remote: Path) -> None:
    work = checkout(tmp_path / "work", remote)
    work.init()
    (work.path / "a.yaml").write_text("a\n")
    work.commit(["a.yaml"], "render")
    work.push()
    push_from_elsewhere(tmp_path, remote, "ci.yaml", "ci\n")
    (work.path / "a.yaml").write_text("local\n")
    work.commit(["a.yaml"], "local change")
    with pytest.raises(GitError, match="have diverged"):
        work.update_from(work.fetch())


def test_credentials_go_in_the_environment_and_never_into_a_message(tmp_path: Path) -> None:
    work = Checkout(tmp_path, Remote("origin", "main", "http://127.0.0.1:9/none.git", "bot", "s3cr3t-token"), AUTHOR)
    env = work._env()
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert env["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ")
    work.init()
    with pytest.raises(GitError) as failed:
        work.fetch()
    assert "s3cr3t-token" not in str(failed.value)
    assert "s3cr3t-token" not in (tmp_path / ".git" / "config").read_text()
