//! The sandbox's OCI session tokens and regions.
//!
//! Session tokens (what `oci session authenticate` stores, and the RPST of resource principals)
//! are JWTs whose `jwk` claim holds the public key of the key pair the client signs with, keyId
//! `ST$<token>`. The sandbox's tokens are HS256-signed with a secret derived from the admin
//! key (so they survive a restart from the state file); [`mint_session_token`] issues them for
//! tests, as the real auth service would after a login or for a function.
//!
//! The tenancy is subscribed to two regions; Identity answers reads in both and writes only in
//! its home region, with the real service's `403 NotAllowed`. A request names its region with a
//! `/region/<name>` path prefix (clients use the endpoint template `<url>/region/{region}`);
//! without it, it is in the home region.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The tenancy's home region.
pub const HOME_REGION: &str = "us-ashburn-1";
/// The regions the tenancy is subscribed to: `(key, name)`.
pub const SUBSCRIBED: &[(&str, &str)] = &[("IAD", "us-ashburn-1"), ("PHX", "us-phoenix-1")];
/// The principal id in resource principal tokens.
pub const RESOURCE_ID: &str = "ocid1.fnfunc.oc1.iad.aaaaaaaasandbox";
/// The principal id in instance principal tokens (the emulated instance).
pub const INSTANCE_ID: &str = "ocid1.instance.oc1.iad.aaaaaaaasandbox";

fn secret(admin_private_key_pem: &str) -> Vec<u8> {
    Sha256::new()
        .chain_update(b"credplane sandbox OCI session tokens\n")
        .chain_update(admin_private_key_pem.as_bytes())
        .finalize()
        .to_vec()
}

fn mac(secret: &[u8], signing_input: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(signing_input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A session token for `public_key`: `ptype` `user` (a session of the admin user, as after
/// `oci session authenticate`), `resource` (an RPST) or `instance` (federated), valid for `ttl_seconds` (negative gives an
/// expired one). `fixtures` are the `oci-identity` fixtures, whose admin key derives the secret.
pub fn mint_session_token(
    fixtures: &Value,
    public_key: &RsaPublicKey,
    ptype: &str,
    ttl_seconds: i64,
) -> Result<String, String> {
    let pem = fixtures
        .pointer("/admin/private_key")
        .and_then(Value::as_str)
        .ok_or("fixtures have no /admin/private_key")?;
    let tenancy = fixtures.pointer("/tenancy").and_then(Value::as_str).unwrap_or_default();
    let user = fixtures
        .pointer("/admin/user")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let sub = match ptype {
        "resource" => RESOURCE_ID,
        "instance" => INSTANCE_ID,
        _ => user,
    };
    let claims = json!({
        "iss": "authService.oracle.com",
        "sub": sub,
        "tenant": tenancy,
        "res_tenant": tenancy,
        "ptype": ptype,
        "iat": now,
        "exp": now + ttl_seconds,
        "jwk": {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": "sandbox",
            "n": B64.encode(public_key.n().to_bytes_be()),
            "e": B64.encode(public_key.e().to_bytes_be()),
        },
    });
    let input = format!(
        "{}.{}",
        B64.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string()),
        B64.encode(claims.to_string())
    );
    Ok(format!("{input}.{}", B64.encode(mac(&secret(pem), &input))))
}

/// The public key of a keyId `ST$<token>` whose token this sandbox issued and is unexpired;
/// `Ok(None)` for other keyIds; `Err` says why a session token is refused.
pub fn session_public_key(key_id: &str, admin_private_key_pem: &str, now: i64) -> Result<Option<RsaPublicKey>, String> {
    let Some(token) = key_id.strip_prefix("ST$") else {
        return Ok(None);
    };
    let mut parts = token.rsplitn(2, '.');
    let (Some(sig), Some(input)) = (parts.next(), parts.next()) else {
        return Err("the session token is not a JWT".into());
    };
    let expected = B64.encode(mac(&secret(admin_private_key_pem), input));
    if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), sig.as_bytes())) {
        return Err("the session token was not issued by this service".into());
    }
    let claims: Value = input
        .split('.')
        .nth(1)
        .and_then(|p| B64.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the session token's claims are unreadable")?;
    if claims.get("exp").and_then(Value::as_i64).is_none_or(|exp| exp <= now) {
        return Err("the session token has expired".into());
    }
    let part = |name: &str| {
        claims
            .pointer(&format!("/jwk/{name}"))
            .and_then(Value::as_str)
            .and_then(|v| B64.decode(v).ok())
            .map(|b| BigUint::from_bytes_be(&b))
            .ok_or_else(|| format!("the session token's jwk has no {name}"))
    };
    RsaPublicKey::new(part("n")?, part("e")?)
        .map(Some)
        .map_err(|e| format!("the session token's jwk is not an RSA key: {e}"))
}

/// The region a path is addressed to and the path without the prefix.
pub fn split_region(path: &str) -> (String, &str) {
    if let Some(rest) = path.strip_prefix("/region/")
        && let Some(slash) = rest.find('/')
    {
        return (rest[..slash].to_ascii_lowercase(), &rest[slash..]);
    }
    (HOME_REGION.to_string(), path)
}

/// Whether the tenancy is subscribed to `region`.
pub fn is_subscribed(region: &str) -> bool {
    SUBSCRIBED.iter().any(|(_, name)| *name == region)
}

/// The ListRegionSubscriptions answer.
pub fn region_subscriptions() -> Value {
    Value::Array(
        SUBSCRIBED
            .iter()
            .map(|(key, name)| {
                json!({"regionKey": key, "regionName": name, "status": "READY", "isHomeRegion": *name == HOME_REGION})
            })
            .collect(),
    )
}

/// The message of a write outside the home region, as the real service words it.
pub fn not_home_message() -> String {
    let key = SUBSCRIBED
        .iter()
        .find(|(_, n)| *n == HOME_REGION)
        .map_or("IAD", |(k, _)| *k);
    format!("Please go to your home region {key} to execute CREATE, UPDATE and DELETE operations.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_when_issued_here_and_unexpired() {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let public = RsaPublicKey::from(&key);
        let fixtures = json!({"tenancy": "t", "admin": {"user": "u", "private_key": "PEM-A"}});
        let token = mint_session_token(&fixtures, &public, "user", 60).unwrap();
        let now = chrono::Utc::now().timestamp();
        assert_eq!(
            session_public_key(&format!("ST${token}"), "PEM-A", now).unwrap(),
            Some(public.clone())
        );
        assert!(session_public_key(&format!("ST${token}"), "PEM-B", now).is_err());
        assert!(session_public_key(&format!("ST${token}"), "PEM-A", now + 61).is_err());
        assert_eq!(session_public_key("t/u/fp", "PEM-A", now).unwrap(), None);
    }

    #[test]
    fn regions_come_from_the_path_prefix() {
        assert_eq!(
            split_region("/region/us-phoenix-1/20160918/users/u"),
            ("us-phoenix-1".to_string(), "/20160918/users/u")
        );
        assert_eq!(
            split_region("/20160918/users/u"),
            (HOME_REGION.to_string(), "/20160918/users/u")
        );
        assert!(is_subscribed("us-phoenix-1") && !is_subscribed("eu-frankfurt-1"));
    }
}
