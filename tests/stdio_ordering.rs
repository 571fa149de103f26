//! Issue 10 item 7: over stdio a pipelined `configure` takes effect before the requests after
//! it; an over-long line is refused without stopping the stream; many pipelined requests all get
//! their reply through the bounded task set and reply queue.

mod hardening;

use hardening::Stdio1;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn a_pipelined_configure_applies_before_the_create_after_it() {
    for round in 0..3 {
        let mut p = Stdio1::start(&["--sandbox"], None, &[]);
        // New settings that point AWS at a closed port: a create run with them fails, a create
        // run with the old (sandbox) settings succeeds.
        let configure = json!({"jsonrpc": "2.0", "id": 1, "method": "configure", "params": {"aws": {
            "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "region": "us-east-1", "endpoint": "http://127.0.0.1:9"}}});
        let create = json!({"jsonrpc": "2.0", "id": 2, "method": "create", "params": {
            "type": "aws_iam_access_key", "inputs": {"user": "alice", "status": "Active"}, "timeoutSeconds": 5}});
        p.write(&format!("{configure}\n{create}\n"));
        let mut replies = Vec::new();
        for _ in 0..2 {
            replies.push(p.recv(Duration::from_secs(60)).expect("a reply"));
        }
        let by_id = |id: i64| replies.iter().find(|r| r["id"] == id).unwrap().clone();
        assert!(by_id(1).get("result").is_some(), "configure: {}", by_id(1));
        assert!(
            by_id(2).get("error").is_some(),
            "round {round}: the create ran with the settings from before configure: {}",
            by_id(2)
        );
    }
}

#[test]
fn an_over_long_line_is_refused_and_the_stream_goes_on() {
    let mut p = Stdio1::start(&[], None, &[]);
    let huge = json!({"jsonrpc": "2.0", "id": 1, "method": "check", "params": {"type": "aws_iam_access_key",
        "news": {"user": "x".repeat(5 * 1024 * 1024)}}});
    let reply = p.send_raw(&huge.to_string());
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert_eq!(reply["id"], Value::Null);
    let reply = p.call("cancel", json!({}));
    assert!(reply.get("result").is_some(), "{reply}");
}

#[test]
fn many_pipelined_requests_all_get_their_reply() {
    let mut p = Stdio1::start(&[], None, &[]);
    let n = 500;
    let mut text = String::new();
    for id in 0..n {
        let check = json!({"jsonrpc": "2.0", "id": id, "method": "check", "params": {"type": "aws_iam_access_key",
            "news": {"user": format!("u{id}"), "status": "Active"}}});
        text.push_str(&format!("{check}\n"));
    }
    p.write(&text);
    let mut ids = BTreeSet::new();
    for _ in 0..n {
        let reply = p.recv(Duration::from_secs(60)).expect("every reply");
        assert!(reply.get("result").is_some(), "{reply}");
        ids.insert(reply["id"].as_i64().unwrap());
    }
    assert_eq!(ids, (0..n).collect::<BTreeSet<_>>());
}

/// Engine registrations pipelined over stdio take their place in the deployment in the order they
/// were sent: of two resources with one name, the first sent is kept and the second is the
/// duplicate, every time (with the handlers merely spawned, the second sometimes won the race and
/// its step ran: here it would have created a second secret).
#[test]
fn pipelined_registrations_arrive_in_the_order_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Stdio1::start(&["--sandbox"], None, &[("CREDPLANE_PASSPHRASE", "ordering")]);
    for round in 0..20 {
        let open = json!({"jsonrpc": "2.0", "id": 1, "method": "engine.open", "params": {
            "stack": format!("order{round}"), "action": "preview", "backend": dir.path().join(format!("s{round}.json"))}});
        p.write(&format!("{open}\n"));
        let opened = p.recv(Duration::from_secs(60)).expect("open replies");
        let d = opened["result"]["deployment"].clone();
        assert!(d.is_string(), "{opened}");
        let register = |id: u64, secret: &str| {
            json!({"jsonrpc": "2.0", "id": id, "method": "engine.register", "params": {
                "deployment": d, "type": "alicloud_kms_secret", "name": "a",
                "inputs": {"secret_name": secret, "version_id": "v1", "secret_data": "x"}}})
        };
        let close = json!({"jsonrpc": "2.0", "id": 4, "method": "engine.close", "params": {"deployment": d, "registrations": 2}});
        p.write(&format!(
            "{}\n{}\n{close}\n",
            register(2, "first"),
            register(3, "second")
        ));
        let mut replies = Vec::new();
        for _ in 0..3 {
            replies.push(p.recv(Duration::from_secs(60)).expect("a reply"));
        }
        let by_id = |id: i64| replies.iter().find(|r| r["id"] == id).unwrap().clone();
        assert!(
            by_id(2).get("result").is_some(),
            "round {round}: the first is kept: {}",
            by_id(2)
        );
        assert!(
            by_id(3)["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("two resources are named")),
            "round {round}: the second is the duplicate: {}",
            by_id(3)
        );
    }
}
