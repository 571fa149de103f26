//! The Go emitter: maps model types to Go types and renders `templates/go/`.
//! Output: `sdk/go/resources/{enums,<type>}.go` in package `resources`, built on the
//! hand-written `sdk/go/runtime` package.

use crate::Files;
use crate::field::{self, Field};
use crate::model::{Model, Property, Type};
use anyhow::Result;
use minijinja::{Environment, context};

const DIR: &str = "sdk/go/resources";

fn base(ty: &Type) -> String {
    match ty {
        Type::String => "string".into(),
        Type::Bool => "bool".into(),
        Type::Integer => "int64".into(),
        Type::Map => "map[string]string".into(),
        Type::List => "[]string".into(),
        Type::Enum(name) => name.clone(),
    }
}

fn arg_field(p: &Property) -> Field {
    let b = base(&p.ty);
    let value = if p.secret { format!("runtime.Secret[{b}]") } else { b };
    Field {
        name: p.name.go.clone(),
        wire: p.name.wire.clone(),
        ty: format!("runtime.Input[{value}]"),
        required: p.required,
        convert: if p.secret { "PutSecret" } else { "Put" }.into(),
        doc: p.doc.clone(),
    }
}

fn state_field(p: &Property) -> Field {
    let b = base(&p.ty);
    let value = if p.secret { format!("runtime.Secret[{b}]") } else { b };
    // Optional values are pointers (nil = absent), except maps and lists, whose nil already says it.
    let ty = if p.required || matches!(p.ty, Type::Map | Type::List) {
        value
    } else {
        format!("*{value}")
    };
    Field {
        name: p.name.go.clone(),
        wire: p.name.wire.clone(),
        ty,
        required: p.required,
        convert: String::new(),
        doc: p.doc.clone(),
    }
}

/// Members of the runtime's Resource base class that an output accessor must not hide.
const RESERVED: &[&str] = &["Resource", "Base", "Init"];

/// Renders every Go file into `files`.
pub fn emit(model: &Model, env: &Environment, files: &mut Files) -> Result<()> {
    for r in &model.resources {
        let args: Vec<Field> = r.inputs.iter().map(arg_field).collect();
        let state: Vec<Field> = r.outputs.iter().map(state_field).collect();
        field::ensure_not_reserved("Go", &r.name.wire, &state, RESERVED)?;
        let text = env.get_template("go/resource.go.j2")?.render(context! {
            r => context! { name => r.name, doc => r.doc },
            args, state,
        })?;
        files.add(format!("{DIR}/{}.go", r.name.wire), text)?;
    }
    files.add(
        format!("{DIR}/enums.go"),
        env.get_template("go/enums.go.j2")?
            .render(context! { enums => model.enums })?,
    )?;
    if !model.errors.is_empty() {
        // Beside the hand-written runtime (Go needs one package): see `files::SHARED_DIRS`.
        files.add(
            "sdk/go/runtime/codes.go",
            env.get_template("go/codes.go.j2")?
                .render(context! { errors => model.errors })?,
        )?;
    }
    Ok(())
}
