//! OCI principals signed with a session token instead of a user's API key: session-token
//! profiles (`security_token_file`, as `oci session authenticate` writes them) and resource
//! principals (the v2.2 environment of OCI Functions and other services). Both sign with keyId
//! `ST$<token>` and the private key the token was issued for. Errors name the source (file or
//! variable) and the reason, never the token or the key.

use super::config::{OciConfig, expand_tilde};
use super::instance_principal::InstanceSource;
use super::sign::{OciSigner, load_private_key_pem};
use base64::Engine as _;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A principal ready to sign, with what it tells about the tenancy and region.
#[derive(Debug)]
pub struct Principal {
    /// Signs with `ST$<token>`.
    pub signer: OciSigner,
    /// The tenancy OCID, when known (for the home-region lookup).
    pub tenancy: Option<String>,
    /// The region the principal lives in, when it says.
    pub region: Option<String>,
    /// Where it came from, for errors.
    pub source: String,
}

/// The `auth` values that select a principal (the OCI CLI's `--auth` / `OCI_CLI_AUTH`).
pub const AUTH_API_KEY: &str = "api_key";
/// Session-token profile.
pub const AUTH_SECURITY_TOKEN: &str = "security_token";
/// Resource principal (v2.2).
pub const AUTH_RESOURCE_PRINCIPAL: &str = "resource_principal";
/// Instance principal.
pub const AUTH_INSTANCE_PRINCIPAL: &str = "instance_principal";

/// The session-token principal of a profile that names a `security_token_file`.
pub fn session_token(config: &OciConfig, home: Option<&Path>) -> Result<Principal, String> {
    let file = config
        .security_token_file
        .as_deref()
        .ok_or("the profile has no security_token_file (run `oci session authenticate`)")?;
    let path = expand_tilde(file, home).map_err(|e| e.to_string())?;
    let source = format!("OCI session token file {}", path.display());
    let token = std::fs::read_to_string(&path).map_err(|e| format!("{source}: cannot read it: {e}"))?;
    let token = token.trim();
    check_unexpired(
        token,
        &source,
        "run `oci session refresh` or `oci session authenticate`",
    )?;
    let key = load_private_key_pem(
        &config.private_key_pem,
        config.pass_phrase.as_deref().map(String::as_str),
    )
    .map_err(|e| format!("{source}: the profile's key_file: {e}"))?;
    Ok(Principal {
        signer: OciSigner::new(format!("ST${token}"), key),
        tenancy: Some(config.tenancy.clone()).filter(|t| !t.is_empty()),
        region: Some(config.region.clone()).filter(|r| !r.is_empty()),
        source,
    })
}

/// The resource principal of the environment (`OCI_RESOURCE_PRINCIPAL_VERSION=2.2` with
/// `_RPST`, `_PRIVATE_PEM`, optionally `_PRIVATE_PEM_PASSPHRASE`, and `_REGION`); `Ok(None)`
/// when the version variable is unset. Each of the token, key and pass phrase is either the
/// value itself or the absolute path of a file holding it, as in the OCI SDKs.
pub fn resource_principal(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Principal>, String> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    let Some(version) = env("OCI_RESOURCE_PRINCIPAL_VERSION") else {
        return Ok(None);
    };
    let source = "OCI resource principal (OCI_RESOURCE_PRINCIPAL_VERSION)".to_string();
    if version != "2.2" {
        return Err(format!(
            "{source}: version {version:?} is not supported; credplane reads version 2.2"
        ));
    }
    let value_or_file = |name: &str| -> Result<Option<String>, String> {
        let Some(v) = env(name) else { return Ok(None) };
        if Path::new(&v).is_absolute() {
            std::fs::read_to_string(&v)
                .map(|t| Some(t.trim().to_string()))
                .map_err(|e| format!("{source}: cannot read the file named by {name}: {e}"))
        } else {
            Ok(Some(v))
        }
    };
    let required = |name: &str| value_or_file(name)?.ok_or_else(|| format!("{source}: {name} is not set"));
    let rpst = required("OCI_RESOURCE_PRINCIPAL_RPST")?;
    let pem = required("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM")?;
    let pass = value_or_file("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE")?;
    let claims = check_unexpired(&rpst, &source, "the service that runs this code renews it")?;
    let key = load_private_key_pem(&pem, pass.as_deref())
        .map_err(|e| format!("{source}: OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: {e}"))?;
    Ok(Some(Principal {
        signer: OciSigner::new(format!("ST${rpst}"), key),
        tenancy: claims.get("res_tenant").and_then(Value::as_str).map(str::to_owned),
        region: env("OCI_RESOURCE_PRINCIPAL_REGION"),
        source,
    }))
}

