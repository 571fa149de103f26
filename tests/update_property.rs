//! Preview and apply agree: for random pairs of valid inputs, when `check` and `diff` accept a
//! change as an in-place update, `update` succeeds against the in-process sandbox, and a `read`
//! afterwards diffs clean against the new inputs. A seeded generator (rand's SmallRng), so a
//! failure names the seed of its case and replays exactly.

mod sandbox_env;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use sandbox_env::{Env, secret};
use serde_json::{Map, Value, json};

const KMS: &str = "alicloud_kms_secret";
const RAM: &str = "alicloud_ram_access_key";
const CASES: u64 = 96;

const POLICIES: [&str; 2] = [
    r#"{"Version":"1","Statement":[{"Action":["kms:GetSecretValue"],"Resource":["*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:user/alice"]},"Sid":"alice reads"}]}"#,
    r#"{"Version":"1","Statement":[{"Action":["kms:*"],"Resource":["*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:*"]},"Sid":"kms default secret policy"}]}"#,
];
/// Rotation periods, valid and not: KMS takes 6 hours to 365 days, so check must refuse the last two.
const INTERVALS: [&str; 5] = ["21600s", "604800s", "31536000s", "3600s", "31536001s"];
const VALID_INTERVALS: usize = 3;

/// What a program may write: picks from `rng`.
struct Gen<'a>(&'a mut SmallRng);

