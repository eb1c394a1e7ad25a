//! The JSON Schema of the boundary shapes, read into the few forms the emitters write: objects
//! (named fields with wire names, defaults, secret flags and docs), open and closed string
//! enumerations, tagged unions and aliases.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A field's or an alias's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Str,
    Int,
    Float,
    Bool,
    Any,
    List(Box<Ty>),
    Map(Box<Ty>),
    Ref(String),
    Nullable(Box<Ty>),
    Lit(String),
    Union(Vec<Ty>),
    Inline(Obj),
}

/// One field of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name on the wire (serde's).
    pub wire: String,
    /// The Rust field's name: snake_case of the wire name, or the schema's `x-name`.
    pub name: String,
    pub ty: Ty,
    /// True when the wire form always has it.
    pub required: bool,
    /// serde's default, when it has one.
    pub default: Option<Value>,
    /// True for a [`Secret`](ctt_onboard::Secret): hosts mask it.
    pub secret: bool,
    pub doc: String,
}

/// An object's fields, in declaration order where it is known.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj {
    pub fields: Vec<Field>,
    /// True when other wire keys are kept (a `#[serde(flatten)]` map).
    pub extra: bool,
}

/// A known value of an enumeration.
#[derive(Debug, Clone, PartialEq)]
pub struct Value_ {
    /// The Rust variant's name (open enums), or the wire value.
    pub name: String,
    pub wire: String,
    pub doc: String,
}

/// A named definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Object(Obj),
    /// Known values, and any other string passes.
    OpenEnum(Vec<Value_>),
    /// Exactly these values.
    ClosedEnum(Vec<Value_>),
    /// One of several objects (serde's tagged enums).
    Union(Vec<(String, Obj)>),
    Alias(Ty),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Def {
    pub name: String,
    pub doc: String,
    pub kind: Kind,
}

/// snake_case of a camelCase wire name, keeping acronyms whole (`secureSMSEnabled` is
/// `secure_sms_enabled`, `containsTeamsTenantAdminAPI` is `contains_teams_tenant_admin_api`).
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn is_null(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

/// The type a schema describes (not a definition's own shape).
pub fn ty(schema: &Value) -> Ty {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return Ty::Ref(r.rsplit('/').next().unwrap_or(r).to_owned());
    }
    if let Some(c) = schema.get("const").and_then(Value::as_str) {
        return Ty::Lit(c.to_owned());
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(items) = schema.get(key).and_then(Value::as_array) {
            let nullable = items.iter().any(is_null);
            let rest: Vec<Ty> = items.iter().filter(|i| !is_null(i)).map(ty).collect();
            let inner = if rest.len() == 1 {
                rest.into_iter().next().unwrap_or(Ty::Any)
            } else {
                Ty::Union(rest)
            };
            return if nullable {
                Ty::Nullable(Box::new(inner))
            } else {
                inner
            };
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let lits: Vec<Ty> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|s| Ty::Lit(s.to_owned()))
            .collect();
        return Ty::Union(lits);
    }
    match schema.get("type") {
        Some(Value::Array(types)) => {
            let nullable = types.iter().any(|t| t == "null");
            let base: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
            let mut single = schema.clone();
            if let (Some(obj), [one]) = (single.as_object_mut(), base.as_slice()) {
                obj.insert("type".into(), (*one).clone());
            }
            let inner = if base.len() == 1 {
                ty(&single)
            } else {
                Ty::Any
            };
            if nullable {
                Ty::Nullable(Box::new(inner))
            } else {
                inner
            }
        }
        Some(Value::String(t)) => match t.as_str() {
            "string" => Ty::Str,
            "integer" => Ty::Int,
            "number" => Ty::Float,
            "boolean" => Ty::Bool,
            "array" => Ty::List(Box::new(schema.get("items").map(ty).unwrap_or(Ty::Any))),
            "object" if schema.get("properties").is_some() => Ty::Inline(obj(schema, None)),
            "object" => match schema.get("additionalProperties") {
                Some(Value::Object(_)) => Ty::Map(Box::new(ty(&schema["additionalProperties"]))),
                _ => Ty::Map(Box::new(Ty::Any)),
            },
            _ => Ty::Any,
        },
        _ => Ty::Any,
    }
}

fn is_secret(schema: &Value) -> bool {
    schema.get("x-secret").and_then(Value::as_bool) == Some(true)
}

/// An object schema's fields, in `order` (wire names) where given, else as the schema lists them.
pub fn obj(schema: &Value, order: Option<&[String]>) -> Obj {
    let empty = Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // serde's order; else the required fields first, as the schema lists them (a tagged
    // enum's tag leads).
    let mut names: Vec<String> = match order {
        Some(o) if !o.is_empty() => o
            .iter()
            .filter(|n| props.contains_key(*n))
            .cloned()
            .collect(),
        _ => required.iter().map(|r| (*r).to_owned()).collect(),
    };
    for key in props.keys() {
        if !names.contains(key) {
            names.push(key.clone());
        }
    }
    let fields = names
        .iter()
        .map(|wire| {
            let p = &props[wire];
            Field {
                wire: wire.clone(),
                name: p
                    .get("x-name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| snake(wire)),
                ty: ty(p),
                required: required.contains(&wire.as_str()),
                default: p.get("default").cloned(),
                secret: is_secret(p)
                    || p.get("anyOf")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(is_secret)),
                doc: text(p, "description"),
            }
        })
        .collect();
    Obj {
        fields,
        extra: schema.get("additionalProperties") == Some(&Value::Bool(true)),
    }
}

