//! `aws_iam_access_key` end to end against moto's IAM, with signature checking on.
//!
//! Needs `MOTO_SERVER`, the path of the `moto_server` executable (`pip install "moto[server]"`;
//! `scripts/test-aws-sdk.sh` does it). The test fails, never skips, when it is missing.

mod aws_common;

use aws_common::*;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Calls made before moto starts checking signatures: CreateUser, CreateAccessKey, PutUserPolicy.
const BOOTSTRAP_CALLS: u32 = 3;

/// Kills moto when the test ends, however it ends.
struct Moto {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn moto_server() -> PathBuf {
    let path = std::env::var_os("MOTO_SERVER").unwrap_or_else(|| {
        panic!(
            "MOTO_SERVER is not set: set it to the path of the moto_server executable \
             (pip install \"moto[server]\"; scripts/test-aws-sdk.sh does this and runs the test)"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "MOTO_SERVER={} does not exist: install moto[server] and point MOTO_SERVER at its moto_server",
        path.display()
    );
    path
}

async fn start_moto() -> Moto {
    let exe = moto_server();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("moto.log");
    let child = Command::new(&exe)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", BOOTSTRAP_CALLS.to_string())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("moto.err")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let mut moto = Moto {
        child,
        log,
        _dir: dir,
        endpoint: format!("http://127.0.0.1:{port}/"),
    };
    // Wait for it to listen (start-up, not a timing assertion).
    for _ in 0..300 {
        if let Some(status) = moto.child.try_wait().unwrap() {
            panic!("moto_server exited with {status}: {}", moto.log());
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return moto;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    moto.log = moto._dir.path().join("moto.err");
    panic!("moto_server did not listen on port {port} within 30s: {}", moto.log());
}

/// The bootstrap calls, before signatures count: an admin user with an access key and an
/// allow-all policy. Every later call must be signed by a known key.
async fn bootstrap(moto: &Moto) -> Admin {
    let anyone = Admin {
        endpoint: moto.endpoint.clone(),
        access_key_id: "AKIABOOTSTRAP0000000".into(),
        secret: "bootstrap".into(),
    };
    anyone.create_user("admin").await;
    let (status, key) = anyone.call("CreateAccessKey", &[("UserName", "admin")]).await;
    assert_eq!(status, 200, "{key}");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let (status, body) = anyone
        .call(
            "PutUserPolicy",
            &[("UserName", "admin"), ("PolicyName", "all"), ("PolicyDocument", policy)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    Admin {
        endpoint: moto.endpoint.clone(),
        access_key_id: xml_text(&key, "AccessKeyId").expect("admin access key id"),
        secret: xml_text(&key, "SecretAccessKey").expect("admin secret"),
    }
}

#[tokio::test]
async fn moto_lifecycle_and_signatures() {
    let moto = start_moto().await;
    let admin = bootstrap(&moto).await;
    // Signatures are now checked: unsigned-ok bootstrap creds are refused.
    let (status, body) = iam_call(&moto.endpoint, "AKIABOOTSTRAP0000000", "bootstrap", "ListUsers", &[]).await;
    assert_eq!(
        status, 403,
        "moto must check signatures after the bootstrap calls: {body}"
    );
    lifecycle_scenario(&admin, "bob").await;
    wrong_secret_scenario(&admin, "bob").await;
}
