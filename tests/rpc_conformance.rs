//! Issue 10 item 6: JSON-RPC 2.0 conformance on both transports, with the spec's own examples
//! (section 7) and the three requests that got no reply before. Only a valid notification goes
//! unanswered. Our provider has no `subtract` or `sum`: where the spec shows a result, the
//! method-not-found error with the same id stands in for it.

mod hardening;

use hardening::{Http1, Stdio1, TOKEN};
use serde_json::{Value, json};
use std::time::Duration;

/// The expected reply: (id, error code or 0 for a result) per reply object, or `None` for no reply.
type Expected = Option<Vec<(Value, i64)>>;

/// (request text, expected reply, `single` when the reply must be an object, not an array).
fn cases() -> Vec<(&'static str, Expected, bool)> {
    let null = Value::Null;
    vec![
        // The issue's three.
        (r#"{}"#, Some(vec![(null.clone(), -32600)]), true),
        (r#"[{"jsonrpc":"2.0"}]"#, Some(vec![(null.clone(), -32600)]), false),
        (
            r#"{"jsonrpc":"1.0","method":"check"}"#,
            Some(vec![(null.clone(), -32600)]),
            true,
        ),
        // Section 7.
        (
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
            Some(vec![(json!(1), -32601)]),
            true,
        ),
        (
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
            Some(vec![(json!(3), -32601)]),
            true,
        ),
        (
            r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#,
            None,
            true,
        ),
        (r#"{"jsonrpc": "2.0", "method": "foobar"}"#, None, true),
        (
            r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
            Some(vec![(json!("1"), -32601)]),
            true,
        ),
        (
            r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
            Some(vec![(null.clone(), -32700)]),
            true,
        ),
        (
            r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
            Some(vec![(null.clone(), -32600)]),
            true,
        ),
        (
            r#"[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]"#,
            Some(vec![(null.clone(), -32700)]),
            true,
        ),
        (r#"[]"#, Some(vec![(null.clone(), -32600)]), true),
        (r#"[1]"#, Some(vec![(null.clone(), -32600)]), false),
        (
            r#"[1,2,3]"#,
            Some(vec![
                (null.clone(), -32600),
                (null.clone(), -32600),
                (null.clone(), -32600),
            ]),
            false,
        ),
        (
            r#"[
                {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
                {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
                {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
                {"foo": "boo"},
                {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
            ]"#,
            Some(vec![
                (json!("1"), -32601),
                (json!("2"), -32601),
                (null.clone(), -32600),
                (json!("5"), -32601),
                (json!("9"), -32601),
            ]),
            false,
        ),
        (
            r#"[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]"#,
            None,
            false,
        ),
        // One of ours that succeeds, in a batch next to a notification.
        (
            r#"[{"jsonrpc":"2.0","method":"cancel","params":{},"id":7},{"jsonrpc":"2.0","method":"cancel","params":{}}]"#,
            Some(vec![(json!(7), 0)]),
            false,
        ),
    ]
}

/// Checks one reply against the expectation; code 0 means a result.
fn check(request: &str, reply: &Value, expected: &[(Value, i64)], single: bool) {
    let items: Vec<&Value> = match reply {
        Value::Array(items) => {
            assert!(!single, "{request}: an object was expected, got {reply}");
            items.iter().collect()
        }
        object => {
            assert!(single, "{request}: an array was expected, got {reply}");
            vec![object]
        }
    };
    let mut got: Vec<(Value, i64)> = items
        .iter()
        .map(|r| {
            assert_eq!(r["jsonrpc"], "2.0", "{request}: {r}");
            assert!(r.get("result").is_some() != r.get("error").is_some(), "{request}: {r}");
            (r["id"].clone(), r["error"]["code"].as_i64().unwrap_or(0))
        })
        .collect();
    let mut expected = expected.to_vec();
    let key = |p: &(Value, i64)| (p.0.to_string(), p.1);
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got, expected, "{request}");
}

#[test]
fn spec_examples_and_invalid_requests_over_stdio() {
    let mut p = Stdio1::start(&[], None, &[]);
    for (request, expected, single) in cases() {
        // One line per request; a probe after it shows whether the request itself was answered.
        let line = request.replace('\n', " ");
        p.write(&format!(
            "{line}\n{}\n",
            json!({"jsonrpc": "2.0", "id": "probe", "method": "cancel", "params": {}})
        ));
        let mut replies = Vec::new();
        while let Some(reply) = p.recv(Duration::from_secs(30)) {
            let is_probe = reply["id"] == "probe";
            if !is_probe {
                replies.push(reply);
            }
            if is_probe {
                // The request's own reply may come after the probe's (completion order).
                if let Some(late) = p.recv(Duration::from_millis(300)) {
                    replies.push(late);
                }
                break;
            }
        }
        match expected {
            None => assert!(replies.is_empty(), "{request}: no reply expected, got {replies:?}"),
            Some(expected) => {
                assert_eq!(replies.len(), 1, "{request}: one reply line expected, got {replies:?}");
                check(request, &replies[0], &expected, single);
            }
        }
    }
}

#[test]
fn spec_examples_and_invalid_requests_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = Http1::start(&[], &dir.path().join("stderr.log"), TOKEN);
    for (request, expected, single) in cases() {
        let (status, body) = server.post(request);
        match expected {
            None => assert!(
                body.trim().is_empty() && (status == 204 || status == 200),
                "{request}: no reply expected, got {status} {body}"
            ),
            Some(expected) => {
                assert_eq!(status, 200, "{request}: {body}");
                let reply: Value =
                    serde_json::from_str(&body).unwrap_or_else(|_| panic!("{request}: not JSON: {body}"));
                check(request, &reply, &expected, single);
            }
        }
    }
}
