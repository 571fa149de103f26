//! Config loading tests. They never read the real HOME or environment: each builds a temp
//! home and a fake `env`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::cloud::oci::settings::OciSettings;
use crate::secrets::Secret;
use credplane_sandbox::oci_config::{OciConfigParts, write_config_file};

const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n";

struct Fixture {
    home: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Fixture {
    /// A home with `~/.oci/key.pem` and, if given, `~/.oci/config`.
    fn new(config: Option<&str>) -> Self {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".oci")).unwrap();
        std::fs::write(home.path().join(".oci/key.pem"), KEY_PEM).unwrap();
        if let Some(text) = config {
            std::fs::write(home.path().join(".oci/config"), text).unwrap();
        }
        Self {
            home,
            vars: HashMap::new(),
        }
    }

    fn set(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.home.path().join(rel);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn load(&self, path: Option<&Path>, profile: Option<&str>) -> Result<OciConfig, ConfigError> {
        let env = |name: &str| self.vars.get(name).cloned();
        load(&ConfigSource {
            path,
            profile,
            home: Some(self.home.path()),
            env: &env,
        })
    }
}

const FULL: &str = "\
[DEFAULT]
user=ocid1.user.oc1..default
fingerprint=aa:aa
tenancy=ocid1.tenancy.oc1..default
region=us-ashburn-1
key_file=~/.oci/key.pem

[ADMIN]
user=ocid1.user.oc1..admin
region=eu-frankfurt-1
pass_phrase=se#cret;x
";

#[test]
fn default_profile_from_default_file_with_tilde_key_file() {
    let cfg = Fixture::new(Some(FULL)).load(None, None).unwrap();
    assert_eq!(cfg.user, "ocid1.user.oc1..default");
    assert_eq!(cfg.region, "us-ashburn-1");
    assert_eq!(cfg.private_key_pem.as_str(), KEY_PEM);
    assert!(cfg.pass_phrase.is_none());
    assert_eq!(cfg.key_id(), "ocid1.tenancy.oc1..default/ocid1.user.oc1..default/aa:aa");
}

#[test]
fn profile_inherits_missing_keys_from_default() {
    let cfg = Fixture::new(Some(FULL)).load(None, Some("ADMIN")).unwrap();
    assert_eq!(cfg.user, "ocid1.user.oc1..admin");
    assert_eq!(cfg.region, "eu-frankfurt-1");
    assert_eq!(cfg.tenancy, "ocid1.tenancy.oc1..default"); // inherited
    assert_eq!(cfg.fingerprint, "aa:aa"); // inherited
    // `#` and `;` inside a value are literal: no inline comments.
    assert_eq!(cfg.pass_phrase.as_deref().map(String::as_str), Some("se#cret;x"));
}

#[test]
fn profile_precedence_arg_then_env_then_default() {
    let f = Fixture::new(Some(FULL)).set(ENV_PROFILE, "ADMIN");
    assert_eq!(f.load(None, None).unwrap().user, "ocid1.user.oc1..admin");
    assert_eq!(f.load(None, Some("DEFAULT")).unwrap().user, "ocid1.user.oc1..default");
}

#[test]
fn path_precedence_arg_then_oci_config_file_then_cli_var_then_home() {
    let other = FULL.replace("us-ashburn-1", "ap-tokyo-1");
    let third = FULL.replace("us-ashburn-1", "sa-saopaulo-1");
    let f = Fixture::new(Some(FULL));
    let explicit = f.write("explicit.ini", &other);
    f.write("third.ini", &third);
    let f = f
        .set(ENV_CONFIG_FILE, "~/third.ini")
        .set(ENV_CLI_CONFIG_FILE, "/nonexistent");
    assert_eq!(f.load(Some(&explicit), None).unwrap().region, "ap-tokyo-1");
    assert_eq!(f.load(None, None).unwrap().region, "sa-saopaulo-1");
    let f = f.set(ENV_CONFIG_FILE, "");
    assert!(matches!(f.load(None, None), Err(ConfigError::ReadFile { .. })));
}