/// Every definition, with each object's field order from `orders` (by definition name).
pub fn defs(
    schemas: &Map<String, Value>,
    orders: &BTreeMap<String, Vec<String>>,
    out_only: &[String],
) -> Vec<Def> {
    schemas
        .iter()
        .map(|(name, schema)| {
            let doc = text(schema, "description");
            let kind = if schema.get("x-open-enum").is_some() {
                let known = schema["anyOf"][0]["oneOf"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                Kind::OpenEnum(
                    known
                        .iter()
                        .map(|v| Value_ {
                            name: text(v, "title"),
                            wire: text(v, "const"),
                            doc: text(v, "description"),
                        })
                        .collect(),
                )
            } else if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
                if variants.iter().all(|v| v.get("const").is_some()) {
                    Kind::ClosedEnum(
                        variants
                            .iter()
                            .map(|v| Value_ {
                                name: text(v, "const"),
                                wire: text(v, "const"),
                                doc: text(v, "description"),
                            })
                            .collect(),
                    )
                } else {
                    Kind::Union(
                        variants
                            .iter()
                            .map(|v| (text(v, "description"), obj(v, None)))
                            .collect(),
                    )
                }
            } else if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                Kind::ClosedEnum(
                    values
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|v| Value_ {
                            name: v.into(),
                            wire: v.into(),
                            doc: String::new(),
                        })
                        .collect(),
                )
            } else if schema.get("properties").is_some() {
                let mut o = obj(schema, orders.get(name).map(Vec::as_slice));
                if out_only.contains(name) {
                    // Only serialized: every field is written (an `Option` as null).
                    o.fields.iter_mut().for_each(|f| f.required = true);
                }
                Kind::Object(o)
            } else {
                Kind::Alias(ty(schema))
            };
            Def {
                name: name.clone(),
                doc,
                kind,
            }
        })
        .collect()
}

/// One client call (a variant of `ctt_onboard::client::ClientCall`), as the emitters write a
/// host method for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The call's name on the wire, its serde tag (`sbcGateways`).
    pub wire: String,
    /// snake_case of the wire name (`sbc_gateways`).
    pub name: String,
    pub doc: String,
    /// The arguments in declaration order (the tag left out).
    pub args: Vec<Field>,
    /// The result's type; `None` when the call answers nothing.
    pub returns: Option<Ty>,
}

/// The calls each host class forwards, by class.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Calls {
    /// `ctt_onboard::client::ClientCall`: the client's methods.
    pub client: Vec<Call>,
    /// `ctt_sim::SimCall`: the simulator's control methods.
    pub simulator: Vec<Call>,
}

/// The calls of a `ClientCall`-shaped schema: a `oneOf` of objects tagged by `call`, each with
/// its result under `x-returns` (a shape's name, `int`, `string`, `bool`, `any` or `null`; `[]` for a list of
/// it, `?` for one or nothing). A variant without `x-returns` is a mistake in core: it panics
/// at generation time naming the call, which `make check-generated` reports.
pub fn calls(schema: &Value) -> Vec<Call> {
    let variants = schema.get("oneOf").and_then(Value::as_array);
    variants
        .into_iter()
        .flatten()
        .map(|v| {
            let mut fields = obj(v, None).fields;
            let tag = fields.iter().position(|f| f.wire == "call");
            let wire = match tag.map(|i| fields.remove(i).ty) {
                Some(Ty::Lit(name)) => name,
                other => panic!("a ClientCall variant without its `call` tag: {other:?}"),
            };
            let returns = v.get("x-returns").and_then(Value::as_str);
            let returns = returns.unwrap_or_else(|| panic!("ClientCall {wire} has no x-returns"));
            Call {
                name: snake(&wire),
                doc: text(v, "description"),
                args: fields,
                returns: returns_ty(returns),
                wire,
            }
        })
        .collect()
}

/// An `x-returns` type (see [`calls`]).
fn returns_ty(spec: &str) -> Option<Ty> {
    let base = |name: &str| match name {
        "int" => Ty::Int,
        "string" => Ty::Str,
        "bool" => Ty::Bool,
        "any" => Ty::Any,
        other => Ty::Ref(other.to_owned()),
    };
    if spec == "null" {
        None
    } else if let Some(item) = spec.strip_suffix("[]") {
        Some(Ty::List(Box::new(base(item))))
    } else if let Some(item) = spec.strip_suffix('?') {
        Some(Ty::Nullable(Box::new(base(item))))
    } else {
        Some(base(spec))
    }
}
