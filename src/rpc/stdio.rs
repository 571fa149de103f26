//! JSON-RPC 2.0 over stdin/stdout: one message (an object or a batch array) per line, one reply
//! per line. Messages are handled concurrently, so that `cancel` can reach an operation in flight;
//! replies therefore come back in completion order, matched by `id`.

use super::http::{MAX_BATCH_LEN, MAX_REQUEST_BYTES};
use crate::protocol::ErrorCode;
use crate::provider::Provider;
use jsonrpsee::RpcModule;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Serves until `input` ends, then waits for the replies in flight.
pub async fn serve(
    module: RpcModule<Provider>,
    input: impl AsyncBufRead + Unpin,
    mut output: impl AsyncWrite + Unpin + Send + 'static,
) -> std::io::Result<()> {
    let module = Arc::new(module);
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            output.write_all(line.as_bytes()).await?;
            output.write_all(b"\n").await?;
            output.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let (module, tx) = (module.clone(), tx.clone());
        tokio::spawn(async move {
            if let Some(reply) = handle_message(&module, &line).await {
                let _ = tx.send(reply);
            }
        });
    }
    drop(tx);
    writer.await.map_err(std::io::Error::other)?
}

fn error_reply(id: Value, code: ErrorCode, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code.code(), "message": message}})
}

/// Handles one line; `None` when nothing must be answered (notifications only).
pub async fn handle_message(module: &RpcModule<Provider>, text: &str) -> Option<String> {
    if text.len() > MAX_REQUEST_BYTES {
        return Some(error_reply(Value::Null, ErrorCode::InvalidRequest, "request too large").to_string());
    }
    let message: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return Some(error_reply(Value::Null, ErrorCode::ParseError, "Parse error").to_string()),
    };
    match message {
        Value::Array(items) if items.is_empty() => {
            Some(error_reply(Value::Null, ErrorCode::InvalidRequest, "empty batch").to_string())
        }
        Value::Array(items) if items.len() > MAX_BATCH_LEN => Some(
            error_reply(
                Value::Null,
                ErrorCode::InvalidRequest,
                &format!("batch longer than {MAX_BATCH_LEN}"),
            )
            .to_string(),
        ),
        Value::Array(items) => {
            let replies: Vec<Value> = futures_join(items.into_iter().map(|item| handle_single(module, item)))
                .await
                .into_iter()
                .flatten()
                .collect();
            (!replies.is_empty()).then(|| Value::Array(replies).to_string())
        }
        single => handle_single(module, single).await.map(|v| v.to_string()),
    }
}

async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(f);
    }
    let mut out = Vec::with_capacity(set.len());
    // Batch members run one after another: a batch is rare on stdio and order keeps it simple.
    for f in set {
        out.push(f.await);
    }
    out
}

async fn handle_single(module: &RpcModule<Provider>, message: Value) -> Option<Value> {
    let Value::Object(mut object) = message else {
        return Some(error_reply(Value::Null, ErrorCode::InvalidRequest, "Invalid request"));
    };
    let notification = !object.contains_key("id");
    let id = object.get("id").cloned().unwrap_or(Value::Null);
    let valid_id = matches!(id, Value::Null | Value::Number(_) | Value::String(_));
    if object.get("jsonrpc") != Some(&json!("2.0")) || !object.get("method").is_some_and(Value::is_string) || !valid_id
    {
        return (!notification).then(|| error_reply(id, ErrorCode::InvalidRequest, "Invalid request"));
    }
    if notification {
        object.insert("id".into(), json!(0));
    }
    let text = Value::Object(object).to_string();
    let reply = match module.raw_json_request(&text, 1).await {
        Ok((raw, _subscriptions)) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
        Err(_) => error_reply(id, ErrorCode::InvalidRequest, "Invalid request"),
    };
    (!notification).then_some(reply)
}
