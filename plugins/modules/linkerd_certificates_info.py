#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: linkerd_certificates_info
short_description: Report on Linkerd's trust anchor, trust bundle and issuer certificates
version_added: 0.1.0
description:
  - Reads Linkerd identity certificates (no private keys) and reports, for each, subject, serial, validity, whole days
    left, key type and SHA-256 fingerprint; which anchor signed the issuer; the phase of a trust-anchor rotation; and
    the problems C(linkerd check) would fail on (expired certificates, an issuer that chains to no trusted anchor or is
    not an ECDSA P-256 CA).
  - Use it to alert before expiry, for example from a cron job or CI with the playbook
    C(playbooks/check-linkerd-certs.yml) of this collection.
author:
  - eks_gitops.platform contributors (@eks-gitops)
requirements:
  - cryptography >= 42.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - eks_gitops.platform.attributes.info_module
attributes:
  platform:
    platforms: posix
options:
  trust_anchor_pem:
    description:
      - The current trust anchor certificate (one PEM certificate).
    type: str
    required: true
  trust_bundle_pem:
    description:
      - The published trust bundle (PEM certificates). Leave it out when it is the anchor alone.
    type: str
  issuer_cert_pem:
    description:
      - The issuer certificate (one PEM certificate).
    type: str
seealso:
  - module: eks_gitops.platform.linkerd_certificates
"""

EXAMPLES = r"""
- name: Read the certificates
  eks_gitops.platform.linkerd_certificates_info:
    trust_anchor_pem: "{{ stored.trust_anchor_pem }}"
    trust_bundle_pem: "{{ stored.trust_bundle_pem }}"
    issuer_cert_pem: "{{ stored.issuer_cert_pem }}"
  register: linkerd_certs_info

- name: Fail when the issuer expires within 30 days
  ansible.builtin.assert:
    that: linkerd_certs_info.issuer.days_left >= 30
    fail_msg: "the Linkerd issuer expires on {{ linkerd_certs_info.issuer.not_after }}"
"""

RETURN = r"""
trust_anchor:
  description: The current trust anchor.
  returned: success
  type: dict
  contains:
    subject:
      description: Common name (or the whole subject when it has none).
      type: str
      sample: root.linkerd.cluster.local
    serial:
      description: Serial number, lower-case hex.
      type: str
      sample: 40d0f5f67cb380f5773811b68a38d01430dc4fbc
    not_before:
      description: Start of validity (ISO 8601, UTC).
      type: str
      sample: "2025-12-01T07:55:47Z"
    not_after:
      description: End of validity (ISO 8601, UTC).
      type: str
      sample: "2035-11-29T08:00:47Z"
    days_left:
      description: Whole days until it expires; negative once it has.
      type: int
      sample: 3650
    key:
      description: Key type, for example C(ECDSA P-256) or C(RSA 2048).
      type: str
      sample: ECDSA P-256
    sha256_fingerprint:
      description: SHA-256 fingerprint, colon-separated upper-case hex.
      type: str
      sample: "66:14:3C:52:05:DD:DC:DC:61:A2:48:E3:6F:42:B0:C3:A5:D4:57:7B:79:FA:DD:12:1A:8F:64:F7:AD:CC:EC:CC"
trust_bundle:
  description: Every anchor of the bundle, the current one first, with the same keys as RV(trust_anchor).
  returned: success
  type: list
  elements: dict
issuer:
  description:
    - The issuer, with the same keys as RV(trust_anchor) and two more, C(signed_by) (the fingerprint of the anchor of
      the bundle that signed it, or C(null)) and C(signed_by_trust_anchor) (whether that is the current anchor).
  returned: when O(issuer_cert_pem) is given
  type: dict
anchor_rotation_phase:
  description:
    - V(none) when the bundle holds the anchor only; V(started) when it holds a previous anchor too and the issuer is
      still the previous anchor's; V(issued) when the issuer is the current anchor's and a previous anchor is still
      trusted.
  returned: success
  type: str
  sample: none
problems:
  description: What C(linkerd check) would fail on; empty when all is well. Expiry thresholds are left to the caller.
  returned: success
  type: list
  elements: str
  sample: ["the issuer expired on 2025-01-01T00:00:00Z"]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.eks_gitops.platform.plugins.module_utils.linkerd_identity import (
    HAS_CRYPTOGRAPHY,
    IMPORT_ERROR,
    IdentityInputError,
    inspect,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "trust_anchor_pem": {"type": "str", "required": True},
            "trust_bundle_pem": {"type": "str"},
            "issuer_cert_pem": {"type": "str"},
        },
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography >= 42.0"), exception=IMPORT_ERROR)
    try:
        params = module.params
        report = inspect(params["trust_anchor_pem"], issuer_cert_pem=params["issuer_cert_pem"], trust_bundle_pem=params["trust_bundle_pem"])
    except IdentityInputError as exc:
        module.fail_json(msg=str(exc))
    result = {
        "changed": False,
        "trust_anchor": report["trust_anchor"],
        "trust_bundle": report["trust_bundle"],
        "anchor_rotation_phase": report["phase"],
        "problems": report["problems"],
    }
    if report["issuer"] is not None:
        result["issuer"] = report["issuer"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
