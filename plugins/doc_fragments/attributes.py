# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes the collection's modules share: how they behave in check mode and with --diff."""

from __future__ import annotations


class ModuleDocFragment:
    # A module that only reads: check mode runs it as it is, and there is never a diff.
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
"""

    # A module that plans its writes, then carries them out: check mode stops after the plan.
    PLANNED_WRITES = r"""
attributes:
  check_mode:
    support: full
    description: Reports what would change, writes nothing.
"""
