//! The generated tree in memory, its manifest, and the two ways to apply it: write or check.
//!
//! The manifest (`sdk/MANIFEST`) lists every generated path. The check compares contents and
//! also fails on a file that is listed by the committed manifest or sits in a generated
//! directory but is no longer generated, so an extra or missing file is never silent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};

/// Path of the manifest, relative to the output root.
pub const MANIFEST: &str = "sdk/MANIFEST";

/// Directories where generated files sit beside hand-written ones (a Go package is one
/// directory: the generated error sentinels live in package runtime).
pub const SHARED_DIRS: &[&str] = &["sdk/go/runtime"];

/// Generated files: relative path (always `/`-separated) → contents.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Files(pub BTreeMap<String, String>);

/// What differs between the generated tree and the one on disk.
#[derive(Debug, Default, PartialEq)]
pub struct Drift {
    /// Generated, but different on disk.
    pub stale: Vec<String>,
    /// Generated, but absent on disk.
    pub missing: Vec<String>,
    /// On disk (in the manifest or a generated directory), but not generated.
    pub extra: Vec<String>,
}

impl Drift {
    /// Whether the disk matches.
    pub fn is_clean(&self) -> bool {
        self.stale.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (label, list) in [
            ("stale", &self.stale),
            ("missing", &self.missing),
            ("extra", &self.extra),
        ] {
            for path in list {
                writeln!(f, "  {label}: {path}")?;
            }
        }
        Ok(())
    }
}

impl Files {
    /// Adds a file; a path generated twice is a bug in an emitter.
    pub fn add(&mut self, path: impl Into<String>, contents: String) -> Result<()> {
        let path = path.into();
        anyhow::ensure!(!self.0.contains_key(&path), "{path} generated twice");
        self.0.insert(path, contents);
        Ok(())
    }

    /// Adds `sdk/MANIFEST`, listing every other file.
    pub fn add_manifest(&mut self) {
        let mut text = format!("# {}\n# Regenerate: {}\n", crate::GENERATED_NOTICE, crate::REGENERATE);
        for path in self.0.keys() {
            text.push_str(path);
            text.push('\n');
        }
        self.0.insert(MANIFEST.to_string(), text);
    }

    /// Directories that hold generated files; the generator owns all of their files, except in
    /// a [`SHARED_DIRS`] one, where it owns only the files that start with its notice.
    fn owned_dirs(&self) -> BTreeSet<String> {
        self.0
            .keys()
            .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
            .collect()
    }

    /// Files on disk under `root` that the generator owns but does not produce now.
    fn extras(&self, root: &Path) -> Result<Vec<String>> {
        let mut found = BTreeSet::new();
        for dir in self.owned_dirs() {
            let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
                continue;
            };
            for entry in entries {
                let entry = entry?;
                let written_by_hand = SHARED_DIRS.contains(&dir.as_str())
                    && !std::fs::read_to_string(entry.path()).is_ok_and(|t| t.contains(crate::GENERATED_NOTICE));
                if entry.file_type()?.is_file() && !written_by_hand {
                    found.insert(format!("{dir}/{}", entry.file_name().to_string_lossy()));
                }
            }
        }
        if let Ok(old) = std::fs::read_to_string(root.join(MANIFEST)) {
            found.extend(
                old.lines()
                    .filter(|l| !l.starts_with('#') && !l.is_empty())
                    .filter(|l| root.join(l).exists())
                    .map(str::to_string),
            );
        }
        Ok(found.into_iter().filter(|p| !self.0.contains_key(p)).collect())
    }

    /// Compares with the tree under `root`.
    pub fn check(&self, root: &Path) -> Result<Drift> {
        let mut drift = Drift::default();
        for (path, contents) in &self.0 {
            match std::fs::read_to_string(root.join(path)) {
                Ok(on_disk) if on_disk == *contents => {}
                Ok(_) => drift.stale.push(path.clone()),
                Err(_) => drift.missing.push(path.clone()),
            }
        }
        drift.extra = self.extras(root)?;
        Ok(drift)
    }

    /// Writes every file under `root` and deletes the extras; returns how many files changed.
    pub fn write(&self, root: &Path) -> Result<usize> {
        let drift = self.check(root)?;
        for path in drift.stale.iter().chain(&drift.missing) {
            let full = root.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&full, &self.0[path]).with_context(|| format!("writing {path}"))?;
        }
        for path in &drift.extra {
            std::fs::remove_file(root.join(path)).with_context(|| format!("removing {path}"))?;
        }
        Ok(drift.stale.len() + drift.missing.len() + drift.extra.len())
    }
}
