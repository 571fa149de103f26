//! IAM access keys created and deleted through `credplane serve --stdio` against moto, one pair
//! after the other (as boto3 does in the baseline), so that both measure the same sequence.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

/// moto accepts any key pair; these are its documented test credentials.
const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A provider over stdio, one request at a time.
struct StdioRpc {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    next_id: u64,
}

impl StdioRpc {
    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let request = json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        writeln!(self.stdin, "{request}").map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).map_err(|e| e.to_string())?;
        let reply: Value = serde_json::from_str(&line).map_err(|_| format!("{method}: bad reply {line:?}"))?;
        match reply.get("result") {
            Some(result) => Ok(result.clone()),
            None => Err(format!("{method} failed: {}", reply["error"])),
        }
    }
}

/// Pairs (create, delete) per second over `pairs` pairs, after one untimed warm-up pair.
pub fn create_delete_per_second(mut command: Command, endpoint: &str, user: &str, pairs: usize) -> Result<f64, String> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn {command:?}: {e}"))?;
    let (stdin, stdout) = (child.stdin.take().expect("piped"), child.stdout.take().expect("piped"));
    let mut rpc = StdioRpc {
        child,
        stdin,
        stdout: BufReader::new(stdout),
        next_id: 0,
    };
    rpc.call(
        "configure",
        json!({"aws": {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_ACCESS_KEY,
            "region": "us-east-1", "endpoint": endpoint}}),
    )?;
    let pair = |rpc: &mut StdioRpc| -> Result<(), String> {
        let created = rpc.call(
            "create",
            json!({"type": "aws_iam_access_key", "inputs": {"user": user}}),
        )?;
        rpc.call(
            "delete",
            json!({"type": "aws_iam_access_key", "id": created["id"], "outputs": created["outputs"]}),
        )?;
        Ok(())
    };
    pair(&mut rpc)?;
    let started = Instant::now();
    for _ in 0..pairs {
        pair(&mut rpc)?;
    }
    let per_second = pairs as f64 / started.elapsed().as_secs_f64();
    drop(rpc.stdin);
    let _ = rpc.child.wait();
    Ok(per_second)
}
