//! The AWS IAM sandbox: the Query API (version 2010-05-08) for users and access keys, with SigV4
//! verification, real XML shapes and error codes, and the 2-keys-per-user quota.

use super::{CloudApi, SandboxRequest};
use crate::verify::aws::verify;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use credplane_sign::aws::SignableRequest;
use quick_xml::escape::escape;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;

const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const VERSION: &str = "2010-05-08";
const ACCOUNT: &str = "123456789012";
/// IAM's quota of access keys per user.
pub const KEYS_PER_USER: usize = 2;
const ADMIN: &str = "admin";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    user_id: String,
    path: String,
    create_date: String,
    keys: Vec<Key>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Key {
    access_key_id: String,
    secret_access_key: String,
    status: String,
    create_date: String,
    #[serde(default)]
    last_used: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    users: BTreeMap<String, User>,
}

/// The emulated IAM.
pub struct AwsIam {
    state: Mutex<State>,
}

/// An IAM error answer.
struct IamError {
    status: StatusCode,
    kind: &'static str,
    code: String,
    message: String,
}

impl IamError {
    fn sender(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        IamError {
            status,
            kind: "Sender",
            code: code.into(),
            message: message.into(),
        }
    }
    fn no_such_entity(message: impl Into<String>) -> Self {
        Self::sender(StatusCode::NOT_FOUND, "NoSuchEntity", message)
    }
    fn validation(message: impl Into<String>) -> Self {
        Self::sender(StatusCode::BAD_REQUEST, "ValidationError", message)
    }
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn error_response(err: IamError) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        err.kind,
        escape(&err.code),
        escape(&err.message),
        request_id()
    );
    xml_response(err.status, body)
}

fn ok_response(action: &str, result: &str) -> Response {
    let result = if result.is_empty() {
        String::new()
    } else {
        format!("  <{action}Result>\n{result}  </{action}Result>\n")
    };
    let body = format!(
        "<{action}Response xmlns=\"{NAMESPACE}\">\n{result}  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
        request_id()
    );
    xml_response(StatusCode::OK, body)
}

