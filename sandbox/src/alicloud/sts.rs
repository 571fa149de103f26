//! STS (2015-04-01), emulated: `AssumeRole` (signed by a RAM user or another session) and
//! `AssumeRoleWithOIDC` (anonymous; the OIDC token's issuer, audience and expiry are checked,
//! not its signature: the sandbox has no identity provider's keys). Sessions expire, and RAM and
//! KMS accept an `STS.` key only with its own, unexpired security token ([`check_session`]).

use super::{
    ACCOUNT_ID, Account, Answer, ApiError, Call, action_of, answer, is_version, random_chars, serve,
    server_error_response, timestamp,
};
use crate::{CloudApi, SandboxRequest};
use axum::response::Response;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const HOST: &str = "sts.aliyuncs.com";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// The role any RAM user or OIDC identity of the sandbox may assume.
pub const ROLE_NAME: &str = "sandbox-ci";
/// Its ARN.
pub const ROLE_ARN: &str = "acs:ram::1234567890123456:role/sandbox-ci";
/// The OIDC identity provider registered in the account.
pub const OIDC_PROVIDER_ARN: &str = "acs:ram::1234567890123456:oidc-provider/sandbox-oidc";
/// The issuer (`iss`) its tokens must carry.
pub const OIDC_ISSUER: &str = "https://oidc.sandbox.credplane.test";
/// The client id (`aud`) its tokens must carry.
pub const OIDC_AUDIENCE: &str = "sts.aliyuncs.com";
/// The shortest and longest sessions (the role's maximum session duration is one hour).
const DURATIONS: std::ops::RangeInclusive<i64> = 900..=3600;

/// An issued STS session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub secret: String,
    pub security_token: String,
    pub expiration: DateTime<Utc>,
    /// `role/<name>/<session>`: what RAM sees as the caller.
    pub identity: String,
}

impl Account {
    /// Issues a session for `role` lasting `seconds`; returns its id.
    pub(crate) fn issue_session(&mut self, role: &str, session_name: &str, now: DateTime<Utc>, seconds: i64) -> String {
        let id = format!("STS.N{}", random_chars(21, ALNUM));
        let session = Session {
            secret: random_chars(44, ALNUM),
            security_token: format!("CAIS{}", random_chars(120, ALNUM)),
            expiration: now + Duration::seconds(seconds),
            identity: format!("role/{role}/{session_name}"),
        };
        self.sessions.insert(id.clone(), session);
        id
    }

    /// The `Credentials` document of session `id`.
    pub(crate) fn credentials_json(&self, id: &str) -> Value {
        let s = &self.sessions[id];
        json!({
            "AccessKeyId": id,
            "AccessKeySecret": s.secret,
            "SecurityToken": s.security_token,
            "Expiration": timestamp(s.expiration),
        })
    }
}

/// Whether a call signed by a session carries its token, unexpired.
pub(crate) fn check_session(session: &Session, sent: Option<&str>, now: DateTime<Utc>) -> Result<(), ApiError> {
    match sent {
        None | Some("") => Err(ApiError::new(
            400,
            "InvalidSecurityToken.Missing",
            "An STS AccessKey needs its SecurityToken.",
        )),
        Some(token) if token != session.security_token => Err(ApiError::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "The SecurityToken does not match the AccessKeyId.",
        )),
        Some(_) if now >= session.expiration => Err(ApiError::new(
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        )),
        Some(_) => Ok(()),
    }
}

/// The emulated STS API.
pub struct Sts {
    account: Arc<Mutex<Account>>,
}

impl Sts {
    /// STS over the shared `account`.
    pub(crate) fn new(account: Arc<Mutex<Account>>) -> Self {
        Sts { account }
    }

