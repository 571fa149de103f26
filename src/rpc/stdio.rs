//! JSON-RPC 2.0 over stdin/stdout: one message (an object or a batch array) per line, one reply
//! per line.
//!
//! Messages are handled concurrently, so that `cancel` can reach an operation in flight; replies
//! therefore come back in completion order, matched by `id`. They still *start* in the order they
//! were sent: each handler runs up to its first wait before the next one starts, so engine
//! registrations take their place in the deployment in program order (with two resources of one
//! name, the first declared is the one kept). Two exceptions keep pipelining safe:
//! `configure` is a barrier (it is applied before the next line is even read, so a pipelined
//! `create` after it runs with the new settings) and `cancel` runs at once. Everything is bounded:
//! a line is refused once it passes [`MAX_REQUEST_BYTES`] without being buffered whole, at most
//! [`MAX_IN_FLIGHT`] messages run at a time, and at most [`REPLY_QUEUE`] replies wait for stdout.

pub use super::dispatch::handle_message;
use super::dispatch::{MAX_REQUEST_BYTES, calls_method, error_reply};
use crate::protocol::ErrorCode;
use serde_json::Value;
use std::sync::Arc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The most messages handled at once; reading waits when they are all busy.
pub const MAX_IN_FLIGHT: usize = 64;
/// The most replies waiting to be written; handlers wait when stdout is that far behind.
pub const REPLY_QUEUE: usize = 256;
/// Replies already waiting are written together, up to about this many bytes at once.
const WRITE_BATCH_BYTES: usize = 1 << 20;

