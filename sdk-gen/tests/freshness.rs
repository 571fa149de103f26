//! The committed SDKs and docs match what `schema/` generates (the same check as
//! `cargo run -p sdk-gen -- --check`), and the docs cover every name in the upstream seeds.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn generated_files_are_fresh() {
    let root = repo();
    let files = sdk_gen::generate(&root.join("schema")).expect("generate");
    let drift = files.check(&root).expect("check");
    assert!(
        drift.is_clean(),
        "generated files are out of date:\n{drift}\nRegenerate them with:\n  {}",
        sdk_gen::REGENERATE
    );
}

/// The names in a seed's "Argument Reference" and "Attributes Reference" bullet lists
/// (`* `name` - ...`).
fn seed_names(text: &str) -> Vec<String> {
    let mut section = "";
    let mut names = Vec::new();
    const SECTIONS: &[&str] = &["Argument Reference", "Attributes Reference", "Attribute Reference"];
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim();
            continue;
        }
        let bullet = line.strip_prefix("* `").and_then(|l| l.split_once("` - "));
        if let (true, Some((name, _))) = (SECTIONS.contains(&section), bullet) {
            names.push(name.to_string());
        }
    }
    names
}

#[test]
fn docs_cover_every_seed_name() {
    let root = repo();
    let seeds = root.join("../shared/seeds");
    let model = sdk_gen::model::load(&root.join("schema")).unwrap();
    let mut problems = Vec::new();
    for r in &model.resources {
        let seed_path = seeds.join(format!("{}.md", r.name.wire));
        let Ok(seed) = std::fs::read_to_string(&seed_path) else {
            // The seeds live outside the repository; without them there is nothing to compare.
            eprintln!("skipping {}: {} not found", r.name.wire, seed_path.display());
            continue;
        };
        let doc = std::fs::read_to_string(root.join(format!("docs/resources/{}.md", r.name.wire))).unwrap();
        let names = seed_names(&seed);
        assert!(!names.is_empty(), "{}: no names parsed from the seed", r.name.wire);
        for name in names {
            if !doc.contains(&format!("`{name}`")) {
                problems.push(format!("{}: `{name}`", r.name.wire));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "names in the seeds missing from docs/resources: {problems:#?}"
    );
}

#[test]
fn seed_bullets_are_parsed() {
    let text = "## Argument Reference\n\n* `user` - (Required) x.\n## Import\n* `not_me` - y\n";
    assert_eq!(seed_names(text), ["user"]);
}

#[test]
fn resource_docs_link_the_feature_guides() {
    // (resource, guide pages its doc must link to): by the properties that carry the feature.
    let cases: &[(&str, &[&str])] = &[
        ("aws_iam_access_key", &["../rotation.md", "../sinks.md"]),
        ("alicloud_ram_access_key", &["../rotation.md", "../sinks.md"]),
        ("oci_identity_auth_token", &["../rotation.md"]),
        ("oci_identity_customer_secret_key", &["../rotation.md"]),
        ("alicloud_kms_secret", &["../write-only.md"]),
    ];
    let root = repo();
    for (resource, links) in cases {
        let doc = std::fs::read_to_string(root.join(format!("docs/resources/{resource}.md"))).unwrap();
        for link in *links {
            assert!(doc.contains(&format!("]({link})")), "{resource} does not link {link}");
            let page = root.join("docs").join(link.trim_start_matches("../"));
            assert!(page.exists(), "{} is missing", page.display());
        }
        for other in ["../rotation.md", "../sinks.md", "../write-only.md"] {
            if !links.contains(&other) {
                assert!(
                    !doc.contains(&format!("]({other})")),
                    "{resource} links {other} without the feature"
                );
            }
        }
    }
}
