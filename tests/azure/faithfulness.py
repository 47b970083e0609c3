"""Drives keyform's in-repo Azure test server through Microsoft's own Python SDKs.

Run by tests/it/azure_faithfulness.rs with the server's environment (HTTPS_PROXY, REQUESTS_CA_BUNDLE, ...) and
KEYFORM_AZURE_* variables naming the tenant, subscription and service principal. It exercises what keyform's Azure
driver relies on -- tokens by client secret, by client assertion (workload identity) and from the App Service
managed identity endpoint (IDENTITY_ENDPOINT, system- and user-assigned), ARM vault creation and its
documented refusals, secrets and keys with versions, soft delete, recovery (with the 409 ObjectIsBeingRecovered
window), the 409 ObjectIsDeletedButRecoverable conflict, purge refused under purge protection, rotation policies --
and prints one JSON summary on the last line of stdout for the Rust test to assert on. It never prints a secret value
or a token.
"""

import datetime
import json
import os
import sys
import tempfile
import time
import uuid

try:
    import requests
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
    from azure.identity import (
        ClientAssertionCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
        WorkloadIdentityCredential,
    )
    from azure.keyvault.keys import (
        KeyClient,
        KeyRotationLifetimeAction,
        KeyRotationPolicy,
        KeyRotationPolicyAction,
    )
    from azure.keyvault.secrets import SecretClient
except ImportError as error:  # the Rust test turns this into a failure that says how to install them
    print(f"missing Python package: {error}; run scripts/services install", file=sys.stderr)
    sys.exit(3)

ARM_API_VERSION = "2023-07-01"
ENV = os.environ
TENANT = ENV["KEYFORM_AZURE_TENANT_ID"]
SUBSCRIPTION = ENV["KEYFORM_AZURE_SUBSCRIPTION_ID"]
CLIENT_ID = ENV["KEYFORM_AZURE_CLIENT_ID"]
CLIENT_SECRET = ENV["KEYFORM_AZURE_CLIENT_SECRET"]
FEDERATED_TOKEN = ENV["KEYFORM_AZURE_FEDERATED_TOKEN"]
AUTHORITY = ENV["KEYFORM_AZURE_AUTHORITY_HOST"]
RESOURCE_MANAGER = ENV["KEYFORM_AZURE_RESOURCE_MANAGER"]
VAULT_SUFFIX = ENV["KEYFORM_AZURE_KEY_VAULT_SUFFIX"]
RESOURCE_GROUP = "rg-faithfulness"
KEY_VAULT_PROVIDER = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.KeyVault"
GROUP_VAULTS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_codes(error):
    """(status, code, innererror code) of an azure-core HttpResponseError, read from the raw body."""
    body = error.response.json()
    inner = body["error"].get("innererror") or {}
    return [error.status_code, body["error"]["code"], inner.get("code")]


def failure(call, *args, fields=3):
    """The first `fields` of error_codes() for the HttpResponseError that call(*args) raises; None when it succeeds."""
    try:
        call(*args)
    except HttpResponseError as error:
        return error_codes(error)[:fields]
    return None


class Arm:
    """Azure Resource Manager by plain HTTPS (no ARM SDK is installed), with a token from azure-identity."""

    def __init__(self, credential):
        self.credential = credential
        self.session = requests.Session()

    def call(self, method, path, body=None, api_version=ARM_API_VERSION, authorize=True):
        token = self.credential.get_token(RESOURCE_MANAGER + ".default").token
        url = RESOURCE_MANAGER.rstrip("/") + path
        if api_version is not None:
            url += f"?api-version={api_version}"
        headers = {"Authorization": f"Bearer {token}"} if authorize else {}
        response = self.session.request(method, url, json=body, headers=headers, timeout=60)
        return response.status_code, (response.json() if response.content else None)

    def vault_path(self, name):
        return f"{GROUP_VAULTS}/{name}"

    def deleted_vault_path(self, name):
        return f"{KEY_VAULT_PROVIDER}/locations/westeurope/deletedVaults/{name}"

    def create_vault(self, name, purge_protection, retention_days):
        properties = {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "softDeleteRetentionInDays": retention_days,
            "enableRbacAuthorization": True,
        }
        if purge_protection:
            properties["enablePurgeProtection"] = True
        return self.call("PUT", self.vault_path(name), {"location": "West Europe", "properties": properties})


