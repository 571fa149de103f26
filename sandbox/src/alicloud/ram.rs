//! RAM (2015-05-01): users' AccessKeys, with the limit of two per user.

use super::{
    Account, Answer, ApiError, Call, Key, MAX_KEYS_PER_USER, User, action_of, is_version, random_chars, serve,
    server_error_response, timestamp,
};
use crate::{CloudApi, SandboxRequest};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const HOST: &str = "ram.aliyuncs.com";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The emulated RAM API.
pub struct Ram {
    account: Arc<Mutex<Account>>,
}

impl Ram {
    /// RAM over the shared `account`.
    pub(crate) fn new(account: Arc<Mutex<Account>>) -> Self {
        Ram { account }
    }

    fn dispatch(&self, action: &str, call: &Call) -> Answer {
        let mut account = self.account.lock().expect("account lock");
        // Without UserName, RAM acts on the caller's own keys.
        let user_name = call.get("UserName").unwrap_or(&call.caller).to_string();
        fn user<'a>(account: &'a mut Account, user_name: &str) -> Result<&'a mut User, ApiError> {
            account.users.get_mut(user_name).ok_or_else(|| {
                ApiError::new(
                    404,
                    "EntityNotExist.User",
                    format!("The user does not exist: {user_name}."),
                )
            })
        }
        let key_view = |k: &Key| json!({"AccessKeyId": k.id, "Status": k.status, "CreateDate": k.create_date});
        match action {
            "CreateAccessKey" => {
                let user = user(&mut account, &user_name)?;
                if user.keys.len() >= MAX_KEYS_PER_USER {
                    return Err(ApiError::new(
                        409,
                        "LimitExceeded.User.AccessKey",
                        format!("The count of access key exceeds the limit {MAX_KEYS_PER_USER} for user {user_name}."),
                    ));
                }
                let key = Key {
                    id: format!("LTAI5t{}", random_chars(18, UPPER_ALNUM)),
                    secret: random_chars(30, UPPER_ALNUM),
                    status: "Active".into(),
                    create_date: timestamp(call.now),
                };
                let body = json!({"AccessKey": {
                    "AccessKeyId": key.id, "AccessKeySecret": key.secret, "Status": key.status, "CreateDate": key.create_date,
                }});
                user.keys.push(key);
                Ok(body)
            }
            "ListAccessKeys" => {
                let user = user(&mut account, &user_name)?;
                Ok(json!({"AccessKeys": {"AccessKey": user.keys.iter().map(key_view).collect::<Vec<_>>()}}))
            }
            "UpdateAccessKey" | "DeleteAccessKey" | "GetAccessKeyLastUsed" => {
                let id = call.required("UserAccessKeyId")?.to_string();
                let user = user(&mut account, &user_name)?;
                let index = user.keys.iter().position(|k| k.id == id).ok_or_else(|| {
                    ApiError::new(
                        404,
                        "EntityNotExist.User.AccessKey",
                        format!("The access key does not exist: {id}."),
                    )
                })?;
                match action {
                    "UpdateAccessKey" => {
                        let status = call.required("Status")?;
                        if status != "Active" && status != "Inactive" {
                            return Err(ApiError::invalid(format!(
                                "The parameter Status must be Active or Inactive, not {status}."
                            )));
                        }
                        user.keys[index].status = status.to_string();
                    }
                    "DeleteAccessKey" => {
                        user.keys.remove(index);
                    }
                    _ => {
                        return Ok(json!({"AccessKeyLastUsed": {"LastUsedDate": timestamp(call.now)}}));
                    }
                }
                Ok(json!({}))
            }
            other => Err(ApiError::new(
                404,
                "InvalidAction.NotFound",
                format!("Specified api is not found, please check your url and method: {other}"),
            )),
        }
    }
}

impl CloudApi for Ram {
    fn name(&self) -> &'static str {
        "alicloud-ram"
    }

    fn matches(&self, req: &SandboxRequest) -> bool {
        is_version(req, "2015-05-01")
    }

    fn action(&self, req: &SandboxRequest) -> Option<String> {
        action_of(req)
    }

    fn handle(&self, req: &SandboxRequest) -> Response {
        serve(HOST, &self.account, req, |action, call| self.dispatch(action, call))
    }

    fn throttled(&self, _req: &SandboxRequest) -> Response {
        super::user_throttled_response(HOST)
    }

    fn server_error(&self, _req: &SandboxRequest) -> Response {
        server_error_response(HOST)
    }

    fn fixtures(&self) -> Value {
        super::fixtures()
    }

    fn provider_settings(&self, base_url: &str) -> Value {
        super::provider_settings(base_url)
    }

    fn snapshot(&self) -> Value {
        let account = self.account.lock().expect("account lock");
        json!({"users": account.users})
    }

    fn restore(&self, state: &Value) -> Result<(), String> {
        let users: BTreeMap<String, User> =
            serde_json::from_value(state.get("users").cloned().unwrap_or_default()).map_err(|e| e.to_string())?;
        self.account.lock().expect("account lock").users = users;
        Ok(())
    }
}
