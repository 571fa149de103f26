//! Resolving the `pgp_key` argument into a [`PgpRecipient`].
//!
//! Forms:
//! - base64 of a binary public key, or an ASCII-armored public key: used as is;
//! - `keybase:<user>`: the user's primary key from the Keybase lookup API;
//! - `external:<name>|<url>`: GET `url` with `%s` replaced by the
//!   percent-encoded `name`; the body is the key (armored, base64 or binary).

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::pgp::{
    ARMOR_PUBLIC_KEY_HEADER, PgpError, PgpErrorKind, PgpRecipient, decode_base64, parse_public_key,
    parse_public_key_bytes,
};

/// Default Keybase API base URL.
pub const DEFAULT_KEYBASE_BASE_URL: &str = "https://keybase.io";

/// Timeout of one key fetch (connect + response).
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest response body we accept; public keys are a few KiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything but RFC 3986 unreserved characters is encoded, so a name
/// cannot add path segments, queries or fragments to the URL.
const NAME_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The rule stated in validation messages for the inline forms.
const FORMS_RULE: &str = "pgp_key must be base64 of a binary OpenPGP public key, an ASCII-armored \
     public key (-----BEGIN PGP PUBLIC KEY BLOCK-----), keybase:<username> or external:<name>|<url>";

/// Which form a `pgp_key` argument has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgpKeySource {
    /// Base64 of a binary public key (the Terraform form).
    Base64(String),
    /// An ASCII-armored public key block.
    Armored(String),
    /// `keybase:<user>`.
    Keybase {
        /// The Keybase username.
        user: String,
    },
    /// `external:<name>|<url>`.
    External {
        /// The name substituted for `%s` in `url_template`.
        name: String,
        /// An http(s) URL, possibly containing `%s`.
        url_template: String,
    },
}

/// Classifies a `pgp_key` argument without any I/O; the error message names the
/// rule that was broken (used by input validation).
pub fn classify(arg: &str) -> Result<PgpKeySource, String> {
    let arg = arg.trim();
    if let Some(user) = arg.strip_prefix("keybase:") {
        let user = user.trim();
        if user.is_empty() || !user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("pgp_key keybase:<username> needs a non-empty Keybase username \
                        (letters, digits and underscores only)"
                .to_string());
        }
        return Ok(PgpKeySource::Keybase { user: user.to_string() });
    }
    if let Some(rest) = arg.strip_prefix("external:") {
        return classify_external(rest);
    }
    if arg.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
        return Err("pgp_key must be a public key, not a private key block".to_string());
    }
    if arg.starts_with(ARMOR_PUBLIC_KEY_HEADER) {
        if !arg.contains("-----END PGP PUBLIC KEY BLOCK-----") {
            return Err("pgp_key armored key lacks its -----END PGP PUBLIC KEY BLOCK----- line".to_string());
        }
        return Ok(PgpKeySource::Armored(arg.to_string()));
    }
    if decode_base64(arg).is_some() {
        return Ok(PgpKeySource::Base64(arg.to_string()));
    }
    Err(FORMS_RULE.to_string())
}

fn classify_external(rest: &str) -> Result<PgpKeySource, String> {
    const RULE: &str = "pgp_key external:<name>|<url> needs a non-empty name, a '|', and an http:// or https:// URL";
    let Some((name, url_template)) = rest.split_once('|') else {
        return Err(RULE.to_string());
    };
    let (name, url_template) = (name.trim(), url_template.trim());
    if name.is_empty() {
        return Err(RULE.to_string());
    }
    // Parse with a placeholder name: a bare "%s" is not valid percent-encoding.
    match url::Url::parse(&url_template.replace("%s", "name")) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(PgpKeySource::External {
            name: name.to_string(),
            url_template: url_template.to_string(),
        }),
        _ => Err(RULE.to_string()),
    }
}

/// `url_template` with every `%s` replaced by the percent-encoded `name`.
pub fn external_url(name: &str, url_template: &str) -> String {
    url_template.replace("%s", &utf8_percent_encode(name, NAME_ENCODE_SET).to_string())
}

/// Where and how keys are fetched.
#[derive(Clone, Copy)]
pub struct PgpFetch<'a> {
    /// The HTTP client.
    pub http: &'a reqwest::Client,
    /// The Keybase API, normally [`DEFAULT_KEYBASE_BASE_URL`].
    pub keybase_base_url: &'a str,
    /// Whether an `external:` URL may be plain http (a configure setting; https only by default,
    /// since a key fetched over plain http can be swapped by anyone on the path).
    pub allow_http: bool,
}

