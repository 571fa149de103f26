//! moto_server on a free loopback port, for the AWS tests against an independent implementation.
//!
//! Needs `MOTO_SERVER`, the path of the `moto_server` executable (`pip install "moto[server]"`;
//! scripts/test.sh and scripts/test-aws-sdk.sh set it up). Tests fail, never skip, without it.

use super::{Admin, xml_text};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills moto when the test ends, however it ends.
pub struct Moto {
    child: Child,
    log: PathBuf,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:<port>/`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// What moto printed.
    pub fn log(&self) -> String {
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

/// Starts moto. With `unsigned_calls: Some(n)`, moto checks signatures and IAM policies after the
/// first `n` calls; with `None` it never does (STS AssumeRoleWithWebIdentity is unsigned, and
/// moto would refuse it once checking).
pub async fn start_moto(unsigned_calls: Option<u32>) -> Moto {
    let exe = moto_server();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("moto.log");
    let mut command = Command::new(&exe);
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("moto.err")).unwrap());
    if let Some(n) = unsigned_calls {
        command.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
    }
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let mut moto = Moto {
        child,
        log,
        dir,
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
    moto.log = moto.dir.path().join("moto.err");
    panic!("moto_server did not listen on port {port} within 30s: {}", moto.log());
}

/// Calls [`bootstrap`] makes before signatures count.
pub const BOOTSTRAP_CALLS: u32 = 3;

/// The bootstrap calls, before signatures count (start moto with `Some(BOOTSTRAP_CALLS)` or
/// more): an admin user with an access key and an allow-all policy.
pub async fn bootstrap(moto: &Moto) -> Admin {
    let anyone = Admin {
        endpoint: moto.endpoint.clone(),
        access_key_id: "AKIABOOTSTRAP0000000".into(),
        secret: "bootstrap".into(),
    };
    anyone.create_user("admin").await;
    let (status, key) = anyone.call("CreateAccessKey", &[("UserName", "admin")]).await;
    assert_eq!(status, 200, "{key}");
    let (status, body) = anyone
        .call(
            "PutUserPolicy",
            &[
                ("UserName", "admin"),
                ("PolicyName", "all"),
                ("PolicyDocument", ALLOW_ALL),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    Admin {
        endpoint: moto.endpoint.clone(),
        access_key_id: xml_text(&key, "AccessKeyId").expect("admin access key id"),
        secret: xml_text(&key, "SecretAccessKey").expect("admin secret"),
    }
}

/// An IAM policy allowing everything.
pub const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
