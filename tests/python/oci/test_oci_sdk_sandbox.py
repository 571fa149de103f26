"""The official OCI Python SDK, unmodified, against the credplane sandbox.

The SDK signs every request with its own signer; the sandbox verifies the signature, so a
pass here means the sandbox accepts exactly what real OCI clients send. Run through
scripts/test-oci-sdk.sh, which starts the sandbox and sets CREDPLANE_SANDBOX_URL.
"""

import json
import os
import time
import urllib.request

import oci
import pytest

ALICE = "ocid1.user.oc1..aaaaaaaaalice"
NOBODY = "ocid1.user.oc1..aaaaaaaanobody"


def _admin(url, data=None, method="GET"):
    """A request to the sandbox admin API, with its bearer token (CREDPLANE_SANDBOX_TOKEN)."""
    token = os.environ["CREDPLANE_SANDBOX_TOKEN"]  # a KeyError fails the run: never skip
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    return urllib.request.Request(url, data=data, method=method, headers=headers)


def _get(url):
    with urllib.request.urlopen(_admin(url), timeout=5) as resp:
        return json.load(resp)


def _put_json(url, doc):
    req = _admin(url, data=json.dumps(doc).encode(), method="PUT")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


@pytest.fixture(scope="session")
def sandbox_url():
    url = os.environ.get("CREDPLANE_SANDBOX_URL")
    assert url, "CREDPLANE_SANDBOX_URL is not set: run scripts/test-oci-sdk.sh"
    deadline = time.time() + 60
    while True:
        try:
            _get(url + "/_sandbox/fixtures")
            return url
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="session")
def fixtures(sandbox_url):
    fx = _get(sandbox_url + "/_sandbox/fixtures")
    assert "oci-identity" in fx, f"the sandbox serves no OCI API: {list(fx)}"
    return fx["oci-identity"]


@pytest.fixture(scope="session")
def client(fixtures, sandbox_url, tmp_path_factory):
    key_file = tmp_path_factory.mktemp("oci") / "admin_api_key.pem"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(fixtures["admin"]["private_key"])
    assert (os.stat(key_file).st_mode & 0o777) == 0o600
    config = {
        "user": fixtures["admin"]["user"],
        "tenancy": fixtures["tenancy"],
        "fingerprint": fixtures["admin"]["fingerprint"],
        "key_file": str(key_file),
        "region": fixtures["region"],
    }
    oci.config.validate_config(config)
    return oci.identity.IdentityClient(config, service_endpoint=sandbox_url)


def _live(sandbox_url, user, kind):
    creds = _get(sandbox_url + "/_sandbox/state")["oci-identity"]["credentials"].values()
    return [c for c in creds if c["user_id"] == user and c["kind"] == kind and c["lifecycle_state"] != "DELETED"]


def test_get_user(client, fixtures):
    user = client.get_user(ALICE).data
    assert user.id == ALICE
    assert user.name == "alice"
    assert user.lifecycle_state == "ACTIVE"
    admin = client.get_user(fixtures["admin"]["user"])
    assert admin.status == 200
    assert admin.headers["opc-request-id"]


def test_auth_token_create_list_update_delete(client, sandbox_url):
    created = client.create_auth_token(
        oci.identity.models.CreateAuthTokenDetails(description="from the sdk"), ALICE)
    assert created.status == 200
    token = created.data
    assert token.token and len(token.token) >= 16
    assert token.user_id == ALICE
    assert token.description == "from the sdk"
    assert token.lifecycle_state == "CREATING"
    assert token.time_created is not None
    assert [c["id"] for c in _live(sandbox_url, ALICE, "authTokens")] == [token.id]

    listed = {t.id: t for t in client.list_auth_tokens(ALICE).data}
    assert listed[token.id].lifecycle_state == "ACTIVE"
    assert listed[token.id].token is None, "lists never show the token"

    updated = client.update_auth_token(
        ALICE, token.id, oci.identity.models.UpdateAuthTokenDetails(description="renamed")).data
    assert updated.description == "renamed"
    assert updated.token is None
    assert {t.id: t.description for t in client.list_auth_tokens(ALICE).data}[token.id] == "renamed"

    deleted = client.delete_auth_token(ALICE, token.id)
    assert deleted.status == 204
    assert _live(sandbox_url, ALICE, "authTokens") == []
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.delete_auth_token(ALICE, token.id)
    assert err.value.status == 404
    assert err.value.code == "NotAuthorizedOrNotFound"


