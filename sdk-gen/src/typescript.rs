//! The TypeScript emitter: maps model types to TypeScript types and renders
//! `templates/typescript/`. Output: `sdk/typescript/src/resources/{index,enums,<type>}.ts`,
//! written against the hand-written runtime in `sdk/typescript/src/runtime/`.

use crate::Files;
use crate::field::{self, Field};
use crate::model::{Model, Property, Type};
use anyhow::Result;
use minijinja::{Environment, context};

const DIR: &str = "sdk/typescript/src/resources";

fn base(ty: &Type) -> String {
    match ty {
        Type::String => "string".into(),
        Type::Bool => "boolean".into(),
        Type::Integer => "number".into(),
        Type::Map => "Record<string, string>".into(),
        Type::List => "string[]".into(),
        Type::Enum(name) => name.clone(),
    }
}

/// Lines safe inside a `/** */` comment.
fn jsdoc(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| l.replace("*/", "*\\/")).collect()
}

fn arg_field(p: &Property) -> Field {
    let b = base(&p.ty);
    let value = if p.secret { format!("Secret<{b}> | {b}") } else { b };
    Field {
        name: p.name.camel.clone(),
        wire: p.name.wire.clone(),
        ty: format!("Input<{value}>"),
        required: p.required,
        convert: if p.secret { "secretToWire" } else { "valueToWire" }.into(),
        doc: jsdoc(&p.doc),
    }
}

fn state_field(p: &Property) -> Field {
    let b = base(&p.ty);
    Field {
        name: p.name.camel.clone(),
        wire: p.name.wire.clone(),
        ty: if p.secret { format!("Secret<{b}>") } else { b },
        required: p.required,
        convert: if p.secret { "secretFromWire" } else { "valueFromWire" }.into(),
        doc: jsdoc(&p.doc),
    }
}

/// Members of the runtime's Resource base class that an output accessor must not hide.
const RESERVED: &[&str] = &["TYPE", "type", "name", "inputs", "dependsOn", "output"];

/// Renders every TypeScript file into `files`.
pub fn emit(model: &Model, env: &Environment, files: &mut Files) -> Result<()> {
    for r in &model.resources {
        let args: Vec<Field> = r.inputs.iter().map(arg_field).collect();
        let state: Vec<Field> = r.outputs.iter().map(state_field).collect();
        field::ensure_not_reserved("TypeScript", &r.name.wire, &state, RESERVED)?;
        let text = env.get_template("typescript/resource.ts.j2")?.render(context! {
            r => context! { name => r.name, enums => r.enums, doc => jsdoc(&r.doc) },
            uses_secret => r.outputs.iter().any(|p| p.secret),
            args, state,
        })?;
        files.add(format!("{DIR}/{}.ts", r.name.wire), text)?;
    }
    let enums: Vec<_> = model
        .enums
        .iter()
        .map(|e| context! { name => e.name, variants => e.variants, doc => jsdoc(&e.doc) })
        .collect();
    files.add(
        format!("{DIR}/enums.ts"),
        env.get_template("typescript/enums.ts.j2")?.render(context! { enums })?,
    )?;
    files.add(
        format!("{DIR}/index.ts"),
        env.get_template("typescript/index.ts.j2")?
            .render(context! { resources => model.resources })?,
    )?;
    if !model.errors.is_empty() {
        files.add(
            "sdk/typescript/src/codes/index.ts",
            env.get_template("typescript/codes.ts.j2")?
                .render(context! { errors => model.errors })?,
        )?;
    }
    Ok(())
}
