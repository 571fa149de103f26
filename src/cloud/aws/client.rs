//! The IAM Query API (version 2010-05-08): form-encoded POSTs signed with SigV4, XML answers.

use super::config::{self, AwsAccess};
use super::settings::AwsSettings;
use super::sign::{self, SignableRequest, SigningParams};
use crate::cloud::call::Call;
use crate::cloud::error::CloudError;
use crate::cloud::http;
use crate::cloud::retry::{Idempotency, RetryPolicy, with_retries};
use crate::secrets::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

const SERVICE: &str = "IAM";
const API_VERSION: &str = "2010-05-08";

/// A client of the IAM Query API.
#[derive(Clone, Debug)]
pub struct IamClient {
    http: reqwest::Client,
    access: Arc<AwsAccess>,
    retry: RetryPolicy,
}

/// An access key as `CreateAccessKey` returns it: the only time its secret is seen.
#[derive(Debug, Clone)]
pub struct NewAccessKey {
    /// The owning user.
    pub user_name: String,
    /// The id.
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// The secret access key.
    pub secret_access_key: Secret<String>,
    /// ISO 8601 creation time.
    pub create_date: Option<String>,
}

/// An access key as `ListAccessKeys` returns it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AccessKeyMetadata {
    /// The owning user.
    #[serde(rename = "UserName", default)]
    pub user_name: String,
    /// The id.
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    #[serde(rename = "Status", default)]
    pub status: String,
    /// ISO 8601 creation time.
    #[serde(rename = "CreateDate", default)]
    pub create_date: Option<String>,
}

#[derive(Deserialize)]
struct CreateAccessKeyResponse {
    #[serde(rename = "CreateAccessKeyResult")]
    result: CreateAccessKeyResult,
}

#[derive(Deserialize)]
struct CreateAccessKeyResult {
    #[serde(rename = "AccessKey")]
    access_key: RawAccessKey,
}

#[derive(Deserialize)]
struct RawAccessKey {
    #[serde(rename = "UserName", default)]
    user_name: String,
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "Status", default)]
    status: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
    #[serde(rename = "CreateDate", default)]
    create_date: Option<String>,
}

#[derive(Deserialize)]
struct ListAccessKeysResponse {
    #[serde(rename = "ListAccessKeysResult")]
    result: ListAccessKeysResult,
}

#[derive(Deserialize)]
struct ListAccessKeysResult {
    #[serde(rename = "AccessKeyMetadata", default)]
    metadata: Members<AccessKeyMetadata>,
    #[serde(rename = "IsTruncated", default)]
    is_truncated: bool,
    #[serde(rename = "Marker", default)]
    marker: Option<String>,
}

#[derive(Deserialize)]
struct Members<T> {
    #[serde(rename = "member", default = "Vec::new")]
    member: Vec<T>,
}

impl<T> Default for Members<T> {
    fn default() -> Self {
        Members { member: Vec::new() }
    }
}

#[derive(Deserialize)]
struct GetAccessKeyLastUsedResponse {
    #[serde(rename = "GetAccessKeyLastUsedResult")]
    result: GetAccessKeyLastUsedResult,
}

#[derive(Deserialize)]
struct GetAccessKeyLastUsedResult {
    #[serde(rename = "UserName", default)]
    user_name: Option<String>,
}

/// `<ErrorResponse><Error>...</Error><RequestId/></ErrorResponse>`; moto nests `<Errors>` too.
#[derive(Deserialize, Default)]
struct ErrorResponse {
    #[serde(rename = "Error", default)]
    error: Option<ErrorBody>,
    #[serde(rename = "Errors", default)]
    errors: Option<ErrorList>,
    #[serde(rename = "RequestId", alias = "RequestID", default)]
    request_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorList {
    #[serde(rename = "Error", default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize, Default, Clone)]
struct ErrorBody {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

/// Error codes after which the same call may succeed.
fn retryable_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "ServiceFailure"
            | "ServiceUnavailable"
            | "InternalFailure"
    )
}

/// Parses an IAM error document into a [`CloudError::Api`].
pub fn parse_error(status: u16, body: &str, retry_after: Option<std::time::Duration>) -> CloudError {
    let parsed: ErrorResponse = quick_xml::de::from_str(body).unwrap_or_default();
    let nested = parsed.errors.and_then(|e| e.error);
    let ErrorBody { code, message } = parsed.error.or(nested).unwrap_or_else(|| ErrorBody {
        code: format!("HTTP{status}"),
        message: "the answer held no IAM error document".into(),
    });
    CloudError::Api {
        service: SERVICE,
        retryable: status >= 500 || status == 429 || retryable_code(&code),
        not_found: code == "NoSuchEntity",
        code,
        message,
        request_id: parsed.request_id,
        status,
        retry_after,
    }
}

/// Error codes saying the credentials (a session) expired: refresh once, then report.
fn expired_code(code: &str) -> bool {
    matches!(code, "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired")
}

impl IamClient {
    /// A client with resolved AWS access.
    pub fn new(http: reqwest::Client, access: Arc<AwsAccess>, retry: RetryPolicy) -> Self {
        IamClient { http, access, retry }
    }

