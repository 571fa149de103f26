//! OCI instance principals: a compute instance's identity certificate, exchanged for a session
//! token at the Auth service's X.509 federation endpoint, as the OCI SDKs do.
//!
//! 1. The instance metadata service (`http://169.254.169.254/opc/v2`, or `OCI_METADATA_BASE_URL`
//!    as in the OCI Go SDK; every read with `Authorization: Bearer Oracle`) gives the region,
//!    the leaf certificate and its key, and the intermediate certificate.
//! 2. A fresh RSA session key pair is made.
//! 3. `POST <auth endpoint>/v1/x509` with the certificates and the session public key, signed
//!    with the leaf key under keyId `<tenancy>/fed-x509-sha256/<leaf SHA-256>`; the tenancy is
//!    the `opc-tenant:` value of the leaf's subject. The endpoint is
//!    `https://auth.<region>.<realm domain>`, or `OCI_SDK_AUTH_CLIENT_REGION_URL` (the SDKs' name).
//! 4. The answer's token signs requests with keyId `ST$<token>` and the session key.
//!
//! Errors name the metadata or federation URL and the reason, never a key or a token.

use super::principal::Principal;
use super::realm;
use super::sign::{OciSigner, SignableRequest, load_private_key_pem};
use ::http::{Method, Uri};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs8::EncodePublicKey;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::SystemTime;
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

/// The variable that overrides the metadata service's base URL (the OCI Go SDK's name).
pub const ENV_METADATA_BASE: &str = "OCI_METADATA_BASE_URL";
/// The metadata service of every OCI instance.
pub const DEFAULT_METADATA_BASE: &str = "http://169.254.169.254/opc/v2";
/// The variable that overrides the federation endpoint (the OCI SDKs' name).
pub const ENV_FEDERATION_ENDPOINT: &str = "OCI_SDK_AUTH_CLIENT_REGION_URL";
/// The federation path under the Auth endpoint.
pub const FEDERATION_PATH: &str = "/v1/x509";
/// The session key size, as the OCI SDKs make it.
const SESSION_KEY_BITS: usize = 2048;

/// Where an instance principal comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceSource {
    /// The metadata service base URL, without a trailing slash.
    pub metadata_base: String,
    /// The Auth endpoint, when overridden; else the region's.
    pub federation_endpoint: Option<String>,
}

