//! OCI instance principals, emulated: the instance metadata service (v2) and the Auth
//! service's X.509 federation endpoint.
//!
//! - `GET /opc/v2/instance/region` and `GET /opc/v2/identity/{cert,key,intermediate}.pem`, each
//!   with `Authorization: Bearer Oracle` as the real service requires. The region comes back as
//!   the short code `iad`, as it does for OCI's first regions.
//! - `POST /v1/x509` with `{certificate, publicKey, intermediateCertificates, ...}`, signed with
//!   the instance certificate's key under keyId `<tenancy>/fed-x509-sha256/<cert SHA-256>`:
//!   answers `{"token": <session token>}` for the session public key, which Identity then
//!   accepts with keyId `ST$<token>` (see [`crate::oci_principals`]).
//!
//! The certificates (an intermediate CA and the instance's leaf, whose subject carries
//! `OU=opc-tenant:<tenancy>`) are made on first use, so a sandbox that never sees an instance
//! principal does not pay for two RSA keys.

use crate::oci::{OciIdentity, TENANCY};
use crate::oci_principals::{INSTANCE_ID, mint_session_token};
use crate::verify::oci::{VerifiableRequest, verify_request};
use crate::{CloudApi, SandboxRequest};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::{Encode, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

/// The API's name in fixtures and state.
pub const NAME: &str = "oci-instance";
/// The metadata service's base path (clients use `<sandbox url>/opc/v2` as the metadata base).
pub const METADATA_BASE: &str = "/opc/v2";
/// The federation endpoint's path (clients use the sandbox url as the Auth endpoint).
pub const FEDERATION_PATH: &str = "/v1/x509";
/// What `/instance/region` answers.
pub const REGION_CODE: &str = "iad";
/// How long a federated session token lasts, as on OCI (20 minutes).
pub const SESSION_SECONDS: i64 = 20 * 60;

/// The instance's certificates and key, made once.
struct InstanceIdentity {
    leaf_pem: String,
    leaf_der: Vec<u8>,
    leaf_key_pem: String,
    leaf_public: RsaPublicKey,
    intermediate_pem: String,
    intermediate_der: Vec<u8>,
}

/// The emulated metadata service and federation endpoint, issuing tokens Identity accepts.
pub struct OciInstance {
    identity_api: Arc<OciIdentity>,
    identity: OnceLock<InstanceIdentity>,
}

impl OciInstance {
    /// The API over the Identity emulation whose tokens it issues.
    pub fn new(identity_api: Arc<OciIdentity>) -> Self {
        OciInstance {
            identity_api,
            identity: OnceLock::new(),
        }
    }

    fn identity(&self) -> &InstanceIdentity {
        self.identity.get_or_init(make_identity)
    }

    fn metadata(&self, req: &SandboxRequest, path: &str) -> Response {
        if req.header("authorization") != Some("Bearer Oracle") {
            return text(
                StatusCode::UNAUTHORIZED,
                "missing the header Authorization: Bearer Oracle",
            );
        }
        if req.method != Method::GET {
            return text(StatusCode::METHOD_NOT_ALLOWED, "GET only");
        }
        let id = self.identity();
        match path {
            "/instance/region" => text(StatusCode::OK, REGION_CODE),
            "/instance/id" => text(StatusCode::OK, INSTANCE_ID),
            "/identity/cert.pem" => text(StatusCode::OK, id.leaf_pem.clone()),
            "/identity/key.pem" => text(StatusCode::OK, id.leaf_key_pem.clone()),
            "/identity/intermediate.pem" => text(StatusCode::OK, id.intermediate_pem.clone()),
            _ => text(StatusCode::NOT_FOUND, "not found"),
        }
    }

    fn federate(&self, req: &SandboxRequest) -> Response {
        let id = self.identity();
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return error(StatusCode::BAD_REQUEST, "InvalidParameter", "the body is not JSON"),
        };
        let decoded = |field: &str| body.get(field).and_then(Value::as_str).and_then(|v| B64.decode(v).ok());
        if decoded("certificate").as_deref() != Some(id.leaf_der.as_slice()) {
            return not_authenticated("the certificate was not issued to an instance of this tenancy");
        }
        let intermediates: Vec<Vec<u8>> = body
            .get("intermediateCertificates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().and_then(|c| B64.decode(c).ok()))
            .collect();
        if !intermediates.contains(&id.intermediate_der) {
            return not_authenticated("the intermediate certificate is missing or unknown");
        }
        let Some(session_key) = decoded("publicKey").and_then(|der| RsaPublicKey::from_public_key_der(&der).ok())
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "publicKey must be the base64 DER of an RSA public key",
            );
        };
        let key_id = format!("{TENANCY}/fed-x509-sha256/{}", fingerprint_sha256(&id.leaf_der));
        let target = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let Ok(uri) = target.parse::<http::Uri>() else {
            return error(StatusCode::BAD_REQUEST, "CannotParseRequest", "bad request target");
        };
        let verifiable = VerifiableRequest {
            method: &req.method,
            uri: &uri,
            headers: &req.headers,
            body: &req.body,
        };
        if let Err(e) = verify_request(&verifiable, req.now.into(), |k| {
            (k == key_id).then(|| id.leaf_public.clone())
        }) {
            return not_authenticated(&e.to_string());
        }
        match mint_session_token(&self.identity_api.fixtures(), &session_key, "instance", SESSION_SECONDS) {
            Ok(token) => (StatusCode::OK, axum::Json(json!({ "token": token }))).into_response(),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", e),
        }
    }
}

