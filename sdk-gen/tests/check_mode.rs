//! The CLI's `--check` mode: a stale, missing or extra file fails with the list and the command
//! that fixes it; writing repairs all three.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdk-gen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sdk_gen(out: &Path, check: bool) -> std::process::Output {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/shared_enum/schema");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sdk-gen"));
    cmd.arg("--schema").arg(&schema).arg("--out").arg(out);
    if check {
        cmd.arg("--check");
    }
    cmd.output().unwrap()
}

#[test]
fn check_reports_stale_missing_and_extra_then_write_repairs() {
    let out = scratch("check");
    assert!(sdk_gen(&out, false).status.success());
    assert!(sdk_gen(&out, true).status.success(), "fresh output passes the check");

    std::fs::write(out.join("sdk/go/resources/alpha_key.go"), "package resources\n").unwrap();
    std::fs::remove_file(out.join("docs/resources/beta_key.md")).unwrap();
    std::fs::write(out.join("sdk/typescript/src/resources/gamma_key.ts"), "").unwrap();

    let res = sdk_gen(&out, true);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{stderr}");
    for line in [
        "stale: sdk/go/resources/alpha_key.go",
        "missing: docs/resources/beta_key.md",
        "extra: sdk/typescript/src/resources/gamma_key.ts",
        sdk_gen::REGENERATE,
    ] {
        assert!(stderr.contains(line), "{line:?} not in:\n{stderr}");
    }

    assert!(sdk_gen(&out, false).status.success());
    assert!(sdk_gen(&out, true).status.success(), "writing repairs every drift");
    assert!(!out.join("sdk/typescript/src/resources/gamma_key.ts").exists());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_file_listed_in_the_old_manifest_is_extra() {
    let out = scratch("manifest");
    assert!(sdk_gen(&out, false).status.success());
    // A file in a directory the generator no longer writes to, but listed by the old manifest.
    std::fs::create_dir_all(out.join("sdk/old")).unwrap();
    std::fs::write(out.join("sdk/old/gone.py"), "").unwrap();
    let manifest = out.join("sdk/MANIFEST");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("sdk/old/gone.py\n");
    std::fs::write(&manifest, text).unwrap();
    let res = sdk_gen(&out, true);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(stderr.contains("extra: sdk/old/gone.py"), "{stderr}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn conflicting_enums_are_rejected() {
    let e = |values: &[&str]| {
        let one_of: Vec<_> = values.iter().map(|v| serde_json::json!({"const": v})).collect();
        serde_json::json!({
            "title": "x", "description": "d", "x-cloud": "c", "x-import": "i",
            "x-timeouts": {"create": 1, "update": 1, "delete": 1},
            "$defs": {
                "S": {"oneOf": one_of},
                "inputs": {"type": "object", "properties": {}},
                "outputs": {"type": "object", "properties": {}}
            }
        })
    };
    let err = sdk_gen::model::build(&[e(&["A"]), e(&["A", "B"])]).unwrap_err();
    assert!(format!("{err:#}").contains("enum S differs"), "{err:#}");
}

#[test]
fn an_attribute_hiding_a_runtime_member_is_rejected() {
    let doc = serde_json::json!({
        "title": "x", "description": "d", "x-cloud": "c", "x-import": "i",
        "x-timeouts": {"create": 1, "update": 1, "delete": 1},
        "$defs": {
            "inputs": {"type": "object", "properties": {}},
            "outputs": {"type": "object", "properties": {"name": {"type": "string"}}}
        }
    });
    let model = sdk_gen::model::build(&[doc]).unwrap();
    let err = sdk_gen::generate_model(&model).unwrap_err();
    assert!(format!("{err:#}").contains("attribute `name`"), "{err:#}");
}

/// In `sdk/go/runtime` the generated error sentinels sit beside the hand-written runtime: there
/// only a file with the generated notice can be extra, and writing never removes the others.
#[test]
fn hand_written_files_beside_generated_ones_are_kept() {
    let out = scratch("shared");
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    let run = |check: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sdk-gen"));
        cmd.arg("--schema").arg(&schema).arg("--out").arg(&out);
        if check {
            cmd.arg("--check");
        }
        cmd.output().unwrap()
    };
    assert!(run(false).status.success());
    assert!(
        out.join("sdk/go/runtime/codes.go").exists(),
        "the sentinels are generated"
    );
    std::fs::write(out.join("sdk/go/runtime/client.go"), "package runtime\n").unwrap();
    let old = format!("// {}\npackage runtime\n", sdk_gen::GENERATED_NOTICE);
    std::fs::write(out.join("sdk/go/runtime/old.go"), old).unwrap();
    let res = run(true);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(stderr.contains("extra: sdk/go/runtime/old.go"), "{stderr}");
    assert!(!stderr.contains("client.go"), "{stderr}");
    assert!(run(false).status.success());
    assert!(
        out.join("sdk/go/runtime/client.go").exists(),
        "the hand-written file stays"
    );
    assert!(
        !out.join("sdk/go/runtime/old.go").exists(),
        "the stale generated one goes"
    );
    let _ = std::fs::remove_dir_all(&out);
}
