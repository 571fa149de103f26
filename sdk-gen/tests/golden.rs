//! Golden tests of the generator, in the manner of Pulumi's codegen harness: each folder under
//! `tests/golden/<case>/` holds a `schema/` and the `expected/` output for every language
//! (with its `sdk/MANIFEST`). An extra or missing file fails, as does any difference.
//!
//! Accept new output with `UPDATE_GOLDEN=1 cargo test -p sdk-gen --test golden`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read_tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn run_case(case: &str) {
    let dir = golden_dir().join(case);
    let files = sdk_gen::generate(&dir.join("schema")).expect("generate");
    let expected_dir = dir.join("expected");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        files.write(&expected_dir).expect("write golden");
        return;
    }
    let expected = read_tree(&expected_dir);
    let missing: Vec<_> = files.0.keys().filter(|p| !expected.contains_key(*p)).collect();
    let extra: Vec<_> = expected.keys().filter(|p| !files.0.contains_key(*p)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "case {case}: files not in expected/: {missing:?}; files only in expected/: {extra:?}\n\
         (accept with UPDATE_GOLDEN=1 cargo test -p sdk-gen --test golden)"
    );
    for (path, want) in &expected {
        let got = &files.0[path];
        if got != want {
            pretty_assertions::assert_eq!(
                want,
                got,
                "case {case}: {path} differs (accept with UPDATE_GOLDEN=1 cargo test -p sdk-gen --test golden)"
            );
        }
    }
}

/// The cases, one `#[test]` each.
macro_rules! golden_cases {
    ($($case:ident),* $(,)?) => {
        $(#[test] fn $case() { run_case(stringify!($case)); })*

        #[test]
        fn every_case_folder_has_a_test() {
            let listed = [$(stringify!($case)),*];
            for entry in std::fs::read_dir(golden_dir()).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                assert!(listed.contains(&name.as_str()), "tests/golden/{name} has no test: add it to golden_cases!");
            }
        }
    };
}

golden_cases!(kitchen_sink, no_enums, shared_enum);