/// Serves until `input` ends, then waits for the replies in flight.
pub async fn serve(
    module: super::Service,
    mut input: impl AsyncBufRead + Unpin,
    mut output: impl AsyncWrite + Unpin + Send + 'static,
) -> std::io::Result<()> {
    let module = Arc::new(module);
    let (tx, mut rx) = mpsc::channel::<String>(REPLY_QUEUE);
    let writer = tokio::spawn(async move {
        // The replies waiting go out in one write: each write to stdout is a hop to a blocking
        // thread, and a pipelined SDK has thousands of replies coming.
        let mut batch = Vec::new();
        while let Some(line) = rx.recv().await {
            batch.clear();
            batch.extend_from_slice(line.as_bytes());
            batch.push(b'\n');
            while batch.len() < WRITE_BATCH_BYTES
                && let Ok(line) = rx.try_recv()
            {
                batch.extend_from_slice(line.as_bytes());
                batch.push(b'\n');
            }
            output.write_all(&batch).await?;
            output.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut buf = Vec::new();
    // Fired when the previous message's handler has run up to its first wait.
    let mut previous_started: Option<oneshot::Receiver<()>> = None;
    while let Some(line) = read_line(&mut input, &mut buf, MAX_REQUEST_BYTES).await? {
        let text = match line {
            Line::TooLong => {
                let reply = error_reply(Value::Null, ErrorCode::InvalidRequest, "request too large");
                let _ = tx.send(reply.to_string()).await;
                continue;
            }
            Line::Text(text) => text,
        };
        if text.trim().is_empty() {
            continue;
        }
        if runs_inline(&text) {
            if let Some(reply) = handle_message(&module, &text).await {
                let _ = tx.send(reply).await;
            }
            continue;
        }
        let permit = in_flight.clone().acquire_owned().await.map_err(std::io::Error::other)?;
        let (module, tx) = (module.clone(), tx.clone());
        let (started, next) = oneshot::channel();
        let after = previous_started.replace(next);
        tokio::spawn(async move {
            let _permit = permit;
            if let Some(previous) = after {
                let _ = previous.await; // dropped unsent (a panic) also lets this one go
            }
            let mut handled = std::pin::pin!(handle_message(&module, &text));
            let mut started = Some(started);
            let reply = std::future::poll_fn(|cx| {
                let polled = handled.as_mut().poll(cx);
                if let Some(started) = started.take() {
                    let _ = started.send(());
                }
                polled
            })
            .await;
            if let Some(reply) = reply {
                let _ = tx.send(reply).await;
            }
        });
    }
    drop(tx);
    writer.await.map_err(std::io::Error::other)?
}

/// `configure` (a barrier for what follows) and `cancel` (must reach work in flight even when
/// every slot is busy) run in the reading loop itself; both are quick and never touch a cloud.
fn runs_inline(text: &str) -> bool {
    let inline = |method: &str| method == "configure" || method == "cancel";
    if text.trim_start().starts_with('[') {
        // A batch (rare): read whole.
        return serde_json::from_str::<Value>(text)
            .is_ok_and(|m| calls_method(&m, "configure") || calls_method(&m, "cancel"));
    }
    // One message: only its method is read, the rest skipped unparsed (this runs for every line).
    #[derive(serde::Deserialize)]
    struct MethodOnly<'a> {
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_str::<MethodOnly>(text).is_ok_and(|m| m.method.is_some_and(|m| inline(&m)))
}

/// One line of input.
#[derive(Debug, PartialEq)]
enum Line {
    /// The line (lossily decoded: invalid UTF-8 then fails as a parse error).
    Text(String),
    /// The line passed the size limit; its bytes were dropped as they came.
    TooLong,
}

/// Reads the next line, never holding more than `max` bytes of it; `None` at the end of input.
async fn read_line(
    input: &mut (impl AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<Line>> {
    buf.clear();
    let mut too_long = false;
    let mut seen_any = false;
    loop {
        let chunk = input.fill_buf().await?;
        if chunk.is_empty() {
            if !seen_any {
                return Ok(None);
            }
            break;
        }
        seen_any = true;
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if !too_long && buf.len() + take > max {
            too_long = true;
            *buf = Vec::new();
        }
        if !too_long {
            buf.extend_from_slice(&chunk[..take]);
        }
        input.consume(if done { take + 1 } else { take });
        if done {
            break;
        }
    }
    if too_long {
        return Ok(Some(Line::TooLong));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(Line::Text(String::from_utf8_lossy(buf).into_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configure_and_cancel_run_inline_alone_or_in_a_batch() {
        for inline in [
            r#"{"jsonrpc":"2.0","id":1,"method":"configure","params":{"aws":{"region":"x"}}}"#,
            r#"{"params":{"method":"check"},"method":"cancel","id":2,"jsonrpc":"2.0"}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"config\u0075re"}"#,
            r#"[{"jsonrpc":"2.0","id":4,"method":"check"},{"jsonrpc":"2.0","id":5,"method":"configure"}]"#,
        ] {
            assert!(runs_inline(inline), "{inline}");
        }
        for spawned in [
            r#"{"jsonrpc":"2.0","id":1,"method":"check","params":{"method":"configure"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"[{"jsonrpc":"2.0","id":4,"method":"check"}]"#,
            "not json",
        ] {
            assert!(!runs_inline(spawned), "{spawned}");
        }
    }

    #[tokio::test]
    async fn a_long_line_is_dropped_as_it_streams_and_the_next_one_still_read() {
        let long = "x".repeat(100);
        let input = format!("{long}\nshort\r\nlast");
        // A tiny read buffer: the long line arrives in many chunks.
        let mut reader = tokio::io::BufReader::with_capacity(8, input.as_bytes());
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut reader, &mut buf, 50).await.unwrap(), Some(Line::TooLong));
        assert!(buf.capacity() <= 64, "never buffered the whole long line");
        assert_eq!(
            read_line(&mut reader, &mut buf, 50).await.unwrap(),
            Some(Line::Text("short".into()))
        );
        assert_eq!(
            read_line(&mut reader, &mut buf, 50).await.unwrap(),
            Some(Line::Text("last".into()))
        );
        assert_eq!(read_line(&mut reader, &mut buf, 50).await.unwrap(), None);
    }
}
