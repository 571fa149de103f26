"""The official `alibabacloud_credentials` providers against the credplane sandbox's STS and
ECS metadata emulation, a second opinion on both: the SDK's AssumeRole (signed), its
AssumeRoleWithOIDC (anonymous) and its hardened metadata flow must be accepted, and the session
it yields must sign RAM calls, with `SecurityToken` (RPC V1) and `x-acs-security-token` (V3).

The providers always use https for STS and 100.100.100.200 for the metadata service; the
`offline` fixture points them at the local sandbox over http, changing nothing else.

Run through scripts/test-alicloud-sdk.sh, which sets CREDPLANE_SANDBOX_URL.
"""

import base64
import json
import os
import time
import urllib.parse
import urllib.request

import pytest
from alibabacloud_credentials.provider import (
    EcsRamRoleCredentialsProvider,
    OIDCRoleArnCredentialsProvider,
    RamRoleArnCredentialsProvider,
)
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from Tea.core import TeaCore

SANDBOX = os.environ["CREDPLANE_SANDBOX_URL"]  # a KeyError fails the run: never skip
NETLOC = urllib.parse.urlparse(SANDBOX).netloc


TOKEN = os.environ["CREDPLANE_SANDBOX_TOKEN"]  # the admin API's bearer token; never skip


def fixtures():
    request = urllib.request.Request(f"{SANDBOX}/_sandbox/fixtures", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


@pytest.fixture
def offline(monkeypatch):
    real = TeaCore.do_action

    def local(request, runtime=None):
        request.protocol = "http"
        return real(request, runtime)

    monkeypatch.setattr(TeaCore, "do_action", staticmethod(local))


def oidc_token(sts, seconds=600):
    def b64(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {"iss": sts["oidc_issuer"], "aud": sts["oidc_audience"], "sub": "py-ci", "iat": now, "exp": now + seconds}
    return f"{b64({'alg': 'RS256'})}.{b64(claims)}.c2ln"


def list_alice_keys(credentials, signature):
    cfg = open_api_models.Config(
        access_key_id=credentials.get_access_key_id(),
        access_key_secret=credentials.get_access_key_secret(),
        security_token=credentials.get_security_token(),
        endpoint=NETLOC,
        protocol="http",
        region_id="cn-hangzhou",
    )
    if signature == "v2":
        cfg.signature_algorithm = "v2"
    RamClient(cfg).list_access_keys(ram_models.ListAccessKeysRequest(user_name="alice"))


@pytest.mark.parametrize("signature", ["v2", "v3"])
def test_ram_role_arn(offline, signature):
    admin = fixtures()["alicloud-ram"]["admin"]
    sts = fixtures()["alicloud-sts"]
    provider = RamRoleArnCredentialsProvider(
        access_key_id=admin["access_key_id"],
        access_key_secret=admin["access_key_secret"],
        role_arn=sts["role_arn"],
        role_session_name="py-sdk",
        duration_seconds=900,
        sts_endpoint=NETLOC,
    )
    credentials = provider.get_credentials()
    assert credentials.get_access_key_id().startswith("STS.")
    list_alice_keys(credentials, signature)


def oidc_provider(tmp_path, seconds):
    sts = fixtures()["alicloud-sts"]
    token_file = tmp_path / "token"
    token_file.write_text(oidc_token(sts, seconds))
    return OIDCRoleArnCredentialsProvider(
        role_arn=sts["role_arn"],
        oidc_provider_arn=sts["oidc_provider_arn"],
        oidc_token_file_path=str(token_file),
        role_session_name="py-sdk",
        sts_endpoint=NETLOC,
    )


@pytest.mark.parametrize("signature", ["v2", "v3"])
def test_oidc_role_arn(offline, tmp_path, signature):
    credentials = oidc_provider(tmp_path, 600).get_credentials()
    assert credentials.get_access_key_id().startswith("STS.")
    list_alice_keys(credentials, signature)


def test_oidc_role_arn_refuses_an_expired_token(offline, tmp_path):
    with pytest.raises(Exception, match="OIDCToken.Expired"):
        oidc_provider(tmp_path, -60).get_credentials()


def test_ecs_ram_role_hardened(offline):
    sts = fixtures()["alicloud-sts"]
    provider = EcsRamRoleCredentialsProvider(
        role_name=sts["ecs_role_name"], disable_imds_v1=True, async_update_enabled=False
    )
    provider._EcsRamRoleCredentialsProvider__metadata_service_host = NETLOC
    credentials = provider.get_credentials()
    assert credentials.get_access_key_id().startswith("STS.")
    list_alice_keys(credentials, "v3")
