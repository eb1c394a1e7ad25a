//! `bindings-node/lib/generated.d.ts`: a TypeScript declaration of every boundary shape, with
//! the wire's names (the Node binding passes serde values through as they are), and the
//! `Client`'s methods, one per `ClientCall`; `bindings-node/lib/generated.cjs`: those methods'
//! bodies (each sends its arguments as one call to the native `call`) and `ERROR_CODES`.

use crate::ir::{Call, Calls, Def, Field, Kind, Obj, Ty, Value_};

fn jsdoc(out: &mut String, indent: &str, doc: &str) {
    let doc = doc.trim();
    if doc.is_empty() {
        return;
    }
    let doc = crate::doc::links(doc).replace("*/", "*\\/");
    let lines: Vec<&str> = doc.lines().collect();
    if lines.len() == 1 {
        out.push_str(&format!("{indent}/** {} */\n", lines[0]));
        return;
    }
    out.push_str(&format!("{indent}/**\n"));
    for l in lines {
        if l.is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {l}\n"));
        }
    }
    out.push_str(&format!("{indent} */\n"));
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn key(name: &str) -> String {
    let ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident { name.to_owned() } else { quote(name) }
}

fn ty(t: &Ty, indent: &str) -> String {
    match t {
        Ty::Str => "string".into(),
        Ty::Int | Ty::Float => "number".into(),
        Ty::Bool => "boolean".into(),
        Ty::Any => "unknown".into(),
        Ty::List(inner) => format!("Array<{}>", ty(inner, indent)),
        Ty::Map(inner) => format!("Record<string, {}>", ty(inner, indent)),
        Ty::Ref(name) => name.clone(),
        Ty::Nullable(inner) => format!("{} | null", ty(inner, indent)),
        Ty::Lit(s) => quote(s),
        Ty::Union(items) => items
            .iter()
            .map(|i| ty(i, indent))
            .collect::<Vec<_>>()
            .join(" | "),
        Ty::Inline(o) => {
            let mut s = String::from("{\n");
            fields(&mut s, &format!("{indent}  "), o);
            s.push_str(&format!("{indent}}}"));
            s
        }
    }
}

fn field(out: &mut String, indent: &str, f: &Field) {
    let mut doc = f.doc.clone();
    if f.secret {
        doc.push_str(if doc.is_empty() {
            "A secret."
        } else {
            " (A secret.)"
        });
    }
    jsdoc(out, indent, &doc);
    let optional = if f.required { "" } else { "?" };
    out.push_str(&format!(
        "{indent}{}{optional}: {}\n",
        key(&f.wire),
        ty(&f.ty, indent)
    ));
}

fn fields(out: &mut String, indent: &str, o: &Obj) {
    for f in &o.fields {
        field(out, indent, f);
    }
    if o.extra {
        out.push_str(&format!("{indent}/** Every other field, as received. */\n"));
        out.push_str(&format!("{indent}[key: string]: unknown\n"));
    }
}

/// The declaration file.
/// A union of string literals with its JSDoc: the type's doc, then, after `heading`, one line
/// per value with its doc.
fn string_union(out: &mut String, d: &Def, values: &[Value_], heading: Option<&str>) {
    let mut doc = d.doc.clone();
    if let Some(heading) = heading {
        doc.push_str(heading);
        for v in values {
            doc.push_str(&format!("- `{}`: {}\n", v.wire, v.doc.replace('\n', " ")));
        }
    }
    jsdoc(out, "", &doc);
    out.push_str(&format!("export type {} =\n", d.name));
    for v in values {
        out.push_str(&format!("  | {}\n", quote(&v.wire)));
    }
}

/// A call's JSDoc: its doc, then a `@param` line per argument.
fn call_doc(c: &Call) -> String {
    let mut doc = c.doc.trim().to_owned();
    for (i, a) in c.args.iter().enumerate() {
        doc.push_str(if i == 0 { "\n\n" } else { "\n" });
        doc.push_str(&format!("@param {} {}", a.wire, a.doc.replace('\n', " ")));
    }
    doc
}