def check_tokens(summary):
    secret_credential = ClientSecretCredential(
        TENANT, CLIENT_ID, CLIENT_SECRET, authority=AUTHORITY, disable_instance_discovery=True
    )
    summary["client_secret_token"] = bool(secret_credential.get_token(RESOURCE_MANAGER + ".default").token)
    wrong = ClientSecretCredential(
        TENANT, CLIENT_ID, "not-the-secret", authority=AUTHORITY, disable_instance_discovery=True
    )
    try:
        wrong.get_token(RESOURCE_MANAGER + ".default")
        summary["wrong_secret_refused"] = None
    except ClientAuthenticationError as error:
        summary["wrong_secret_refused"] = "AADSTS7000215" in str(error)
    assertion_credential = ClientAssertionCredential(
        TENANT, CLIENT_ID, lambda: FEDERATED_TOKEN, authority=AUTHORITY, disable_instance_discovery=True
    )
    summary["client_assertion_token"] = bool(assertion_credential.get_token(RESOURCE_MANAGER + ".default").token)
    token_file = tempfile.NamedTemporaryFile("w", suffix=".jwt", delete=False)
    token_file.write(FEDERATED_TOKEN)
    token_file.close()
    workload_credential = WorkloadIdentityCredential(
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        token_file_path=token_file.name,
        authority=AUTHORITY,
        disable_instance_discovery=True,
    )
    summary["workload_identity_token"] = bool(workload_credential.get_token(RESOURCE_MANAGER + ".default").token)
    check_managed_identity(summary)
    return secret_credential, workload_credential


def check_managed_identity(summary):
    """The App Service managed identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER are set for this script)."""
    system_assigned = ManagedIdentityCredential()
    summary["managed_identity_token"] = bool(system_assigned.get_token(RESOURCE_MANAGER + ".default").token)
    user_assigned = ManagedIdentityCredential(client_id=CLIENT_ID)
    vault_scope = f"https://{VAULT_SUFFIX}/.default"
    summary["user_assigned_identity_token"] = bool(user_assigned.get_token(vault_scope).token)
    unknown = ManagedIdentityCredential(client_id=str(uuid.uuid4()))
    try:
        unknown.get_token(vault_scope)
        summary["unknown_identity_refused"] = None
    except ClientAuthenticationError:
        summary["unknown_identity_refused"] = True


def check_arm(arm, summary):
    protected = unique("kfprot")
    status, vault = arm.create_vault(protected, purge_protection=True, retention_days=7)
    properties = vault["properties"]
    summary["arm_create"] = {
        "status": status,
        "type": vault["type"],
        "location": vault["location"],
        "vault_uri": properties["vaultUri"] == f"https://{protected}.{VAULT_SUFFIX}/",
        "retention": properties["softDeleteRetentionInDays"],
        "purge_protection": properties.get("enablePurgeProtection"),
        "soft_delete": properties["enableSoftDelete"],
        "sku": properties["sku"],
        "rbac": properties["enableRbacAuthorization"],
        "provisioning_state": properties["provisioningState"],
    }
    status, got = arm.call("GET", arm.vault_path(protected))
    summary["arm_get"] = [status, got["id"] == arm.vault_path(protected)]
    path = arm.vault_path(protected)
    refusals = {}
    status, body = arm.call("PATCH", path, {"properties": {"softDeleteRetentionInDays": 30}})
    refusals["retention_change"] = [
        status,
        body["error"]["code"],
        "softDeleteRetentionInDays" in body["error"]["message"],
    ]
    status, body = arm.call("PATCH", path, {"properties": {"enablePurgeProtection": False}})
    refusals["purge_protection_off"] = [status, body["error"]["code"], "irreversible" in body["error"]["message"]]
    status, body = arm.call("GET", path, api_version=None)
    refusals["missing_api_version"] = [status, body["error"]["code"]]
    status, body = arm.call("GET", path, api_version="2015-06-01")
    refusals["unsupported_api_version"] = [status, body["error"]["code"]]
    status, body = arm.call("GET", path, authorize=False)
    refusals["no_token"] = [status, body["error"]["code"]]
    status, body = arm.create_vault("9-not-a-vault-name", purge_protection=False, retention_days=7)
    refusals["bad_name"] = [status, body["error"]["code"]]
    summary["arm_refusals"] = refusals
    patch = {"tags": {"team": "platform"}, "properties": {"enabledForDeployment": True}}
    status, body = arm.call("PATCH", path, patch)
    summary["arm_patch"] = [status, body["tags"], body["properties"]["enabledForDeployment"]]
    plain = unique("kfplain")
    arm.create_vault(plain, purge_protection=False, retention_days=90)
    status, listed = arm.call("GET", GROUP_VAULTS)
    summary["arm_list"] = [status, sorted(v["name"] for v in listed["value"]) == sorted([protected, plain])]
    return protected, plain