impl Gen<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p)
    }

    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.0.random_range(0..items.len())]
    }

    fn word(&mut self) -> String {
        self.pick(&["alpha", "beta", "gamma", "delta", "x"]).to_string()
    }

    fn tags(&mut self) -> Value {
        let n = self.0.random_range(0..4);
        let map: Map<String, Value> = (0..n).map(|_| (self.word(), json!(self.word()))).collect();
        Value::Object(map)
    }

    /// A value of the layout `secret_type` needs.
    fn data(&mut self, secret_type: &str, binary: bool) -> String {
        let n = self.0.random_range(0..1000);
        match secret_type {
            "Rds" => format!(r#"{{"Accounts":[{{"AccountName":"app","AccountPassword":"pw-{n}"}}]}}"#),
            "RAMCredentials" => format!(r#"{{"AccessKeys":[{{"AccessKeyId":"LTAI{n}","AccessKeySecret":"s-{n}"}}]}}"#),
            "ECS" => format!(r#"{{"UserName":"root","Password":"pw-{n}"}}"#),
            _ if binary => base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("bytes-{n}")),
            _ => format!("value-{n}"),
        }
    }

    /// Valid inputs for a new KMS secret called `name`.
    fn kms(&mut self, name: &str) -> Value {
        let secret_type = *self.pick(&["Generic", "Rds", "RAMCredentials", "ECS"]);
        let managed = secret_type != "Generic";
        let binary = !managed && self.chance(0.3);
        let mut v = json!({"secret_name": name, "version_id": "v1", "secret_type": secret_type,
            "secret_data_type": if binary { "binary" } else { "text" }});
        let data = self.data(secret_type, binary);
        if self.chance(0.2) {
            v["secret_data_wo"] = secret(&data);
            v["secret_data_wo_version"] = json!(1);
        } else {
            v["secret_data"] = secret(&data);
        }
        if secret_type == "ECS" {
            v["extended_config"] = json!(r#"{"SecretSubType":"Password"}"#);
        }
        if self.chance(0.5) {
            v["description"] = json!(self.word());
        }
        if managed && self.chance(0.4) {
            v["extended_config_custom_data"] = self.tags();
        }
        if managed && self.chance(0.5) {
            v["enable_automatic_rotation"] = json!(true);
            if self.chance(0.7) {
                v["rotation_interval"] = json!(self.pick(&INTERVALS[..VALID_INTERVALS]));
            }
        }
        if self.chance(0.5) {
            v["dkms_instance_id"] = json!("kst-hzz61dbabacquz826y29f");
        }
        if self.chance(0.4) {
            v["policy"] = json!(self.pick(&POLICIES));
        }
        if self.chance(0.5) {
            v["tags"] = self.tags();
        }
        if self.chance(0.3) {
            v["version_stages"] = json!(["ACSCurrent", "custom"]);
        }
        if self.chance(0.3) {
            v["recovery_window_in_days"] = json!(self.0.random_range(7..=30));
        }
        if self.chance(0.3) {
            v["force_delete_without_recovery"] = json!(self.chance(0.5));
        }
        v
    }

    /// `old` with some arguments changed, removed or added: valid or not.
    fn kms_change(&mut self, old: &Value) -> Value {
        let mut v = old.clone();
        let map = v.as_object_mut().unwrap();
        let secret_type = old["secret_type"].as_str().unwrap_or("Generic").to_string();
        let managed = secret_type != "Generic";
        let binary = old["secret_data_type"] == json!("binary");
        if self.chance(0.4) {
            let data = self.data(&secret_type, binary);
            if map.contains_key("secret_data_wo") && self.chance(0.8) {
                map.insert("secret_data_wo".into(), secret(&data));
                let version = map["secret_data_wo_version"].as_i64().unwrap_or(0) + 1;
                map.insert("secret_data_wo_version".into(), json!(version));
            } else {
                map.remove("secret_data_wo");
                map.remove("secret_data_wo_version");
                map.insert("secret_data".into(), secret(&data));
            }
            // Mostly with a new version id, as KMS needs; sometimes not, which check must refuse.
            if self.chance(0.85) {
                map.insert("version_id".into(), json!("v2"));
            }
        }
        if self.chance(0.3) {
            match self.chance(0.5) {
                true => map.insert("description".into(), json!(self.word())),
                false => map.remove("description"),
            };
        }
        if self.chance(0.3) {
            map.insert("extended_config_custom_data".into(), self.tags());
        }
        if self.chance(0.3) {
            let on = self.chance(0.5);
            map.insert("enable_automatic_rotation".into(), json!(on));
            match on && self.chance(0.7) {
                true => map.insert("rotation_interval".into(), json!(self.pick(&INTERVALS))),
                false => map.remove("rotation_interval"),
            };
        }
        if self.chance(0.3) {
            match self.chance(0.6) {
                true => map.insert("policy".into(), json!(self.pick(&POLICIES))),
                false => map.remove("policy"),
            };
        }
        if self.chance(0.4) {
            match self.chance(0.8) {
                true => map.insert("tags".into(), self.tags()),
                false => map.remove("tags"),
            };
        }
        if self.chance(0.3) {
            let stages = self
                .pick(&[
                    json!(["ACSCurrent"]),
                    json!(["ACSCurrent", "custom"]),
                    json!(["custom", "ACSCurrent", "other"]),
                ])
                .clone();
            map.insert("version_stages".into(), stages);
        }
        if self.chance(0.2) {
            map.insert("recovery_window_in_days".into(), json!(self.0.random_range(7..=30)));
        }
        if self.chance(0.2) {
            map.insert("force_delete_without_recovery".into(), json!(self.chance(0.5)));
        }
        // Replacing arguments, which check or diff must stop before an update.
        if self.chance(0.1) {
            map.insert("secret_type".into(), json!(if managed { "Generic" } else { "Rds" }));
        }
        if self.chance(0.1) {
            map.insert("encryption_key_id".into(), json!("key-other"));
        }
        v
    }
}

/// One pair: create `old`, then, if check and diff accept `new` as an update, the update must
/// succeed and leave nothing to change. Returns whether an update ran.
async fn run_pair(env: &Env, ty: &str, seed: u64, old: Value, new: Value) -> bool {
    let checked = env.check(ty, None, old.clone());
    assert!(
        checked.failures.is_empty(),
        "seed {seed}: the generator made invalid inputs {old}: {:?}",
        checked.failures
    );
    let olds_in = Value::Object(checked.inputs);
    let created = env.create(ty, olds_in.clone()).await;
    let created = created.unwrap_or_else(|e| panic!("seed {seed}: check accepted {old} but create failed: {e}"));
    let id = created.id.clone();
    let outputs = Value::Object(created.outputs);
    let checked = env.check(ty, Some(&olds_in), new.clone());
    let mut ran = false;
    if checked.failures.is_empty() {
        let news = Value::Object(checked.inputs);
        let diff = env.diff(ty, &id, &outputs, &news).await;
        if diff.changes && diff.replaces.is_empty() {
            let updated = env.update(ty, &id, &outputs, &news).await.unwrap_or_else(|e| {
                panic!(
                    "seed {seed}: check and diff accepted {old} -> {new} ({:?}), but update failed: {e}",
                    diff.detailed_diff
                )
            });
            let read = env
                .read(ty, &id, Some(&news), Some(&updated))
                .await
                .expect("still there");
            let after = env.diff(ty, &id, &Value::Object(read.outputs), &news).await;
            assert!(
                !after.changes,
                "seed {seed}: {old} -> {new}: after the update, still {:?}",
                after.detailed_diff
            );
            ran = true;
        }
    }
    let last = env
        .read(ty, &id, None, None)
        .await
        .map(|r| Value::Object(r.outputs))
        .unwrap_or(outputs);
    env.delete(ty, &id, &last).await.unwrap();
    ran
}

#[tokio::test]
async fn kms_updates_that_check_and_diff_accept_succeed() {
    let env = Env::start().await;
    let mut updates = 0;
    for seed in 0..CASES {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut generator = Gen(&mut rng);
        let old = generator.kms(&format!("prop-{seed}"));
        let new = generator.kms_change(&old);
        updates += usize::from(run_pair(&env, KMS, seed, old, new).await);
    }
    assert!(
        updates >= CASES as usize / 3,
        "only {updates} of {CASES} pairs were updates: the generator needs tuning"
    );
}

#[tokio::test]
async fn ram_key_updates_that_check_and_diff_accept_succeed() {
    let env = Env::start().await;
    let mut updates = 0;
    for seed in 0..CASES / 2 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut generator = Gen(&mut rng);
        let key = |g: &mut Gen| {
            let mut v = json!({});
            if g.chance(0.5) {
                v["user_name"] = json!("alice");
            }
            if g.chance(0.7) {
                v["status"] = json!(g.pick(&["Active", "Inactive"]));
            }
            v
        };
        let old = key(&mut generator);
        let new = key(&mut generator);
        updates += usize::from(run_pair(&env, RAM, seed, old, new).await);
    }
    assert!(updates > 0, "no pair was an update: the generator needs tuning");
}