/// The SHA-256 fingerprint of a certificate, lower-case hex pairs joined by `:`, as the
/// federation keyId names it.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn make_identity() -> InstanceIdentity {
    let new_key = || RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
    let validity = Validity::from_now(std::time::Duration::from_secs(365 * 24 * 3600)).expect("validity");
    let spki =
        |key: &RsaPrivateKey| SubjectPublicKeyInfoOwned::from_key(RsaPublicKey::from(key)).expect("SPKI of an RSA key");

    let ca_key = new_key();
    let ca_name = Name::from_str("CN=PKISVC Identity Intermediate sandbox,O=credplane sandbox").expect("CA name");
    let ca_signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(ca_key.clone());
    let intermediate = CertificateBuilder::new(
        Profile::Root,
        SerialNumber::from(1u32),
        validity,
        ca_name.clone(),
        spki(&ca_key),
        &ca_signer,
    )
    .expect("intermediate builder")
    .build::<rsa::pkcs1v15::Signature>()
    .expect("intermediate certificate");

    let leaf_key = new_key();
    let subject =
        format!("CN={INSTANCE_ID},OU=opc-certtype:instance,OU=opc-instance:{INSTANCE_ID},OU=opc-tenant:{TENANCY}");
    let leaf = CertificateBuilder::new(
        Profile::Leaf {
            issuer: ca_name,
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        SerialNumber::from(2u32),
        validity,
        Name::from_str(&subject).expect("leaf name"),
        spki(&leaf_key),
        &ca_signer,
    )
    .expect("leaf builder")
    .build::<rsa::pkcs1v15::Signature>()
    .expect("leaf certificate");

    InstanceIdentity {
        leaf_pem: leaf.to_pem(LineEnding::LF).expect("leaf PEM"),
        leaf_der: leaf.to_der().expect("leaf DER"),
        leaf_key_pem: leaf_key.to_pkcs8_pem(LineEnding::LF).expect("key PEM").to_string(),
        leaf_public: RsaPublicKey::from(&leaf_key),
        intermediate_pem: intermediate.to_pem(LineEnding::LF).expect("intermediate PEM"),
        intermediate_der: intermediate.to_der().expect("intermediate DER"),
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, body.into()).into_response()
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"code": code, "message": message.into()}))).into_response()
}

fn not_authenticated(why: &str) -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "NotAuthenticated",
        format!("The required information to complete authentication was not provided or was incorrect. ({why})"),
    )
}

impl CloudApi for OciInstance {
    fn name(&self) -> &'static str {
        NAME
    }

    fn matches(&self, req: &SandboxRequest) -> bool {
        req.path == FEDERATION_PATH || req.path.starts_with(&format!("{METADATA_BASE}/"))
    }

    fn action(&self, req: &SandboxRequest) -> Option<String> {
        Some(
            if req.path == FEDERATION_PATH {
                "X509Federation"
            } else {
                "GetInstanceMetadata"
            }
            .to_string(),
        )
    }

    fn handle(&self, req: &SandboxRequest) -> Response {
        match req.path.strip_prefix(METADATA_BASE) {
            Some(path) if path.starts_with('/') => self.metadata(req, path),
            _ if req.method == Method::POST => self.federate(req),
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "POST only"),
        }
    }

    fn throttled(&self, _req: &SandboxRequest) -> Response {
        error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests")
    }

    fn server_error(&self, _req: &SandboxRequest) -> Response {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal error occurred",
        )
    }

    fn fixtures(&self) -> Value {
        json!({
            "instance": INSTANCE_ID,
            "tenancy": TENANCY,
            "region_code": REGION_CODE,
            "metadata_base": METADATA_BASE,
            "federation_path": FEDERATION_PATH,
        })
    }

    fn provider_settings(&self, _base_url: &str) -> Value {
        json!({})
    }

    /// The certificates are made anew by each process; nothing to persist.
    fn snapshot(&self) -> Value {
        Value::Null
    }

    fn restore(&self, _state: &Value) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::Certificate;
    use x509_cert::der::Decode;

    #[test]
    fn the_leaf_names_the_tenancy_and_is_issued_by_the_intermediate() {
        let id = make_identity();
        let leaf = Certificate::from_der(&id.leaf_der).unwrap();
        let subject = leaf.tbs_certificate.subject.to_string();
        assert!(subject.contains(&format!("opc-tenant:{TENANCY}")), "{subject}");
        let intermediate = Certificate::from_der(&id.intermediate_der).unwrap();
        assert_eq!(leaf.tbs_certificate.issuer, intermediate.tbs_certificate.subject);
        assert_eq!(fingerprint_sha256(&[]).len(), 32 * 3 - 1);
    }
}
