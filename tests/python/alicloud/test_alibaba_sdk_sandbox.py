"""The official Alibaba Cloud Python SDKs (RAM 2015-05-01, KMS 2016-01-20) against the credplane
sandbox: both signature schemes (RPC V1 with signature_algorithm="v2", and the SDKs' default
ACS3-HMAC-SHA256), the real response models, and the error codes the SDK surfaces.

Run through scripts/test-alicloud-sdk.sh, which sets CREDPLANE_SANDBOX_URL.
"""

import json
import os
import urllib.parse
import urllib.request
import uuid

import pytest
from alibabacloud_kms20160120 import models as kms_models
from alibabacloud_kms20160120.client import Client as KmsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi import utils_models as open_api_models

SANDBOX = os.environ["CREDPLANE_SANDBOX_URL"]  # a KeyError fails the run: never skip
SIGNATURES = ["v2", "v3"]


def fixtures():
    token = os.environ["CREDPLANE_SANDBOX_TOKEN"]  # the admin API's bearer token; never skip
    request = urllib.request.Request(f"{SANDBOX}/_sandbox/fixtures", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["alicloud-ram"]


def config(signature):
    admin = fixtures()["admin"]
    endpoint = urllib.parse.urlparse(SANDBOX).netloc
    cfg = open_api_models.Config(
        access_key_id=admin["access_key_id"],
        access_key_secret=admin["access_key_secret"],
        endpoint=endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    if signature == "v2":
        cfg.signature_algorithm = "v2"  # RPC signature V1, HMAC-SHA1
    return cfg


def error_code(excinfo):
    return getattr(excinfo.value, "code", None)


@pytest.mark.parametrize("signature", SIGNATURES)
def test_ram_access_key_lifecycle(signature):
    ram = RamClient(config(signature))
    created = ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name="alice")).body.access_key
    assert created.access_key_id.startswith("LTAI5t")
    assert len(created.access_key_secret) == 30
    assert created.status == "Active"
    assert created.create_date.endswith("Z")

    listed = ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name="alice")).body.access_keys.access_key
    assert [k.access_key_id for k in listed] == [created.access_key_id]
    assert listed[0].status == "Active"

    ram.update_access_key(
        ram_models.UpdateAccessKeyRequest(user_name="alice", user_access_key_id=created.access_key_id, status="Inactive")
    )
    listed = ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name="alice")).body.access_keys.access_key
    assert listed[0].status == "Inactive"

    ram.delete_access_key(ram_models.DeleteAccessKeyRequest(user_name="alice", user_access_key_id=created.access_key_id))
    listed = ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name="alice")).body.access_keys.access_key
    assert listed == []

    with pytest.raises(Exception) as excinfo:
        ram.delete_access_key(ram_models.DeleteAccessKeyRequest(user_name="alice", user_access_key_id=created.access_key_id))
    assert error_code(excinfo) == "EntityNotExist.User.AccessKey"
    with pytest.raises(Exception) as excinfo:
        ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name="nobody"))
    assert error_code(excinfo) == "EntityNotExist.User"


def test_ram_two_key_limit():
    ram = RamClient(config("v2"))
    ids = [ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name="alice")).body.access_key.access_key_id for _ in range(2)]
    try:
        with pytest.raises(Exception) as excinfo:
            ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name="alice"))
        assert error_code(excinfo) == "LimitExceeded.User.AccessKey"
    finally:
        for key_id in ids:
            ram.delete_access_key(ram_models.DeleteAccessKeyRequest(user_name="alice", user_access_key_id=key_id))


def test_wrong_secret_is_refused():
    cfg = config("v2")
    cfg.access_key_secret = "not-the-secret"
    with pytest.raises(Exception) as excinfo:
        RamClient(cfg).list_access_keys(ram_models.ListAccessKeysRequest(user_name="alice"))
    assert error_code(excinfo) == "SignatureDoesNotMatch"


@pytest.mark.parametrize("signature", SIGNATURES)
def test_kms_secret_lifecycle(signature):
    kms = KmsClient(config(signature))
    name = f"sdk-{signature}-{uuid.uuid4().hex[:8]}"
    created = kms.create_secret(
        kms_models.CreateSecretRequest(
            secret_name=name,
            secret_data="first value",
            version_id="v1",
            secret_data_type="text",
            description="from the python sdk",
            tags=json.dumps([{"TagKey": "team", "TagValue": "sdk"}]),
        )
    ).body
    assert created.secret_name == name
    assert created.version_id == "v1"
    assert created.arn == f"acs:kms:cn-hangzhou:1234567890123456:secret/{name}"

    described = kms.describe_secret(kms_models.DescribeSecretRequest(secret_name=name, fetch_tags="true")).body
    assert described.description == "from the python sdk"
    assert described.secret_type == "Generic"
    assert [(t.tag_key, t.tag_value) for t in described.tags.tag] == [("team", "sdk")]
    assert not described.planned_delete_time

    value = kms.get_secret_value(kms_models.GetSecretValueRequest(secret_name=name)).body
    assert (value.secret_data, value.version_id, value.secret_data_type) == ("first value", "v1", "text")
    assert value.version_stages.version_stage == ["ACSCurrent"]

    put = kms.put_secret_value(kms_models.PutSecretValueRequest(secret_name=name, version_id="v2", secret_data="second value")).body
    assert put.version_id == "v2"
    assert put.version_stages.version_stage == ["ACSCurrent"]
    value = kms.get_secret_value(kms_models.GetSecretValueRequest(secret_name=name)).body
    assert (value.secret_data, value.version_id) == ("second value", "v2")
    previous = kms.get_secret_value(kms_models.GetSecretValueRequest(secret_name=name, version_stage="ACSPrevious")).body
    assert previous.version_id == "v1"

    with pytest.raises(Exception) as excinfo:
        kms.create_secret(kms_models.CreateSecretRequest(secret_name=name, secret_data="x", version_id="v1"))
    assert error_code(excinfo) == "Rejected.ResourceExist"

    deleted = kms.delete_secret(kms_models.DeleteSecretRequest(secret_name=name, recovery_window_in_days="7")).body
    assert deleted.planned_delete_time.endswith("Z")
    with pytest.raises(Exception) as excinfo:
        kms.get_secret_value(kms_models.GetSecretValueRequest(secret_name=name))
    assert error_code(excinfo) == "Rejected.ResourceInDeleteWindow"

    kms.restore_secret(kms_models.RestoreSecretRequest(secret_name=name))
    assert kms.get_secret_value(kms_models.GetSecretValueRequest(secret_name=name)).body.version_id == "v2"
    kms.delete_secret(kms_models.DeleteSecretRequest(secret_name=name, force_delete_without_recovery="true"))
    with pytest.raises(Exception) as excinfo:
        kms.describe_secret(kms_models.DescribeSecretRequest(secret_name=name))
    assert error_code(excinfo) == "Forbidden.ResourceNotFound"


def test_kms_invalid_parameter():
    kms = KmsClient(config("v2"))
    with pytest.raises(Exception) as excinfo:
        kms.create_secret(
            kms_models.CreateSecretRequest(secret_name="bad", secret_data="x", version_id="v1", secret_data_type="jpeg")
        )
    assert error_code(excinfo) == "InvalidParameter"
