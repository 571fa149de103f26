//! The plan: the steps of a deployment, their summary, and the one rendering of it as text.

use crate::protocol::envelope::{is_secret, is_unknown};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a secret prints as.
pub const MASK: &str = "[secret]";
/// What an unknown value prints as.
pub const UNKNOWN: &str = "(unknown)";

/// One property's change.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Change {
    /// The property.
    pub name: String,
    /// `add`, `update` or `delete`.
    pub kind: String,
    /// Whether it forces a replacement.
    pub replace: bool,
    /// The old value, masked.
    pub old: Value,
    /// The new value, masked.
    pub new: Value,
    /// Why, when the provider says (a key due for rotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One step of the plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// `create`, `update`, `replace`, `delete`, `same` or `import`.
    pub op: String,
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The resource name.
    pub name: String,
    /// Its id, when known.
    pub id: Option<String>,
    /// `replaced` (the deletion of a replaced predecessor), `gone` (refresh), or empty.
    pub note: String,
    /// The replacement deleted the old resource first.
    pub delete_before_replace: bool,
    /// Property changes.
    pub changes: Vec<Change>,
}

impl Step {
    /// A step with no changes.
    pub fn new(op: &str, type_name: &str, name: &str, id: Option<String>) -> Self {
        Step {
            op: op.into(),
            type_name: type_name.into(),
            name: name.into(),
            id: id.filter(|i| !i.is_empty()),
            note: String::new(),
            delete_before_replace: false,
            changes: Vec::new(),
        }
    }

    fn render(&self, out: &mut String) {
        let symbol = match self.op.as_str() {
            "create" => "+",
            "update" => "~",
            "replace" => "+-",
            "delete" => "-",
            "import" => "=",
            _ => " ",
        };
        out.push_str(&format!("{symbol:>2} {} {}", self.type_name, self.name));
        if let Some(id) = &self.id {
            out.push_str(&format!(" (id {id})"));
        }
        if self.delete_before_replace {
            out.push_str(" [delete before replace]");
        }
        if !self.note.is_empty() {
            out.push_str(&format!(" [{}]", self.note));
        }
        out.push('\n');
        if self.op == "delete" {
            return;
        }
        for c in &self.changes {
            let text = match c.kind.as_str() {
                "add" => format!("+ {}: {}", c.name, show(&c.new)),
                "delete" => format!("- {}: {}", c.name, show(&c.old)),
                _ => format!("~ {}: {} => {}", c.name, show(&c.old), show(&c.new)),
            };
            let forces = if c.replace { " (forces replacement)" } else { "" };
            out.push_str(&format!("       {text}{forces}\n"));
            if let Some(reason) = &c.reason {
                out.push_str(&format!("         because {reason}\n"));
            }
        }
    }
}

/// Secrets become `[secret]` and unknowns `(unknown)`, at any depth.
pub fn mask(value: &Value) -> Value {
    if is_secret(value) {
        return Value::String(MASK.into());
    }
    if is_unknown(value) {
        return Value::String(UNKNOWN.into());
    }
    match value {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), mask(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(mask).collect()),
        other => other.clone(),
    }
}

fn show(masked: &Value) -> String {
    match masked {
        Value::String(s) if s == MASK || s == UNKNOWN => s.clone(),
        other => other.to_string(),
    }
}

/// Counts by op (deletions of replaced predecessors are part of their replace).
pub fn summary(steps: &[Step]) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = ["create", "update", "replace", "delete", "same", "import"]
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    for s in steps.iter().filter(|s| s.note != "replaced") {
        *counts.entry(s.op.clone()).or_default() += 1;
    }
    counts
}

/// The plan as text: a title, warnings, every step that changes something, and the counts.
pub fn render(stack: &str, action: &str, steps: &[Step], warnings: &[String]) -> String {
    let title = match action {
        "preview" => "Previewing",
        "up" => "Applied",
        "refresh" => "Refreshed",
        "destroy" => "Destroyed",
        other => other,
    };
    let mut out = format!("{title} stack {stack}:\n");
    for w in warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    for s in steps.iter().filter(|s| s.op != "same") {
        s.render(&mut out);
    }
    let counts = summary(steps);
    let words: [(&str, &str); 5] = match action {
        "preview" => [
            ("create", "to create"),
            ("update", "to update"),
            ("replace", "to replace"),
            ("delete", "to delete"),
            ("import", "to import"),
        ],
        "refresh" => [
            ("create", "created"),
            ("update", "drifted"),
            ("replace", "replaced"),
            ("delete", "gone"),
            ("import", "imported"),
        ],
        _ => [
            ("create", "created"),
            ("update", "updated"),
            ("replace", "replaced"),
            ("delete", "deleted"),
            ("import", "imported"),
        ],
    };
    let mut parts: Vec<String> = words
        .iter()
        .filter(|(op, _)| counts[*op] > 0)
        .map(|(op, word)| format!("{} {word}", counts[*op]))
        .collect();
    parts.push(format!("{} unchanged", counts["same"]));
    out.push_str(&format!("Resources: {}", parts.join(", ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_never_reach_the_text() {
        let mut s = Step::new("create", "t", "a", None);
        s.changes.push(Change {
            name: "p".into(),
            kind: "add".into(),
            replace: false,
            old: Value::Null,
            new: mask(&json!({"$credplane": "secret", "value": "hunter2"})),
            reason: None,
        });
        let text = render("st", "preview", &[s], &[]);
        assert!(text.contains("+ p: [secret]") && !text.contains("hunter2"), "{text}");
        assert!(text.ends_with("Resources: 1 to create, 0 unchanged"), "{text}");
    }
}
