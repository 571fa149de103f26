//! `cargo bench --bench provider`: throughput of the provider's hot paths, printed as a table.
//! A plain harness (no statistics crate): each case runs for about a second after a warm-up,
//! and the mean time per operation is printed. Compare runs on the same machine only.

use credplane::cloud::alicloud::sign as ali;
use credplane::cloud::aws::sign::{Credentials, SignableRequest, SigningParams, sign};
use credplane::protocol::{CheckRequest, DiffRequest};
use credplane::provider::Provider;
use credplane::sandbox::{SandboxOptions, start};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn measure(name: &str, mut op: impl FnMut()) {
    for _ in 0..10 {
        op();
    }
    let (mut runs, started) = (0u64, Instant::now());
    while started.elapsed() < Duration::from_secs(1) {
        op();
        runs += 1;
    }
    let per_op = started.elapsed() / runs as u32;
    println!(
        "{name:<48} {:>12.1} µs/op {:>10} runs",
        per_op.as_secs_f64() * 1e6,
        runs
    );
}

fn map(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn main() {
    let provider = Provider::default();
    let kms = json!({"secret_name": "db", "version_id": "v1", "secret_type": "Rds",
        "secret_data": r#"{"Accounts":[{"AccountName":"a","AccountPassword":"p"}]}"#, "tags": {"env": "prod"}});
    measure("check alicloud_kms_secret (valid)", || {
        let req = CheckRequest {
            type_name: "alicloud_kms_secret".into(),
            olds: None,
            news: map(kms.clone()),
        };
        black_box(provider.check(req).unwrap());
    });
    measure("check aws_iam_access_key (3 failures)", || {
        let req = CheckRequest {
            type_name: "aws_iam_access_key".into(),
            olds: None,
            news: map(json!({"status": "x", "bogus": 1})),
        };
        black_box(provider.check(req).unwrap());
    });
    measure("diff alicloud_kms_secret (2 changes)", || {
        let req = DiffRequest {
            type_name: "alicloud_kms_secret".into(),
            id: "db".into(),
            olds: map(kms.clone()),
            news: map(json!({"secret_name": "db", "secret_data": "other", "version_id": "v2"})),
            ignore_changes: vec![],
        };
        black_box(provider.diff(req).unwrap());
    });

    let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded; charset=utf-8".to_string(),
    )];
    let body = b"Action=ListAccessKeys&Version=2010-05-08&UserName=alice";
    measure("SigV4 sign an IAM request", || {
        let req = SignableRequest {
            method: "POST",
            uri: "https://iam.amazonaws.com/",
            headers: &headers,
            body,
        };
        black_box(
            sign(
                &req,
                &SigningParams::new(&creds, "us-east-1", "iam", chrono::Utc::now()),
            )
            .unwrap(),
        );
    });
    let params = ali::common_params(
        "testid",
        "ListAccessKeys",
        "2015-05-01",
        chrono::Utc::now(),
        "nonce",
        None,
    );
    measure("Alibaba RPC V1 sign", || {
        black_box(ali::sign_rpc("POST", &params, "testsecret"));
    });

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(start(([127, 0, 0, 1], 0).into(), SandboxOptions::default()))
        .unwrap();
    let settings = serde_json::from_value(Value::Object(sandbox.provider_settings())).unwrap();
    let provider = Provider::new(settings);
    measure("create + delete aws_iam_access_key (sandbox)", || {
        runtime.block_on(async {
            let created = provider
                .create(
                    serde_json::from_value(json!({"type": "aws_iam_access_key", "inputs": {"user": "alice"}})).unwrap(),
                )
                .await
                .unwrap();
            let delete = json!({"type": "aws_iam_access_key", "id": created.id, "outputs": created.outputs});
            provider.delete(serde_json::from_value(delete).unwrap()).await.unwrap();
        })
    });
}
