//! The one shape every SDK emitter hands its templates for a property.

use serde::Serialize;

/// A property as a template prints it, in one language's spelling.
#[derive(Debug, Serialize)]
pub struct Field {
    /// The name in the language (Python attribute, TS field, Go exported name).
    pub name: String,
    /// The wire name.
    pub wire: String,
    /// The type in the language.
    pub ty: String,
    /// Required (not nullable).
    pub required: bool,
    /// How to convert the value to or from the wire: a helper name or a whole expression,
    /// depending on the language and direction.
    pub convert: String,
    /// Doc comment lines, already escaped for the language's comment syntax.
    pub doc: Vec<String>,
}

/// Fails when an output accessor of a generated resource class would hide a member of the
/// runtime's base class (`reserved`): better a clear error than a silently broken SDK.
pub fn ensure_not_reserved(lang: &str, resource: &str, fields: &[Field], reserved: &[&str]) -> anyhow::Result<()> {
    for f in fields {
        anyhow::ensure!(
            !reserved.contains(&f.name.as_str()),
            "{resource}: attribute `{}` would be `{}` in {lang}, which the runtime's Resource \
             base class already uses",
            f.wire,
            f.name
        );
    }
    Ok(())
}
