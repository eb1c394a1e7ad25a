//! `bindings-python/python/ctt_onboard/_generated.py`: the model classes (on the `Model` base of
//! `_model.py`: snake_case attributes, wire names, defaults, secret flags, nested kinds,
//! docstrings from the Rust docs), the open enums, the closed enums' value lists, and the methods
//! of `Client` and `AsyncClient`, one per call of core's `ClientCall` (so that a new call reaches
//! Python through the build alone).

use crate::doc::{rst, wrap};
use crate::ir::{Call, Def, Field, Kind, Ty};
use serde_json::Value;
use std::collections::BTreeMap;

/// The models whose behaviour (a method or a property) `_model.py` writes once, as a base class
/// named `<Model>Methods`.
const METHODS: &[&str] = &["NewEnterprise", "AuthenticationResult", "CallbackPayload"];

/// The flow's results: frozen classes (and, for a tagged union, one per variant) whose fields
/// the wire always has are required.
const RESULTS: &[&str] = &["StepStatus", "Progress", "VerifiedCallback"];

/// Input models whose required fields (serde has no default for them) are required in Python
/// too, and come first: constructing one without them is a `TypeError`, and positional
/// arguments mean what they meant for the hand-written classes.
const REQUIRED: &[&str] = &["OnboardingPlan"];

/// The fields that are times (integer Unix ms on the wire, core's `wire_time`), which Python
/// shows as UTC `datetime`s: (definition, wire name).
const TIMES: &[(&str, &str)] = &[
    ("StepStatus", "updatedAt"),
    ("Progress", "notBefore"),
    ("VerifiedCallback", "issuedAt"),
];

const WIDTH: usize = 100;

/// UpperCamel of a camelCase tag (`awaitingAdmin` is `AwaitingAdmin`).
fn upper_camel(tag: &str) -> String {
    let mut c = tag.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn upper_snake(name: &str) -> String {
    crate::ir::snake(name).to_ascii_uppercase()
}

fn docstring(out: &mut String, indent: &str, doc: &str) {
    docstring_rst(out, indent, &rst(doc));
}

/// [`docstring`] of a text already in the docstring style.
fn docstring_rst(out: &mut String, indent: &str, doc: &str) {
    let doc = doc.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    let lines = wrap(&doc, WIDTH - indent.len() - 3);
    match lines.as_slice() {
        [] => {}
        [one] if indent.len() + 6 + one.len() <= WIDTH => {
            out.push_str(&format!("{indent}\"\"\"{one}\"\"\"\n"));
        }
        _ => {
            out.push_str(&format!("{indent}\"\"\""));
            for (i, l) in lines.iter().enumerate() {
                if i > 0 && !l.is_empty() {
                    out.push_str(indent);
                }
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(&format!("{indent}\"\"\"\n"));
        }
    }
}

fn comment(out: &mut String, indent: &str, doc: &str) {
    for l in wrap(&rst(doc), WIDTH - indent.len() - 3) {
        if l.is_empty() {
            out.push_str(&format!("{indent}#:\n"));
        } else {
            out.push_str(&format!("{indent}#: {l}\n"));
        }
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        other => format!("{other}"),
    }
}

struct Ctx<'a> {
    kinds: BTreeMap<&'a str, &'a Kind>,
}

impl Ctx<'_> {
    /// True for the definitions that are Python classes (objects and open enums).
    fn is_class(&self, name: &str) -> bool {
        matches!(
            self.kinds.get(name),
            Some(Kind::Object(_) | Kind::OpenEnum(_))
        )
    }

    fn annotation(&self, t: &Ty) -> String {
        match t {
            Ty::Str | Ty::Lit(_) => "str".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Any | Ty::Union(_) | Ty::Inline(_) => "Any".into(),
            Ty::List(i) => format!("list[{}]", self.annotation(i)),
            Ty::Map(i) => format!("dict[str, {}]", self.annotation(i)),
            Ty::Ref(n) if self.is_class(n) => n.clone(),
            Ty::Ref(n) => match self.kinds.get(n.as_str()) {
                Some(Kind::Alias(t)) => self.annotation(t),
                Some(Kind::ClosedEnum(_)) => "str".into(),
                _ => "Any".into(),
            },
            Ty::Nullable(i) => match self.annotation(i).as_str() {
                "Any" => "Any".into(),
                a => format!("Optional[{a}]"),
            },
        }
    }

    /// How `from_dict` converts a wire value of this type: a class, `[class]`, or nothing.
    fn kind(&self, t: &Ty) -> Option<String> {
        match t {
            Ty::Ref(n) if self.is_class(n) => Some(n.clone()),
            Ty::List(i) => self.kind(i).map(|k| format!("[{k}]")),
            Ty::Nullable(i) => self.kind(i),
            _ => None,
        }
    }

    /// A method parameter's annotation: an open enum also takes a plain `str`.
    fn param(&self, t: &Ty) -> String {
        match t {
            Ty::Ref(n) if matches!(self.kinds.get(n.as_str()), Some(Kind::OpenEnum(_))) => {
                format!("Union[{n}, str]")
            }
            t => self.annotation(t),
        }
    }

    /// The model class a call's result is made of (for one, a list, or one or None).
    fn model<'t>(&self, t: &'t Ty) -> Option<&'t str> {
        match t {
            Ty::Ref(n) if matches!(self.kinds.get(n.as_str()), Some(Kind::Object(_))) => Some(n),
            Ty::List(i) | Ty::Nullable(i) => self.model(i),
            _ => None,
        }
    }

    fn refs(&self, t: &Ty, out: &mut Vec<String>) {
        match t {
            Ty::Ref(n) if self.is_class(n) => out.push(n.clone()),
            Ty::List(i) | Ty::Map(i) | Ty::Nullable(i) => self.refs(i, out),
            _ => {}
        }
    }
}

