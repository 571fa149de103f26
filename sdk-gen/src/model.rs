//! The language-neutral model: everything the emitters print, computed once from `schema/`.
//!
//! Names are computed here for every language (snake, camel, Pascal, Go's Pascal with
//! initialisms, Python with keywords escaped), so that emitters and templates never transform
//! a string. The wire name is always kept next to them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use heck::{ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use serde::Serialize;
use serde_json::{Map, Value};

/// The whole schema: every resource type and the enums they share.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Resource types, sorted by wire name so output is stable.
    pub resources: Vec<Resource>,
    /// Enums of all resources, deduplicated by name (the Go and TS SDKs share one namespace).
    pub enums: Vec<Enum>,
    /// The JSON-RPC error codes of `schema/openrpc.json` (its `ErrorCode` schema), when the
    /// schema directory has that document: the SDKs' typed errors are generated from them.
    pub errors: Vec<ErrorKind>,
}

/// One JSON-RPC error code.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorKind {
    /// The numeric code.
    pub code: i64,
    /// The name of its exception or type (`InvalidParams`); Python's class name.
    pub name: String,
    /// The TypeScript class name: the name ending in `Error` (`InvalidParamsError`).
    pub ts: String,
    /// The Go sentinel: `Err` and the name without `Error` (`ErrInvalidParams`, `ErrCloud`).
    pub go: String,
    /// What it means, in one sentence.
    pub doc: String,
}

