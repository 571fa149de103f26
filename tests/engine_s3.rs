//! The S3 state backend end to end, against moto's S3 (an independent implementation that honours
//! `If-None-Match: *`): `credplane serve --stdio` engines over one cloud sandbox, with their state
//! in `s3://<bucket>/team`. Covers two engines racing for one stack, a `kill -9`ed engine whose
//! journal objects replay, a wrong passphrase, a missing bucket, and `stack ls|export|unlock|rm`.
//!
//! Needs `MOTO_SERVER`, the path of the `moto_server` executable (see tests/aws_common/moto.rs).

mod aws_common;
mod engine_stdio;

use aws_common::moto::{Moto, start_moto};
use engine_stdio::{BIN, Engine, Sandbox, sandbox};
use serde_json::{Value, json};
use std::process::{Command, Output};

const PREFIX: &str = "team";
/// Resources of the killed `up`.
const ALL: usize = 40;

/// moto with one bucket, and a cloud sandbox for the resources.
struct World {
    rt: tokio::runtime::Runtime,
    moto: Moto,
    /// A client of moto's S3 of its own, to look at and plant objects.
    s3: aws_sdk_s3::Client,
    _sandbox: Sandbox,
    settings: Value,
    bucket: String,
}

impl World {
    fn new() -> World {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let moto = rt.block_on(start_moto(None));
        let bucket = "credplane-state".to_string();
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(moto.endpoint.trim_end_matches('/'))
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .http_client(credplane::cloud::aws::credentials::http_client())
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(conf);
        rt.block_on(s3.create_bucket().bucket(&bucket).send())
            .expect("create the bucket");
        let sandbox = sandbox();
        World {
            rt,
            moto,
            s3,
            settings: sandbox.1.clone(),
            _sandbox: sandbox,
            bucket,
        }
    }

    fn endpoint(&self) -> String {
        self.moto.endpoint.trim_end_matches('/').to_string()
    }

    /// The state URL (the endpoint comes from `AWS_ENDPOINT_URL_S3`).
    fn url(&self) -> String {
        format!("s3://{}/{PREFIX}", self.bucket)
    }

    /// A command of the credplane binary with S3 credentials and endpoint for moto, and nothing
    /// read from the user's AWS files.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("AWS_ENDPOINT_URL_S3", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("CREDPLANE_PASSPHRASE");
        c
    }

    /// `credplane stack <args> --state <url>`.
    fn stack(&self, args: &[&str]) -> Output {
        let url = self.url();
        let mut all = vec!["stack"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--state", &url]);
        self.command(&all).output().unwrap()
    }

    /// The keys under `<prefix>/<under>`, listed straight from moto.
    fn keys(&self, under: &str) -> Vec<String> {
        let listed = self.rt.block_on(
            self.s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(format!("{PREFIX}/{under}"))
                .send(),
        );
        let mut keys: Vec<String> = listed
            .expect("list")
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        keys.sort();
        keys
    }

    /// An object's bytes, straight from moto.
    fn get(&self, key: &str) -> Vec<u8> {
        self.rt.block_on(async {
            let out = self
                .s3
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .expect("get");
            out.body.collect().await.expect("body").into_bytes().to_vec()
        })
    }

    /// Writes an object straight into moto.
    fn put(&self, key: &str, body: Vec<u8>) {
        let put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body.into())
            .send();
        self.rt.block_on(put).expect("put");
    }

    fn engine(&self) -> Engine {
        Engine::start(self.command(&["serve", "--stdio"]), &self.settings)
    }

    fn open(&self, stack: &str, action: &str, passphrase: &str) -> Value {
        json!({"stack": stack, "action": action, "backend": self.url(), "passphrase": passphrase})
    }
}

/// Sends the registrations of KMS secrets `s<i>` for `range`; returns their request ids.
fn send_all(e: &mut Engine, deployment: &Value, range: std::ops::Range<usize>) -> Vec<u64> {
    range
        .map(|i| {
            let inputs = json!({"secret_name": format!("s3-state/{i}"), "version_id": "v1", "secret_data": format!("value-{i}")});
            e.send(
                "engine.register",
                json!({"deployment": deployment, "type": "alicloud_kms_secret", "name": format!("s{i}"), "inputs": inputs}),
            )
        })
        .collect()
}