def check_vault_lifecycle(arm, summary):
    """Soft delete of a vault, the name conflict, recovery by createMode=recover, purge refusal and purge."""
    name = unique("kfcycle")
    arm.create_vault(name, purge_protection=True, retention_days=7)
    status, _ = arm.call("DELETE", arm.vault_path(name))
    result = {"delete": status}
    status, body = arm.create_vault(name, purge_protection=True, retention_days=7)
    result["create_over_deleted"] = [status, body["error"]["code"]]
    deleted_path = arm.deleted_vault_path(name)
    status, deleted = arm.call("GET", deleted_path)
    result["get_deleted"] = [status, deleted["type"], deleted["properties"]["purgeProtectionEnabled"]]
    status, body = arm.call("POST", deleted_path + "/purge")
    result["purge_protected"] = [status, body["error"]["code"]]
    status, listed = arm.call("GET", f"{KEY_VAULT_PROVIDER}/deletedVaults")
    result["list_deleted"] = [status, [v["name"] for v in listed["value"]] == [name]]
    availability_path = f"{KEY_VAULT_PROVIDER}/checkNameAvailability"
    status, availability = arm.call("POST", availability_path, {"name": name, "type": "Microsoft.KeyVault/vaults"})
    result["name_available"] = [status, availability["nameAvailable"], availability.get("reason")]
    recover = {
        "location": "westeurope",
        "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "createMode": "recover"},
    }
    status, body = arm.call("PUT", arm.vault_path(name), recover)
    properties = body["properties"]
    result["recover"] = [status, properties["softDeleteRetentionInDays"], properties.get("enablePurgeProtection")]
    unprotected = unique("kfgone")
    arm.create_vault(unprotected, purge_protection=False, retention_days=7)
    arm.call("DELETE", arm.vault_path(unprotected))
    gone_path = arm.deleted_vault_path(unprotected)
    status, _ = arm.call("POST", gone_path + "/purge")
    result["purge"] = status
    status, _ = arm.call("GET", gone_path)
    result["get_after_purge"] = status
    summary["vault_lifecycle"] = result