/// The error codes listed by an OpenRPC document's `ErrorCode` schema (`oneOf` of `const`).
pub fn error_kinds(openrpc: &Value) -> Result<Vec<ErrorKind>> {
    let Some(list) = openrpc
        .pointer("/components/schemas/ErrorCode/oneOf")
        .and_then(Value::as_array)
    else {
        bail!("the OpenRPC document has no components.schemas.ErrorCode.oneOf");
    };
    list.iter()
        .map(|e| {
            let name = e["title"].as_str().context("ErrorCode: a title")?.to_string();
            Ok(ErrorKind {
                code: e["const"].as_i64().context("ErrorCode: a const code")?,
                go: format!("Err{}", name.strip_suffix("Error").unwrap_or(&name)),
                ts: if name.ends_with("Error") {
                    name.clone()
                } else {
                    format!("{name}Error")
                },
                name,
                doc: e["description"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// One identifier in every spelling an emitter needs.
#[derive(Debug, Clone, Serialize)]
pub struct Names {
    /// As on the wire (schema property name or resource type).
    pub wire: String,
    /// `snake_case`.
    pub snake: String,
    /// `camelCase` (TypeScript fields).
    pub camel: String,
    /// `PascalCase` (class and type names).
    pub pascal: String,
    /// Go's exported name: Pascal with initialisms (`UserID`).
    pub go: String,
    /// Python attribute name: snake, with keywords escaped by a trailing underscore.
    pub python: String,
}

/// The language-neutral type of a property (without its secret-ness, which is a flag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Type {
    /// A string.
    String,
    /// A boolean.
    Bool,
    /// An integer.
    Integer,
    /// `map<string, string>`.
    Map,
    /// A list of strings.
    List,
    /// A string enum, by its name in [`Model::enums`].
    Enum(String),
}

/// A string enum from `$defs`, encoded in the schema as `oneOf` of `const`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enum {
    /// Type name, `PascalCase` as in `$defs`.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its values, in schema order.
    pub variants: Vec<Variant>,
    /// Doc comment lines: the description, then each value with its description.
    pub doc: Vec<String>,
}

/// One enum value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// The value on the wire.
    pub value: String,
    /// `SHOUTY_SNAKE` member name (Python).
    pub upper: String,
    /// `PascalCase` member name (TypeScript).
    pub pascal: String,
    /// Go constant name: the enum name followed by the Pascal member name.
    pub go: String,
    /// Its description.
    pub description: String,
}

/// Create, update and delete timeouts, in seconds (`x-timeouts`).
#[derive(Debug, Clone, Serialize)]
pub struct Timeouts {
    /// Create timeout.
    pub create: u64,
    /// Update timeout.
    pub update: u64,
    /// Delete timeout.
    pub delete: u64,
}

/// One resource type.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    /// Type name in every spelling; `wire` is e.g. `aws_iam_access_key`.
    pub name: Names,
    /// Description (first paragraph of the resource's doc).
    pub description: String,
    /// The description as lines, for comment blocks.
    pub description_lines: Vec<String>,
    /// Cloud (`x-cloud`).
    pub cloud: String,
    /// How to import an existing object (`x-import`).
    pub import: String,
    /// Timeouts (`x-timeouts`).
    pub timeouts: Timeouts,
    /// Inputs, required first, then in schema order.
    pub inputs: Vec<Property>,
    /// Outputs (all attributes, inputs included), required first, then in schema order.
    pub outputs: Vec<Property>,
    /// Outputs that are not inputs (computed-only attributes), in schema order.
    pub attributes: Vec<Property>,
    /// Names of the enums this resource uses, sorted.
    pub enums: Vec<String>,
    /// An example: the required inputs (or the first input, when none is required) with
    /// placeholder values.
    pub example: Vec<ExampleArg>,
    /// The description on one line.
    pub summary: String,
    /// Doc comment lines: the description, then how to import.
    pub doc: Vec<String>,
}

/// One input or output property.
#[derive(Debug, Clone, Serialize)]
pub struct Property {
    /// Name in every spelling.
    pub name: Names,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: Type,
    /// Required (not nullable, must be set).
    pub required: bool,
    /// Changing it replaces the resource (`x-forceNew`).
    pub force_new: bool,
    /// Changing it updates the resource in place (`x-updatable`).
    pub updatable: bool,
    /// Secret: enveloped on the wire, masked in the SDKs (`x-secret`).
    pub secret: bool,
    /// Computed by the provider when not set (`x-computed`).
    pub computed: bool,
    /// Known only in the result of create (`x-onlyOnCreate`).
    pub only_on_create: bool,
    /// Sent to the cloud, never stored nor returned (`x-writeOnly`).
    pub write_only: bool,
    /// Deprecated.
    pub deprecated: bool,
    /// Default value, as JSON text (`"Active"`, `30`, `false`).
    pub default: Option<String>,
    /// Default value, as the raw JSON value.
    pub default_value: Option<Value>,
    /// Description from the schema.
    pub description: String,
    /// The description as lines.
    pub description_lines: Vec<String>,
    /// Short notes derived from the flags, in a fixed order, e.g. "Required.",
    /// "Changing it replaces the resource.", "Default: `Active`.".
    pub notes: Vec<String>,
    /// The allowed values, when the type is an enum.
    pub enum_values: Vec<String>,
    /// Doc comment lines: the description, a blank line, the notes on one line.
    pub doc: Vec<String>,
}

/// One argument of a resource's example.
#[derive(Debug, Clone, Serialize)]
pub struct ExampleArg {
    /// The property's names.
    pub name: Names,
    /// The value, as JSON.
    pub value: Value,
    /// When the type is an enum: its name and the member used.
    pub enum_member: Option<(String, Variant)>,
    /// Whether it is a secret (the example wraps it).
    pub secret: bool,
}

const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Words Go spells in capitals (Effective Go, "Initialisms").
const GO_INITIALISMS: &[&str] = &["id", "arn", "url", "json", "http", "api", "uri"];

impl Names {
    /// Computes every spelling of a wire name (snake_case or PascalCase on the wire).
    pub fn new(wire: &str) -> Self {
        let snake = wire.to_snake_case();
        let python = if PYTHON_KEYWORDS.contains(&snake.as_str()) {
            format!("{snake}_")
        } else {
            snake.clone()
        };
        let go = snake
            .split('_')
            .map(|w| {
                if GO_INITIALISMS.contains(&w) {
                    w.to_uppercase()
                } else {
                    w.to_upper_camel_case()
                }
            })
            .collect();
        Names {
            wire: wire.to_string(),
            camel: wire.to_lower_camel_case(),
            pascal: wire.to_upper_camel_case(),
            snake,
            go,
            python,
        }
    }
}

/// Reads every `schema/resources/*.json` under `schema_dir`.
pub fn load(schema_dir: &Path) -> Result<Model> {
    let dir = schema_dir.join("resources");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
    paths.sort();
    let mut docs = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path)?;
        let doc: Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        docs.push(doc);
    }
    let mut model = build(&docs)?;
    let openrpc = schema_dir.join("openrpc.json");
    if openrpc.exists() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&openrpc)?)
            .with_context(|| format!("parsing {}", openrpc.display()))?;
        model.errors = error_kinds(&doc).with_context(|| openrpc.display().to_string())?;
    }
    Ok(model)
}