/// The resource principal variables, read again on a refresh.
const RESOURCE_VARIABLES: &[&str] = &[
    "OCI_RESOURCE_PRINCIPAL_VERSION",
    "OCI_RESOURCE_PRINCIPAL_RPST",
    "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
    "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE",
    "OCI_RESOURCE_PRINCIPAL_REGION",
];

/// How to get a session-token principal (again): its token expires, so when the service
/// refuses it the client loads it once more (a refreshed file, renewed variables, a new
/// federation) and retries once.
#[derive(Clone)]
pub enum Reload {
    /// The profile's `security_token_file`, read again (after `oci session refresh`).
    SessionToken {
        /// The profile.
        config: OciConfig,
        /// The home directory, for `~` in the file name.
        home: Option<PathBuf>,
    },
    /// The resource principal variables as the process was given them; a variable naming a
    /// file is read again. Holds secrets: never printed.
    Resource(BTreeMap<String, String>),
    /// The instance's certificate, federated again.
    Instance(InstanceSource),
}

impl std::fmt::Debug for Reload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Reload {
    /// The resource principal source, with the variables read from `env`.
    pub fn resource(env: &dyn Fn(&str) -> Option<String>) -> Self {
        Reload::Resource(
            RESOURCE_VARIABLES
                .iter()
                .filter_map(|name| env(name).map(|v| (name.to_string(), v)))
                .collect(),
        )
    }

    /// How errors name the source.
    pub fn describe(&self) -> String {
        match self {
            Reload::SessionToken { config, .. } => format!(
                "OCI session token file {}",
                config.security_token_file.as_deref().unwrap_or("(none)")
            ),
            Reload::Resource(_) => "OCI resource principal (OCI_RESOURCE_PRINCIPAL_VERSION)".into(),
            Reload::Instance(source) => source.describe(),
        }
    }

    /// Loads the principal without the network; `None` for an instance principal, which
    /// needs [`Self::load`].
    pub fn load_now(&self) -> Option<Result<Principal, String>> {
        match self {
            Reload::SessionToken { config, home } => Some(session_token(config, home.as_deref())),
            Reload::Resource(vars) => Some(
                resource_principal(&|name: &str| vars.get(name).cloned())
                    .and_then(|p| p.ok_or_else(|| format!("{}: the variable is not set", self.describe()))),
            ),
            Reload::Instance(_) => None,
        }
    }

    /// Loads the principal.
    pub async fn load(&self, http: &reqwest::Client) -> Result<Principal, String> {
        match self {
            Reload::Instance(source) => source.federate(http).await,
            _ => self.load_now().expect("only instance principals need the network"),
        }
    }
}

/// The claims of a session token (a JWT), after checking that it has not expired.
fn check_unexpired(token: &str, source: &str, remedy: &str) -> Result<Value, String> {
    let claims = jwt_claims(token).ok_or_else(|| format!("{source}: the token is not a JWT"))?;
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
        && exp <= chrono::Utc::now().timestamp()
    {
        let at = chrono::DateTime::from_timestamp(exp, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        return Err(format!("{source}: the token expired at {at}; {remedy}"));
    }
    Ok(claims)
}

/// The payload of a JWT, not verified (the service verifies it).
pub fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn jwt(claims: serde_json::Value) -> String {
        let b = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", b(&serde_json::json!({"alg": "RS256"})), b(&claims))
    }

    #[test]
    fn resource_principal_needs_version_2_2_and_reports_without_values() {
        let none = |_: &str| None;
        assert!(resource_principal(&none).unwrap().is_none());
        let vars: HashMap<&str, String> = [("OCI_RESOURCE_PRINCIPAL_VERSION", "1.1".to_string())].into();
        let err = resource_principal(&|n: &str| vars.get(n).cloned()).unwrap_err();
        assert!(err.contains("2.2"), "{err}");
        let expired = jwt(serde_json::json!({"exp": 1, "res_tenant": "t"}));
        let vars: HashMap<&str, String> = [
            ("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2".to_string()),
            ("OCI_RESOURCE_PRINCIPAL_RPST", expired.clone()),
            (
                "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
                "-----BEGIN PRIVATE KEY-----".to_string(),
            ),
        ]
        .into();
        let err = resource_principal(&|n: &str| vars.get(n).cloned()).unwrap_err();
        assert!(err.contains("expired") && !err.contains(&expired), "{err}");
    }
}