    /// A client for `settings`, filled in from the AWS credential chain (credentials are fetched
    /// on first use and cached with the client, which the factory keeps per `configure`).
    pub fn configured(
        settings: Option<&AwsSettings>,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<Self, CloudError> {
        let resolved = config::resolve(settings).map_err(CloudError::Configuration)?;
        Ok(IamClient::new(http, Arc::new(AwsAccess::new(resolved)), retry))
    }

    /// The IAM endpoint in use (with the partition, it names the account's cloud).
    pub fn endpoint(&self) -> &str {
        &self.access.endpoint
    }

    /// The configured region (not the signing region, which follows the partition).
    pub fn region(&self) -> &str {
        &self.access.region
    }

    /// One attempt of one action. Credentials the cloud calls expired are refreshed once; if the
    /// refreshed ones are refused as expired too, that is reported as a credentials failure.
    async fn send(&self, action: &str, params: &[(&str, &str)]) -> Result<String, CloudError> {
        match self.send_signed(action, params).await {
            Err(err) if err.code().is_some_and(expired_code) => {
                self.access.credentials.invalidate().await;
                match self.send_signed(action, params).await {
                    Err(CloudError::Api { code, message, .. }) if expired_code(&code) => Err(CloudError::Credentials {
                        cloud: "aws",
                        source_name: self.access.credentials.source(),
                        reason: format!("IAM still refused them after one refresh ({code}: {message})"),
                    }),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// One signed request: returns the XML body of a 2xx answer.
    async fn send_signed(&self, action: &str, params: &[(&str, &str)]) -> Result<String, CloudError> {
        let credentials = self
            .access
            .credentials
            .get()
            .await
            .map_err(|f| CloudError::Credentials {
                cloud: "aws",
                source_name: f.source,
                reason: f.reason,
            })?;
        let endpoint = &self.access.endpoint;
        let body = form_body(action, params);
        // Every header reqwest would send (but the user agent) is signed, so any verifier that
        // recomputes over what it received agrees.
        let headers = vec![
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ),
            ("content-length".to_string(), body.len().to_string()),
            ("accept".to_string(), "*/*".to_string()),
        ];
        let signable = SignableRequest {
            method: "POST",
            uri: endpoint,
            headers: &headers,
            body: &body,
        };
        let params = SigningParams::new(&credentials, &self.access.signing_region, "iam", chrono::Utc::now());
        let signed = sign::sign(&signable, &params).map_err(|e| CloudError::Signing {
            service: SERVICE,
            detail: e.to_string(),
        })?;
        let mut request = self.http.post(endpoint);
        for (name, value) in headers.iter() {
            request = request.header(name.as_str(), value.as_str());
        }
        for (name, value) in signed.headers {
            request = request.header(name, value);
        }
        let reply = http::send(SERVICE, action, request.body(body)).await?;
        let text = String::from_utf8_lossy(&reply.body);
        if reply.is_success() {
            Ok(text.into_owned())
        } else {
            Err(parse_error(reply.status.as_u16(), &text, reply.retry_after))
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        call: &Call,
        idempotency: Idempotency,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<T, CloudError> {
        let body = with_retries(call, self.retry, idempotency, || self.send(action, params)).await?;
        decode(action, &body)
    }

    /// `CreateAccessKey`. Not idempotent: an ambiguous failure is returned, never retried.
    pub async fn create_access_key(&self, call: &Call, user: &str) -> Result<NewAccessKey, CloudError> {
        let r: CreateAccessKeyResponse = self
            .call(
                call,
                Idempotency::NotIdempotent,
                "CreateAccessKey",
                &[("UserName", user)],
            )
            .await?;
        let k = r.result.access_key;
        Ok(NewAccessKey {
            user_name: k.user_name,
            access_key_id: k.access_key_id,
            status: k.status,
            secret_access_key: Secret::new(k.secret_access_key),
            create_date: k.create_date,
        })
    }

    /// `UpdateAccessKey`: sets `Active` or `Inactive`.
    pub async fn update_access_key(
        &self,
        call: &Call,
        user: &str,
        access_key_id: &str,
        status: &str,
    ) -> Result<(), CloudError> {
        let params = [("UserName", user), ("AccessKeyId", access_key_id), ("Status", status)];
        with_retries(call, self.retry, Idempotency::Idempotent, || {
            self.send("UpdateAccessKey", &params)
        })
        .await
        .map(drop)
    }

    /// `DeleteAccessKey`.
    pub async fn delete_access_key(&self, call: &Call, user: &str, access_key_id: &str) -> Result<(), CloudError> {
        let params = [("UserName", user), ("AccessKeyId", access_key_id)];
        with_retries(call, self.retry, Idempotency::Idempotent, || {
            self.send("DeleteAccessKey", &params)
        })
        .await
        .map(drop)
    }

    /// `ListAccessKeys`, every page.
    pub async fn list_access_keys(&self, call: &Call, user: &str) -> Result<Vec<AccessKeyMetadata>, CloudError> {
        let mut keys = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut params = vec![("UserName", user)];
            if let Some(m) = &marker {
                params.push(("Marker", m.as_str()));
            }
            let r: ListAccessKeysResponse = self
                .call(call, Idempotency::Idempotent, "ListAccessKeys", &params)
                .await?;
            keys.extend(r.result.metadata.member.into_iter().map(|mut k| {
                if k.user_name.is_empty() {
                    k.user_name = user.to_string();
                }
                k
            }));
            match (r.result.is_truncated, r.result.marker) {
                (true, Some(next)) if !next.is_empty() && Some(&next) != marker.as_ref() => marker = Some(next),
                _ => return Ok(keys),
            }
        }
    }

    /// `GetAccessKeyLastUsed`: the user owning a key (`None` when IAM does not say).
    pub async fn access_key_user(&self, call: &Call, access_key_id: &str) -> Result<Option<String>, CloudError> {
        let r: GetAccessKeyLastUsedResponse = self
            .call(
                call,
                Idempotency::Idempotent,
                "GetAccessKeyLastUsed",
                &[("AccessKeyId", access_key_id)],
            )
            .await?;
        Ok(r.result.user_name.filter(|u| !u.is_empty()))
    }
}

/// `Action=...&Version=2010-05-08&...`, form-encoded.
fn form_body(action: &str, params: &[(&str, &str)]) -> Vec<u8> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action).append_pair("Version", API_VERSION);
    for (k, v) in params {
        form.append_pair(k, v);
    }
    form.finish().into_bytes()
}

fn decode<T: DeserializeOwned>(action: &str, body: &str) -> Result<T, CloudError> {
    quick_xml::de::from_str(body).map_err(|e| CloudError::Decode {
        service: SERVICE,
        detail: format!("{action}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_decides_what_is_not_found() {
        let gone = r#"<ErrorResponse><Error><Code>NoSuchEntity</Code><Message>no</Message></Error></ErrorResponse>"#;
        assert!(parse_error(404, gone, None).is_not_found());
        let limit = r#"<ErrorResponse><Error><Code>LimitExceeded</Code><Message>no</Message></Error></ErrorResponse>"#;
        assert!(!parse_error(409, limit, None).is_not_found());
    }

    #[test]
    fn parses_real_error_documents() {
        let body = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message></Error><RequestId>abc</RequestId></ErrorResponse>"#;
        let err = parse_error(404, body, None);
        assert!(err.has_code("NoSuchEntity"));
        assert!(!err.is_retryable());
        assert_eq!(err.request_id(), Some("abc"));
        let throttled = parse_error(400, &body.replace("NoSuchEntity", "Throttling"), None);
        assert!(throttled.is_retryable());
        let moto = r#"<ErrorResponse><Errors><Error><Type>Sender</Type><Code>LimitExceeded</Code><Message>m</Message></Error></Errors><RequestId>r</RequestId></ErrorResponse>"#;
        assert!(parse_error(409, moto, None).has_code("LimitExceeded"));
        let garbage = parse_error(503, "<html>", None);
        assert!(garbage.is_retryable());
    }

    #[test]
    fn parses_list_access_keys() {
        let body = r#"<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListAccessKeysResult><UserName>bob</UserName><AccessKeyMetadata><member><UserName>bob</UserName><AccessKeyId>AKIAA</AccessKeyId><Status>Active</Status><CreateDate>2020-01-01T00:00:00Z</CreateDate></member><member><UserName>bob</UserName><AccessKeyId>AKIAB</AccessKeyId><Status>Inactive</Status></member></AccessKeyMetadata><IsTruncated>true</IsTruncated><Marker>m1</Marker></ListAccessKeysResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></ListAccessKeysResponse>"#;
        let r: ListAccessKeysResponse = decode("ListAccessKeys", body).unwrap();
        assert_eq!(r.result.metadata.member.len(), 2);
        assert_eq!(r.result.metadata.member[1].status, "Inactive");
        assert!(r.result.is_truncated);
        assert_eq!(r.result.marker.as_deref(), Some("m1"));
        let empty = r#"<ListAccessKeysResponse><ListAccessKeysResult><UserName>bob</UserName><AccessKeyMetadata/><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>"#;
        let r: ListAccessKeysResponse = decode("ListAccessKeys", empty).unwrap();
        assert!(r.result.metadata.member.is_empty());
    }
}