/// The `Client` methods, declared on the native class (its `call` is what they forward to).
fn client_methods(out: &mut String, calls: &[Call]) {
    out.push_str(
        "\n/** The client's calls, one per `ClientCall`; each resolves to its result. */\n",
    );
    out.push_str("declare module '../native/index' {\n  interface Client {\n");
    for c in calls {
        jsdoc(out, "    ", &call_doc(c));
        let args: Vec<String> = (c.args.iter())
            .map(|a| {
                let optional = if a.required { "" } else { "?" };
                format!("{}{optional}: {}", a.wire, ty(&a.ty, "    "))
            })
            .collect();
        let returns = c.returns.as_ref().map_or("void".into(), |t| ty(t, "    "));
        out.push_str(&format!(
            "    {}({}): Promise<{returns}>\n",
            c.wire,
            args.join(", ")
        ));
    }
    out.push_str("  }\n}\n");
}

/// The JavaScript half: the `Client` methods' bodies and the error codes, in documentation order.
pub fn write_js(defs: &[Def], calls: &Calls) -> String {
    let mut out = String::from(
        "// Generated by ctt-codegen from the JSON Schema of ctt-onboard: do not edit.\n\
         // `cargo run -p ctt-codegen -- --write` rewrites it; `make check-generated` fails when it\n\
         // is stale. The declarations are in generated.d.ts.\n\
         'use strict'\n\n\
         /** The client's methods: each sends its arguments as one ClientCall to the native `call`. */\n\
         exports.clientMethods = {\n",
    );
    for c in &calls.client {
        let args: Vec<&str> = c.args.iter().map(|a| a.wire.as_str()).collect();
        let fields: String = args.iter().map(|a| format!(", {a}")).collect();
        out.push_str(&format!(
            "  {}({}) {{\n    return this.call({{ call: {}{fields} }})\n  }},\n",
            c.wire,
            args.join(", "),
            quote(&c.wire)
        ));
    }
    out.push_str("}\n");
    let codes = defs.iter().find(|d| d.name == "ErrorCode").map(|d| &d.kind);
    if let Some(Kind::ClosedEnum(values)) = codes {
        out.push_str("\n/** Every error code, in documentation order. */\n");
        out.push_str("exports.ERROR_CODES = Object.freeze([\n");
        for v in values {
            out.push_str(&format!("  {},\n", quote(&v.wire)));
        }
        out.push_str("])\n");
    }
    out
}

pub fn write(defs: &[Def], calls: &Calls) -> String {
    let mut out = String::from(
        "// Generated by ctt-codegen from the JSON Schema of ctt-onboard and ctt-sim (their doc\n\
         // comments are the JSDoc): do not edit. `cargo run -p ctt-codegen -- --write` rewrites it;\n\
         // `make check-generated` fails when it is stale.\n",
    );
    for d in defs {
        out.push('\n');
        match &d.kind {
            Kind::Object(o) => {
                jsdoc(&mut out, "", &d.doc);
                out.push_str(&format!("export interface {} {{\n", d.name));
                fields(&mut out, "  ", o);
                out.push_str("}\n");
            }
            Kind::OpenEnum(values) => {
                let heading = "\n\nKnown values (any other string passes through unchanged):\n";
                string_union(&mut out, d, values, Some(heading));
                out.push_str("  | (string & {})\n");
            }
            Kind::ClosedEnum(values) => {
                let heading = values.iter().any(|v| !v.doc.is_empty()).then_some("\n\n");
                string_union(&mut out, d, values, heading);
            }
            Kind::Union(variants) => {
                jsdoc(&mut out, "", &d.doc);
                out.push_str(&format!("export type {} =\n", d.name));
                for (doc, o) in variants {
                    jsdoc(&mut out, "  ", doc);
                    out.push_str(&format!("  | {}\n", ty(&Ty::Inline(o.clone()), "  ")));
                }
            }
            Kind::Alias(t) => {
                jsdoc(&mut out, "", &d.doc);
                out.push_str(&format!("export type {} = {}\n", d.name, ty(t, "")));
            }
        }
    }
    client_methods(&mut out, &calls.client);
    out
}