#[test]
fn env_overrides_file_values() {
    let f = Fixture::new(Some(FULL))
        .set("OCI_CLI_USER", "ocid1.user.oc1..env")
        .set("OCI_CLI_REGION", "uk-london-1")
        .set("OCI_CLI_TENANCY", "ocid1.tenancy.oc1..env")
        .set("OCI_CLI_FINGERPRINT", "bb:bb")
        .set("OCI_CLI_PASSPHRASE", "envpass");
    let cfg = f.load(None, Some("ADMIN")).unwrap();
    assert_eq!(
        (cfg.user.as_str(), cfg.region.as_str()),
        ("ocid1.user.oc1..env", "uk-london-1")
    );
    assert_eq!(cfg.key_id(), "ocid1.tenancy.oc1..env/ocid1.user.oc1..env/bb:bb");
    assert_eq!(cfg.pass_phrase.as_deref().map(String::as_str), Some("envpass"));
}

#[test]
fn key_file_env_and_key_content_env() {
    let f = Fixture::new(Some(FULL));
    f.write("other.pem", "OTHER PEM");
    let f = f.set("OCI_CLI_KEY_FILE", "~/other.pem");
    assert_eq!(f.load(None, None).unwrap().private_key_pem.as_str(), "OTHER PEM");
    let f = f.set(ENV_KEY_CONTENT, "INLINE PEM");
    assert_eq!(f.load(None, None).unwrap().private_key_pem.as_str(), "INLINE PEM");
}

#[test]
fn env_only_without_any_file() {
    let f = Fixture::new(None)
        .set("OCI_CLI_USER", "u")
        .set("OCI_CLI_TENANCY", "t")
        .set("OCI_CLI_FINGERPRINT", "f")
        .set("OCI_CLI_REGION", "r")
        .set(ENV_KEY_CONTENT, "PEM");
    assert_eq!(f.load(None, None).unwrap().key_id(), "t/u/f");
}

