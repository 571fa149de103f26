//! Child processes: start a server and wait for its "listening" line, read its memory from /proc,
//! and time a whole spawn-answer-exit cycle.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server child, killed when dropped.
pub struct Server {
    pub child: Child,
    /// The address it listens on, as `host:port`.
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `command` and waits for a line containing `listening on ` on stdout or stderr
/// (`from_stderr`); the address is the word after it, without any `http://`.
pub fn start_server(mut command: Command, from_stderr: bool) -> Result<Server, String> {
    command.stdin(Stdio::null());
    if from_stderr {
        command.stderr(Stdio::piped()).stdout(Stdio::null());
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    }
    let mut child = command.spawn().map_err(|e| format!("spawn {command:?}: {e}"))?;
    let stream: Box<dyn Read + Send> = if from_stderr {
        Box::new(child.stderr.take().expect("piped"))
    } else {
        Box::new(child.stdout.take().expect("piped"))
    };
    let mut lines = BufReader::new(stream).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let word = rest.split_whitespace().next().unwrap_or_default();
                    break word.trim_start_matches("http://").to_string();
                }
            }
            _ => {
                let _ = child.kill();
                return Err(format!("{command:?} exited before listening"));
            }
        }
    };
    // Keep draining the pipe so that the server never blocks on a full one.
    std::thread::spawn(move || for _ in lines {});
    Ok(Server { child, addr })
}

/// The CPU time (user and system) a process has used so far.
pub fn cpu_time(pid: u32) -> Result<Duration, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| format!("/proc/{pid}: {e}"))?;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    let after_name = stat.rsplit(") ").next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let (user, system) = ticks(11)
        .zip(ticks(12))
        .ok_or_else(|| format!("/proc/{pid}/stat: unreadable"))?;
    // USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
    Ok(Duration::from_millis((user + system) * 10))
}

/// A `/proc/<pid>/status` figure (such as `VmRSS` or `VmHWM`) in MiB.
pub fn proc_status_mb(pid: u32, field: &str) -> Result<f64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("/proc/{pid}: {e}"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("bad {field} line: {line}"))?;
    Ok(kib / 1024.0)
}

/// Wall time of spawning `command` with a pipe on stdin and stdout, writing `request` as one line,
/// closing stdin, reading the reply line (which must be a JSON-RPC success), and waiting for exit.
pub fn spawn_answer_exit(mut command: Command, request: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn {command:?}: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    stdin
        .write_all(format!("{request}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    drop(stdin);
    let mut reply = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut reply)
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    if !status.success() || !reply.contains("\"result\"") {
        return Err(format!("{command:?}: exit {status}, reply {reply:?}"));
    }
    Ok(elapsed)
}

/// The median of `values` (which must not be empty).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}