/// Registers KMS secrets `s0..s<n>` and waits for each reply; returns their ops.
fn register(e: &mut Engine, deployment: &Value, n: usize) -> Vec<String> {
    send_all(e, deployment, 0..n)
        .into_iter()
        .map(|id| e.wait(id).expect("registered")["op"].as_str().unwrap().to_string())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn two_engines_racing_for_one_stack_exactly_one_wins() {
    let world = World::new();
    let (mut a, mut b) = (world.engine(), world.engine());
    let open = world.open("race", "up", "pw");
    // Both requests are on their way before either answer is read.
    let (ida, idb) = (a.send("engine.open", open.clone()), b.send("engine.open", open.clone()));
    let (ra, rb) = (a.wait(ida), b.wait(idb));
    assert!(ra.is_ok() != rb.is_ok(), "exactly one engine wins: {ra:?} / {rb:?}");
    let (mut winner, loser, won, lost) = match (ra, rb) {
        (Ok(w), Err(l)) => (a, b, w, l),
        (Err(l), Ok(w)) => (b, a, w, l),
        _ => unreachable!(),
    };
    assert_eq!(lost["code"], -32011, "{lost}");
    let message = lost["message"].as_str().unwrap();
    let holder = format!("locked by pid {} on ", winner.child.id());
    assert!(message.contains(&holder), "names the holder: {message}");
    assert!(
        message.contains(&format!("s3://{}/{PREFIX}/race.lock", world.bucket)),
        "{message}"
    );
    assert!(message.contains("credplane stack unlock --stack race"), "{message}");
    drop(loser);
    assert_eq!(world.keys("race.lock"), vec![format!("{PREFIX}/race.lock")]);

    let d = won["deployment"].clone();
    assert_eq!(register(&mut winner, &d, 2), vec!["create", "create"]);
    winner.call("engine.close", json!({"deployment": d})).unwrap();
    assert!(world.keys("race.lock").is_empty(), "the lock is released at close");
    assert!(
        world.keys("race.journal/").is_empty(),
        "the journal is compacted at close"
    );

    // export | import (into another stack) | ls.
    let export = world.stack(&["export", "--stack", "race"]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &export.stdout).unwrap();
    let import = world.stack(&["import", file.path().to_str().unwrap(), "--stack", "copy"]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    assert_eq!(
        world.get(&format!("{PREFIX}/copy.json")),
        export.stdout.trim_ascii_end()
    );
    let ls = world.stack(&["ls"]);
    assert!(ls.status.success(), "{}", text(&ls.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&ls.stdout).unwrap()["stacks"],
        json!(["copy", "race"])
    );

    // Released: another engine gets it now.
    let mut next = world.engine();
    let d = next.call("engine.open", world.open("race", "destroy", "pw")).unwrap()["deployment"].clone();
    let gone = next.call("engine.close", json!({"deployment": d})).unwrap();
    assert_eq!(gone["summary"]["delete"], 2);
}

#[test]
fn a_killed_engine_leaves_a_journal_that_the_next_up_replays() {
    let world = World::new();
    let mut first = world.engine();
    let d = first.call("engine.open", world.open("crash", "up", "pw")).unwrap()["deployment"].clone();
    assert_eq!(register(&mut first, &d, 3), vec!["create"; 3]);
    // Then more, killed in the middle: once one is done, others are on their way to the cloud.
    let more = send_all(&mut first, &d, 3..ALL);
    first.wait(more[0]).expect("registered");
    let pid = first.child.id();
    first.child.kill().unwrap(); // SIGKILL: no close, no compaction, no unlock
    first.child.wait().unwrap();
    let journal = world.keys("crash.journal/");
    assert!(!journal.is_empty(), "each acknowledged step is in a journal object");
    assert!(
        journal
            .iter()
            .all(|k| k.starts_with(&format!("{PREFIX}/crash.journal/"))),
        "{journal:?}"
    );

    // Batches of one journal: the begins are written before the creates, the puts after.
    assert!(journal.len() >= 2, "{journal:?}");
    let leftover = (journal[1].clone(), world.get(&journal[1]));

    // The dead engine's lock stays: a clear error, then `stack unlock` on purpose.
    let mut second = world.engine();
    let held = second.call("engine.open", world.open("crash", "up", "pw")).unwrap_err();
    assert_eq!(held["code"], -32011, "{held}");
    assert!(
        held["message"].as_str().unwrap().contains(&format!("pid {pid} on ")),
        "{held}"
    );
    let unlock = world.stack(&["unlock", "--stack", "crash"]);
    assert!(unlock.status.success(), "{}", text(&unlock.stderr));
    let said = text(&unlock.stderr);
    assert!(
        said.contains("removed the lock of stack crash") && said.contains(&format!("pid {pid} on ")),
        "{said}"
    );
    let again = world.stack(&["unlock", "--stack", "crash"]);
    assert!(
        text(&again.stderr).contains("stack crash is not locked"),
        "{}",
        text(&again.stderr)
    );

    // The journal replays: the first secrets are in the state, interrupted creates are looked up
    // by name (adopted if the cloud has them), and nothing is created twice (a second KMS create
    // of a name fails).
    let d = second.call("engine.open", world.open("crash", "up", "pw")).unwrap()["deployment"].clone();
    // Compacted at open: the dead engine's objects are gone (reconciling an interrupted create
    // journals new ones, of the next generation).
    let now = world.keys("crash.journal/");
    assert!(now.iter().all(|k| !journal.contains(k)), "{now:?}");
    let ops = register(&mut second, &d, ALL);
    assert_eq!(ops[..3], ["same"; 3], "{ops:?}");
    let closed = second.call("engine.close", json!({"deployment": d})).unwrap();
    assert_eq!(closed["resources"].as_object().unwrap().len(), ALL);

    let export = world.stack(&["export", "--stack", "crash"]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let doc: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(doc["resources"].as_array().unwrap().len(), ALL);
    assert!(!text(&export.stdout).contains("value-0"), "secrets stay sealed");

    // A crash between a snapshot write and the journal's deletion leaves objects of an older
    // generation, maybe without their head: they are skipped, then deleted by the next compaction.
    assert!(
        !leftover.1.is_empty() && !leftover.1.starts_with(b"{\"generation\""),
        "a batch without the head"
    );
    world.put(&leftover.0, leftover.1);
    let refused = world.stack(&["rm", "--stack", "crash"]);
    assert!(!refused.status.success(), "rm is refused while the stack has resources");
    let d = second
        .call("engine.open", world.open("crash", "destroy", "pw"))
        .unwrap()["deployment"]
        .clone();
    let gone = second.call("engine.close", json!({"deployment": d})).unwrap();
    assert_eq!(
        gone["summary"]["delete"], ALL,
        "no orphan: every secret is in the state"
    );
    assert!(
        world.keys("crash.journal/").is_empty(),
        "leftovers deleted at compaction"
    );
    let rm = world.stack(&["rm", "--stack", "crash"]);
    assert!(rm.status.success(), "{}", text(&rm.stderr));
    assert!(world.keys("crash").is_empty(), "{:?}", world.keys("crash"));
}

#[test]
fn a_wrong_passphrase_is_refused_and_leaves_the_state_and_no_lock() {
    let world = World::new();
    let mut e = world.engine();
    let d = e.call("engine.open", world.open("pw", "up", "right")).unwrap()["deployment"].clone();
    register(&mut e, &d, 1);
    e.call("engine.close", json!({"deployment": d})).unwrap();
    let before = world.stack(&["export", "--stack", "pw"]).stdout;

    let wrong = e.call("engine.open", world.open("pw", "up", "wrong")).unwrap_err();
    assert_eq!(wrong["code"], -32010, "{wrong}");
    assert!(
        wrong["message"]
            .as_str()
            .unwrap()
            .contains("wrong CREDPLANE_PASSPHRASE"),
        "{wrong}"
    );
    assert!(world.keys("pw.lock").is_empty(), "a failed open releases the lock");
    assert_eq!(
        world.stack(&["export", "--stack", "pw"]).stdout,
        before,
        "the state is intact"
    );

    let d = e.call("engine.open", world.open("pw", "destroy", "right")).unwrap()["deployment"].clone();
    e.call("engine.close", json!({"deployment": d})).unwrap();
}

#[test]
fn a_missing_bucket_is_a_clear_error() {
    let world = World::new();
    let mut e = world.engine();
    // The endpoint as a URL option this time (it overrides AWS_ENDPOINT_URL_S3).
    let url = format!("s3://no-such-bucket/p?endpoint={}", world.endpoint());
    let open = json!({"stack": "s", "action": "up", "backend": url, "passphrase": "pw"});
    let err = e.call("engine.open", open).unwrap_err();
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("the bucket no-such-bucket does not exist"), "{err}");
    let ls = world
        .command(&["stack", "ls", "--state", "s3://no-such-bucket"])
        .output()
        .unwrap();
    assert!(!ls.status.success());
    assert!(
        text(&ls.stderr).contains("the bucket no-such-bucket does not exist"),
        "{}",
        text(&ls.stderr)
    );

    let bad = json!({"stack": "s", "action": "up", "backend": "s3://Bad_Bucket/p", "passphrase": "pw"});
    let err = e.call("engine.open", bad).unwrap_err();
    assert_eq!(err["code"], -32602, "{err}");
    assert!(
        err["message"].as_str().unwrap().starts_with("backend: the bucket name"),
        "{err}"
    );
}
