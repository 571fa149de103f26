//! Live progress of a deployment, as Pulumi's CLI shows it: each step as it starts and ends,
//! counts, the elapsed time and a summary. The engine sends [`Event`]s; [`Progress`] shows them
//! with an `indicatif` spinner on a terminal and as plain lines otherwise (logs, CI, pipes).

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Its provider call starts.
    Start,
    /// It ended well (also a `same` step, which never starts).
    Done,
    /// It failed.
    Failed,
}

/// One step's progress. Never holds a secret: errors never carry one.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where the step is.
    pub phase: Phase,
    /// `create`, `update`, `replace`, `delete`, `import`, `read` or `same` (may be empty when
    /// it failed).
    pub op: String,
    /// The resource type.
    pub type_name: String,
    /// The resource name.
    pub name: String,
    /// Why it failed.
    pub error: String,
}

/// Where the engine sends events (the CLI's [`Progress`] reads them).
pub type Sink = tokio::sync::mpsc::UnboundedSender<Event>;

fn gerund(op: &str) -> &str {
    match op {
        "create" => "creating",
        "update" => "updating",
        "replace" => "replacing",
        "delete" => "deleting",
        "import" => "importing",
        "read" => "reading",
        other => other,
    }
}

fn past(op: &str) -> &str {
    match op {
        "create" => "created",
        "update" => "updated",
        "replace" => "replaced",
        "delete" => "deleted",
        "import" => "imported",
        "read" => "read",
        "same" => "unchanged",
        other => other,
    }
}

enum Output {
    /// Plain lines (stderr when it is not a terminal).
    Lines(Box<dyn Write + Send>),
    /// A spinner with the counts, finished steps printed above it.
    Bar(indicatif::ProgressBar),
}

/// Shows events as they come, and a summary at the end.
pub struct Progress {
    output: Output,
    started: Instant,
    counts: BTreeMap<String, usize>,
    /// The names of the steps started and not ended.
    running: HashSet<String>,
    failed: usize,
}

impl Progress {
    /// On stderr: a spinner on a terminal, plain lines otherwise.
    pub fn stderr() -> Self {
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress::new(Output::Bar(bar))
        } else {
            Progress::lines(Box::new(std::io::stderr()))
        }
    }

    /// Plain lines to `out`.
    pub fn lines(out: Box<dyn Write + Send>) -> Self {
        Progress::new(Output::Lines(out))
    }

    fn new(output: Output) -> Self {
        Progress {
            output,
            started: Instant::now(),
            counts: BTreeMap::new(),
            running: HashSet::new(),
            failed: 0,
        }
    }

    fn done(&self) -> usize {
        self.counts.values().sum::<usize>() + self.failed
    }

    fn line(&mut self, text: String) {
        let elapsed = self.started.elapsed().as_secs_f64();
        match &mut self.output {
            Output::Lines(out) => {
                // Progress is best effort: a closed stderr must not stop the deployment.
                let _ = writeln!(out, "[{elapsed:>7.1}s] {text}");
            }
            Output::Bar(bar) => bar.println(text),
        }
    }

    fn status(&self) -> String {
        format!(
            "{} done, {} running, {} failed",
            self.done(),
            self.running.len(),
            self.failed
        )
    }

    /// Shows one event.
    pub fn show(&mut self, e: &Event) {
        let what = format!("{} {}", e.type_name, e.name);
        match e.phase {
            Phase::Start => {
                self.running.insert(e.name.clone());
                self.line(format!("{} {what}", gerund(&e.op)));
            }
            Phase::Done => {
                self.running.remove(&e.name);
                *self.counts.entry(e.op.clone()).or_default() += 1;
                if e.op != "same" {
                    let status = self.status();
                    self.line(format!("{} {what} ({status})", past(&e.op)));
                }
            }
            Phase::Failed => {
                self.running.remove(&e.name);
                self.failed += 1;
                let status = self.status();
                self.line(format!("failed {what}: {} ({status})", e.error));
            }
        }
        if let Output::Bar(bar) = &self.output {
            bar.set_message(self.status());
        }
    }

    /// The summary line, shown last: counts by op and the elapsed time.
    pub fn finish(mut self) {
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .filter(|(op, _)| op.as_str() != "same")
            .map(|(op, n)| format!("{n} {}", past(op)))
            .collect();
        parts.push(format!("{} unchanged", self.counts.get("same").copied().unwrap_or(0)));
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let summary = format!("{} steps in {elapsed:.1}s: {}", self.done(), parts.join(", "));
        if let Output::Bar(bar) = &self.output {
            bar.finish_and_clear();
        }
        self.line(summary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn event(phase: Phase, op: &str, name: &str) -> Event {
        Event {
            phase,
            op: op.into(),
            type_name: "t".into(),
            name: name.into(),
            error: if phase == Phase::Failed {
                "boom".into()
            } else {
                String::new()
            },
        }
    }

    #[test]
    fn plain_lines_show_each_step_start_and_end_counts_and_a_summary() {
        let out = Shared::default();
        let mut p = Progress::lines(Box::new(out.clone()));
        p.show(&event(Phase::Start, "create", "a"));
        p.show(&event(Phase::Start, "update", "b"));
        p.show(&event(Phase::Done, "create", "a"));
        p.show(&event(Phase::Done, "same", "c"));
        p.show(&event(Phase::Failed, "update", "b"));
        p.finish();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        // Each line starts with the elapsed time, "[    0.0s] "; the rest is exact.
        let lines: Vec<&str> = text
            .lines()
            .map(|l| {
                assert!(l.starts_with('[') && l[..11].ends_with("s] "), "{l:?}");
                &l[11..]
            })
            .collect();
        assert_eq!(
            lines[..4],
            [
                "creating t a",
                "updating t b",
                "created t a (1 done, 1 running, 0 failed)",
                "failed t b: boom (3 done, 0 running, 1 failed)",
            ]
        );
        assert!(lines[4].starts_with("3 steps in "), "{}", lines[4]);
        assert!(
            lines[4].ends_with("s: 1 created, 1 unchanged, 1 failed"),
            "{}",
            lines[4]
        );
        assert_eq!(lines.len(), 5, "an unchanged resource gets no line of its own");
    }
}