/// Resolves a `pgp_key` argument to a validated recipient, fetching it from
/// Keybase or an external URL when needed.
pub async fn resolve_pgp_key(arg: &str, fetch_with: &PgpFetch<'_>) -> Result<PgpRecipient, PgpError> {
    let PgpFetch {
        http,
        keybase_base_url,
        allow_http,
    } = *fetch_with;
    match classify(arg).map_err(|rule| PgpError::new(PgpErrorKind::InvalidArgument, rule))? {
        PgpKeySource::Base64(text) | PgpKeySource::Armored(text) => parse_public_key(&text),
        PgpKeySource::Keybase { user } => {
            let bundle = fetch_keybase(&user, http, keybase_base_url).await?;
            parse_public_key(&bundle).map_err(|e| context(e, &format!("keybase:{user}")))
        }
        PgpKeySource::External { name, url_template } => {
            if !allow_http && !url_template.to_ascii_lowercase().starts_with("https://") {
                return Err(PgpError::new(
                    PgpErrorKind::InvalidArgument,
                    "pgp_key external:<name>|<url> needs an https:// URL (configure common.allow_http_pgp_key_urls \
                     = true to allow http://)",
                ));
            }
            let url = external_url(&name, &url_template);
            let source = format!("external:{name} ({url})");
            let body = fetch(http, &url, &source).await?;
            parse_fetched(&body).map_err(|e| context(e, &source))
        }
    }
}

/// Keybase `user/lookup.json` response, only the fields we read.
#[derive(Deserialize)]
struct KeybaseLookup {
    status: KeybaseStatus,
    #[serde(default)]
    them: Vec<Option<KeybaseUser>>,
}

#[derive(Deserialize)]
struct KeybaseStatus {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct KeybaseUser {
    public_keys: Option<KeybasePublicKeys>,
}

#[derive(Deserialize)]
struct KeybasePublicKeys {
    primary: Option<KeybaseKey>,
}

#[derive(Deserialize)]
struct KeybaseKey {
    bundle: Option<String>,
}

async fn fetch_keybase(user: &str, http: &reqwest::Client, base_url: &str) -> Result<String, PgpError> {
    let source = format!("keybase:{user}");
    let mut url = url::Url::parse(&format!(
        "{}/_/api/1.0/user/lookup.json",
        base_url.trim_end_matches('/')
    ))
    .map_err(|e| PgpError::new(PgpErrorKind::Fetch, format!("{source}: invalid Keybase base URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("usernames", user)
        .append_pair("fields", "public_keys");
    let body = fetch(http, url.as_str(), &source).await?;
    let fail = |why: &str| PgpError::new(PgpErrorKind::Fetch, format!("{source}: {why}"));
    let lookup: KeybaseLookup =
        serde_json::from_slice(&body).map_err(|e| fail(&format!("unexpected Keybase response: {e}")))?;
    if lookup.status.name != "OK" {
        return Err(fail(&format!("Keybase lookup status {:?}", lookup.status.name)));
    }
    lookup
        .them
        .into_iter()
        .next()
        .flatten()
        .and_then(|u| u.public_keys?.primary?.bundle)
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| fail("Keybase user has no primary public key"))
}

/// GETs `url` with a timeout and a size cap; non-2xx statuses are errors.
async fn fetch(http: &reqwest::Client, url: &str, source: &str) -> Result<Vec<u8>, PgpError> {
    let fail = |why: String| {
        PgpError::new(
            PgpErrorKind::Fetch,
            format!("fetching PGP key from {source} failed: {why}"),
        )
    };
    let mut response = http
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| fail(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.without_url().to_string()))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(fail(format!("response larger than {MAX_BODY_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A fetched key body: binary OpenPGP (first byte has the packet-tag bit), or text.
fn parse_fetched(body: &[u8]) -> Result<PgpRecipient, PgpError> {
    if body.first().is_some_and(|b| b & 0x80 != 0) {
        return parse_public_key_bytes(body);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| PgpError::new(PgpErrorKind::Malformed, "key is neither binary OpenPGP nor text"))?;
    parse_public_key(text)
}

/// Prefixes an error message with the source it came from.
fn context(e: PgpError, source: &str) -> PgpError {
    PgpError::new(e.kind(), format!("{source}: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_url_encodes_name() {
        assert_eq!(
            external_url("a b/c?d", "https://k.example/%s.asc?n=%s"),
            "https://k.example/a%20b%2Fc%3Fd.asc?n=a%20b%2Fc%3Fd"
        );
        assert_eq!(external_url("x", "https://k.example/fixed"), "https://k.example/fixed");
    }

    #[test]
    fn classify_rules() {
        assert_eq!(
            classify("keybase:alice").unwrap(),
            PgpKeySource::Keybase { user: "alice".into() }
        );
        assert!(classify("keybase:").unwrap_err().contains("non-empty Keybase username"));
        assert!(classify("external:bob").unwrap_err().contains("external:<name>|<url>"));
        assert!(classify("external:bob|ftp://x/%s").unwrap_err().contains("http://"));
        assert!(classify("hello world").unwrap_err().contains("base64"));
    }
}