/// `len` random characters from `alphabet`.
fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in uuid::Uuid::new_v4().as_bytes() {
            // Reject the top of the range to stay uniform.
            let limit = 256 - 256 % alphabet.len();
            if (*byte as usize) < limit && out.len() < len {
                out.push(alphabet[*byte as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE64ISH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn new_key(now: &chrono::DateTime<chrono::Utc>) -> Key {
    Key {
        access_key_id: format!("AKIA{}", random_chars(UPPER_ALNUM, 16)),
        secret_access_key: random_chars(BASE64ISH, 40),
        status: "Active".into(),
        create_date: iso(now),
        last_used: None,
    }
}

fn new_user(now: &chrono::DateTime<chrono::Utc>, path: &str) -> User {
    User {
        user_id: format!("AIDA{}", random_chars(UPPER_ALNUM, 17)),
        path: path.into(),
        create_date: iso(now),
        keys: Vec::new(),
    }
}

fn iso(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn user_xml(name: &str, user: &User, indent: &str) -> String {
    format!(
        "{indent}<Path>{}</Path>\n{indent}<UserName>{}</UserName>\n{indent}<UserId>{}</UserId>\n{indent}<Arn>arn:aws:iam::{ACCOUNT}:user{}{}</Arn>\n{indent}<CreateDate>{}</CreateDate>\n",
        escape(&user.path),
        escape(name),
        user.user_id,
        escape(&user.path),
        escape(name),
        user.create_date
    )
}

impl Default for AwsIam {
    fn default() -> Self {
        Self::new()
    }
}

impl AwsIam {
    /// A fresh IAM with the seeded users: `admin` (one access key, used by the provider) and
    /// `alice` (no keys).
    pub fn new() -> Self {
        let now = chrono::Utc::now();
        let mut admin = new_user(&now, "/");
        admin.keys.push(new_key(&now));
        let mut users = BTreeMap::new();
        users.insert(ADMIN.to_string(), admin);
        users.insert("alice".to_string(), new_user(&now, "/"));
        AwsIam {
            state: Mutex::new(State { users }),
        }
    }

    fn admin_key(&self) -> Option<Key> {
        self.state
            .lock()
            .expect("iam lock")
            .users
            .get(ADMIN)
            .and_then(|u| u.keys.first().cloned())
    }

    /// Verifies the signature; returns the calling user's name.
    fn authenticate(&self, req: &SandboxRequest) -> Result<String, IamError> {
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_string(), v.to_string())))
            .collect();
        let uri = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let signable = SignableRequest {
            method: req.method.as_str(),
            uri: &uri,
            headers: &headers,
            body: &req.body,
        };
        let state = self.state.lock().expect("iam lock");
        let lookup = |id: &str| {
            state
                .users
                .values()
                .flat_map(|u| u.keys.iter())
                .find(|k| k.access_key_id == id && k.status == "Active")
                .map(|k| k.secret_access_key.clone())
        };
        let verified = verify(&signable, req.now, lookup).map_err(|e| {
            let code = e.aws_error_code();
            let (status, message) = match code {
                "InvalidClientTokenId" => (StatusCode::FORBIDDEN, "The security token included in the request is invalid.".to_string()),
                "SignatureDoesNotMatch" => (
                    StatusCode::FORBIDDEN,
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".to_string(),
                ),
                "MissingAuthenticationToken" => (StatusCode::FORBIDDEN, "Request is missing Authentication Token".to_string()),
                _ => (StatusCode::BAD_REQUEST, format!("Authorization header requires a valid AWS4-HMAC-SHA256 signature: {e}")),
            };
            IamError::sender(status, code, message)
        })?;
        if verified.service != "iam" {
            return Err(IamError::sender(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                format!(
                    "Credential should be scoped to correct service: 'iam'. (got '{}')",
                    verified.service
                ),
            ));
        }
        let caller = state
            .users
            .iter()
            .find(|(_, u)| u.keys.iter().any(|k| k.access_key_id == verified.access_key_id))
            .map(|(name, _)| name.clone())
            .ok_or_else(|| {
                IamError::sender(
                    StatusCode::FORBIDDEN,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                )
            })?;
        drop(state);
        let mut state = self.state.lock().expect("iam lock");
        if let Some(key) = state
            .users
            .get_mut(&caller)
            .and_then(|u| u.keys.iter_mut().find(|k| k.access_key_id == verified.access_key_id))
        {
            key.last_used = Some(iso(&req.now));
        }
        Ok(caller)
    }

    fn apply(&self, req: &SandboxRequest, caller: &str) -> Result<Response, IamError> {
        let params = req.params();
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let required = |name: &str| {
            get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
                IamError::validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(name)))
            })
        };
        let action = get("Action").unwrap_or_default();
        let mut state = self.state.lock().expect("iam lock");
        let user_param = |state: &State| -> Result<String, IamError> {
            let name = get("UserName")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| caller.to_string());
            if state.users.contains_key(&name) {
                Ok(name)
            } else {
                Err(IamError::no_such_entity(format!(
                    "The user with name {name} cannot be found."
                )))
            }
        };
        match action.as_str() {
            "CreateUser" => {
                let name = required("UserName")?;
                validate_user_name(&name)?;
                if state.users.contains_key(&name) {
                    return Err(IamError::sender(
                        StatusCode::CONFLICT,
                        "EntityAlreadyExists",
                        format!("User with name {name} already exists."),
                    ));
                }
                let path = get("Path").unwrap_or_else(|| "/".into());
                let user = new_user(&req.now, &path);
                let xml = format!("    <User>\n{}    </User>\n", user_xml(&name, &user, "      "));
                state.users.insert(name, user);
                Ok(ok_response("CreateUser", &xml))
            }
            "GetUser" => {
                let name = user_param(&state)?;
                let xml = format!(
                    "    <User>\n{}    </User>\n",
                    user_xml(&name, &state.users[&name], "      ")
                );
                Ok(ok_response("GetUser", &xml))
            }
            "DeleteUser" => {
                let name = required("UserName")?;
                let user = state
                    .users
                    .get(&name)
                    .ok_or_else(|| IamError::no_such_entity(format!("The user with name {name} cannot be found.")))?;
                if !user.keys.is_empty() {
                    return Err(IamError::sender(
                        StatusCode::CONFLICT,
                        "DeleteConflict",
                        "Cannot delete entity, must delete access keys first.",
                    ));
                }
                state.users.remove(&name);
                Ok(ok_response("DeleteUser", ""))
            }
            "ListUsers" => {
                let members: String = state
                    .users
                    .iter()
                    .map(|(name, user)| {
                        format!("      <member>\n{}      </member>\n", user_xml(name, user, "        "))
                    })
                    .collect();
                Ok(ok_response(
                    "ListUsers",
                    &format!("    <Users>\n{members}    </Users>\n    <IsTruncated>false</IsTruncated>\n"),
                ))
            }
            "CreateAccessKey" => {
                let name = user_param(&state)?;
                let user = state.users.get_mut(&name).expect("checked");
                if user.keys.len() >= KEYS_PER_USER {
                    return Err(IamError::sender(
                        StatusCode::CONFLICT,
                        "LimitExceeded",
                        format!("Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"),
                    ));
                }
                let key = new_key(&req.now);
                let xml = format!(
                    "    <AccessKey>\n      <UserName>{}</UserName>\n      <AccessKeyId>{}</AccessKeyId>\n      <Status>{}</Status>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <CreateDate>{}</CreateDate>\n    </AccessKey>\n",
                    escape(&name),
                    key.access_key_id,
                    key.status,
                    escape(&key.secret_access_key),
                    key.create_date
                );
                user.keys.push(key);
                Ok(ok_response("CreateAccessKey", &xml))
            }
            "UpdateAccessKey" | "DeleteAccessKey" => {
                let id = required("AccessKeyId")?;
                let status = if action == "UpdateAccessKey" {
                    let status = required("Status")?;
                    if status != "Active" && status != "Inactive" {
                        return Err(IamError::validation(format!(
                            "1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
                        )));
                    }
                    Some(status)
                } else {
                    None
                };
                let name = user_param(&state)?;
                let user = state.users.get_mut(&name).expect("checked");
                let not_found = || IamError::no_such_entity(format!("The Access Key with id {id} cannot be found."));
                let index = user
                    .keys
                    .iter()
                    .position(|k| k.access_key_id == id)
                    .ok_or_else(not_found)?;
                match status {
                    Some(status) => user.keys[index].status = status,
                    None => {
                        user.keys.remove(index);
                    }
                }
                Ok(ok_response(&action, ""))
            }
            "ListAccessKeys" => {
                let name = user_param(&state)?;
                let keys = &state.users[&name].keys;
                let max_items: usize = match get("MaxItems") {
                    Some(v) => v
                        .parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| IamError::validation("MaxItems must be between 1 and 1000"))?,
                    None => 100,
                };
                let start: usize = match get("Marker") {
                    Some(m) => m
                        .strip_prefix("m")
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n <= keys.len())
                        .ok_or_else(|| IamError::validation("Invalid Marker"))?,
                    None => 0,
                };
                let end = (start + max_items).min(keys.len());
                let members: String = keys[start..end]
                    .iter()
                    .map(|k| {
                        format!(
                            "      <member>\n        <UserName>{}</UserName>\n        <AccessKeyId>{}</AccessKeyId>\n        <Status>{}</Status>\n        <CreateDate>{}</CreateDate>\n      </member>\n",
                            escape(&name),
                            k.access_key_id,
                            k.status,
                            k.create_date
                        )
                    })
                    .collect();
                let truncated = end < keys.len();
                let marker = if truncated {
                    format!("    <Marker>m{end}</Marker>\n")
                } else {
                    String::new()
                };
                Ok(ok_response(
                    "ListAccessKeys",
                    &format!(
                        "    <UserName>{}</UserName>\n    <AccessKeyMetadata>\n{members}    </AccessKeyMetadata>\n    <IsTruncated>{truncated}</IsTruncated>\n{marker}",
                        escape(&name)
                    ),
                ))
            }
            "GetAccessKeyLastUsed" => {
                let id = required("AccessKeyId")?;
                let (name, key) = state
                    .users
                    .iter()
                    .find_map(|(n, u)| {
                        u.keys
                            .iter()
                            .find(|k| k.access_key_id == id)
                            .map(|k| (n.clone(), k.clone()))
                    })
                    .ok_or_else(|| IamError::no_such_entity(format!("The Access Key with id {id} cannot be found.")))?;
                let used = match &key.last_used {
                    Some(t) => format!(
                        "      <LastUsedDate>{t}</LastUsedDate>\n      <ServiceName>iam</ServiceName>\n      <Region>us-east-1</Region>\n"
                    ),
                    None => "      <ServiceName>N/A</ServiceName>\n      <Region>N/A</Region>\n".to_string(),
                };
                Ok(ok_response(
                    "GetAccessKeyLastUsed",
                    &format!(
                        "    <UserName>{}</UserName>\n    <AccessKeyLastUsed>\n{used}    </AccessKeyLastUsed>\n",
                        escape(&name)
                    ),
                ))
            }
            other => Err(IamError::sender(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!("Could not find operation {other} for version {VERSION}"),
            )),
        }
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn validate_user_name(name: &str) -> Result<(), IamError> {
    let ok = (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(IamError::validation(format!(
            "1 validation error detected: Value '{name}' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )))
    }
}

impl CloudApi for AwsIam {
    fn name(&self) -> &'static str {
        "aws-iam"
    }

    fn matches(&self, req: &SandboxRequest) -> bool {
        req.param("Version").as_deref() == Some(VERSION)
    }

    fn action(&self, req: &SandboxRequest) -> Option<String> {
        req.param("Action")
    }

    fn handle(&self, req: &SandboxRequest) -> Response {
        let caller = match self.authenticate(req) {
            Ok(caller) => caller,
            Err(err) => return error_response(err),
        };
        match self.apply(req, &caller) {
            Ok(response) => response,
            Err(err) => error_response(err),
        }
    }

    fn throttled(&self, _req: &SandboxRequest) -> Response {
        error_response(IamError::sender(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded"))
    }

    fn server_error(&self, _req: &SandboxRequest) -> Response {
        error_response(IamError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "Receiver",
            code: "ServiceFailure".into(),
            message: "The request processing has failed because of an unknown error, exception or failure.".into(),
        })
    }

    fn fixtures(&self) -> Value {
        let admin = self.admin_key();
        json!({
            "account_id": ACCOUNT,
            "admin": {
                "user_name": ADMIN,
                "access_key_id": admin.as_ref().map(|k| k.access_key_id.clone()),
                "secret_access_key": admin.as_ref().map(|k| k.secret_access_key.clone()),
            },
            "users": ["alice"],
            "region": "us-east-1",
        })
    }

    fn provider_settings(&self, base_url: &str) -> Value {
        let admin = self.admin_key();
        json!({"aws": {
            "access_key_id": admin.as_ref().map(|k| k.access_key_id.clone()),
            "secret_access_key": admin.as_ref().map(|k| k.secret_access_key.clone()),
            "region": "us-east-1",
            "endpoint": format!("{}/", base_url.trim_end_matches('/')),
        }})
    }

    fn snapshot(&self) -> Value {
        serde_json::to_value(&*self.state.lock().expect("iam lock")).expect("state serializes")
    }

    fn restore(&self, state: &Value) -> Result<(), String> {
        let state: State = serde_json::from_value(state.clone()).map_err(|e| format!("aws-iam state: {e}"))?;
        *self.state.lock().expect("iam lock") = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_real_shapes() {
        let key = new_key(&chrono::Utc::now());
        assert!(key.access_key_id.starts_with("AKIA") && key.access_key_id.len() == 20);
        assert!(
            key.access_key_id[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert_eq!(key.secret_access_key.len(), 40);
    }
}