    fn dispatch(&self, action: &str, call: &Call) -> Answer {
        match action {
            "AssumeRole" => {
                let seconds = duration(call)?;
                let role = role_of(call.required("RoleArn")?)?;
                let session_name = session_name(call)?;
                let mut account = self.account.lock().expect("account lock");
                let id = account.issue_session(role, session_name, call.now, seconds);
                Ok(assumed(&account, &id, role, session_name))
            }
            "GetCallerIdentity" => {
                Ok(json!({"AccountId": ACCOUNT_ID, "Arn": format!("acs:ram::{ACCOUNT_ID}:{}", call.caller)}))
            }
            other => Err(ApiError::new(
                404,
                "InvalidAction.NotFound",
                format!("Specified api is not found, please check your url and method: {other}"),
            )),
        }
    }

    /// AssumeRoleWithOIDC: no signature, the token is the proof.
    fn assume_role_with_oidc(&self, req: &SandboxRequest) -> Answer {
        let call = Call {
            params: req.params(),
            caller: String::new(),
            now: req.now,
        };
        let seconds = duration(&call)?;
        let role = role_of(call.required("RoleArn")?)?;
        if call.required("OIDCProviderArn")? != OIDC_PROVIDER_ARN {
            return Err(ApiError::new(
                404,
                "EntityNotExist.OIDCProvider",
                "The specified OIDC provider does not exist.",
            ));
        }
        let subject = check_oidc_token(call.required("OIDCToken")?, req.now)?;
        let session_name = session_name(&call)?;
        let mut account = self.account.lock().expect("account lock");
        let id = account.issue_session(role, session_name, req.now, seconds);
        let mut body = assumed(&account, &id, role, session_name);
        body["OIDCTokenInfo"] = json!({"Issuer": OIDC_ISSUER, "Subject": subject, "ClientIds": OIDC_AUDIENCE});
        Ok(body)
    }
}

fn duration(call: &Call) -> Result<i64, ApiError> {
    let seconds = match call.get("DurationSeconds") {
        None => 3600,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(format!("DurationSeconds must be a number, not {v:?}")))?,
    };
    if !DURATIONS.contains(&seconds) {
        return Err(ApiError::new(
            400,
            "InvalidParameter.DurationSeconds",
            format!(
                "DurationSeconds must be between {} and {} (the role's maximum session duration).",
                DURATIONS.start(),
                DURATIONS.end()
            ),
        ));
    }
    Ok(seconds)
}

fn role_of(arn: &str) -> Result<&'static str, ApiError> {
    if arn.eq_ignore_ascii_case(ROLE_ARN) {
        Ok(ROLE_NAME)
    } else if arn.eq_ignore_ascii_case(super::metadata::ECS_ROLE_ARN) {
        Ok(super::metadata::ECS_ROLE_NAME)
    } else {
        Err(ApiError::new(
            404,
            "EntityNotExist.Role",
            format!("The role does not exist: {arn}."),
        ))
    }
}

fn session_name(call: &Call) -> Result<&str, ApiError> {
    let name = call.required("RoleSessionName")?;
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'));
    if ok {
        Ok(name)
    } else {
        Err(ApiError::invalid(
            "RoleSessionName must be 2 to 64 characters of letters, digits, '.', '@', '-' and '_'.",
        ))
    }
}

fn assumed(account: &Account, id: &str, role: &str, session_name: &str) -> Value {
    json!({
        "AssumedRoleUser": {
            "Arn": format!("acs:ram::{ACCOUNT_ID}:role/{role}/{session_name}"),
            "AssumedRoleId": format!("3{}:{session_name}", &ACCOUNT_ID[..10]),
        },
        "Credentials": account.credentials_json(id),
    })
}

