//! The ECS instance RAM role from the metadata service, hardened mode: a session token from
//! `PUT /latest/api/token` goes with every read, which defeats SSRF through plain GETs.

use super::SigningKey;
use super::sts::parse_expiration;
use serde::Deserialize;
use std::time::Duration;

/// The metadata service of every ECS instance.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";
/// The lifetime asked for the metadata token (the SDKs' six hours).
const TOKEN_TTL_SECONDS: &str = "21600";
/// The metadata service is local: a slow answer means there is none.
const TIMEOUT: Duration = Duration::from_secs(5);
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    #[serde(default)]
    code: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    security_token: Option<String>,
    expiration: Option<String>,
}

/// The role's current credentials; the role is asked of the service when not named.
pub async fn fetch(http: &reqwest::Client, endpoint: &str, role_name: Option<&str>) -> Result<SigningKey, String> {
    let base = endpoint.trim_end_matches('/');
    let token = send(
        http.put(format!("{base}/latest/api/token"))
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS),
        "the metadata token (PUT /latest/api/token)",
    )
    .await?;
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .header("X-aliyun-ecs-metadata-token", token.trim())
    };
    let role = match role_name {
        Some(name) => name.to_string(),
        None => {
            let names = send(get(CREDENTIALS_PATH.into()), "the instance's role name").await?;
            names
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .ok_or("the instance has no RAM role attached")?
                .to_string()
        }
    };
    let text = send(
        get(format!("{CREDENTIALS_PATH}{role}")),
        &format!("the credentials of role {role}"),
    )
    .await?;
    let doc: RoleCredentials =
        serde_json::from_str(&text).map_err(|e| format!("the credentials of role {role} are not JSON: {e}"))?;
    if doc.code.as_deref() != Some("Success") {
        return Err(format!(
            "the metadata service answered Code {:?} for role {role}",
            doc.code.unwrap_or_default()
        ));
    }
    let (Some(id), Some(secret), Some(token), Some(expiration)) = (
        doc.access_key_id,
        doc.access_key_secret,
        doc.security_token,
        doc.expiration,
    ) else {
        return Err(format!("the credentials of role {role} are incomplete"));
    };
    let mut key = SigningKey::new(id, secret, Some(token));
    key.expiration = Some(parse_expiration(&expiration)?);
    Ok(key)
}

async fn send(request: reqwest::RequestBuilder, what: &str) -> Result<String, String> {
    let response = request
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("cannot get {what}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("cannot get {what}: HTTP {}", status.as_u16()));
    }
    response
        .text()
        .await
        .map_err(|e| format!("cannot get {what}: the answer broke off: {e}"))
}