/// Builds the model from parsed resource schemas.
pub fn build(docs: &[Value]) -> Result<Model> {
    let mut enums: BTreeMap<String, Enum> = BTreeMap::new();
    let mut resources = Vec::new();
    for doc in docs {
        let res =
            resource(doc, &mut enums).with_context(|| format!("resource {}", doc["title"].as_str().unwrap_or("?")))?;
        resources.push(res);
    }
    resources.sort_by(|a, b| a.name.wire.cmp(&b.name.wire));
    Ok(Model {
        resources,
        errors: Vec::new(),
        enums: enums.into_values().collect(),
    })
}

fn resource(doc: &Value, enums: &mut BTreeMap<String, Enum>) -> Result<Resource> {
    let title = str_field(doc, "title")?;
    let defs = doc["$defs"].as_object().context("no $defs")?;
    let mut local_enums = Vec::new();
    for (name, def) in defs {
        if name == "inputs" || name == "outputs" {
            continue;
        }
        let e = enum_def(name, def)?;
        match enums.get(name) {
            Some(prev) if *prev != e => bail!("enum {name} differs between resources"),
            _ => {}
        }
        local_enums.push(name.clone());
        enums.insert(name.clone(), e);
    }
    local_enums.sort();
    let inputs = properties(&defs["inputs"], enums, None)?;
    let input_wire_names = schema_order(&defs["inputs"]);
    let outputs = properties(&defs["outputs"], enums, Some(&input_wire_names))?;
    let input_names: Vec<&str> = inputs.iter().map(|p| p.name.wire.as_str()).collect();
    let mut attributes: Vec<Property> = Vec::new();
    for name in schema_order(&defs["outputs"]) {
        if !input_names.contains(&name.as_str()) {
            attributes.extend(outputs.iter().find(|p| p.name.wire == name).cloned());
        }
    }
    let timeouts = &doc["x-timeouts"];
    // The required inputs; a resource without any shows its first input instead.
    let example_props: Vec<&Property> = match inputs.iter().filter(|p| p.required).collect::<Vec<_>>() {
        none if none.is_empty() => inputs.iter().take(1).collect(),
        some => some,
    };
    let example = example_props.into_iter().map(|p| example_arg(p, enums)).collect();
    let description = str_field(doc, "description")?.to_string();
    let import = str_field(doc, "x-import")?.to_string();
    let mut res_doc = lines(&description);
    res_doc.extend([String::new(), format!("Import: {import}")]);
    Ok(Resource {
        summary: lines(&description).join(" "),
        doc: res_doc,
        name: Names::new(title),
        description_lines: lines(&description),
        description,
        cloud: str_field(doc, "x-cloud")?.to_string(),
        import,
        timeouts: Timeouts {
            create: timeouts["create"].as_u64().context("x-timeouts.create")?,
            update: timeouts["update"].as_u64().context("x-timeouts.update")?,
            delete: timeouts["delete"].as_u64().context("x-timeouts.delete")?,
        },
        inputs,
        outputs,
        attributes,
        enums: local_enums,
        example,
    })
}

