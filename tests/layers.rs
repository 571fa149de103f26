//! The floors of `src/` depend only downward (see the "Layout" section of `src/lib.rs`): this
//! test reads every source file of a layer and fails on a `crate::<layer>` path that points up.

use std::path::{Path, PathBuf};

/// A layer (a folder under `src/`) and the layers it must never name.
struct Floor {
    dir: &'static str,
    forbidden: &'static [&'static str],
}

/// `protocol` ← `cloud` ← `resources` ← `provider` ← `rpc` ← `main`; `secrets` is a leaf that
/// every floor may use and that uses none of them.
const FLOORS: &[Floor] = &[
    Floor {
        dir: "secrets",
        forbidden: &["protocol", "cloud", "resources", "provider", "rpc", "engine", "sandbox"],
    },
    Floor {
        dir: "protocol",
        forbidden: &["cloud", "resources", "provider", "rpc", "engine", "sandbox"],
    },
    Floor {
        dir: "cloud",
        forbidden: &["resources", "provider", "rpc", "engine", "sandbox"],
    },
    Floor {
        dir: "resources",
        forbidden: &["provider", "rpc", "engine", "sandbox"],
    },
    Floor {
        dir: "provider",
        forbidden: &["rpc", "engine", "sandbox"],
    },
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::<layer>` (also inside `use crate::{...}` groups is not allowed: name paths in full).
fn upward_edges(text: &str, forbidden: &[&str]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for layer in forbidden {
            let needle = format!("crate::{layer}");
            if let Some(at) = code.find(&needle) {
                let next = code[at + needle.len()..].chars().next();
                if !next.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    found.push((number + 1, line.trim().to_string()));
                }
            }
        }
        if code.contains("use crate::{") {
            found.push((
                number + 1,
                format!("grouped crate import (name each path): {}", line.trim()),
            ));
        }
    }
    found
}

#[test]
fn floors_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for floor in FLOORS {
        let mut files = Vec::new();
        rust_files(&src.join(floor.dir), &mut files);
        assert!(!files.is_empty(), "no sources under src/{}", floor.dir);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, code) in upward_edges(&text, floor.forbidden) {
                violations.push(format!("{}:{line}: {code}", file.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "upward imports (see the Layout section of src/lib.rs):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scanner_catches_an_upward_import() {
    let forbidden = &["resources", "provider"];
    assert_eq!(upward_edges("use crate::resources::Context;", forbidden).len(), 1);
    assert_eq!(
        upward_edges("fn f(e: crate::provider::error::ProviderError) {}", forbidden).len(),
        1
    );
    assert_eq!(
        upward_edges("use crate::{cloud::Call, resources::Context};", forbidden).len(),
        1
    );
    assert!(upward_edges("use crate::cloud::Call; // not crate::resources", forbidden).is_empty());
    assert!(upward_edges("use crate::resources_like::X;", forbidden).is_empty());
}

#[test]
fn the_sandbox_crate_does_not_depend_on_the_provider() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("sandbox/Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or_default();
    assert!(
        !deps
            .lines()
            .any(|l| l.trim_start().starts_with("credplane ") || l.trim_start().starts_with("credplane=")),
        "credplane-sandbox must not depend on credplane (cargo forbids the cycle; share code through credplane-sign)"
    );
}

/// Not-found handling belongs to the clients (`CloudError::is_not_found`): a resource never matches
/// a cloud's "does not exist" codes itself.
#[test]
fn resources_leave_not_found_codes_to_the_clients() {
    let mut files = Vec::new();
    rust_files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/resources"),
        &mut files,
    );
    let codes = [
        "NoSuchEntity",
        "EntityNotExist",
        "Forbidden.ResourceNotFound",
        "NotAuthorizedOrNotFound",
    ];
    let found: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            codes
                .iter()
                .filter(|c| text.contains(&format!("\"{c}")))
                .map(|c| format!("{}: {c}", f.display()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        found.is_empty(),
        "cloud not-found codes matched in resources/: {found:?}"
    );
}