impl InstanceSource {
    /// The source the environment names (the SDKs' variables), else the defaults.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        InstanceSource {
            metadata_base: env(ENV_METADATA_BASE)
                .unwrap_or_else(|| DEFAULT_METADATA_BASE.to_string())
                .trim_end_matches('/')
                .to_string(),
            federation_endpoint: env(ENV_FEDERATION_ENDPOINT).map(|e| e.trim_end_matches('/').to_string()),
        }
    }

    /// How errors name this source.
    pub fn describe(&self) -> String {
        format!("OCI instance principal (metadata {})", self.metadata_base)
    }

    /// Reads the instance's identity and federates it into a session-token principal.
    pub async fn federate(&self, http: &reqwest::Client) -> Result<Principal, String> {
        let region_text = self.metadata(http, "/instance/region").await?;
        let region = realm::canonical_region(region_text.trim());
        let leaf_pem = self.metadata(http, "/identity/cert.pem").await?;
        let leaf_key_pem = zeroize::Zeroizing::new(self.metadata(http, "/identity/key.pem").await?);
        let intermediate_pem = self.metadata(http, "/identity/intermediate.pem").await?;

        let leaf = Certificate::from_pem(leaf_pem.trim())
            .map_err(|e| format!("{}: /identity/cert.pem is not a PEM certificate: {e}", self.describe()))?;
        let leaf_der = leaf
            .to_der()
            .map_err(|e| format!("{}: the certificate: {e}", self.describe()))?;
        let tenancy = tenancy_of(&leaf).ok_or_else(|| {
            format!(
                "{}: the instance certificate's subject has no opc-tenant: attribute",
                self.describe()
            )
        })?;
        let intermediates = certificates_der(&intermediate_pem)
            .map_err(|e| format!("{}: /identity/intermediate.pem: {e}", self.describe()))?;
        let leaf_key = load_private_key_pem(&leaf_key_pem, None)
            .map_err(|e| format!("{}: /identity/key.pem: {e}", self.describe()))?;
        let leaf_signer = OciSigner::new(
            format!("{tenancy}/fed-x509-sha256/{}", fingerprint_sha256(&leaf_der)),
            leaf_key,
        );

        let session_key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, SESSION_KEY_BITS)
            .map_err(|e| format!("{}: cannot make a session key: {e}", self.describe()))?;
        let public_der = RsaPublicKey::from(&session_key)
            .to_public_key_der()
            .map_err(|e| format!("{}: cannot encode the session key: {e}", self.describe()))?;
        let body = json!({
            "certificate": B64.encode(&leaf_der),
            "publicKey": B64.encode(public_der.as_bytes()),
            "intermediateCertificates": intermediates.iter().map(|c| B64.encode(c)).collect::<Vec<_>>(),
            "purpose": "DEFAULT",
            "fingerprintAlgorithm": "SHA256",
        });
        let token = self.exchange(http, &region, &leaf_signer, &body).await?;
        Ok(Principal {
            signer: OciSigner::new(format!("ST${token}"), session_key),
            tenancy: Some(tenancy),
            region: Some(region),
            source: self.describe(),
        })
    }

    /// One metadata read, as text.
    async fn metadata(&self, http: &reqwest::Client, path: &str) -> Result<String, String> {
        let url = format!("{}{path}", self.metadata_base);
        let reply = http
            .get(&url)
            .header("authorization", "Bearer Oracle")
            .send()
            .await
            .map_err(|e| format!("{}: cannot read {url}: {e}", self.describe()))?;
        let status = reply.status();
        if !status.is_success() {
            return Err(format!("{}: {url} answered {status}", self.describe()));
        }
        reply
            .text()
            .await
            .map_err(|e| format!("{}: cannot read {url}: {e}", self.describe()))
    }

    /// The signed federation call; returns the session token.
    async fn exchange(
        &self,
        http: &reqwest::Client,
        region: &str,
        signer: &OciSigner,
        body: &Value,
    ) -> Result<String, String> {
        let endpoint = self
            .federation_endpoint
            .clone()
            .unwrap_or_else(|| realm::service_endpoint("auth", region));
        let url = format!("{endpoint}{FEDERATION_PATH}");
        let fail = |why: String| format!("{}: federation at {url}: {why}", self.describe());
        let uri: Uri = url.parse().map_err(|e| fail(format!("bad URL: {e}")))?;
        let bytes = serde_json::to_vec(body).map_err(|e| fail(e.to_string()))?;
        let date = httpdate::fmt_http_date(SystemTime::now());
        let signed = signer
            .sign(&SignableRequest {
                method: &Method::POST,
                uri: &uri,
                date: &date,
                content_type: Some("application/json"),
                body: &bytes,
            })
            .map_err(|e| fail(format!("cannot sign: {e}")))?;
        let mut request = http.post(&url).header("accept", "application/json");
        for (name, value) in signed {
            request = request.header(name, value);
        }
        let reply = request.body(bytes).send().await.map_err(|e| fail(e.to_string()))?;
        let status = reply.status();
        let answer: Value = reply.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let code = answer.get("code").and_then(Value::as_str).unwrap_or("");
            let message = answer.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(fail(format!("{status} {code} {message}").trim_end().to_string()));
        }
        answer
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| fail("the answer has no token".into()))
    }
}

/// The tenancy OCID of an instance certificate: its subject's `opc-tenant:` value.
pub fn tenancy_of(certificate: &Certificate) -> Option<String> {
    let subject = certificate.tbs_certificate.subject.to_string();
    subject
        .split([',', '+'])
        .filter_map(|rdn| rdn.split_once('=').map(|(_, v)| v.trim()))
        .find_map(|value| value.strip_prefix("opc-tenant:"))
        .map(str::to_owned)
}

/// Every certificate of a PEM bundle, as DER.
fn certificates_der(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    for block in pem
        .split_inclusive(END)
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
    {
        let cert = Certificate::from_pem(block.trim()).map_err(|e| format!("not a PEM certificate: {e}"))?;
        out.push(cert.to_der().map_err(|e| e.to_string())?);
    }
    if out.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(out)
}

/// The SHA-256 of a certificate's DER, lower-case hex pairs joined by `:`.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_sdks_variables_override_the_defaults() {
        let none = |_: &str| None;
        assert_eq!(
            InstanceSource::from_env(&none),
            InstanceSource {
                metadata_base: DEFAULT_METADATA_BASE.into(),
                federation_endpoint: None
            }
        );
        let vars: HashMap<&str, &str> = [
            (ENV_METADATA_BASE, "http://127.0.0.1:9/opc/v2/"),
            (ENV_FEDERATION_ENDPOINT, "http://127.0.0.1:9/"),
        ]
        .into();
        let source = InstanceSource::from_env(&|n: &str| vars.get(n).map(|v| v.to_string()));
        assert_eq!(source.metadata_base, "http://127.0.0.1:9/opc/v2");
        assert_eq!(source.federation_endpoint.as_deref(), Some("http://127.0.0.1:9"));
    }

    #[test]
    fn fingerprints_are_lower_case_colon_pairs() {
        let fp = fingerprint_sha256(b"");
        assert!(fp.starts_with("e3:b0:c4:42:98:fc:1c:14"), "{fp}");
        assert_eq!(fp.len(), 32 * 3 - 1);
    }

    #[test]
    fn a_bundle_without_certificates_is_refused() {
        assert!(certificates_der("nothing").is_err());
    }
}
