//! The resource schema in the shapes other tools read: a Pulumi package schema and the JSON that
//! `terraform providers schema -json` prints. Both are pure functions of the `getSchema` answer,
//! so they can never disagree with what the provider enforces.

pub mod pulumi;
pub mod terraform;

use serde_json::{Map, Value};

/// One property of a resource, read from its JSON Schema with the `x-*` keywords resolved.
#[derive(Debug, Clone)]
pub(crate) struct Property<'a> {
    /// The wire name.
    pub name: &'a str,
    /// The property's schema with `$ref`s and nullability still in place.
    pub schema: &'a Value,
    /// The resource document, to resolve `$ref`s against.
    pub document: &'a Value,
}

impl<'a> Property<'a> {
    fn flag(&self, keyword: &str) -> bool {
        self.schema.get(keyword).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The cloud mints or keeps it secret (`x-secret`).
    pub fn secret(&self) -> bool {
        self.flag("x-secret")
    }

    /// A change replaces the resource (`x-forceNew`).
    pub fn force_new(&self) -> bool {
        self.flag("x-forceNew")
    }

    /// The provider computes it (`x-computed`).
    pub fn computed(&self) -> bool {
        self.flag("x-computed")
    }

    /// Kept for compatibility only (`deprecated`).
    pub fn deprecated(&self) -> bool {
        self.flag("deprecated")
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&'a str> {
        self.schema.get("description").and_then(Value::as_str)
    }

    /// The default value, if any.
    pub fn default(&self) -> Option<&'a Value> {
        self.schema.get("default")
    }

    /// The value's type with nullability removed and `$ref`s resolved.
    pub fn value_type(&self) -> ValueType<'a> {
        ValueType::of(self.schema, self.document)
    }
}

/// The shape of a value, as both export formats need it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueType<'a> {
    /// `string`, `integer`, `number` or `boolean`.
    Primitive(&'a str),
    /// A list of values of one type.
    Array(Box<ValueType<'a>>),
    /// A map from strings to values of one type.
    Map(Box<ValueType<'a>>),
    /// An enumeration defined under `$defs`: its name, underlying primitive, and values.
    Enum {
        /// The `$defs` name, e.g. `KeyStatus`.
        name: &'a str,
        /// The underlying primitive type.
        primitive: &'a str,
        /// Each value with its description.
        values: Vec<(&'a Value, Option<&'a str>)>,
    },
    /// An object with named properties.
    Object(Vec<(&'a str, ValueType<'a>)>),
}

impl<'a> ValueType<'a> {
    fn of(schema: &'a Value, document: &'a Value) -> ValueType<'a> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            let target = document
                .pointer(&reference.replacen('#', "", 1))
                .unwrap_or(&Value::Null);
            return ValueType::named(name, target, document);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(variants) = schema.get(key).and_then(Value::as_array) {
                let non_null: Vec<&Value> = variants
                    .iter()
                    .filter(|v| v.get("type") != Some(&"null".into()))
                    .collect();
                if let [only] = non_null.as_slice() {
                    return ValueType::of(only, document);
                }
            }
        }
        match primitive_name(schema) {
            Some("array") => ValueType::Array(Box::new(
                schema
                    .get("items")
                    .map_or(ValueType::Primitive("string"), |items| ValueType::of(items, document)),
            )),
            Some("object") => match schema.get("properties").and_then(Value::as_object) {
                Some(props) => ValueType::Object(
                    props
                        .iter()
                        .map(|(n, s)| (n.as_str(), ValueType::of(s, document)))
                        .collect(),
                ),
                None => ValueType::Map(Box::new(
                    schema
                        .get("additionalProperties")
                        .filter(|v| v.is_object())
                        .map_or(ValueType::Primitive("string"), |v| ValueType::of(v, document)),
                )),
            },
            Some(p) => ValueType::Primitive(p),
            None => ValueType::Primitive("string"),
        }
    }

    /// A `$defs` entry: an enum when it lists constant values, otherwise its own shape.
    fn named(name: &'a str, target: &'a Value, document: &'a Value) -> ValueType<'a> {
        let values: Vec<(&'a Value, Option<&'a str>)> = match (target.get("oneOf"), target.get("enum")) {
            (Some(Value::Array(variants)), _) => variants
                .iter()
                .filter_map(|v| {
                    v.get("const")
                        .map(|c| (c, v.get("description").and_then(Value::as_str)))
                })
                .collect(),
            (_, Some(Value::Array(values))) => values.iter().map(|v| (v, None)).collect(),
            _ => vec![],
        };
        match values.first() {
            Some((first, _)) => ValueType::Enum {
                name,
                primitive: match first {
                    Value::Bool(_) => "boolean",
                    Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                    Value::Number(_) => "number",
                    _ => "string",
                },
                values,
            },
            None => ValueType::of(target, document),
        }
    }
}

/// The one non-null JSON Schema type of `schema`, if it names one.
fn primitive_name(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t.as_str()),
        Value::Array(types) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

/// One resource type's document, split into what both exports need.
pub(crate) struct ResourceDoc<'a> {
    /// The Terraform type name, e.g. `aws_iam_access_key`.
    pub type_name: &'a str,
    /// The cloud (`x-cloud`).
    pub cloud: &'a str,
    /// The resource description.
    pub description: &'a str,
    /// Input properties, in schema order.
    pub inputs: Vec<Property<'a>>,
    /// Required input names.
    pub required_inputs: Vec<&'a str>,
    /// Output (state) properties, in schema order.
    pub outputs: Vec<Property<'a>>,
    /// Output names always present.
    pub required_outputs: Vec<&'a str>,
}

impl<'a> ResourceDoc<'a> {
    /// Reads the `$defs.inputs` and `$defs.outputs` objects of a resource document.
    pub fn read(type_name: &'a str, document: &'a Value) -> ResourceDoc<'a> {
        let side = |name: &str| -> (Vec<Property<'a>>, Vec<&'a str>) {
            let object = document.pointer(&format!("/$defs/{name}"));
            let properties = object
                .and_then(|o| o.get("properties"))
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(n, s)| Property {
                            name: n.as_str(),
                            schema: s,
                            document,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let required = object
                .and_then(|o| o.get("required"))
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (properties, required)
        };
        let (inputs, required_inputs) = side("inputs");
        let (outputs, required_outputs) = side("outputs");
        ResourceDoc {
            type_name,
            cloud: document.get("x-cloud").and_then(Value::as_str).unwrap_or("credplane"),
            description: document.get("description").and_then(Value::as_str).unwrap_or_default(),
            inputs,
            required_inputs,
            outputs,
            required_outputs,
        }
    }
}

/// Inserts `value` under `key` unless it is `None`.
pub(crate) fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_string(), value);
    }
}
