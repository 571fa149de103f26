//! The generated files committed under `schema/`: one JSON Schema per resource type, the whole
//! `getSchema` answer, the OpenRPC document, and the Pulumi and Terraform exports. `credplane schema` writes them; a test checks
//! that the committed copies are current.

use crate::provider::Provider;
use std::path::Path;

/// The command that regenerates the files.
pub const REGENERATE: &str = "cargo run -- schema --out schema";

/// Every generated file: its path under the schema directory, and its text.
pub fn files(provider: &Provider) -> Vec<(String, String)> {
    let schema = provider.derived_schema();
    let mut out: Vec<(String, String)> = schema
        .resources
        .iter()
        .map(|(name, doc)| (format!("resources/{name}.json"), pretty(doc)))
        .collect();
    out.push(("openrpc.json".into(), pretty(&crate::rpc::methods::document())));
    out.push(("pulumi.json".into(), pretty(&crate::export::pulumi::package(&schema))));
    out.push((
        "terraform.json".into(),
        pretty(&crate::export::terraform::providers_schema(&schema)),
    ));
    out
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text
}

/// Writes the files under `dir`.
pub fn write(provider: &Provider, dir: &Path) -> std::io::Result<()> {
    for (name, text) in files(provider) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}

/// The files under `dir` that differ from what this build generates (missing ones included).
pub fn stale(provider: &Provider, dir: &Path) -> Vec<String> {
    files(provider)
        .into_iter()
        .filter(|(name, text)| std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str()))
        .map(|(name, _)| name)
        .collect()
}
