//! The Python emitter: maps model types to Python annotations and renders `templates/python/`.
//!
//! Output: `sdk/python/credplane/resources/{__init__,_wire,enums,<type>}.py`, written against
//! the runtime API `credplane.runtime.{Resource, Input, Output, Secret}`, and the typed errors
//! `sdk/python/credplane/_codes/__init__.py` (from the OpenRPC document's error codes).

use crate::Files;
use crate::field::{self, Field};
use crate::model::{Model, Property, Type};
use anyhow::Result;
use minijinja::{Environment, context};

const DIR: &str = "sdk/python/credplane/resources";

fn base(ty: &Type, state: bool) -> String {
    match ty {
        Type::String => "str".into(),
        Type::Bool => "bool".into(),
        Type::Integer => "int".into(),
        Type::Map if state => "dict[str, str]".into(),
        Type::Map => "Mapping[str, str]".into(),
        Type::List if state => "list[str]".into(),
        Type::List => "Sequence[str]".into(),
        Type::Enum(name) => name.clone(),
    }
}

fn optional(ty: String, required: bool) -> String {
    if required { ty } else { format!("{ty} | None") }
}

/// The annotation of a value in the state (and of the resource's output properties).
fn state_type(p: &Property) -> String {
    let b = base(&p.ty, true);
    optional(if p.secret { format!("Secret[{b}]") } else { b }, p.required)
}

fn arg_field(p: &Property) -> Field {
    let b = base(&p.ty, false);
    let value = if p.secret { format!("Secret[{b}] | {b}") } else { b };
    Field {
        name: p.name.python.clone(),
        wire: p.name.wire.clone(),
        ty: optional(format!("Input[{value}]"), p.required),
        required: p.required,
        convert: if p.secret { "secret_to_wire" } else { "value_to_wire" }.into(),
        doc: docstring(&p.doc),
    }
}

fn state_field(p: &Property) -> Field {
    let get = format!("wire.get(\"{}\")", p.name.wire);
    let convert = match (&p.ty, p.secret) {
        (_, true) => format!("_wire.secret_from_wire({get})"),
        (Type::Enum(e), _) => format!("_wire.enum_from_wire({e}, {get})"),
        _ => format!("_wire.value_from_wire({get})"),
    };
    Field {
        name: p.name.python.clone(),
        wire: p.name.wire.clone(),
        ty: state_type(p),
        required: p.required,
        convert,
        doc: docstring(&p.doc),
    }
}

/// Lines safe inside a `"""` docstring.
fn docstring(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\""))
        .collect()
}

/// Members of the runtime's Resource base class that an output accessor must not hide.
const RESERVED: &[&str] = &["TYPE", "type_name", "name", "inputs", "depends_on"];

/// Renders every Python file into `files`.
pub fn emit(model: &Model, env: &Environment, files: &mut Files) -> Result<()> {
    for r in &model.resources {
        let args: Vec<Field> = r.inputs.iter().map(arg_field).collect();
        let state: Vec<Field> = r.outputs.iter().map(state_field).collect();
        field::ensure_not_reserved("Python", &r.name.wire, &state, RESERVED)?;
        let props = &state;
        let doc = docstring(&r.doc);
        let text = env.get_template("python/resource.py.j2")?.render(context! {
            r => context! { name => r.name, summary => r.summary, enums => r.enums, doc },
            args, state, props,
        })?;
        files.add(format!("{DIR}/{}.py", r.name.wire), text)?;
    }
    let enums: Vec<_> = model
        .enums
        .iter()
        .map(|e| context! { name => e.name, variants => e.variants, doc => docstring(&e.doc) })
        .collect();
    files.add(
        format!("{DIR}/enums.py"),
        env.get_template("python/enums.py.j2")?.render(context! { enums })?,
    )?;
    files.add(
        format!("{DIR}/__init__.py"),
        env.get_template("python/init.py.j2")?
            .render(context! { enums => model.enums, resources => model.resources })?,
    )?;
    files.add(
        format!("{DIR}/_wire.py"),
        env.get_template("python/wire.py.j2")?.render(context! {})?,
    )?;
    if !model.errors.is_empty() {
        files.add(
            "sdk/python/credplane/_codes/__init__.py",
            env.get_template("python/codes.py.j2")?
                .render(context! { errors => model.errors })?,
        )?;
    }
    Ok(())
}
