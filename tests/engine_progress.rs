//! `credplane up|destroy --sandbox -- <program>` with stderr not a terminal: live progress comes
//! as plain lines, each step as it starts and as it ends (with the counts), then a summary. The
//! program is a shell script that registers two resources with curl, as any language could.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_credplane");

/// Registers `a`, then `b` whose description is a reference to `a`'s arn; fails on any error.
const PROGRAM: &str = r#"set -eu
reg() {
  body=$(printf '%s' "$1" | sed "s/@D@/$CREDPLANE_DEPLOYMENT/")
  reply=$(curl -sS -X POST "$CREDPLANE_ENGINE" -H "Authorization: Bearer $CREDPLANE_ENGINE_TOKEN" \
    -H 'Content-Type: application/json' -d "$body")
  case "$reply" in *'"result"'*) ;; *) echo "$reply" >&2; exit 1 ;; esac
}
reg '{"jsonrpc":"2.0","id":1,"method":"engine.register","params":{"deployment":"@D@","type":"alicloud_kms_secret","name":"a","inputs":{"secret_name":"progress/a","version_id":"v1","secret_data":"x"}}}'
reg '{"jsonrpc":"2.0","id":2,"method":"engine.register","params":{"deployment":"@D@","type":"alicloud_kms_secret","name":"b","inputs":{"secret_name":"progress/b","version_id":"v1","secret_data":"y","description":{"$credplane":"ref","resource":"a","property":"arn"}}}}'
"#;

/// Runs `credplane <action> --sandbox ...`; returns the progress lines without their time prefix.
/// (Each run has a fresh in-process sandbox: destroy finds the secrets gone, which counts as deleted.)
fn run(action: &str, state: &std::path::Path) -> Vec<String> {
    let mut cmd = Command::new(BIN);
    cmd.args([action, "--sandbox", "--stack", "p", "--state"])
        .arg(state)
        .env("CREDPLANE_PASSPHRASE", "progress-test");
    if action == "up" {
        cmd.args(["--", "sh", "-c", PROGRAM]);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "credplane {action} failed:\n{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // "[    0.1s] created ..." -> "created ..."
    stderr
        .lines()
        .filter_map(|l| {
            l.strip_prefix('[')
                .and_then(|l| l.split_once("s] "))
                .map(|(_, rest)| rest.to_string())
        })
        .collect()
}

#[test]
fn plain_progress_lines_show_each_step_the_counts_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let up = run("up", &state);
    let summary = up.last().cloned().unwrap_or_default();
    assert_eq!(
        up[..4],
        [
            "creating alicloud_kms_secret a",
            "created alicloud_kms_secret a (1 done, 0 running, 0 failed)",
            "creating alicloud_kms_secret b",
            "created alicloud_kms_secret b (2 done, 0 running, 0 failed)",
        ],
        "{up:#?}"
    );
    assert!(
        summary.starts_with("2 steps in ") && summary.ends_with(": 2 created, 0 unchanged"),
        "{summary}"
    );
    let destroy = run("destroy", &state);
    assert_eq!(
        destroy[..2],
        [
            "deleting alicloud_kms_secret b",
            "deleted alicloud_kms_secret b (1 done, 0 running, 0 failed)"
        ],
        "dependents are deleted first: {destroy:#?}"
    );
    assert!(
        destroy.last().unwrap().ends_with(": 2 deleted, 0 unchanged"),
        "{destroy:#?}"
    );
}