#[test]
fn missing_key_error_names_file_profile_and_key() {
    let f = Fixture::new(Some(&FULL.replace("region=us-ashburn-1\n", "")));
    let err = f.load(None, Some("DEFAULT")).unwrap_err();
    match &err {
        ConfigError::MissingKey {
            path,
            profile,
            key,
            env_var,
        } => {
            assert_eq!(path.as_deref(), Some(f.home.path().join(".oci/config").as_path()));
            assert_eq!(
                (profile.as_str(), *key, *env_var),
                ("DEFAULT", "region", "OCI_CLI_REGION")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(".oci/config") && msg.contains("[DEFAULT]") && msg.contains("`region`"),
        "{msg}"
    );
}

#[test]
fn named_profile_must_exist() {
    let err = Fixture::new(Some(FULL)).load(None, Some("NOPE")).unwrap_err();
    assert!(
        matches!(&err, ConfigError::ProfileNotFound { profile, .. } if profile == "NOPE"),
        "{err}"
    );
}

#[test]
fn unreadable_key_file_names_the_expanded_path() {
    let f = Fixture::new(Some(&FULL.replace("~/.oci/key.pem", "~/missing.pem")));
    let err = f.load(None, None).unwrap_err();
    assert!(
        matches!(&err, ConfigError::ReadKeyFile { path, .. } if *path == f.home.path().join("missing.pem")),
        "{err}"
    );
}

#[test]
fn tilde_expansion() {
    let home = Path::new("/home/u");
    assert_eq!(
        expand_tilde("~/.oci/k.pem", Some(home)).unwrap(),
        PathBuf::from("/home/u/.oci/k.pem")
    );
    assert_eq!(expand_tilde("~", Some(home)).unwrap(), PathBuf::from("/home/u"));
    assert_eq!(expand_tilde("/abs/~x", Some(home)).unwrap(), PathBuf::from("/abs/~x"));
    assert_eq!(expand_tilde("~bob/k", Some(home)).unwrap(), PathBuf::from("~bob/k"));
    assert!(matches!(expand_tilde("~/k", None), Err(ConfigError::NoHome { .. })));
}

#[test]
fn debug_redacts_secrets() {
    let cfg = Fixture::new(Some(FULL)).load(None, Some("ADMIN")).unwrap();
    let shown = format!("{cfg:?}");
    assert!(
        !shown.contains("not-a-real-key") && !shown.contains("se#cret"),
        "{shown}"
    );
    assert!(shown.contains("ocid1.user.oc1..admin"), "{shown}");
}

fn parts(key_file: PathBuf) -> OciConfigParts {
    OciConfigParts {
        user: "ocid1.user.oc1..w".into(),
        fingerprint: "cc:cc".into(),
        tenancy: "ocid1.tenancy.oc1..w".into(),
        region: "us-phoenix-1".into(),
        key_file,
        pass_phrase: Some("p@ss #1".into()),
    }
}

#[test]
fn write_then_load_round_trips_with_mode_0600() {
    let f = Fixture::new(None);
    let path = f.home.path().join("sandbox/oci/config");
    let p = parts(f.home.path().join(".oci/key.pem"));
    write_config_file(&path, "SANDBOX", &p).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let cfg = f.load(Some(&path), Some("SANDBOX")).unwrap();
    assert_eq!(cfg.key_id(), "ocid1.tenancy.oc1..w/ocid1.user.oc1..w/cc:cc");
    assert_eq!(cfg.region, "us-phoenix-1");
    assert_eq!(cfg.private_key_pem.as_str(), KEY_PEM);
    assert_eq!(cfg.pass_phrase.as_deref().map(String::as_str), Some("p@ss #1"));
    // Rewriting replaces the file (atomically), leaving no temp files behind.
    write_config_file(
        &path,
        "SANDBOX",
        &OciConfigParts {
            region: "us-sanjose-1".into(),
            ..p
        },
    )
    .unwrap();
    assert_eq!(f.load(Some(&path), Some("SANDBOX")).unwrap().region, "us-sanjose-1");
    assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
}

#[test]
fn signer_from_config_with_encrypted_pkcs8_key() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/oci-signing");
    let text = format!(
        "[DEFAULT]\nuser=u\ntenancy=t\nfingerprint=f4:af\nregion=r\nkey_file={}\npass_phrase=credplane-test\n",
        vectors.join("encrypted_pkcs8_key.pem").display()
    );
    let f = Fixture::new(Some(&text));
    let signer = f.load(None, None).unwrap().signer().unwrap();
    assert_eq!(signer.key_id(), "t/u/f4:af");
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn complete_settings_skip_the_config_file() {
    let s = OciSettings {
        tenancy: Some("t".into()),
        user: Some("u".into()),
        fingerprint: Some("f".into()),
        private_key: Some(Secret::new("PEM".into())),
        endpoint: Some("http://127.0.0.1:1/".into()),
        config_file: Some("/nonexistent/config".into()),
        ..Default::default()
    };
    let r = resolve(&s, &no_env, None).unwrap();
    assert_eq!(r.endpoint, "http://127.0.0.1:1");
    assert_eq!(r.user, "u");
}

#[test]
fn region_gives_the_public_endpoint_and_missing_file_is_a_configuration_error() {
    let s = OciSettings {
        tenancy: Some("t".into()),
        user: Some("u".into()),
        fingerprint: Some("f".into()),
        private_key: Some(Secret::new("PEM".into())),
        region: Some("us-ashburn-1".into()),
        ..Default::default()
    };
    assert_eq!(
        resolve(&s, &no_env, None).unwrap().endpoint,
        "https://identity.us-ashburn-1.oraclecloud.com"
    );
    let partial = OciSettings {
        config_file: Some("/nonexistent/oci/config".into()),
        ..Default::default()
    };
    let err = resolve(&partial, &no_env, None).err().unwrap();
    assert!(err.contains("/nonexistent/oci/config"), "{err}");
}