/// A field's default: serde's, else the zero value of a field the wire always has, else None.
fn default(f: &Field) -> String {
    if let Some(d) = &f.default {
        return literal(d);
    }
    if !f.required {
        return "None".into();
    }
    match &f.ty {
        Ty::Str => "\"\"".into(),
        Ty::Int => "0".into(),
        Ty::Float => "0.0".into(),
        Ty::Bool => "False".into(),
        Ty::List(_) => "[]".into(),
        Ty::Map(_) => "{}".into(),
        _ => "None".into(),
    }
}

/// `    name: T = _f(args)`, broken the way `ruff format` breaks a call that is too long.
fn assignment(out: &mut String, head: &str, args: &[String]) {
    let one = format!("    {head} = _f({})", args.join(", "));
    if one.len() <= WIDTH {
        out.push_str(&one);
        out.push('\n');
        return;
    }
    let inner = format!("        {}", args.join(", "));
    if inner.len() <= WIDTH {
        out.push_str(&format!("    {head} = _f(\n{inner}\n    )\n"));
        return;
    }
    out.push_str(&format!("    {head} = _f(\n"));
    for a in args {
        out.push_str(&format!("        {a},\n"));
    }
    out.push_str("    )\n");
}

/// One class: `owner` is the definition the fields belong to (for [`RESULTS`] and [`TIMES`]) and
/// the class's name.
fn class(
    out: &mut String,
    ctx: &Ctx<'_>,
    (owner, name): (&str, &str),
    base: &str,
    doc: &str,
    o: &crate::ir::Obj,
) {
    let result = RESULTS.contains(&owner);
    let base = if result {
        "FrozenModel, frozen=True"
    } else {
        base
    };
    out.push_str(&format!("\n\nclass {name}({base}):\n"));
    docstring(out, "    ", doc);
    out.push('\n');
    if o.extra {
        out.push_str("    _KEEPS_EXTRA: ClassVar[bool] = True\n");
    }
    let mut fields: Vec<_> = o
        .fields
        .iter()
        .filter(|f| !matches!(f.ty, Ty::Lit(_)))
        .collect();
    if REQUIRED.contains(&owner) {
        // The required fields first, so positional construction reads as it always did
        // (`OnboardingPlan(enterprise, redirect_url)`).
        fields.sort_by_key(|f| !f.required);
    }
    for f in fields {
        comment(out, "    ", &f.doc);
        let nullable = matches!(f.ty, Ty::Nullable(_));
        let time = TIMES.contains(&(owner, f.wire.as_str()));
        let mut ann = if time {
            "datetime.datetime".to_owned()
        } else {
            ctx.annotation(&f.ty)
        };
        let required = (result || REQUIRED.contains(&owner)) && f.required && !nullable;
        let dflt = if required || time {
            "None".to_owned()
        } else {
            default(f)
        };
        if dflt == "None" && !required && ann != "Any" && !ann.starts_with("Optional[") {
            ann = format!("Optional[{ann}]");
        }
        let mut args = vec![format!("{:?}", f.wire)];
        if dflt != "None" {
            args.push(dflt);
        }
        if required {
            args.push("required=True".into());
        }
        if f.secret {
            args.push("secret=True".into());
        }
        if time {
            args.push("kind=_utc".into());
        } else if let Some(k) = ctx.kind(&f.ty) {
            args.push(format!("kind={k}"));
        }
        assignment(out, &format!("{}: {ann}", f.name), &args);
    }
    if o.extra {
        out.push_str("    #: Every other field, as received.\n");
        out.push_str("    extra: dict[str, Any] = _f(\"\", {})\n");
    }
}

