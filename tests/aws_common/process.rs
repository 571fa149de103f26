//! A `credential_process` for profile `ci` that counts its runs, to see when credentials are
//! fetched again.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `<dir>/creds.sh`: appends a line to `<dir>/runs`, prints `key_id`/`secret` (with a new
/// session token each run when `session`), valid for `valid_seconds`. Returns its path.
pub fn credential_process(dir: &Path, key_id: &str, secret: &str, session: bool, valid_seconds: i64) -> String {
    let script = dir.join("creds.sh");
    let token = if session {
        "\"SessionToken\":\"token-%s\","
    } else {
        "%.0s"
    };
    let body = format!(
        "#!/bin/sh\necho run >> '{runs}'\nexp=$(date -u -d '{valid_seconds} seconds' +%Y-%m-%dT%H:%M:%SZ)\n\
         printf '{{\"Version\":1,\"AccessKeyId\":\"{key_id}\",\"SecretAccessKey\":\"{secret}\",\
         {token}\"Expiration\":\"%s\"}}' \"$(date +%s%N)\" \"$exp\"\n",
        runs = dir.join("runs").display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    script.display().to_string()
}

/// How often the script of [`credential_process`] ran.
pub fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// A home whose `~/.aws/config` has profile `ci` running `command`.
pub fn home_with_process(command: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile ci]\nregion = us-east-1\ncredential_process = {command}\n"),
    )
    .unwrap();
    home
}