fn enum_def(name: &str, def: &Value) -> Result<Enum> {
    let variants: Vec<Variant> = def["oneOf"]
        .as_array()
        .with_context(|| format!("$defs.{name}: only oneOf-of-const enums are supported"))?
        .iter()
        .map(|v| {
            let value = v["const"]
                .as_str()
                .with_context(|| format!("$defs.{name}: a variant without a string const"))?;
            let pascal = value.to_upper_camel_case();
            Ok(Variant {
                value: value.to_string(),
                upper: value.to_shouty_snake_case(),
                go: format!("{name}{pascal}"),
                pascal,
                description: v["description"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect::<Result<_>>()?;
    let description = def["description"].as_str().unwrap_or_default().to_string();
    let mut doc = lines(&description);
    doc.push(String::new());
    doc.extend(
        variants
            .iter()
            .map(|v: &Variant| format!("- `{}`: {}", v.value, v.description)),
    );
    Ok(Enum {
        name: name.to_string(),
        description,
        variants,
        doc,
    })
}

fn schema_order(obj: &Value) -> Vec<String> {
    obj["properties"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The properties of `$defs.inputs` or `$defs.outputs`. For outputs, `inputs` names the
/// properties that are also inputs (`None` for inputs): the others are attributes, documented
/// as such.
fn properties(obj: &Value, enums: &BTreeMap<String, Enum>, inputs: Option<&[String]>) -> Result<Vec<Property>> {
    let props: &Map<String, Value> = obj["properties"].as_object().context("no properties")?;
    let required: Vec<&str> = obj["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, schema) in props {
        let attribute = inputs.is_some_and(|i| !i.contains(name));
        let p = property(name, schema, required.contains(&name.as_str()), attribute, enums)
            .with_context(|| format!("property {name}"))?;
        out.push(p);
    }
    // Required first: Python dataclasses need fields without defaults before the others,
    // and the docs list required arguments first too.
    out.sort_by_key(|p| !p.required);
    Ok(out)
}

fn property(
    name: &str,
    schema: &Value,
    required: bool,
    attribute: bool,
    enums: &BTreeMap<String, Enum>,
) -> Result<Property> {
    let ty = type_of(schema)?;
    let flag = |k: &str| schema[k].as_bool().unwrap_or(false);
    let default_value = schema.get("default").cloned();
    let enum_values: Vec<String> = match &ty {
        Type::Enum(e) => enums
            .get(e)
            .with_context(|| format!("unknown enum {e}"))?
            .variants
            .iter()
            .map(|v| v.value.clone())
            .collect(),
        _ => Vec::new(),
    };
    let mut p = Property {
        name: Names::new(name),
        ty,
        required,
        force_new: flag("x-forceNew"),
        updatable: flag("x-updatable"),
        secret: flag("x-secret"),
        computed: flag("x-computed"),
        only_on_create: flag("x-onlyOnCreate"),
        write_only: flag("x-writeOnly"),
        deprecated: flag("deprecated"),
        default: default_value.as_ref().map(Value::to_string),
        default_value,
        description: schema["description"].as_str().unwrap_or_default().to_string(),
        description_lines: Vec::new(),
        notes: Vec::new(),
        enum_values,
        doc: Vec::new(),
    };
    p.description_lines = lines(&p.description);
    p.notes = notes(&p, attribute);
    p.doc = p.description_lines.clone();
    p.doc.extend([String::new(), p.notes.join(" ")]);
    Ok(p)
}

/// The flags as sentences, one row per flag: the docs and every SDK's comments print these.
/// `attribute`: an output that is not an input, whose notes say what the reader can rely on
/// rather than what they must set.
fn notes(p: &Property, attribute: bool) -> Vec<String> {
    let backticked = |v: &[String]| v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>();
    let rows: [(bool, String); 9] = [
        (p.required, if attribute { "Always set." } else { "Required." }.into()),
        (
            !p.required,
            if attribute { "May be absent." } else { "Optional." }.into(),
        ),
        (p.force_new, "Changing it replaces the resource.".into()),
        (p.updatable, "Updatable in place.".into()),
        (p.secret, "Secret: masked in the SDKs and enveloped on the wire.".into()),
        (
            p.computed,
            if attribute {
                "Computed by the provider."
            } else {
                "Computed by the provider when not set."
            }
            .into(),
        ),
        (
            p.only_on_create,
            "Known only after create (not on read or import).".into(),
        ),
        (
            p.default.is_some(),
            format!(
                "Default: `{}`.",
                p.default_value.as_ref().map(plain).unwrap_or_default()
            ),
        ),
        (
            !p.enum_values.is_empty(),
            format!("One of: {}.", backticked(&p.enum_values).join(", ")),
        ),
    ];
    let mut out: Vec<String> = rows.into_iter().filter(|(on, _)| *on).map(|(_, s)| s).collect();
    if p.deprecated {
        out.push("Deprecated.".into());
    }
    out
}

/// A JSON value as a reader writes it: strings without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

fn str_field<'a>(doc: &'a Value, key: &str) -> Result<&'a str> {
    doc[key].as_str().with_context(|| format!("missing string `{key}`"))
}

/// The type of a property schema; nullability (`type: [T, "null"]`, `anyOf [.., null]`) is
/// dropped here because `required` carries it.
fn type_of(schema: &Value) -> Result<Type> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r
            .strip_prefix("#/$defs/")
            .with_context(|| format!("unsupported $ref {r}"))?;
        return Ok(Type::Enum(name.to_string()));
    }
    if let Some(any) = schema["anyOf"].as_array() {
        let non_null: Vec<&Value> = any.iter().filter(|s| s["type"] != "null").collect();
        return match non_null.as_slice() {
            [one] => type_of(one),
            _ => bail!("anyOf with more than one non-null branch is not supported"),
        };
    }
    let names: Vec<&str> = match &schema["type"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ => bail!("no type"),
    };
    match names.as_slice() {
        ["string"] => Ok(Type::String),
        ["boolean"] => Ok(Type::Bool),
        ["integer"] => Ok(Type::Integer),
        ["object"] if schema["additionalProperties"]["type"] == "string" => Ok(Type::Map),
        ["array"] if schema["items"]["type"] == "string" => Ok(Type::List),
        other => bail!("unsupported type {other:?}"),
    }
}

fn example_arg(p: &Property, enums: &BTreeMap<String, Enum>) -> ExampleArg {
    let enum_member = match &p.ty {
        Type::Enum(e) => enums.get(e).and_then(|e| {
            let v = e.variants.first()?;
            Some((e.name.clone(), v.clone()))
        }),
        _ => None,
    };
    let value = match (&p.ty, &enum_member) {
        (_, Some((_, v))) => Value::String(v.value.clone()),
        (Type::Bool, _) => Value::Bool(true),
        (Type::Integer, _) => Value::from(1),
        (Type::Map, _) => serde_json::json!({"team": "platform"}),
        (Type::List, _) => serde_json::json!(["example"]),
        _ => Value::String(format!("example-{}", p.name.wire.replace('_', "-"))),
    };
    ExampleArg {
        name: p.name.clone(),
        value,
        enum_member,
        secret: p.secret,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_come_from_the_openrpc_error_code_schema() {
        let doc = serde_json::json!({"components": {"schemas": {"ErrorCode": {"oneOf": [
            {"const": -32011, "title": "Locked", "description": "Another engine holds the lock."}]}}}});
        let kinds = error_kinds(&doc).unwrap();
        assert_eq!(
            (kinds[0].code, kinds[0].name.as_str(), kinds[0].doc.as_str()),
            (-32011, "Locked", "Another engine holds the lock.")
        );
        assert_eq!(
            (kinds[0].ts.as_str(), kinds[0].go.as_str()),
            ("LockedError", "ErrLocked")
        );
        assert!(
            error_kinds(&serde_json::json!({})).is_err(),
            "a document without the list"
        );
    }

    #[test]
    fn names_in_every_language() {
        let n = Names::new("user_id");
        assert_eq!(
            (n.camel.as_str(), n.pascal.as_str(), n.go.as_str()),
            ("userId", "UserId", "UserID")
        );
        assert_eq!(Names::new("from").python, "from_");
        assert_eq!(Names::new("ses_smtp_password_v4").camel, "sesSmtpPasswordV4");
    }

    #[test]
    fn variant_names() {
        let e = enum_def(
            "SecretType",
            &serde_json::json!({"oneOf": [{"const": "RAMCredentials"}, {"const": "text"}]}),
        )
        .unwrap();
        assert_eq!(e.variants[0].upper, "RAM_CREDENTIALS");
        assert_eq!(e.variants[0].go, "SecretTypeRamCredentials");
        assert_eq!(e.variants[1].pascal, "Text");
    }
}
