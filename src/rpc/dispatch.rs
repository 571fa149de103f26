//! The one JSON-RPC 2.0 dispatcher behind stdio and HTTP POST: it checks each message against the
//! spec (so an invalid request gets -32600 whatever shape it has, and only a valid notification
//! goes unanswered), runs it on the method table, and turns a panic in a handler into a -32603
//! reply instead of a missing one.

use super::Service;
use crate::protocol::ErrorCode;
use futures_util::FutureExt;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::panic::AssertUnwindSafe;

/// The largest request accepted, in bytes (a stdio line or an HTTP body).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// The longest batch accepted.
pub const MAX_BATCH_LEN: usize = 64;

/// A JSON-RPC error reply.
pub fn error_reply(id: Value, code: ErrorCode, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code.code(), "message": message}})
}

/// Handles one message (an object or a batch array); `None` when nothing must be answered
/// (a notification, or a batch of notifications only).
pub async fn handle_message(service: &Service, text: &str) -> Option<String> {
    if text.len() > MAX_REQUEST_BYTES {
        return Some(error_reply(Value::Null, ErrorCode::InvalidRequest, "request too large").to_string());
    }
    if let Some(reply) = fast_single(service, text).await {
        return Some(reply);
    }
    let message: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return Some(error_reply(Value::Null, ErrorCode::ParseError, "Parse error").to_string()),
    };
    match message {
        Value::Array(items) if items.is_empty() => {
            Some(error_reply(Value::Null, ErrorCode::InvalidRequest, "Invalid request: empty batch").to_string())
        }
        Value::Array(items) if items.len() > MAX_BATCH_LEN => Some(
            error_reply(
                Value::Null,
                ErrorCode::InvalidRequest,
                &format!("Invalid request: batch longer than {MAX_BATCH_LEN}"),
            )
            .to_string(),
        ),
        Value::Array(items) => {
            // Batch members run one after another: a batch is rare, and order keeps it simple.
            let mut replies = Vec::new();
            for item in items {
                replies.extend(handle_single(service, item).await);
            }
            (!replies.is_empty()).then(|| Value::Array(replies).to_string())
        }
        single => handle_single(service, single).await.map(|v| v.to_string()),
    }
}

/// The shape of the common case, borrowed from the text: one request with an id.
#[derive(serde::Deserialize)]
struct PlainRequest<'a> {
    jsonrpc: &'a str,
    method: &'a str,
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
}

impl PlainRequest<'_> {
    /// Valid per spec section 4 (what [`invalid_reason`] checks, on the raw text).
    fn is_valid(&self) -> bool {
        let id = self.id.get();
        let id_ok = id == "null" || id.starts_with('"') || id.parse::<i64>().is_ok() || id.parse::<u64>().is_ok();
        let params_ok = self.params.is_none_or(|p| p.get().starts_with(['{', '[']));
        self.jsonrpc == "2.0" && id_ok && params_ok
    }
}

/// One valid request with an id, parsed once and borrowed from the text, goes straight to its
/// handler in the method table, and the reply is written around the handler's serialized result:
/// this path carries nearly all traffic, and jsonrpsee's `raw_json_request` parses the request
/// again, opens a channel, and serializes and re-validates the reply. A method only jsonrpsee's
/// module knows goes through it instead. Anything else (a batch, a notification, a string with
/// escapes, an invalid request) is `None`, for the general path.
async fn fast_single(service: &Service, text: &str) -> Option<String> {
    let request: PlainRequest = serde_json::from_str(text).ok()?;
    if !request.is_valid() {
        return None;
    }
    let id = request.id.get();
    let Some(call) = service.call_direct(request.method, request.params.map(RawValue::get)) else {
        return match AssertUnwindSafe(service.raw_json_request(text, 1)).catch_unwind().await {
            Ok(Ok((raw, _subscriptions))) => Some(raw.get().to_owned()),
            // jsonrpsee could not read it, so nothing ran: the general path answers.
            Ok(Err(_)) => None,
            Err(_panic) => Some(panicked(id)),
        };
    };
    Some(match AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(result)) => reply_text(id, "result", result.get()),
        Ok(Err(error)) => match serde_json::to_string(&error) {
            Ok(error) => reply_text(id, "error", &error),
            Err(_) => internal_error_text(id, "internal error: unwritable error"),
        },
        // Never retried on the general path: the handler may have acted before it panicked.
        Err(_panic) => panicked(id),
    })
}

