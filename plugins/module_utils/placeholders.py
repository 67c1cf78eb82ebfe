# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the placeholders an inventory still carries (``CHANGE_ME``), by variable path, never by value.

The dev, staging and production inventories ship with ``CHANGE_ME`` where a real value is needed (the
AWS account id, the domain, the GitOps repository URL). Preflight walks the variables with
:func:`find_placeholders` and refuses to run while any remains, naming each place (``argocd_domain``,
``platform_secrets[2].json.host``) and never printing a value, since a vaulted one may be among them.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Mapping, Optional, Pattern, Sequence

DEFAULT_MARKERS = ("CHANGE_ME",)


def _compile(markers: Optional[Sequence[str]]) -> Pattern[str]:
    words = [marker for marker in (markers or DEFAULT_MARKERS) if marker]
    if not words:
        raise ValueError("at least one placeholder marker is needed")
    return re.compile("|".join(re.escape(marker) for marker in words))


def _walk(value: Any, path: str, pattern: Pattern[str], found: List[str]) -> None:
    if isinstance(value, str):
        if pattern.search(value):
            found.append(path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            if pattern.search(key_text):
                found.append(f"{path} (key {key_text!r})")
            _walk(item, f"{path}.{key_text}" if path else key_text, pattern, found)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", pattern, found)


def find_placeholders(variables: Mapping[str, Any], markers: Optional[Sequence[str]] = None, ignore: Iterable[str] = ()) -> List[str]:
    """Paths (``name``, ``name.key``, ``name[0]``) of every string in ``variables`` that holds a marker.

    Variables named in ``ignore`` are not looked at. The result is sorted by variable name, then in
    document order.
    """
    if not isinstance(variables, Mapping):
        raise ValueError(f"the variables must be a mapping of names to values, got {type(variables).__name__}")
    pattern = _compile(markers)
    skipped = set(ignore)
    found: List[str] = []
    for name in sorted(variables, key=str):
        if name in skipped:
            continue
        _walk(variables[name], str(name), pattern, found)
    return found