def test_customer_secret_key_create_list_update_delete(client, sandbox_url):
    created = client.create_customer_secret_key(
        oci.identity.models.CreateCustomerSecretKeyDetails(display_name="s3 from the sdk"), ALICE).data
    assert created.key and len(created.key) >= 40
    assert created.display_name == "s3 from the sdk"
    assert created.user_id == ALICE
    assert [c["id"] for c in _live(sandbox_url, ALICE, "customerSecretKeys")] == [created.id]

    listed = {k.id: k for k in client.list_customer_secret_keys(ALICE).data}
    assert listed[created.id].lifecycle_state == "ACTIVE"
    assert listed[created.id].display_name == "s3 from the sdk"
    assert not hasattr(listed[created.id], "key") or getattr(listed[created.id], "key", None) is None

    updated = client.update_customer_secret_key(
        ALICE, created.id, oci.identity.models.UpdateCustomerSecretKeyDetails(display_name="renamed")).data
    assert updated.display_name == "renamed"

    assert client.delete_customer_secret_key(ALICE, created.id).status == 204
    assert _live(sandbox_url, ALICE, "customerSecretKeys") == []


def test_retry_token_returns_the_same_credential(client, sandbox_url):
    details = oci.identity.models.CreateAuthTokenDetails(description="idempotent")
    first = client.create_auth_token(details, ALICE, opc_retry_token="sdk-retry-1").data
    again = client.create_auth_token(details, ALICE, opc_retry_token="sdk-retry-1").data
    assert again.id == first.id
    assert again.token == first.token
    assert len(_live(sandbox_url, ALICE, "authTokens")) == 1
    client.delete_auth_token(ALICE, first.id)


def test_limit_of_two_per_user(client):
    ids = [client.create_customer_secret_key(
        oci.identity.models.CreateCustomerSecretKeyDetails(display_name=f"k{i}"), ALICE).data.id for i in range(2)]
    try:
        with pytest.raises(oci.exceptions.ServiceError) as err:
            client.create_customer_secret_key(
                oci.identity.models.CreateCustomerSecretKeyDetails(display_name="k3"), ALICE,
                retry_strategy=oci.retry.NoneRetryStrategy())
        assert err.value.status == 400
        assert err.value.code == "LimitExceeded"
        assert ALICE in err.value.message
    finally:
        for key_id in ids:
            client.delete_customer_secret_key(ALICE, key_id)


def test_missing_user_is_404_not_authorized_or_not_found(client):
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.list_auth_tokens(NOBODY)
    assert err.value.status == 404
    assert err.value.code == "NotAuthorizedOrNotFound"
    assert err.value.request_id
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.create_customer_secret_key(
            oci.identity.models.CreateCustomerSecretKeyDetails(display_name="x"), NOBODY)
    assert err.value.status == 404
    assert err.value.code == "NotAuthorizedOrNotFound"


def test_throttled_is_429_too_many_requests(client, sandbox_url):
    _put_json(sandbox_url + "/_sandbox/faults", {"next_throttles": 1, "actions": ["ListAuthTokens"]})
    try:
        with pytest.raises(oci.exceptions.ServiceError) as err:
            client.list_auth_tokens(ALICE, retry_strategy=oci.retry.NoneRetryStrategy())
        assert err.value.status == 429
        assert err.value.code == "TooManyRequests"
    finally:
        _put_json(sandbox_url + "/_sandbox/faults", {})
    # the fault is consumed: the next call goes through
    assert client.list_auth_tokens(ALICE, retry_strategy=oci.retry.NoneRetryStrategy()).status == 200


def test_a_foreign_key_is_not_authenticated(fixtures, sandbox_url, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "other.pem"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    config = {
        "user": fixtures["admin"]["user"],
        "tenancy": fixtures["tenancy"],
        "fingerprint": fixtures["admin"]["fingerprint"],
        "key_file": str(key_file),
        "region": fixtures["region"],
    }
    bad = oci.identity.IdentityClient(config, service_endpoint=sandbox_url)
    with pytest.raises(oci.exceptions.ServiceError) as err:
        bad.list_auth_tokens(ALICE, retry_strategy=oci.retry.NoneRetryStrategy())
    assert err.value.status == 401
    assert err.value.code == "NotAuthenticated"
