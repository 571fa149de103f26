//! Fuzzing the JSON-RPC dispatcher in process (issue 10): generated and mutated JSON, seeded from
//! a valid request of every method (all five types' params included), through
//! `rpc::stdio::handle_message` and the method table. Every input must get a well-formed reply
//! (or none, for a notification) and nothing may panic.
//!
//! Knobs (environment): `FUZZ_INPUTS` (default 20,000, the CI slice; `scripts/fuzz.sh` runs
//! 1,000,000 in release), `FUZZ_SEED` (default fixed, so a failure reproduces), `FUZZ_JSON_OUT`
//! (a file to write the summary line to).
//!
//! No input reaches a real network: the cloud-calling methods run against an in-process
//! sandbox, every other address goes through a proxy on a closed loopback port, and
//! `secret_file` (a path the provider would write to) is never generated.

use credplane::provider::Provider;
use credplane::rpc;
use futures_util::{FutureExt, StreamExt};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TYPES: [&str; 5] = [
    "aws_iam_access_key",
    "alicloud_ram_access_key",
    "oci_identity_auth_token",
    "oci_identity_customer_secret_key",
    "alicloud_kms_secret",
];
const ALICE_OCI: &str = "ocid1.user.oc1..aaaaaaaaalice";
/// Property and field names worth inserting: they reach code a random name never would.
const NAMES: [&str; 30] = [
    "type",
    "id",
    "inputs",
    "outputs",
    "olds",
    "news",
    "preview",
    "timeoutSeconds",
    "ignoreChanges",
    "user",
    "user_name",
    "user_id",
    "status",
    "pgp_key",
    "description",
    "display_name",
    "secret_name",
    "secret_data",
    "version_id",
    "tags",
    "policy",
    "recovery_window_in_days",
    "force_delete_without_recovery",
    "aws",
    "oci",
    "alicloud",
    "common",
    "endpoint",
    "$credplane",
    "value",
];
/// Parallel inputs in flight: overlaps the sandbox round trips.
const CONCURRENCY: usize = 8;
/// The longest one input may take (a batch of cloud calls against the sandbox is far quicker).
const INPUT_TIMEOUT: Duration = Duration::from_secs(30);

fn secret(value: &str) -> Value {
    json!({"$credplane": "secret", "value": value})
}

/// Valid inputs of each type.
fn inputs_of(ty: &str) -> Value {
    match ty {
        "aws_iam_access_key" => json!({"user": "alice", "status": "Active"}),
        "alicloud_ram_access_key" => json!({"user_name": "alice", "status": "Active"}),
        "oci_identity_auth_token" => json!({"description": "fuzz", "user_id": ALICE_OCI}),
        "oci_identity_customer_secret_key" => json!({"display_name": "fuzz", "user_id": ALICE_OCI}),
        _ => json!({"secret_name": "fuzz/db", "version_id": "v1", "secret_data": secret("s3cret"),
                    "description": "d", "tags": {"env": "fuzz"}}),
    }
}

/// Valid params of every method, all five types.
fn seeds(settings: &Value) -> Vec<(String, Value)> {
    let mut seeds = vec![
        ("getSchema".to_string(), json!({})),
        ("rpc.discover".to_string(), json!({})),
        ("cancel".to_string(), json!({})),
        ("configure".to_string(), settings.clone()),
        (
            "configure".to_string(),
            json!({"common": {"max_attempts": 2, "allow_http_pgp_key_urls": false}}),
        ),
    ];
    for ty in TYPES {
        let inputs = inputs_of(ty);
        let mut outputs = inputs.as_object().unwrap().clone();
        outputs.insert("id".into(), json!("ID1"));
        let outputs = Value::Object(outputs);
        let mut changed = inputs.clone();
        changed["status"] = json!("Inactive");
        for (method, params) in [
            ("check", json!({"type": ty, "news": inputs})),
            ("check", json!({"type": ty, "olds": inputs, "news": changed})),
            (
                "diff",
                json!({"type": ty, "id": "ID1", "olds": outputs, "news": changed, "ignoreChanges": ["tags"]}),
            ),
            ("create", json!({"type": ty, "inputs": inputs, "timeoutSeconds": 5})),
            ("create", json!({"type": ty, "inputs": inputs, "preview": true})),
            (
                "read",
                json!({"type": ty, "id": "ID1", "inputs": inputs, "outputs": outputs}),
            ),
            ("read", json!({"type": ty, "id": "alice:ID1"})),
            (
                "update",
                json!({"type": ty, "id": "ID1", "olds": outputs, "news": changed, "timeoutSeconds": 5}),
            ),
            (
                "update",
                json!({"type": ty, "id": "ID1", "olds": outputs, "news": changed, "preview": true}),
            ),
            (
                "delete",
                json!({"type": ty, "id": "ID1", "outputs": outputs, "timeoutSeconds": 5}),
            ),
        ] {
            seeds.push((method.to_string(), params));
        }
    }
    seeds
        .into_iter()
        .map(|(m, p)| (m.clone(), json!({"jsonrpc": "2.0", "id": 1, "method": m, "params": p})))
        .collect()
}

