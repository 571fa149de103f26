//! A throwaway gpg home for tests: generate a key with the machine's gpg, export it, decrypt
//! what credplane encrypted. Shared by the PGP, AWS and Alibaba Cloud test suites.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// gpg from PATH, else /usr/bin/gpg; fails (never skips) when missing.
pub fn gpg_binary() -> PathBuf {
    for candidate in ["gpg", "/usr/bin/gpg"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "gpg not found on PATH or at /usr/bin/gpg: install gnupg (e.g. `apt-get install gnupg`) to run the PGP tests"
    );
}

/// A throwaway gpg home holding one generated key; the agent is stopped on drop.
pub struct GpgHome {
    gpg: PathBuf,
    dir: tempfile::TempDir,
    /// Lowercase hex fingerprint of the primary key.
    pub fingerprint: String,
}

impl GpgHome {
    /// `gpg --quick-gen-key` with `algo`, plus an encryption subkey of
    /// `encryption_subkey` when given (gpg's `default` usage for an explicit
    /// RSA or NIST algorithm creates a sign/certify-only key).
    pub fn generate(algo: &str, encryption_subkey: Option<&str>) -> Self {
        let gpg = gpg_binary();
        // Short path: gpg-agent's socket path must fit in sun_path.
        let dir = tempfile::Builder::new().prefix("cpgpg").tempdir_in("/tmp").unwrap();
        let mut home = GpgHome {
            gpg,
            dir,
            fingerprint: String::new(),
        };
        home.ok(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            "Test <t@example.com>",
            algo,
            "default",
            "never",
        ]);
        let listing = String::from_utf8(home.ok(&["--with-colons", "--list-keys"]).stdout).unwrap();
        // The first fpr record follows the pub record: the primary key.
        home.fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_string()))
            .expect("no fingerprint in gpg --list-keys output")
            .to_lowercase();
        if let Some(sub) = encryption_subkey {
            let fpr = home.fingerprint.clone();
            home.ok(&["--passphrase", "", "--quick-add-key", &fpr, sub, "encr", "never"]);
        }
        home
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(&self.gpg)
            .env("GNUPGHOME", self.dir.path())
            .args(["--batch", "--no-tty", "--pinentry-mode", "loopback"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning gpg");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args, b"");
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn export_base64(&self) -> String {
        STANDARD.encode(self.ok(&["--export", &self.fingerprint]).stdout)
    }

    pub fn export_armored(&self) -> String {
        String::from_utf8(self.ok(&["--export", "--armor", &self.fingerprint]).stdout).unwrap()
    }

    pub fn decrypt(&self, message: &[u8]) -> Vec<u8> {
        let out = self.run(&["--decrypt"], message);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "gpg --decrypt failed: {stderr}");
        // gpg 2.2 warns (or fails) on messages without an MDC / SEIPD packet.
        assert!(!stderr.contains("integrity"), "gpg complained: {stderr}");
        out.stdout
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.dir.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}
