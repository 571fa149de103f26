//! The docs emitter: `docs/resources/<type>.md`, one page per resource in the Terraform
//! registry's layout (example, argument and attribute references, import, timeouts), with an
//! example in each SDK language.

use anyhow::Result;
use minijinja::{Environment, context};
use serde::Serialize;
use serde_json::Value;

use crate::Files;
use crate::model::{ExampleArg, Model, Property};

const DIR: &str = "docs/resources";

/// One argument or attribute line.
#[derive(Serialize)]
struct DocProp {
    name: crate::model::Names,
    required: bool,
    /// Short flags shown in parentheses ("Updatable", "ForceNew", "Secret", ...).
    flags: Vec<String>,
    /// The description on one line, then the default and the allowed values.
    text: String,
}

/// One argument of a language's example.
#[derive(Serialize)]
struct ExampleLine {
    name: String,
    value: String,
}

fn doc_prop(p: &Property) -> DocProp {
    let rows = [
        (p.updatable, "Updatable"),
        (p.force_new, "ForceNew"),
        (p.secret, "Secret"),
        (p.computed, "Computed"),
        (p.only_on_create, "Only on create"),
        (p.write_only, "Write-only"),
        (p.deprecated, "Deprecated"),
    ];
    let flags = rows.iter().filter(|(on, _)| *on).map(|(_, s)| s.to_string()).collect();
    let mut text = p.description_lines.join(" ");
    if let Some(d) = &p.default_value {
        let d = match d {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!(" Default: `{d}`."));
    }
    if !p.enum_values.is_empty() {
        let values: Vec<String> = p.enum_values.iter().map(|v| format!("`{v}`")).collect();
        text.push_str(&format!(" Valid values: {}.", values.join(", ")));
    }
    DocProp {
        name: p.name.clone(),
        required: p.required,
        flags,
        text,
    }
}

/// JSON text of a value, which is also a valid Python/TS/Go literal for strings and numbers.
fn literal(v: &Value) -> String {
    v.to_string()
}

fn python_example(a: &ExampleArg) -> ExampleLine {
    let value = match (&a.enum_member, &a.value) {
        (Some((e, v)), _) => format!("{e}.{}", v.upper),
        (_, Value::Bool(b)) => if *b { "True" } else { "False" }.to_string(),
        (_, v) => literal(v),
    };
    let value = if a.secret { format!("Secret({value})") } else { value };
    ExampleLine {
        name: a.name.python.clone(),
        value,
    }
}

fn typescript_example(a: &ExampleArg) -> ExampleLine {
    let value = match &a.enum_member {
        Some((e, v)) => format!("{e}.{}", v.pascal),
        None => literal(&a.value),
    };
    let value = if a.secret {
        format!("new Secret({value})")
    } else {
        value
    };
    ExampleLine {
        name: a.name.camel.clone(),
        value,
    }
}

fn go_example(a: &ExampleArg) -> ExampleLine {
    let value = match (&a.enum_member, &a.value) {
        (Some((_, v)), _) => format!("resources.{}", v.go),
        (_, Value::Object(m)) => {
            let pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k:?}: {v}")).collect();
            format!("map[string]string{{{}}}", pairs.join(", "))
        }
        (_, v) => literal(v),
    };
    let value = if a.secret {
        format!("runtime.NewSecret({value})")
    } else {
        value
    };
    ExampleLine {
        name: a.name.go.clone(),
        value: format!("runtime.Val({value})"),
    }
}

/// The Go example's fields, keys padded (with their colon) as gofmt aligns them.
fn go_examples(args: &[ExampleArg]) -> Vec<ExampleLine> {
    let width = args.iter().map(|a| a.name.go.len() + 1).max().unwrap_or(0);
    args.iter()
        .map(go_example)
        .map(|l| ExampleLine {
            name: format!("{:<width$} ", format!("{}:", l.name)),
            value: l.value,
        })
        .collect()
}

/// One link to a feature page.
#[derive(Serialize)]
struct Guide {
    title: &'static str,
    link: &'static str,
}

/// The feature pages (in `docs/`) a resource's page links to, each shown by a property that only
/// a resource with the feature has.
const GUIDES: &[(&str, Guide)] = &[
    (
        "rotate_after",
        Guide {
            title: "Built-in rotation (`rotate_after`, `keepers`)",
            link: "../rotation.md",
        },
    ),
    (
        "sink_file",
        Guide {
            title: "Secret sinks (`sink_*`, `store_secret_in_state`)",
            link: "../sinks.md",
        },
    ),
];

/// The guides of a resource: [`GUIDES`] by property, and the write-only page when it has one.
fn guides(inputs: &[Property]) -> Vec<&'static Guide> {
    const WRITE_ONLY: Guide = Guide {
        title: "Write-only inputs",
        link: "../write-only.md",
    };
    let mut out: Vec<&'static Guide> = GUIDES
        .iter()
        .filter(|(prop, _)| inputs.iter().any(|p| p.name.wire == *prop))
        .map(|(_, g)| g)
        .collect();
    if inputs.iter().any(|p| p.write_only) {
        out.push(&WRITE_ONLY);
    }
    out
}

/// Renders every doc page into `files`.
pub fn emit(model: &Model, env: &Environment, files: &mut Files) -> Result<()> {
    for r in &model.resources {
        let mut py_imports = Vec::new();
        let mut ts_imports = vec![r.name.pascal.clone()];
        for a in &r.example {
            if let Some((e, _)) = &a.enum_member {
                py_imports.push(format!("from credplane.resources import {e}"));
                ts_imports.push(e.clone());
            }
        }
        if r.example.iter().any(|a| a.secret) {
            py_imports.push("from credplane.runtime import Secret".into());
            ts_imports.push("Secret".into());
        }
        let text = env.get_template("docs/resource.md.j2")?.render(context! {
            r => context! {
                name => r.name, description => r.description, cloud => r.cloud,
                import => r.import, timeouts => r.timeouts,
                inputs => r.inputs.iter().map(doc_prop).collect::<Vec<_>>(),
                attributes => r.attributes.iter().map(doc_prop).collect::<Vec<_>>(),
                guides => guides(&r.inputs),
            },
            python => context! {
                imports => py_imports,
                args => r.example.iter().map(python_example).collect::<Vec<_>>(),
            },
            typescript => context! {
                imports => ts_imports,
                args => r.example.iter().map(typescript_example).collect::<Vec<_>>(),
            },
            go => context! { args => go_examples(&r.example) },
        })?;
        files.add(format!("{DIR}/{}.md", r.name.wire), text)?;
    }
    Ok(())
}