def check_secrets(credential, protected, plain, summary):
    client = SecretClient(f"https://{protected}.{VAULT_SUFFIX}/", credential)
    name = unique("db-password")
    first = client.set_secret(name, "first-value", content_type="text/plain", tags={"owner": "keyform"})
    second = client.set_secret(name, "second-value")
    result = {
        "versions_differ": first.properties.version != second.properties.version,
        "latest_is_second": client.get_secret(name).value == "second-value",
        "first_by_version": client.get_secret(name, first.properties.version).value == "first-value",
        "content_type": first.properties.content_type,
        "tags": first.properties.tags,
        "recovery_level": first.properties.recovery_level,
        "recoverable_days": first.properties.recoverable_days,
        "versions": len(list(client.list_properties_of_secret_versions(name))),
        "listed": name in [p.name for p in client.list_properties_of_secrets()],
    }
    expires = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    updated = client.update_secret_properties(name, expires_on=expires, content_type="password")
    result["update"] = [updated.expires_on == expires, updated.content_type]
    deleted = client.begin_delete_secret(name).result()
    result["deleted"] = {
        "recovery_id": deleted.recovery_id == f"https://{protected}.{VAULT_SUFFIX}/deletedsecrets/{name}",
        "retention_seconds": int((deleted.scheduled_purge_date - deleted.deleted_date).total_seconds()),
        "listed": name in [d.name for d in client.list_deleted_secrets()],
    }
    result["get_deleted_name"] = failure(client.get_secret, name)
    result["set_over_deleted"] = failure(client.set_secret, name, "third-value")
    result["purge_protected"] = failure(client.purge_deleted_secret, name, fields=2)
    poller = client.begin_recover_deleted_secret(name)
    result["set_while_recovering"] = failure(client.set_secret, name, "third-value")
    poller.wait()
    for _ in range(50):  # writes may meet ObjectIsBeingRecovered a little longer than reads wait for
        refused = failure(client.set_secret, name, "third-value")
        if refused is None:
            break
        if refused[2] != "ObjectIsBeingRecovered":
            raise RuntimeError(f"setting the recovered secret failed: {refused}")
        time.sleep(0.2)
    result["after_recovery"] = [
        client.get_secret(name).value == "third-value",
        len(list(client.list_properties_of_secret_versions(name))),
    ]

    plain_client = SecretClient(f"https://{plain}.{VAULT_SUFFIX}/", credential)
    gone = unique("scratch")
    plain_client.set_secret(gone, "scratch-value")
    plain_deleted = plain_client.begin_delete_secret(gone).result()
    plain_client.purge_deleted_secret(gone)
    result["purged"] = failure(plain_client.get_deleted_secret, gone, fields=1) == [404]
    result["plain_recovery_level"] = plain_deleted.properties.recovery_level
    for index in range(27):
        plain_client.set_secret(f"page-{index}", "paged")
    listed = [p.name for p in plain_client.list_properties_of_secrets() if p.name.startswith("page-")]
    pages = list(plain_client.list_properties_of_secrets(max_page_size=5).by_page())
    result["paging"] = [len(listed), len(pages)]
    summary["secrets"] = result