/// Checks the token's claims; returns its subject.
fn check_oidc_token(token: &str, now: DateTime<Utc>) -> Result<String, ApiError> {
    let invalid = |why: &str| {
        ApiError::new(
            400,
            "AuthenticationFail.OIDCToken.Invalid",
            format!("The OIDC token is invalid: {why}."),
        )
    };
    let payload = token.split('.').nth(1).ok_or_else(|| invalid("not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("the payload is not base64url"))?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| invalid("the payload is not JSON"))?;
    if claims.get("iss").and_then(Value::as_str) != Some(OIDC_ISSUER) {
        return Err(invalid("the issuer is not the provider's"));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == OIDC_AUDIENCE,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(OIDC_AUDIENCE)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid("the audience is not one of the provider's client ids"));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("no exp"))?;
    if exp <= now.timestamp() {
        return Err(ApiError::new(
            400,
            "AuthenticationFail.OIDCToken.Expired",
            "The OIDC token is expired.",
        ));
    }
    Ok(claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

/// An unsigned JWT the sandbox's OIDC provider accepts, for tests: `sub`, expiring in `seconds`.
pub fn oidc_token(sub: &str, seconds: i64) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = Utc::now().timestamp() + seconds;
    format!(
        "{}.{}.c2FuZGJveA",
        b64(&json!({"alg": "RS256", "typ": "JWT"})),
        b64(&json!({"iss": OIDC_ISSUER, "aud": OIDC_AUDIENCE, "sub": sub, "exp": exp, "iat": exp - seconds}))
    )
}

impl CloudApi for Sts {
    fn name(&self) -> &'static str {
        "alicloud-sts"
    }

    fn matches(&self, req: &SandboxRequest) -> bool {
        is_version(req, super::STS_VERSION)
    }

    fn action(&self, req: &SandboxRequest) -> Option<String> {
        action_of(req)
    }

    fn handle(&self, req: &SandboxRequest) -> Response {
        if action_of(req).as_deref() == Some("AssumeRoleWithOIDC") {
            return answer(HOST, self.assume_role_with_oidc(req));
        }
        serve(HOST, &self.account, req, |action, call| self.dispatch(action, call))
    }

    fn throttled(&self, _req: &SandboxRequest) -> Response {
        super::user_throttled_response(HOST)
    }

    fn server_error(&self, _req: &SandboxRequest) -> Response {
        server_error_response(HOST)
    }

    fn fixtures(&self) -> Value {
        json!({
            "role_arn": ROLE_ARN,
            "oidc_provider_arn": OIDC_PROVIDER_ARN,
            "oidc_issuer": OIDC_ISSUER,
            "oidc_audience": OIDC_AUDIENCE,
            "ecs_role_name": super::metadata::ECS_ROLE_NAME,
        })
    }

    fn provider_settings(&self, base_url: &str) -> Value {
        json!({"alicloud": {"sts_endpoint": base_url}})
    }

    fn snapshot(&self) -> Value {
        json!({"sessions": self.account.lock().expect("account lock").sessions})
    }

    fn restore(&self, state: &Value) -> Result<(), String> {
        let sessions: BTreeMap<String, Session> =
            serde_json::from_value(state.get("sessions").cloned().unwrap_or_default()).map_err(|e| e.to_string())?;
        self.account.lock().expect("account lock").sessions = sessions;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_need_their_own_unexpired_token() {
        let mut account = Account::seeded();
        let now = Utc::now();
        let id = account.issue_session(ROLE_NAME, "s", now, 900);
        let s = account.sessions[&id].clone();
        assert!(check_session(&s, Some(&s.security_token), now).is_ok());
        assert_eq!(
            check_session(&s, None, now).unwrap_err().code,
            "InvalidSecurityToken.Missing"
        );
        assert_eq!(
            check_session(&s, Some("CAISother"), now).unwrap_err().code,
            "InvalidSecurityToken.MismatchWithAccessKey"
        );
        let later = now + Duration::seconds(901);
        assert_eq!(
            check_session(&s, Some(&s.security_token), later).unwrap_err().code,
            "InvalidSecurityToken.Expired"
        );
    }

    #[test]
    fn oidc_tokens_are_checked_for_issuer_audience_and_expiry() {
        let now = Utc::now();
        assert_eq!(check_oidc_token(&oidc_token("ci", 600), now).unwrap(), "ci");
        assert_eq!(
            check_oidc_token(&oidc_token("ci", -1), now).unwrap_err().code,
            "AuthenticationFail.OIDCToken.Expired"
        );
        assert!(check_oidc_token("not-a-jwt", now).is_err());
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let foreign = format!(
            "x.{}.y",
            b64(json!({"iss": "https://evil", "aud": OIDC_AUDIENCE, "exp": i64::MAX}))
        );
        assert!(check_oidc_token(&foreign, now).is_err());
    }
}