/// `{"jsonrpc":"2.0","id":<id>,"<member>":<value>}`, the order jsonrpsee writes; `id` and `value`
/// are JSON text.
fn reply_text(id: &str, member: &str, value: &str) -> String {
    let mut text = String::with_capacity(32 + id.len() + member.len() + value.len());
    text.push_str(r#"{"jsonrpc":"2.0","id":"#);
    text.push_str(id);
    text.push_str(",\"");
    text.push_str(member);
    text.push_str("\":");
    text.push_str(value);
    text.push('}');
    text
}

fn internal_error_text(id: &str, message: &str) -> String {
    let id = serde_json::from_str(id).unwrap_or(Value::Null);
    error_reply(id, ErrorCode::InternalError, message).to_string()
}

fn panicked(id: &str) -> String {
    tracing::error!("a method handler panicked; answered -32603");
    internal_error_text(id, "internal error: the handler panicked")
}

/// Whether `message` (parsed) holds a call of `method`, alone or in a batch.
pub fn calls_method(message: &Value, method: &str) -> bool {
    match message {
        Value::Array(items) => items.iter().any(|item| calls_method(item, method)),
        Value::Object(object) => object.get("method").and_then(Value::as_str) == Some(method),
        _ => false,
    }
}

fn valid_id(id: &Value) -> bool {
    matches!(id, Value::Null | Value::String(_)) || id.as_i64().is_some() || id.as_u64().is_some()
}

/// What is wrong with a request object, if anything (spec section 4).
fn invalid_reason(object: &Map<String, Value>) -> Option<&'static str> {
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Some("Invalid request: jsonrpc must be \"2.0\"");
    }
    if !object.get("method").is_some_and(Value::is_string) {
        return Some("Invalid request: method must be a string");
    }
    if object.get("id").is_some_and(|id| !valid_id(id)) {
        return Some("Invalid request: id must be a string, an integer or null");
    }
    if object.get("params").is_some_and(|p| !(p.is_object() || p.is_array())) {
        return Some("Invalid request: params must be an object or an array");
    }
    None
}

async fn handle_single(service: &Service, message: Value) -> Option<Value> {
    let Value::Object(mut object) = message else {
        return Some(error_reply(
            Value::Null,
            ErrorCode::InvalidRequest,
            "Invalid request: not an object",
        ));
    };
    let id = object
        .get("id")
        .filter(|id| valid_id(id))
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(reason) = invalid_reason(&object) {
        // Answered even without an id: only a valid request can be a notification.
        return Some(error_reply(id, ErrorCode::InvalidRequest, reason));
    }
    let notification = !object.contains_key("id");
    if notification {
        object.insert("id".into(), json!(0));
    }
    let text = Value::Object(object).to_string();
    let call = AssertUnwindSafe(service.raw_json_request(&text, 1))
        .catch_unwind()
        .await;
    let reply = match call {
        Ok(Ok((raw, _subscriptions))) => serde_json::from_str::<Value>(raw.get())
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| error_reply(id.clone(), ErrorCode::InternalError, "internal error: unreadable reply")),
        Ok(Err(_)) => error_reply(id, ErrorCode::InvalidRequest, "Invalid request"),
        Err(_panic) => {
            tracing::error!("a method handler panicked; answered -32603");
            error_reply(id, ErrorCode::InternalError, "internal error: the handler panicked")
        }
    };
    (!notification).then_some(reply)
}