fn random_string(rng: &mut SmallRng) -> String {
    const SPECIAL: [&str; 12] = [
        "",
        " ",
        "%s",
        "\u{0}",
        "é",
        "🔑",
        "keybase:alice",
        "external:a|https://127.0.0.1:9/%s",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----",
        "../../x",
        "ocid1.user.oc1..",
        "1e20",
    ];
    match rng.random_range(0..4) {
        0 => SPECIAL[rng.random_range(0..SPECIAL.len())].to_string(),
        1 => NAMES[rng.random_range(0..NAMES.len())].to_string(),
        2 => "x".repeat(rng.random_range(0..300)),
        _ => (0..rng.random_range(0..20))
            .map(|_| rng.random_range(' '..='~'))
            .collect(),
    }
}

fn random_value(rng: &mut SmallRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 2 { 7 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!([0.5, -1.0, 1e308, -0.0, 86401.0, 1e-300][rng.random_range(0..6)]),
        4 => json!(u64::MAX),
        5 | 6 => Value::String(random_string(rng)),
        7 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.random_range(0..4))
                .map(|_| (random_string(rng), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// One structural mutation somewhere in `value`.
fn mutate(rng: &mut SmallRng, value: &mut Value, depth: u32) {
    let descend = depth < 6 && rng.random_bool(0.7);
    match value {
        Value::Object(map) if descend && !map.is_empty() => {
            let key = map.keys().nth(rng.random_range(0..map.len())).unwrap().clone();
            mutate(rng, map.get_mut(&key).unwrap(), depth + 1);
        }
        Value::Array(items) if descend && !items.is_empty() => {
            let i = rng.random_range(0..items.len());
            mutate(rng, &mut items[i], depth + 1);
        }
        Value::Object(map) if rng.random_bool(0.5) => match rng.random_range(0..3) {
            0 if !map.is_empty() => {
                let key = map.keys().nth(rng.random_range(0..map.len())).unwrap().clone();
                map.remove(&key);
            }
            _ => {
                let key = if rng.random_bool(0.7) {
                    NAMES[rng.random_range(0..NAMES.len())].to_string()
                } else {
                    random_string(rng)
                };
                map.insert(key, random_value(rng, depth));
            }
        },
        Value::Array(items) if rng.random_bool(0.5) => {
            if !items.is_empty() && rng.random_bool(0.5) {
                items.remove(rng.random_range(0..items.len()));
            } else {
                items.push(random_value(rng, depth));
            }
        }
        other => *other = random_value(rng, depth),
    }
}

/// Text-level damage: truncation, a flipped byte, an inserted character.
fn damage(rng: &mut SmallRng, text: String) -> String {
    let mut bytes = text.into_bytes();
    match rng.random_range(0..3) {
        0 => bytes.truncate(rng.random_range(0..=bytes.len())),
        1 if !bytes.is_empty() => {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = rng.random_range(0x20..0x7f);
        }
        _ => {
            let i = rng.random_range(0..=bytes.len());
            let c = [b'{', b'}', b'[', b']', b'"', b',', b':', b'\\', b'0'][rng.random_range(0..9)];
            bytes.insert(i, c);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// One fuzz input: a seed request (or a batch of them), mutated.
fn generate(rng: &mut SmallRng, seeds: &[(String, Value)]) -> String {
    loop {
        let pick = |rng: &mut SmallRng| seeds[rng.random_range(0..seeds.len())].1.clone();
        let mut message = match rng.random_range(0..10) {
            0 => Value::Array((0..rng.random_range(1..4)).map(|_| pick(rng)).collect()),
            _ => pick(rng),
        };
        if rng.random_bool(0.15) {
            // Without an id it is a notification: no reply allowed.
            if let Value::Object(m) = &mut message {
                m.remove("id");
            }
        }
        for _ in 0..rng.random_range(0..4) {
            mutate(rng, &mut message, 0);
        }
        let mut text = message.to_string();
        if rng.random_bool(0.1) {
            text = damage(rng, text);
        }
        // The provider writes a secret_file wherever it is told: never let a fuzz input do that.
        if !text.contains("secret_file") {
            return text;
        }
    }
}

/// What is wrong with a reply to `input`, if anything.
fn malformed(input: &str, reply: Option<&str>) -> Option<String> {
    let Some(reply) = reply else {
        // No reply is right only for a notification (or a batch of notifications).
        let is_notification = |v: &Value| v.as_object().is_some_and(|o| !o.contains_key("id"));
        return match serde_json::from_str::<Value>(input) {
            Ok(Value::Array(items)) if !items.is_empty() && items.iter().all(is_notification) => None,
            Ok(v) if is_notification(&v) => None,
            _ => Some("no reply to a request that is not a notification".into()),
        };
    };
    let Ok(value) = serde_json::from_str::<Value>(reply) else {
        return Some("the reply is not JSON".into());
    };
    let single = |r: &Value| -> Option<String> {
        let Some(o) = r.as_object() else {
            return Some("a reply that is not an object".into());
        };
        if o.get("jsonrpc") != Some(&json!("2.0")) || !o.contains_key("id") {
            return Some("jsonrpc 2.0 or id missing".into());
        }
        match (o.get("result"), o.get("error")) {
            (Some(_), None) => None,
            (None, Some(e)) if e["code"].is_i64() && e["message"].is_string() => None,
            _ => Some("not exactly one of result and a well-formed error".into()),
        }
    };
    match &value {
        Value::Array(items) if items.is_empty() => Some("an empty batch reply".into()),
        Value::Array(items) => items.iter().find_map(single),
        other => single(other),
    }
}

/// Counts from one run.
#[derive(Default)]
struct Counts {
    inputs: AtomicU64,
    panics: AtomicU64,
    malformed: AtomicU64,
    timeouts: AtomicU64,
}

#[test]
fn fuzz_the_dispatcher() {
    // Anything not on loopback goes to a proxy on a closed port, so a mutated endpoint or a
    // keybase: lookup fails at once instead of reaching the internet. Set before any thread or
    // HTTP client exists (this is the only test in this binary).
    unsafe {
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            std::env::set_var(var, "http://127.0.0.1:9");
        }
        std::env::set_var("NO_PROXY", "127.0.0.1,localhost");
        std::env::set_var("no_proxy", "127.0.0.1,localhost");
    }
    regression_inputs();
    let inputs: u64 = std::env::var("FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x00c0_ffee);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let counts = Arc::new(Counts::default());
    let first_failure = Arc::new(std::sync::Mutex::new(None::<String>));
    runtime.block_on(async {
        let sandbox = credplane::sandbox::start("127.0.0.1:0".parse().unwrap(), Default::default())
            .await
            .unwrap();
        let mut settings = sandbox.provider_settings();
        settings.insert("common".into(), json!({"max_attempts": 2}));
        let settings = Value::Object(settings);
        // Inputs that configure get a provider of their own, reset after each of them, so a
        // fuzzed configure never slows the cloud calls of the inputs running beside it.
        let provider = Arc::new(Provider::new(serde_json::from_value(settings.clone()).unwrap()));
        let module = Arc::new(rpc::module(provider));
        let configured = Arc::new(Provider::new(serde_json::from_value(settings.clone()).unwrap()));
        let configured_module = Arc::new(rpc::module(configured.clone()));
        let configure_lock = Arc::new(tokio::sync::Mutex::new(()));
        let seeds = seeds(&settings);
        let mut rng = SmallRng::seed_from_u64(seed);
        let generated = (0..inputs).map(|_| generate(&mut rng, &seeds));
        futures_util::stream::iter(generated)
            .for_each_concurrent(CONCURRENCY, |input| {
                let configures = input.contains("configure");
                let module = if configures {
                    configured_module.clone()
                } else {
                    module.clone()
                };
                let (configured, settings, lock) = (configured.clone(), settings.clone(), configure_lock.clone());
                let (counts, first_failure) = (counts.clone(), first_failure.clone());
                async move {
                    let _one_at_a_time = if configures { Some(lock.lock().await) } else { None };
                    let call = AssertUnwindSafe(rpc::stdio::handle_message(&module, &input)).catch_unwind();
                    let outcome = tokio::time::timeout(INPUT_TIMEOUT, call).await;
                    counts.inputs.fetch_add(1, Ordering::Relaxed);
                    let failure = match outcome {
                        Err(_) => {
                            counts.timeouts.fetch_add(1, Ordering::Relaxed);
                            None
                        }
                        Ok(Err(_)) => {
                            counts.panics.fetch_add(1, Ordering::Relaxed);
                            Some(format!("panic on input: {input}"))
                        }
                        Ok(Ok(reply)) => malformed(&input, reply.as_deref()).map(|why| {
                            counts.malformed.fetch_add(1, Ordering::Relaxed);
                            format!("{why}\n  input: {input}\n  reply: {reply:?}")
                        }),
                    };
                    if let Some(failure) = failure {
                        first_failure.lock().unwrap().get_or_insert(failure);
                    }
                    // A fuzzed configure may have pointed a cloud anywhere: back to the sandbox.
                    if configures {
                        let _ = configured.configure(settings.as_object().unwrap().clone());
                    }
                }
            })
            .await;
        drop(sandbox);
    });
    let seconds = started.elapsed().as_secs_f64();
    let panics = counts.panics.load(Ordering::Relaxed);
    let malformed_count = counts.malformed.load(Ordering::Relaxed);
    let summary = json!({
        "fuzz_inputs": counts.inputs.load(Ordering::Relaxed),
        "fuzz_panics": panics,
        "fuzz_seconds": (seconds * 10.0).round() / 10.0,
    });
    eprintln!(
        "fuzz: seed {seed}, {malformed_count} malformed replies, {} inputs over {INPUT_TIMEOUT:?}",
        counts.timeouts.load(Ordering::Relaxed)
    );
    if let Ok(path) = std::env::var("FUZZ_JSON_OUT") {
        std::fs::write(path, format!("{summary}\n")).unwrap();
    }
    println!("{summary}");
    if let Some(failure) = first_failure.lock().unwrap().take() {
        panic!("{panics} panics, {malformed_count} malformed replies; the first:\n{failure}");
    }
}

#[test]
fn the_checker_itself_catches_bad_replies() {
    let input = r#"{"jsonrpc":"2.0","id":1,"method":"cancel"}"#;
    assert!(malformed(input, None).is_some());
    assert!(malformed(input, Some("null")).is_some());
    assert!(malformed(input, Some(r#"{"jsonrpc":"2.0","id":1}"#)).is_some());
    assert!(malformed(input, Some(r#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#)).is_some());
    assert!(malformed(input, Some(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#)).is_none());
    assert!(malformed(r#"{"jsonrpc":"2.0","method":"cancel"}"#, None).is_none());
}

/// Inputs the fuzzer found or that once broke the dispatcher: each gets a well-formed reply.
/// (Run from the fuzz test, after the proxy variables are set.)
fn regression_inputs() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let module = rpc::module(Arc::new(Provider::default()));
    for input in [
        r#"{}"#,
        r#"[{"jsonrpc":"2.0"}]"#,
        r#"{"jsonrpc":"1.0","method":"check"}"#,
        r#"{"jsonrpc":"2.0","id":1.5,"method":"cancel","params":{}}"#,
        r#"{"jsonrpc":"2.0","id":-1,"method":"cancel","params":{}}"#,
        r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"cancel","params":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"cancel","params":"x"}"#,
        r#"{"jsonrpc":"2.0","id":{},"method":"cancel"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"create","params":{"type":"aws_iam_access_key","inputs":{"user":"a"},"timeoutSeconds":1e308,"preview":true}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"create","params":{"type":"aws_iam_access_key","inputs":{"user":"a"},"timeoutSeconds":1e-300,"preview":true}}"#,
        r#"[1,[],{}]"#,
    ] {
        let reply = runtime.block_on(rpc::stdio::handle_message(&module, input));
        assert_eq!(malformed(input, reply.as_deref()), None, "{input} -> {reply:?}");
    }
}
