//! The accepted forms of a `pgp_key` argument, checked without any network access.

use base64::Engine;

/// Checks the form of a `pgp_key` argument. The error names the rule.
pub fn check_form(arg: &str) -> Result<(), String> {
    let arg = arg.trim();
    if let Some(user) = arg.strip_prefix("keybase:") {
        return if user.trim().is_empty() { Err("keybase:<user> needs a user name".into()) } else { Ok(()) };
    }
    if let Some(rest) = arg.strip_prefix("external:") {
        let Some((name, url)) = rest.split_once('|') else {
            return Err("external: must have the form external:<name>|<url>".into());
        };
        if name.trim().is_empty() {
            return Err("external:<name>|<url> needs a name".into());
        }
        return match url::Url::parse(&url.replace("%s", "x")) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Ok(()),
            _ => Err("external:<name>|<url> needs an http(s) url".into()),
        };
    }
    if arg.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
        return Ok(());
    }
    let compact: String = arg.split_whitespace().collect();
    match base64::engine::general_purpose::STANDARD.decode(&compact) {
        Ok(bytes) if !bytes.is_empty() => Ok(()),
        _ => Err("must be a base64-encoded binary PGP public key, an ASCII-armored public key, keybase:<user> or external:<name>|<url>".into()),
    }
}