/// `head(items)` on one line, or as `ruff format` breaks it when that is over the line width:
/// the items on one line of their own, else one a line with a trailing comma.
fn bracketed(indent: &str, head: &str, items: &[String], (open, close): (char, &str)) -> String {
    let one = format!("{indent}{head}{open}{}{close}", items.join(", "));
    if one.len() <= WIDTH {
        return one + "\n";
    }
    let inner = format!("{indent}    {}", items.join(", "));
    if inner.len() <= WIDTH && open == '(' {
        return format!("{indent}{head}{open}\n{inner}\n{indent}{close}\n");
    }
    let mut out = format!("{indent}{head}{open}\n");
    for i in items {
        out.push_str(&format!("{indent}    {i},\n"));
    }
    out + &format!("{indent}{close}\n")
}

/// `Client` (`is_async` false) or `AsyncClient`'s methods as a mixin class: each builds its
/// call's dict (wire names; models and enums as their wire values) and hands it, with the model
/// class of its result, to the client's `_call`.
fn client_calls(out: &mut String, ctx: &Ctx<'_>, calls: &[Call], is_async: bool) {
    let (class, def, wait) = match is_async {
        false => ("Client", "def", ""),
        true => ("AsyncClient", "async def", "await "),
    };
    out.push_str(&format!("\n\nclass {class}Calls:\n"));
    docstring(
        out,
        "    ",
        &format!("The methods of `{class}`, one per call of core's `ClientCall`."),
    );
    out.push_str("\n    if TYPE_CHECKING:\n\n");
    out.push_str(&format!(
        "        {def} _call(self, call: dict[str, Any], model: Any = None) -> Any: ...\n"
    ));
    for c in calls {
        let mut params = vec!["self".to_owned()];
        let mut doc = rst(&c.doc);
        let mut args = Vec::new();
        let mut entries = vec![format!("\"call\": {:?}", c.wire)];
        for a in &c.args {
            let ann = ctx.param(&a.ty);
            params.push(match a.required {
                true => format!("{}: {ann}", a.name),
                false => format!("{}: {ann} = {}", a.name, default(a)),
            });
            // One item per argument, its lines kept as they are (wrapped here, indented under it).
            let item = wrap(&rst(&format!("`{}`: {}", a.name, a.doc)), WIDTH - 13);
            args.push(format!("- {}", item.join("\n  ")));
            let value = match ctx.kind(&a.ty) {
                Some(_) => format!("_w({})", a.name),
                None => a.name.clone(),
            };
            entries.push(format!("{:?}: {value}", a.wire));
        }
        if !args.is_empty() {
            doc.push_str(&format!("\n\n{}", args.join("\n")));
        }
        let ret = c
            .returns
            .as_ref()
            .map_or("None".into(), |t| ctx.annotation(t));
        out.push('\n');
        out.push_str(&bracketed(
            "    ",
            &format!("{def} {}", c.name),
            &params,
            ('(', &format!(") -> {ret}:")),
        ));
        docstring_rst(out, "        ", &doc);
        let model = c.returns.as_ref().and_then(|t| ctx.model(t));
        let tail = model.map(|m| format!(", {m}")).unwrap_or_default();
        let assign = if ret == "None" {
            String::new()
        } else {
            format!("result: {ret} = ")
        };
        let inline = format!(
            "        {assign}{wait}self._call({{{}}}{tail})",
            entries.join(", ")
        );
        if inline.len() <= WIDTH {
            out.push_str(&inline);
            out.push('\n');
        } else {
            out.push_str(&bracketed(
                "        ",
                "call: dict[str, Any] = ",
                &entries,
                ('{', "}"),
            ));
            out.push_str(&format!("        {assign}{wait}self._call(call{tail})\n"));
        }
        if ret != "None" {
            out.push_str("        return result\n");
        }
    }
}

