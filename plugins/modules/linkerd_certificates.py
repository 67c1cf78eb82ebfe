#!/usr/bin/python
# Copyright: eks_gitops.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: linkerd_certificates
short_description: Generate, keep and rotate Linkerd's trust anchor and identity issuer
version_added: 0.1.0
description:
  - Makes the certificates Linkerd's mTLS identity rests on, with the profile Linkerd documents, and keeps them valid.
    The trust anchor is a self-signed root CA with path length 1; the issuer is an intermediate CA with path length 0,
    signed by the anchor. Both use ECDSA P-256 keys and SHA-256 signatures, with key usage certSign and cRLSign
    marked critical. Private keys are returned as C(EC PRIVATE KEY) PEM, the form Linkerd's identity controller reads.
  - Whatever material is missing is generated. Material that is given, valid, chains correctly and is not within
    O(renew_before) of its expiry is returned unchanged and the task reports no change, so a re-run with the previous
    result as input never regenerates anything.
  - The issuer is re-issued from the current anchor when it is missing, expired, not yet valid, expires within
    O(renew_before), is signed by a previous anchor of O(trust_bundle_pem) instead of the current one, or when
    O(force_issuer_rotation) is set. Issuer rotation needs no change of the trust bundle.
  - The trust anchor is never replaced silently. It is rotated in three phases, one run each, following Linkerd's
    manual procedure, see O(anchor_rotation). Every run returns the phase the material is in
    (RV(anchor_rotation_phase)) and what the caller has to do next (RV(next_steps)).
  - Pure local cryptography; nothing is stored. Storing the material (the anchor's private key belongs in a secret
    store such as AWS Secrets Manager, never in the cluster or in Git) is up to the caller; the role
    P(eks_gitops.platform.linkerd_identity#role) does it.
  - B(Secrets.) A private key is returned only when the caller does not have it yet, RV(trust_anchor_key_pem) when
    this run generated the anchor, RV(issuer_key_pem) when it issued the issuer (or had to re-encode the given key as
    C(EC PRIVATE KEY)). Keys the caller gave are not returned; keep using the stored ones. Tasks that run this module,
    and every task that uses its registered result, must set C(no_log) to V(true), as the examples do. The module never
    puts a key into a message or a diff.
author:
  - eks_gitops.platform contributors (@eks-gitops)
requirements:
  - cryptography >= 42.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing outside its result, so check mode computes the same result, new keys included,
        and reports the same C(changed); what the caller then stores is the caller's check mode.
  diff_mode:
    support: full
    details:
      - The diff shows subject, serial, validity, key type and SHA-256 fingerprint of the anchor and the issuer and the
        fingerprints of the bundle, before and after. It never shows a key.
  platform:
    platforms: posix
options:
  trust_anchor_pem:
    description:
      - The current trust anchor certificate (exactly one PEM certificate), as returned in RV(trust_anchor_pem).
      - Leave it out (or empty) to generate a new anchor. Requires O(trust_anchor_key_pem).
    type: str
  trust_anchor_key_pem:
    description:
      - The private key of O(trust_anchor_pem), unencrypted PEM (C(EC PRIVATE KEY), C(RSA PRIVATE KEY) or
        C(PRIVATE KEY)), as returned in RV(trust_anchor_key_pem) when the anchor was generated.
    type: str
  trust_bundle_pem:
    description:
      - The trust bundle currently published, as returned in RV(trust_bundle_pem). Outside an anchor rotation it is
        the anchor alone; during a rotation it holds the new (current) anchor and the previous one.
      - Leave it out when it is just O(trust_anchor_pem). When given it must contain O(trust_anchor_pem).
    type: str
  issuer_cert_pem:
    description:
      - The current issuer certificate (exactly one PEM certificate), as returned in RV(issuer_cert_pem).
      - It must be an ECDSA P-256 CA certificate signed by O(trust_anchor_pem) or another anchor of
        O(trust_bundle_pem). Requires O(issuer_key_pem) and O(trust_anchor_pem).
    type: str
  issuer_key_pem:
    description:
      - The private key of O(issuer_cert_pem), unencrypted PEM, as returned in RV(issuer_key_pem).
    type: str
  anchor_validity:
    description:
      - How long a generated trust anchor is valid, as a number with a unit C(s), C(m), C(h), C(d), C(w) or C(y)
        (365 days), for example V(3650d) or V(87600h). Must be longer than O(renew_before).
    type: str
    default: 3650d
  issuer_validity:
    description:
      - How long a generated issuer is valid (same format as O(anchor_validity)); Linkerd documents V(8760h).
        Must be longer than O(renew_before).
    type: str
    default: 365d
  renew_before:
    description:
      - An issuer that expires within this time is re-issued; an anchor that expires within it makes the module warn
        and return the next step "start an anchor rotation". The default is the threshold at which C(linkerd check)
        starts warning.
    type: str
    default: 60d
  anchor_common_name:
    description:
      - Common name of a generated trust anchor. Linkerd does not check it.
    type: str
    default: root.linkerd.cluster.local
  issuer_common_name:
    description:
      - Common name of a generated issuer. Linkerd does not check it.
    type: str
    default: identity.linkerd.cluster.local
  force_issuer_rotation:
    description:
      - Re-issue the issuer from the current anchor even though it is still valid.
    type: bool
    default: false
  anchor_rotation:
    description:
      - The phase of a trust-anchor rotation to run. Each phase is idempotent, and each needs the current anchor, its
        key, the bundle and the issuer, that is the result of the previous phase.
      - V(start) makes a new anchor and returns it as the current one, with a bundle of the new and the previous
        anchor. The issuer stays the previous anchor's (re-issued from it if it is due), unless the previous anchor has
        already expired; then the issuer comes from the new anchor at once. Publish the bundle and restart meshed
        workloads so every proxy trusts both anchors. A rotation already in progress is left as it is.
      - V(issue) re-issues the issuer from the new anchor. Restart meshed workloads so every proxy gets a certificate
        chaining to the new anchor. Fails when no rotation is in progress.
      - V(finish) drops the previous anchor from the bundle. Publish it and restart meshed workloads. Fails when the
        issuer is still the previous anchor's; does nothing when the bundle holds the current anchor only.
      - Leave it out for normal runs. An expired anchor without O(anchor_rotation=start) is an error.
    type: str
    choices: [start, issue, finish]
notes:
  - All problems of the input are reported at once, each naming its option, before anything is generated.
  - Certificates are generated valid from five minutes before now, so that a machine whose clock is slightly behind
    still accepts them.
seealso:
  - module: eks_gitops.platform.linkerd_certificates_info
  - name: Linkerd documentation, generating certificates
    description: The profile this module follows (step certificate create --profile root-ca / intermediate-ca).
    link: https://linkerd.io/2/tasks/generate-certificates/
  - name: Linkerd documentation, manually rotating the trust anchor
    description: The procedure O(anchor_rotation) follows.
    link: https://linkerd.io/2/tasks/manually-rotating-control-plane-tls-credentials/
"""

EXAMPLES = r"""
- name: Generate Linkerd identity material (keys are in the result, so no_log)
  eks_gitops.platform.linkerd_certificates: {}
  register: linkerd_certs
  no_log: true

# Keys come back only when they are new: store "result over what was stored before".
- name: Keep it valid on every later run, feeding back what was stored
  eks_gitops.platform.linkerd_certificates:
    trust_anchor_pem: "{{ stored.trust_anchor_pem }}"
    trust_anchor_key_pem: "{{ stored.trust_anchor_key_pem }}"
    trust_bundle_pem: "{{ stored.trust_bundle_pem }}"
    issuer_cert_pem: "{{ stored.issuer_cert_pem }}"
    issuer_key_pem: "{{ stored.issuer_key_pem }}"
  register: linkerd_certs
  no_log: true

- name: Show what happened (no keys in this message)
  ansible.builtin.debug:
    msg: >-
      changed: {{ linkerd_certs.changes }};
      issuer valid until {{ linkerd_certs.issuer_not_after }} ({{ linkerd_certs.issuer_days_left }} days);
      next: {{ linkerd_certs.next_steps }}

- name: Rotate the issuer now
  eks_gitops.platform.linkerd_certificates:
    trust_anchor_pem: "{{ stored.trust_anchor_pem }}"
    trust_anchor_key_pem: "{{ stored.trust_anchor_key_pem }}"
    issuer_cert_pem: "{{ stored.issuer_cert_pem }}"
    issuer_key_pem: "{{ stored.issuer_key_pem }}"
    force_issuer_rotation: true
  register: linkerd_certs
  no_log: true

- name: Anchor rotation, phase 1 of 3 (then publish the bundle and restart meshed workloads)
  eks_gitops.platform.linkerd_certificates:
    trust_anchor_pem: "{{ stored.trust_anchor_pem }}"
    trust_anchor_key_pem: "{{ stored.trust_anchor_key_pem }}"
    trust_bundle_pem: "{{ stored.trust_bundle_pem }}"
    issuer_cert_pem: "{{ stored.issuer_cert_pem }}"
    issuer_key_pem: "{{ stored.issuer_key_pem }}"
    anchor_rotation: start
  register: linkerd_certs
  no_log: true
"""

RETURN = r"""
trust_anchor_pem:
  description: The current trust anchor certificate (PEM). After O(anchor_rotation=start) it is the new anchor.
  returned: success
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIBkTCCATeg...\n-----END CERTIFICATE-----\n"
trust_anchor_key_pem:
  description:
    - The private key of a trust anchor generated by this run, as C(EC PRIVATE KEY) PEM. Store it in a secret store;
      it never belongs in the cluster or in Git.
  returned: when this run generated the trust anchor (first run, or O(anchor_rotation=start))
  type: str
  sample: "-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----\n"
trust_bundle_pem:
  description:
    - The anchors proxies must trust (PEM, current anchor first). Publish it as the C(identityTrustAnchorsPEM) chart
      value and in ConfigMap C(linkerd-identity-trust-roots) (key C(ca-bundle.crt)).
  returned: success
  type: str
  sample: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
issuer_cert_pem:
  description: The issuer certificate (PEM), C(tls.crt) of the C(linkerd-identity-issuer) Secret.
  returned: success
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIBtjCCAVyg...\n-----END CERTIFICATE-----\n"
issuer_key_pem:
  description:
    - The issuer's private key as C(EC PRIVATE KEY) PEM, C(tls.key) of the C(linkerd-identity-issuer) Secret.
    - Not returned when the issuer was kept and O(issuer_key_pem) was already in that form; the caller has it.
  returned: when this run issued the issuer, or re-encoded the given key
  type: str
  sample: "-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----\n"
trust_anchor_not_after:
  description: When the current trust anchor expires (ISO 8601, UTC).
  returned: success
  type: str
  sample: "2035-11-29T08:00:47Z"
trust_anchor_days_left:
  description: Whole days until the current trust anchor expires.
  returned: success
  type: int
  sample: 3650
issuer_not_after:
  description: When the issuer expires (ISO 8601, UTC).
  returned: success
  type: str
  sample: "2026-12-01T08:00:47Z"
issuer_days_left:
  description: Whole days until the issuer expires.
  returned: success
  type: int
  sample: 365
anchor_changed:
  description: Whether this run generated a trust anchor.
  returned: success
  type: bool
  sample: false
issuer_changed:
  description: Whether this run issued a new issuer.
  returned: success
  type: bool
  sample: true
trust_bundle_changed:
  description: Whether the trust bundle differs from the one given (or from O(trust_anchor_pem) alone).
  returned: success
  type: bool
  sample: false
anchor_rotation_phase:
  description:
    - V(none) when the bundle holds the current anchor only; V(started) when it also holds the previous anchor and the
      issuer is still the previous anchor's; V(issued) when the issuer is the new anchor's and the previous anchor is
      still trusted; V(finished) when this run dropped the previous anchor.
  returned: success
  type: str
  choices: [none, started, issued, finished]
  sample: none
changes:
  description: What this run changed and why, one sentence each; empty when nothing changed.
  returned: success
  type: list
  elements: str
  sample: ["issued a new issuer from the current trust anchor: it expires on 2026-01-10T00:00:00Z, 40 days from now, within renew_before"]
next_steps:
  description: What the caller must do now, in order (publish the bundle, write the issuer, restart meshed workloads, run the next phase).
  returned: success
  type: list
  elements: str
  sample: ["write the issuer to the linkerd-identity-issuer Secret (the identity controller reloads it; no restart needed)"]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.eks_gitops.platform.plugins.module_utils.linkerd_identity import (
    DEFAULT_ANCHOR_COMMON_NAME,
    DEFAULT_ANCHOR_VALIDITY,
    DEFAULT_ISSUER_COMMON_NAME,
    DEFAULT_ISSUER_VALIDITY,
    DEFAULT_RENEW_BEFORE,
    HAS_CRYPTOGRAPHY,
    IMPORT_ERROR,
    ROTATION_PHASES,
    IdentityInputError,
    prepare,
    reconcile,
    utc_now,
)


def argument_spec() -> dict:
    return {
        "trust_anchor_pem": {"type": "str"},
        "trust_anchor_key_pem": {"type": "str", "no_log": True},
        "trust_bundle_pem": {"type": "str"},
        "issuer_cert_pem": {"type": "str"},
        "issuer_key_pem": {"type": "str", "no_log": True},
        "anchor_validity": {"type": "str", "default": DEFAULT_ANCHOR_VALIDITY},
        "issuer_validity": {"type": "str", "default": DEFAULT_ISSUER_VALIDITY},
        "renew_before": {"type": "str", "default": DEFAULT_RENEW_BEFORE},
        "anchor_common_name": {"type": "str", "default": DEFAULT_ANCHOR_COMMON_NAME},
        "issuer_common_name": {"type": "str", "default": DEFAULT_ISSUER_COMMON_NAME},
        "force_issuer_rotation": {"type": "bool", "default": False},
        "anchor_rotation": {"type": "str", "choices": list(ROTATION_PHASES)},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography >= 42.0"), exception=IMPORT_ERROR)

    now = utc_now()
    try:
        material, settings = prepare(**module.params)
        outcome = reconcile(material, settings, now)
    except IdentityInputError as exc:
        module.fail_json(msg=str(exc))

    for warning in outcome.warnings:
        module.warn(warning)
    result = outcome.result(now)
    if module._diff:  # pylint: disable=protected-access  # the documented way for a module to know --diff was asked
        result["diff"] = {"before": outcome.before, "after": outcome.after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