def check_keys(credential, protected, summary):
    client = KeyClient(f"https://{protected}.{VAULT_SUFFIX}/", credential)
    rsa_name = unique("signing")
    expires = datetime.datetime(2032, 6, 1, tzinfo=datetime.timezone.utc)
    rsa = client.create_rsa_key(rsa_name, size=3072, key_operations=["sign", "verify"], expires_on=expires)
    ec = client.create_ec_key(unique("ecdsa"), curve="P-384", hardware_protected=True)
    result = {
        "rsa": {
            "kty": rsa.key_type,
            "modulus_bits": len(rsa.key.n) * 8,
            "exponent": rsa.key.e.hex(),
            "ops": rsa.key_operations,
            "expires": rsa.properties.expires_on == expires,
            "private_part": rsa.key.d is not None or rsa.key.p is not None,
        },
        "ec": {
            "kty": ec.key_type,
            "crv": ec.key.crv,
            "coordinate_bytes": [len(ec.key.x), len(ec.key.y)],
            "private_part": ec.key.d is not None,
        },
    }
    default_policy = client.get_key_rotation_policy(rsa_name)
    result["default_policy"] = [(a.action, a.time_before_expiry) for a in default_policy.lifetime_actions]
    policy = KeyRotationPolicy(
        expires_in="P90D",
        lifetime_actions=[
            KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D"),
            KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P10D"),
        ],
    )
    client.update_key_rotation_policy(rsa_name, policy)
    stored = client.get_key_rotation_policy(rsa_name)
    result["policy"] = {
        "expires_in": stored.expires_in,
        "actions": sorted(
            [str(getattr(a.action, "value", a.action)), a.time_after_create or "", a.time_before_expiry or ""]
            for a in stored.lifetime_actions
        ),
        "has_id": stored.id.endswith(f"/keys/{rsa_name}/rotationpolicy"),
    }
    too_short = KeyRotationPolicy(expires_in="P7D")
    result["policy_too_short"] = failure(client.update_key_rotation_policy, rsa_name, too_short, fields=2)
    rotated = client.rotate_key(rsa_name)
    lifetime = (rotated.properties.expires_on - rotated.properties.created_on).days
    result["rotate"] = {
        "new_version": rotated.properties.version != rsa.properties.version,
        "modulus_bits": len(rotated.key.n) * 8,
        "lifetime_days": lifetime,
        "versions": len(list(client.list_properties_of_key_versions(rsa_name))),
    }
    ec_name = ec.name
    disabled = client.update_key_properties(ec_name, enabled=False, tags={"tier": "hsm"})
    result["update"] = [disabled.properties.enabled, disabled.properties.tags, disabled.key_type]
    result["listed"] = sorted(p.name for p in client.list_properties_of_keys()) == sorted([rsa_name, ec_name])
    deleted = client.begin_delete_key(rsa_name).result()
    result["deleted"] = deleted.recovery_id.endswith(f"/deletedkeys/{rsa_name}")
    fetched = client.get_deleted_key(rsa_name)
    result["get_deleted"] = [fetched.name == rsa_name, fetched.key.n == rotated.key.n]
    result["listed_deleted"] = [d.name for d in client.list_deleted_keys()] == [rsa_name]
    result["create_over_deleted"] = failure(client.create_rsa_key, rsa_name)
    result["purge_protected"] = failure(client.purge_deleted_key, rsa_name, fields=2)
    recovery = client.begin_recover_deleted_key(rsa_name)
    recovery.wait()  # Key Vault pollers' result() does not wait; wait() polls until the key reads again
    recovered = recovery.result()
    result["recovered"] = recovered.properties.version == rotated.properties.version
    result["policy_after_recovery"] = client.get_key_rotation_policy(rsa_name).expires_in
    summary["keys"] = result


def check_data_plane_protocol(credential, protected, summary):
    """The raw challenge and api-version checks, as a client without an SDK sees them."""
    url = f"https://{protected}.{VAULT_SUFFIX}/secrets?api-version=7.5"
    response = requests.get(url, timeout=60)
    challenge = response.headers.get("WWW-Authenticate", "")
    token = credential.get_token(f"https://{VAULT_SUFFIX}/.default").token
    authorized = {"Authorization": f"Bearer {token}"}
    unsupported = requests.get(url.replace("7.5", "1.0"), headers=authorized, timeout=60)
    arm_token = credential.get_token(RESOURCE_MANAGER + ".default").token
    wrong_audience = requests.get(url, headers={"Authorization": f"Bearer {arm_token}"}, timeout=60)
    try:
        requests.get(f"https://no-such-vault.{VAULT_SUFFIX}/secrets?api-version=7.5", timeout=60)
        unknown_vault = "answered"
    except requests.exceptions.ProxyError:
        unknown_vault = "unreachable"
    summary["protocol"] = {
        "unknown_vault": unknown_vault,
        "challenge_status": response.status_code,
        "challenge": challenge == f'Bearer authorization="{AUTHORITY}{TENANT}", resource="https://{VAULT_SUFFIX}"',
        "challenge_code": response.json()["error"]["code"],
        "unsupported_version": [unsupported.status_code, unsupported.json()["error"]["code"]],
        "wrong_audience": wrong_audience.status_code,
        "api_version_7_5": requests.get(url, headers=authorized, timeout=60).status_code,
    }


def main():
    summary = {}
    secret_credential, workload_credential = check_tokens(summary)
    arm = Arm(secret_credential)
    protected, plain = check_arm(arm, summary)
    check_vault_lifecycle(arm, summary)
    check_secrets(secret_credential, protected, plain, summary)
    check_keys(workload_credential, protected, summary)
    check_data_plane_protocol(secret_credential, protected, summary)
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