/// The module, for the definitions named in `models` (with what they refer to).
pub fn write(defs: &[Def], models: &[&str], calls: &crate::ir::Calls) -> String {
    let ctx = Ctx {
        kinds: defs.iter().map(|d| (d.name.as_str(), &d.kind)).collect(),
    };
    let by_name: BTreeMap<&str, &Def> = defs.iter().map(|d| (d.name.as_str(), d)).collect();
    // Enums first, then each class after the classes its fields convert to.
    let mut order: Vec<&Def> = Vec::new();
    fn visit<'a>(
        name: &str,
        ctx: &Ctx<'_>,
        by: &BTreeMap<&str, &'a Def>,
        order: &mut Vec<&'a Def>,
    ) {
        let Some(d) = by.get(name) else { return };
        if order.iter().any(|o| o.name == d.name) {
            return;
        }
        if let Kind::Object(o) = &d.kind {
            let mut deps = Vec::new();
            for f in &o.fields {
                ctx.refs(&f.ty, &mut deps);
            }
            for dep in deps {
                visit(&dep, ctx, by, order);
            }
        }
        order.push(d);
    }
    for m in models {
        if let Some(d) = by_name.get(m)
            && !matches!(d.kind, Kind::Object(_))
        {
            visit(m, &ctx, &by_name, &mut order);
        }
    }
    for m in models {
        visit(m, &ctx, &by_name, &mut order);
    }
    // The shapes the client's calls take and return: a call naming a new one brings its class.
    let mut used = Vec::new();
    for c in &calls.client {
        let types = c.args.iter().map(|a| &a.ty).chain(&c.returns);
        types.for_each(|t| ctx.refs(t, &mut used));
    }
    for m in &used {
        visit(m, &ctx, &by_name, &mut order);
    }

    let mixins: Vec<String> = METHODS
        .iter()
        .filter(|m| order.iter().any(|d| d.name == **m))
        .map(|m| format!("{m}Methods"))
        .collect();
    let mut out = String::from(
        "\"\"\"The model classes, generated by ctt-codegen from the JSON Schema of ctt-onboard (the Rust\n\
         doc comments are the docstrings): do not edit. ``cargo run -p ctt-codegen -- --write``\n\
         rewrites this file; ``make check-generated`` fails when it is stale.\n\"\"\"\n\n\
         from __future__ import annotations\n\n",
    );
    let mut imports = vec!["Model".to_owned(), "OpenEnum".to_owned()];
    if order.iter().any(|d| RESULTS.contains(&d.name.as_str())) {
        imports.push("FrozenModel".to_owned());
    }
    imports.extend(mixins.iter().cloned());
    imports.sort();
    let line = format!("from ._model import {}\n", imports.join(", "));
    if line.len() <= WIDTH + 1 {
        out.push_str(&line);
    } else {
        out.push_str("from ._model import (\n");
        for i in &imports {
            out.push_str(&format!("    {i},\n"));
        }
        out.push_str(")\n");
    }
    out.push_str("@@WIRE@@from ._model import model_field as _f\n@@TIMES@@\n");
    out.push_str("TYPE_CHECKING = False\nif TYPE_CHECKING:\n@@DATETIME@@    from typing import Any, ClassVar, Optional@@UNION@@\n");
    let mut exported = Vec::new();
    let mut uses_union = false;
    for d in &order {
        match &d.kind {
            Kind::OpenEnum(values) => {
                out.push_str(&format!("\n\nclass {}(OpenEnum):\n", d.name));
                docstring(&mut out, "    ", &d.doc);
                out.push('\n');
                for v in values {
                    comment(&mut out, "    ", &v.doc);
                    out.push_str(&format!("    {} = {:?}\n", upper_snake(&v.name), v.wire));
                }
                exported.push(d.name.clone());
            }
            Kind::Object(o) => {
                let base = if METHODS.contains(&d.name.as_str()) {
                    format!("{}Methods", d.name)
                } else {
                    "Model".into()
                };
                class(&mut out, &ctx, (&d.name, &d.name), &base, &d.doc, o);
                exported.push(d.name.clone());
            }
            Kind::Union(variants) => {
                let mut names = Vec::new();
                for (doc, o) in variants {
                    let Some(tag) = o.fields.iter().find_map(|f| match &f.ty {
                        Ty::Lit(tag) => Some(tag),
                        _ => None,
                    }) else {
                        continue;
                    };
                    let name = upper_camel(tag);
                    class(&mut out, &ctx, (&d.name, &name), "Model", doc, o);
                    names.push((tag.clone(), name.clone()));
                    exported.push(name);
                }
                let list: Vec<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
                out.push_str("\n\n");
                comment(&mut out, "", &d.doc);
                out.push_str(&format!(
                    "if sys.version_info >= (3, 10):\n    {} = {}\nelse:\n    from typing import Union\n\n    {} = Union[{}]\n",
                    d.name,
                    list.join(" | "),
                    d.name,
                    list.join(", ")
                ));
                let snake = crate::ir::snake(&d.name);
                out.push_str(&format!(
                    "\n\ndef {snake}_from_dict(data: dict[str, Any]) -> {}:\n",
                    d.name
                ));
                docstring(
                    &mut out,
                    "    ",
                    &format!(
                        "The `{}` a dict with the wire's names stands for (by its tag).",
                        d.name
                    ),
                );
                out.push_str("    kinds: dict[str, Any] = {\n");
                for (tag, name) in &names {
                    out.push_str(&format!("        {tag:?}: {name},\n"));
                }
                out.push_str("    }\n");
                out.push_str(&format!(
                    "    found: {} = kinds[data[\"kind\"]].from_dict(data)\n",
                    d.name
                ));
                out.push_str("    return found\n");
                exported.push(d.name.clone());
                exported.push(format!("{snake}_from_dict"));
                uses_union = true;
            }
            _ => {}
        }
    }
    if !calls.client.is_empty() {
        for is_async in [false, true] {
            client_calls(&mut out, &ctx, &calls.client, is_async);
        }
        exported.extend(["ClientCalls".to_owned(), "AsyncClientCalls".to_owned()]);
    }
    for m in models {
        if let Some(Def {
            name,
            doc,
            kind: Kind::ClosedEnum(values),
        }) = by_name.get(m).copied()
        {
            let constant = format!("{}S", upper_snake(name));
            out.push_str("\n\n");
            comment(
                &mut out,
                "",
                &format!("{doc} Each value with its description, in the core's order."),
            );
            out.push_str(&format!("{constant}: tuple[tuple[str, str], ...] = (\n"));
            for v in values {
                let d = v.doc.replace('\n', " ");
                let line = format!("    ({:?}, {:?}),", v.wire, d);
                if line.len() <= WIDTH {
                    out.push_str(&line);
                    out.push('\n');
                } else {
                    // Too long for one line: implicitly concatenated pieces, one a line.
                    out.push_str(&format!("    (\n        {:?},\n", v.wire));
                    let pieces = wrap(&d, WIDTH - 12);
                    for (i, piece) in pieces.iter().enumerate() {
                        let sep = if i + 1 < pieces.len() { " " } else { "" };
                        out.push_str(&format!("        {:?}\n", format!("{piece}{sep}")));
                    }
                    out.truncate(out.len() - 1);
                    out.push_str(",\n    ),\n");
                }
            }
            out.push_str(")\n");
            exported.push(constant);
        }
    }
    exported.sort_by(|a, b| {
        let key = |s: &str| {
            (
                !s.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                s.to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    out.push_str("\n__all__ = [\n");
    for e in exported {
        out.push_str(&format!("    {e:?},\n"));
    }
    out.push_str("]\n");
    let times = out.contains("kind=_utc");
    let header = |on: bool, text: &str| if on { text.to_owned() } else { String::new() };
    out.replace(
        "@@TIMES@@",
        &header(times, "from ._model import utc_from_ms as _utc\n"),
    )
    .replace("@@DATETIME@@", &header(times, "    import datetime\n"))
    .replace("@@UNION@@", &header(out.contains(": Union["), ", Union"))
    .replace(
        "@@WIRE@@",
        &header(out.contains("_w("), "from ._model import _to_wire as _w\n"),
    )
    .replace(
        "from __future__ import annotations\n\n",
        &format!(
            "from __future__ import annotations\n\n{}",
            header(uses_union, "import sys\n\n")
        ),
    )
}
