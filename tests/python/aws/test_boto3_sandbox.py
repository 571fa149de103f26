"""boto3 (the official AWS SDK for Python) against `credplane sandbox`: the IAM sandbox must
verify boto3's SigV4 signatures and answer in shapes botocore parses.

Run by scripts/test-aws-sdk.sh, which starts the sandbox and sets CREDPLANE_SANDBOX_URL.
"""

import json
import os
import urllib.request
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config


def sandbox_url() -> str:
    url = os.environ.get("CREDPLANE_SANDBOX_URL")
    assert url, "CREDPLANE_SANDBOX_URL is not set: run scripts/test-aws-sdk.sh"
    return url.rstrip("/")


def fixtures() -> dict:
    token = os.environ["CREDPLANE_SANDBOX_TOKEN"]  # the admin API's bearer token; never skip
    request = urllib.request.Request(f"{sandbox_url()}/_sandbox/fixtures", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as resp:
        return json.load(resp)["aws-iam"]


def iam_client(access_key_id: str, secret: str):
    return boto3.client(
        "iam",
        endpoint_url=sandbox_url(),
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def admin():
    admin = fixtures()["admin"]
    return iam_client(admin["access_key_id"], admin["secret_access_key"])


def test_access_key_lifecycle(admin):
    user = f"sdk-{uuid.uuid4().hex[:8]}"
    created_user = admin.create_user(UserName=user)["User"]
    assert created_user["UserName"] == user
    assert created_user["Arn"].endswith(f":user/{user}")
    assert user in [u["UserName"] for u in admin.list_users()["Users"]]

    key = admin.create_access_key(UserName=user)["AccessKey"]
    assert key["UserName"] == user
    assert key["Status"] == "Active"
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40

    listed = admin.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    assert listed[0]["Status"] == "Active"

    # The new key signs requests as its user.
    own = iam_client(key["AccessKeyId"], key["SecretAccessKey"])
    assert own.get_user()["User"]["UserName"] == user
    assert admin.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["UserName"] == user

    admin.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    listed = admin.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert listed[0]["Status"] == "Inactive"
    with pytest.raises(botocore.exceptions.ClientError) as inactive:
        own.get_user()
    assert inactive.value.response["Error"]["Code"] == "InvalidClientTokenId"

    # Two keys per user.
    second = admin.create_access_key(UserName=user)["AccessKey"]
    with pytest.raises(botocore.exceptions.ClientError) as limit:
        admin.create_access_key(UserName=user)
    assert limit.value.response["Error"]["Code"] == "LimitExceeded"
    assert limit.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    admin.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    admin.delete_access_key(UserName=user, AccessKeyId=second["AccessKeyId"])
    assert admin.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        admin.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    assert gone.value.response["Error"]["Code"] == "NoSuchEntity"
    admin.delete_user(UserName=user)


def test_missing_user_is_no_such_entity(admin):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        admin.list_access_keys(UserName="nobody-by-this-name")
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_bad_signature_is_refused():
    admin = fixtures()["admin"]
    wrong = iam_client(admin["access_key_id"], "0" * 40)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        wrong.list_users()
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    unknown = iam_client("AKIA" + "Z" * 16, "0" * 40)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        unknown.list_users()
    assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"
