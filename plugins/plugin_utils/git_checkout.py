# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Git work tree the gitops_repo role renders into: bring it up to date, commit what the role owns, push it.

Runs the ``git`` command of the controller. Credentials for HTTP remotes are passed as an ``Authorization``
header through git's environment (``GIT_CONFIG_COUNT``), never on a command line, in ``.git/config`` or in a
message; every error message has them removed.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 300
ZERO = "0" * 40


class GitError(Exception):
    """A git command failed; the message says which and why (never a credential)."""


@dataclass(frozen=True)
class Author:
    name: str
    email: str


@dataclass(frozen=True)
class Remote:
    name: str
    branch: str
    url: str = ""
    username: str = ""
    password: str = ""


class Checkout:
    """The Git work tree at ``path``."""

    def __init__(self, path: Path, remote: Remote, author: Author) -> None:
        self.path = path
        self.remote = remote
        self.author = author

    # ------------------------------------------------------------------ plumbing

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": self.author.name,
            "GIT_AUTHOR_EMAIL": self.author.email,
            "GIT_COMMITTER_NAME": self.author.name,
            "GIT_COMMITTER_EMAIL": self.author.email,
            "LC_ALL": "C",
        }
        if self.remote.password:
            token = base64.b64encode(f"{self.remote.username}:{self.remote.password}".encode()).decode()
            env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader", "GIT_CONFIG_VALUE_0": f"Authorization: Basic {token}"})
        return env

    def _scrub(self, text: str) -> str:
        for secret in (self.remote.password, base64.b64encode(f"{self.remote.username}:{self.remote.password}".encode()).decode()):
            if self.remote.password and secret:
                text = text.replace(secret, "********")
        return text

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        git = shutil.which("git")
        if git is None:
            raise GitError("git is not installed on the controller (needed by gitops_repo_git_commit)")
        try:
            # The arguments are this class's own git subcommands; only paths and the remote come from the role's input.
            completed = subprocess.run(  # noqa: S603
                [git, *args], cwd=self.path, env=self._env(), capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise GitError(f"git {args[0]} did not finish within {GIT_TIMEOUT} s") from exc
        if check and completed.returncode != 0:
            raise GitError(self._scrub(f"git {' '.join(args)} failed in {self.path}: {(completed.stderr or completed.stdout).strip()}"))
        return completed

    def out(self, *args: str) -> str:
        return self.git(*args).stdout.strip()

    # ------------------------------------------------------------------ reads

    def is_work_tree(self) -> bool:
        if not (self.path / ".git").exists():
            return False
        return self.git("rev-parse", "--is-inside-work-tree", check=False).stdout.strip() == "true"

    def head(self) -> str:
        found = self.git("rev-parse", "--verify", "--quiet", "HEAD", check=False)
        return found.stdout.strip() if found.returncode == 0 else ""

    def remote_url(self) -> str:
        found = self.git("remote", "get-url", self.remote.name, check=False)
        return found.stdout.strip() if found.returncode == 0 else ""

    def dirty(self, paths: list[str]) -> list[str]:
        """Paths among ``paths`` whose working-tree state differs from HEAD (new, changed or deleted)."""
        if not paths:
            return []
        status = self.git("status", "--porcelain=v1", "--untracked-files=all", "--no-renames", "-z", "--", *paths).stdout
        return sorted(entry[3:] for entry in status.split("\0") if entry)

    def ahead(self) -> bool:
        """True when HEAD has commits the remote branch does not (or the remote branch does not exist yet)."""
        head = self.head()
        if not head:
            return False
        remote = self.git("rev-parse", "--verify", "--quiet", f"refs/remotes/{self.remote.name}/{self.remote.branch}", check=False).stdout.strip()
        return remote != head and not (remote and self.git("merge-base", "--is-ancestor", head, remote, check=False).returncode == 0)

    # ------------------------------------------------------------------ writes

    def init(self) -> None:
        """Make ``path`` a work tree on the branch, with the remote when its URL is known."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", f"--initial-branch={self.remote.branch}")
        if self.remote.url:
            self.git("remote", "add", self.remote.name, self.remote.url)

    def fetch(self) -> str:
        """Fetch the remote branch; its commit, or '' when the remote has no such branch yet."""
        if not self.remote_url():
            if not self.remote.url:
                return ""
            self.git("remote", "add", self.remote.name, self.remote.url)
        refspec = f"+refs/heads/{self.remote.branch}:refs/remotes/{self.remote.name}/{self.remote.branch}"
        fetched = self.git("fetch", "--quiet", "--no-tags", self.remote.name, refspec, check=False)
        if fetched.returncode != 0:
            if "couldn't find remote ref" in fetched.stderr.lower():
                return ""
            raise GitError(self._scrub(f"git fetch {self.remote.name} {self.remote.branch} failed in {self.path}: {fetched.stderr.strip()}"))
        return self.out("rev-parse", f"refs/remotes/{self.remote.name}/{self.remote.branch}")

    def update_from(self, remote_commit: str) -> bool:
        """Bring the branch up to date with ``remote_commit`` (fast-forward only); True when HEAD moved."""
        if not remote_commit:
            return False
        head = self.head()
        if head == remote_commit or (head and self.git("merge-base", "--is-ancestor", remote_commit, head, check=False).returncode == 0):
            return False
        if not head:
            # A new work tree (perhaps with files of an earlier render): take the remote's history, keep the files
            # that are here and check out those that are not.
            self.git("reset", "--quiet", "--mixed", remote_commit)
            self.git("checkout", "--quiet", "-B", self.remote.branch)
            missing = [path for path in self.out("ls-files", "--deleted", "-z").split("\0") if path]
            if missing:
                self.git("checkout", "--quiet", "--", *missing)
            return True
        if self.git("merge-base", "--is-ancestor", head, remote_commit, check=False).returncode != 0:
            raise GitError(
                f"{self.path}: branch {self.remote.branch} and {self.remote.name}/{self.remote.branch} have diverged; "
                "reconcile them (git pull --rebase) and run again"
            )
        merged = self.git("merge", "--quiet", "--ff-only", remote_commit, check=False)
        if merged.returncode != 0:
            raise GitError(f"{self.path}: cannot fast-forward to {self.remote.name}/{self.remote.branch}: {merged.stderr.strip()}")
        return True

    def commit(self, paths: list[str], message: str) -> str:
        """Commit the current state of ``paths`` (and nothing else); the new commit, or '' when nothing changed."""
        changed = self.dirty(paths)
        if not changed:
            return ""
        self.git("add", "--all", "--", *changed)
        self.git("commit", "--quiet", "--no-verify", "--message", message, "--", *changed)
        return self.head()

    def push(self) -> bool:
        """Push HEAD to the remote branch when it is ahead; True when something was pushed."""
        if not self.ahead():
            return False
        self.git("push", "--quiet", "--porcelain", self.remote.name, f"HEAD:refs/heads/{self.remote.branch}")
        self.git("update-ref", f"refs/remotes/{self.remote.name}/{self.remote.branch}", "HEAD")
        return True
