//! STS (2015-04-01): `AssumeRole`, signed with the caller's credentials (RPC V1), and
//! `AssumeRoleWithOIDC`, which is anonymous: the OIDC token is the proof.

use super::{RoleRequest, SigningKey};
use crate::cloud::alicloud::sign::{common_params, format_timestamp, sign_rpc};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The STS API version.
pub const STS_VERSION: &str = "2015-04-01";

/// The STS endpoint URL: `explicit` when given, else the regional (or VPC) endpoint of
/// `region`, else the central `https://sts.aliyuncs.com`, as the official SDKs choose it.
pub fn sts_endpoint(explicit: Option<String>, region: Option<&str>, vpc: bool) -> String {
    if let Some(url) = explicit {
        return url.trim_end_matches('/').to_string();
    }
    let prefix = if vpc { "sts-vpc" } else { "sts" };
    match region.filter(|r| !r.is_empty()) {
        Some(region) => format!("https://{prefix}.{region}.aliyuncs.com"),
        None => "https://sts.aliyuncs.com".into(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResponse {
    credentials: Option<SessionCredentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SessionCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorDocument {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// `AssumeRole` with the credentials of `caller`.
pub async fn assume_role(
    http: &reqwest::Client,
    role: &RoleRequest,
    caller: &SigningKey,
) -> Result<SigningKey, String> {
    let nonce = uuid::Uuid::new_v4().to_string();
    let mut params = common_params(
        &caller.access_key_id,
        "AssumeRole",
        STS_VERSION,
        Utc::now(),
        &nonce,
        None,
    );
    if let Some(token) = &caller.security_token {
        params.push(("SecurityToken".into(), token.expose().clone()));
    }
    params.extend(role_params(role));
    if let Some(id) = &role.external_id {
        params.push(("ExternalId".into(), id.clone()));
    }
    let signature = sign_rpc("POST", &params, caller.access_key_secret.expose());
    params.push(("Signature".into(), signature));
    post(http, &role.sts_endpoint, "AssumeRole", &[], &params).await
}

/// `AssumeRoleWithOIDC` with `oidc_token`: common parameters in the query, the rest in the form.
pub async fn assume_role_with_oidc(
    http: &reqwest::Client,
    role: &RoleRequest,
    provider_arn: &str,
    oidc_token: &str,
) -> Result<SigningKey, String> {
    let query = [
        ("Action", "AssumeRoleWithOIDC".to_string()),
        ("Format", "JSON".into()),
        ("Version", STS_VERSION.into()),
        ("Timestamp", format_timestamp(Utc::now())),
    ];
    let mut form = role_params(role);
    form.push(("OIDCProviderArn".into(), provider_arn.into()));
    form.push(("OIDCToken".into(), oidc_token.into()));
    post(http, &role.sts_endpoint, "AssumeRoleWithOIDC", &query, &form).await
}

fn role_params(role: &RoleRequest) -> Vec<(String, String)> {
    let mut params = vec![
        ("RoleArn".to_string(), role.role_arn.clone()),
        ("RoleSessionName".into(), role.session_name.clone()),
        ("DurationSeconds".into(), role.duration_seconds.to_string()),
    ];
    if let Some(policy) = &role.policy {
        params.push(("Policy".into(), policy.clone()));
    }
    params
}

async fn post(
    http: &reqwest::Client,
    endpoint: &str,
    action: &str,
    query: &[(&str, String)],
    form: &[(String, String)],
) -> Result<SigningKey, String> {
    let body = serde_urlencoded::to_string(form).map_err(|e| format!("{action}: cannot encode the request: {e}"))?;
    let response = http
        .post(format!("{}/", endpoint.trim_end_matches('/')))
        .query(query)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{action}: could not reach STS: {e}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("{action}: the STS answer broke off: {e}"))?;
    if !status.is_success() {
        let doc: ErrorDocument = serde_json::from_slice(&bytes).unwrap_or(ErrorDocument {
            code: None,
            message: None,
        });
        return Err(format!(
            "{action} failed: HTTP {}, {}: {}",
            status.as_u16(),
            doc.code.unwrap_or_else(|| "no error code".into()),
            doc.message.unwrap_or_default()
        ));
    }
    let answer: AssumeRoleResponse =
        serde_json::from_slice(&bytes).map_err(|e| format!("{action}: unexpected answer: {e}"))?;
    let c = answer
        .credentials
        .ok_or_else(|| format!("{action}: the answer has no Credentials"))?;
    let mut key = SigningKey::new(c.access_key_id, c.access_key_secret, Some(c.security_token));
    key.expiration = Some(parse_expiration(&c.expiration).map_err(|e| format!("{action}: {e}"))?);
    Ok(key)
}

/// `2006-01-02T15:04:05Z`, as STS and the metadata service write expirations.
pub(super) fn parse_expiration(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("Expiration {text:?} is not a UTC timestamp: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_sdks() {
        assert_eq!(sts_endpoint(None, None, false), "https://sts.aliyuncs.com");
        assert_eq!(
            sts_endpoint(None, Some("cn-shanghai"), false),
            "https://sts.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            sts_endpoint(None, Some("cn-shanghai"), true),
            "https://sts-vpc.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            sts_endpoint(Some("http://127.0.0.1:9/".into()), Some("x"), true),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn expirations_parse() {
        assert_eq!(
            parse_expiration("2024-01-02T03:04:05Z").unwrap().to_rfc3339(),
            "2024-01-02T03:04:05+00:00"
        );
        assert!(parse_expiration("tomorrow").is_err());
    }
}
