#!/usr/bin/env python3
"""Independent reference for the Alibaba Cloud signing vectors in this folder.

Written from Alibaba's documentation with the Python standard library only
(urllib.parse.quote, hmac, hashlib), so it shares no code with the Rust signer.
It writes every *.json case here; run it from this folder and diff the output.
Hand-written canonical queries are asserted against the computed ones, and the
two documented examples are asserted against their published values.
"""
import base64
import hashlib
import hmac
import json
import re
from urllib.parse import quote


def enc(s):
    # RFC 3986: only A-Z a-z 0-9 - _ . ~ stay literal (Python's quote keeps
    # exactly alphanumerics and "_.-~" when safe is "").
    return quote(s, safe="")


def canonical_query(params):
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params, key=lambda kv: (kv[0].encode(), kv[1].encode())))


def rpc_sts(method, params):
    return f"{method}&{enc('/')}&{enc(canonical_query([p for p in params if p[0] != 'Signature']))}"


def rpc_sign(method, params, secret):
    mac = hmac.new((secret + "&").encode(), rpc_sts(method, params).encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()


def acs3(req):
    body = req["body"].encode()
    headers = {
        "host": req["host"],
        "x-acs-action": req["action"],
        "x-acs-version": req["version"],
        "x-acs-date": req["date"],
        "x-acs-signature-nonce": req["nonce"],
        "x-acs-content-sha256": sha256_hex(body),
    }
    if req.get("content_type"):
        headers["content-type"] = req["content_type"]
    for k, v in req.get("extra_headers", []):
        headers[k.lower()] = v.strip()
    names = sorted(headers)
    canon_headers = "".join(f"{n}:{headers[n]}\n" for n in names)
    signed = ";".join(names)
    path = "/".join(enc(seg) for seg in req["path"].split("/")) or "/"
    cr = "\n".join([req["method"], path, canonical_query(req["query"]), canon_headers, signed, sha256_hex(body)])
    sts = "ACS3-HMAC-SHA256\n" + sha256_hex(cr.encode())
    sig = hmac.new(req["secret"].encode(), sts.encode(), hashlib.sha256).hexdigest()
    auth = f"ACS3-HMAC-SHA256 Credential={req['access_key_id']},SignedHeaders={signed},Signature={sig}"
    return {"canonical_request": cr, "string_to_sign": sts, "signature": sig, "authorization": auth}


def common(action, nonce, fmt="JSON", ts="2016-02-23T12:46:24Z"):
    return [
        ["AccessKeyId", "testid"],
        ["Action", action],
        ["Format", fmt],
        ["SignatureMethod", "HMAC-SHA1"],
        ["SignatureNonce", nonce],
        ["SignatureVersion", "1.0"],
        ["Timestamp", ts],
        ["Version", "2014-05-26"],
    ]


CASES = {}


def rpc_case(name, description, method, query, form, secret, hand_canonical, source=None):
    params = query + form
    assert canonical_query(params) == hand_canonical, (name, canonical_query(params))
    case = {
        "description": description,
        "kind": "rpc",
        "method": method,
        "query": query,
        "form": form,
        "secret": secret,
        "expected": {
            "canonical_query": hand_canonical,
            "string_to_sign": rpc_sts(method, params),
            "signature": rpc_sign(method, params, secret),
        },
    }
    if source:
        case["source"] = source
    CASES[name] = case


# --- RPC V1 ------------------------------------------------------------------

DOC = common("DescribeRegions", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", fmt="XML")
rpc_case(
    "rpc_documented_describe_regions",
    "Alibaba's documented V1 example: DescribeRegions, GET, testid/testsecret.",
    "GET", DOC, [], "testsecret",
    "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1"
    "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
    "&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26",
    source="Alibaba Cloud 'Request signature' / 'Signature method' (RPC, V1) documentation example",
)
assert CASES["rpc_documented_describe_regions"]["expected"]["signature"] == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
assert CASES["rpc_documented_describe_regions"]["expected"]["string_to_sign"] == (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
    "%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
)

EDGE_NONCE = "b5a1f1b4-0c1e-4f57-9d2b-7f1c5e0a2d31"
rpc_case(
    "rpc_edge_values",
    "Values with space, *, ~, /, non-ASCII, '()! and +=&: each escaped per RFC 3986.",
    "GET",
    common("DescribeThings", EDGE_NONCE)
    + [
        ["Space", "a b"],
        ["Star", "a*b"],
        ["Tilde", "a~b"],
        ["Slash", "a/b"],
        ["Chinese", "中文"],
        ["Accent", "é"],
        ["Punct", "'()!"],
        ["Reserved", "1+1=2&3:4"],
    ],
    [],
    "testsecret",
    "Accent=%C3%A9&AccessKeyId=testid&Action=DescribeThings&Chinese=%E4%B8%AD%E6%96%87"
    "&Format=JSON&Punct=%27%28%29%21&Reserved=1%2B1%3D2%263%3A4"
    f"&SignatureMethod=HMAC-SHA1&SignatureNonce={EDGE_NONCE}&SignatureVersion=1.0"
    "&Slash=a%2Fb&Space=a%20b&Star=a%2Ab&Tilde=a~b"
    "&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26",
)

rpc_case(
    "rpc_edge_keys",
    "Keys with space, *, ~, /, non-ASCII and '()!; sorted by raw UTF-8 bytes before "
    "encoding ('a.b' < 'a/b' although '%2F' < '.'; 'é' after all ASCII).",
    "GET",
    common("DescribeThings", EDGE_NONCE)
    + [
        ["a/b", "slash"],
        ["a.b", "dot"],
        ["Key With Space", "1"],
        ["k*~", "2"],
        ["é", "中"],
        ["('!')", "3"],
    ],
    [],
    "testsecret",
    "%28%27%21%27%29=3&AccessKeyId=testid&Action=DescribeThings&Format=JSON&Key%20With%20Space=1"
    f"&SignatureMethod=HMAC-SHA1&SignatureNonce={EDGE_NONCE}&SignatureVersion=1.0"
    "&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
    "&a.b=dot&a%2Fb=slash&k%2A~=2&%C3%A9=%E4%B8%AD",
)

rpc_case(
    "rpc_post_form_body",
    "POST: the form-body parameters are signed together with the query ones.",
    "POST",
    common("CreateUser", "2c8a3f0e-5a7d-4b7e-8f3c-1d2e3f4a5b6c"),
    [["UserName", "alice bob"], ["Comments", "中文*~"]],
    "testsecret",
    "AccessKeyId=testid&Action=CreateUser&Comments=%E4%B8%AD%E6%96%87%2A~&Format=JSON"
    "&SignatureMethod=HMAC-SHA1&SignatureNonce=2c8a3f0e-5a7d-4b7e-8f3c-1d2e3f4a5b6c&SignatureVersion=1.0"
    "&Timestamp=2016-02-23T12%3A46%3A24Z&UserName=alice%20bob&Version=2014-05-26",
)

# --- RPC V1 verifier -----------------------------------------------------------

POST = CASES["rpc_post_form_body"]


def rpc_verify(name, description, expected_code, method="POST", query=None, form=None,
               server_keys=None, now="2016-02-23T12:56:24Z", set_=(), remove=(), replay=False):
    case = {
        "description": description,
        "kind": "rpc_verify",
        "method": method,
        "query": query if query is not None else POST["query"],
        "form": form if form is not None else POST["form"],
        "client_secret": "testsecret",
        "server_keys": server_keys if server_keys is not None else {"testid": "testsecret"},
        "now": now,
        "set": [list(p) for p in set_],
        "remove": list(remove),
        "replay": replay,
        "expected_code": expected_code,
    }
    CASES[name] = case


rpc_verify("rpc_verify_valid", "A correctly signed POST, 10 minutes later, passes.", None)
rpc_verify("rpc_verify_tampered_value", "A form value changed after signing.", "SignatureDoesNotMatch",
           set_=[("UserName", "mallory")])
rpc_verify("rpc_verify_wrong_secret", "The server knows another secret for the key.", "SignatureDoesNotMatch",
           server_keys={"testid": "othersecret"})
rpc_verify("rpc_verify_stale_timestamp", "Checked 15 minutes and 1 second after the timestamp.",
           "InvalidTimeStamp.Expired", now="2016-02-23T13:01:25Z")
rpc_verify("rpc_verify_missing_signature", "The Signature parameter is dropped.", "MissingSignature",
           remove=["Signature"])
rpc_verify("rpc_verify_unknown_access_key", "No secret is known for testid.", "InvalidAccessKeyId.NotFound",
           server_keys={})
rpc_verify("rpc_verify_replayed_nonce", "The same request twice: the caller's nonce store refuses it.",
           "SignatureNonceUsed", replay=True)

# --- ACS3 (V3) -------------------------------------------------------------------


def acs3_case(name, description, req, source=None, verify=None):
    case = {"description": description, "kind": "acs3", "request": req, "expected": acs3(req)}
    if source:
        case["source"] = source
    CASES[name] = case


DOC3 = {
    "method": "POST",
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "path": "/",
    "query": [["ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"], ["RegionId", "cn-shanghai"]],
    "action": "RunInstances",
    "version": "2014-05-26",
    "date": "2023-10-26T10:22:32Z",
    "nonce": "3156853299f313e23d1673dc12e1703d",
    "body": "",
    "access_key_id": "YourAccessKeyId",
    "secret": "YourAccessKeySecret",
}
acs3_case(
    "acs3_documented_run_instances",
    "Alibaba's documented V3 example: RunInstances, POST, empty body.",
    DOC3,
    source="Alibaba Cloud 'V3 request body and signature' (v3-request-structure-and-signature) example",
)
assert CASES["acs3_documented_run_instances"]["expected"]["string_to_sign"] == (
    "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
)
assert CASES["acs3_documented_run_instances"]["expected"]["signature"] == (
    "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
)

ROA = {
    "method": "POST",
    "host": "cs.cn-hangzhou.aliyuncs.com",
    "path": "/clusters/c 1*/triggers",
    "query": [["name", "中文 é"], ["Empty", ""], ["a*b", "~'()!"]],
    "action": "CreateTrigger",
    "version": "2015-12-15",
    "date": "2024-05-01T08:00:00Z",
    "nonce": "6f1c2a0b9e8d7c6b5a4f3e2d1c0b9a88",
    "content_type": "application/json",
    "extra_headers": [["X-Acs-Security-Token", " sts-token "]],
    "body": "{\"name\":\"é\",\"n\":1}",
    "access_key_id": "testid",
    "secret": "testsecret",
}
acs3_case(
    "acs3_roa_json_body",
    "ROA-style: path segments encoded, JSON body hashed, content-type and an STS token header signed, "
    "query with an empty value and special characters.",
    ROA,
)

GET3 = {
    "method": "GET",
    "host": "ram.aliyuncs.com",
    "path": "/",
    "query": [["UserName", "a b/c"], ["Marker", "中"]],
    "action": "ListAccessKeys",
    "version": "2015-05-01",
    "date": "2024-05-01T08:00:00Z",
    "nonce": "0d7e0c4f5b1a4e8e9c2d3b4a5f6e7d8c",
    "body": "",
    "access_key_id": "testid",
    "secret": "testsecret",
}
acs3_case("acs3_rpc_get_query", "RPC-style GET with encoded query values and no body.", GET3)


def acs3_verify(name, description, expected_code, server_keys=None, now="2024-05-01T08:10:00Z",
                body=None, set_query=(), add_headers=(), remove_headers=()):
    CASES[name] = {
        "description": description,
        "kind": "acs3_verify",
        "request": ROA,
        "server_keys": server_keys if server_keys is not None else {"testid": "testsecret"},
        "now": now,
        "body": body,
        "set_query": [list(p) for p in set_query],
        "add_headers": [list(p) for p in add_headers],
        "remove_headers": list(remove_headers),
        "expected_code": expected_code,
    }


acs3_verify("acs3_verify_valid", "The ROA request, 10 minutes later, passes.", None)
acs3_verify("acs3_verify_tampered_body", "The body changed after signing.", "SignatureDoesNotMatch",
            body="{\"name\":\"e\",\"n\":1}")
acs3_verify("acs3_verify_tampered_query", "A query value changed after signing.", "SignatureDoesNotMatch",
            set_query=[("name", "other")])
acs3_verify("acs3_verify_wrong_secret", "The server knows another secret for the key.", "SignatureDoesNotMatch",
            server_keys={"testid": "othersecret"})
acs3_verify("acs3_verify_stale_date", "Checked 15 minutes and 1 second after x-acs-date.",
            "InvalidTimeStamp.Expired", now="2024-05-01T08:15:01Z")
acs3_verify("acs3_verify_missing_authorization", "The Authorization header is dropped.", "MissingSignature",
            remove_headers=["Authorization"])
acs3_verify("acs3_verify_unsigned_header", "An x-acs-* header added after signing is not covered.",
            "IncompleteSignature", add_headers=[("x-acs-extra", "1")])
acs3_verify("acs3_verify_unknown_access_key", "No secret is known for testid.", "InvalidAccessKeyId.NotFound",
            server_keys={})

if __name__ == "__main__":
    for name, case in CASES.items():
        with open(f"{name}.json", "w", encoding="utf-8") as f:
            text = json.dumps(case, ensure_ascii=False, indent=2)
            # Keep each [key, value] pair on one line.
            text = re.sub(r'\[\n\s+("(?:[^"\\]|\\.)*"),\n\s+("(?:[^"\\]|\\.)*")\n\s+\]', r"[\1, \2]", text)
            f.write(text + "\n")
    print(f"wrote {len(CASES)} cases")
