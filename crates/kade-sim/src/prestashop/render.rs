//! Output: PrestaShop's XML (CDATA values, `xlink:href` links) and its JSON renderer with the
//! renderer's quirks — an empty list is a bare `[]`, ids are numbers while other values are
//! strings, associations are flat arrays, multilingual fields are `[{"id","value"}]` unless one
//! `language` is selected.

use serde_json::{Map, Value, json};

use super::errors::PsError;
use super::query::Display;
use super::schema::Resource;
use super::world::Record;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Xml,
    Json,
}

pub struct Ctx<'a> {
    pub format: Format,
    pub api_url: &'a str,
    /// `language=N` was given: multilingual fields become plain strings in JSON.
    pub one_language: bool,
}

pub const XML_HEAD: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n";
pub const XML_TAIL: &str = "</prestashop>\n";

pub fn cdata(value: &str) -> String {
    format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>"))
}

pub fn attr(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Fields to show, and associations with their optional sub-field lists.
type Wanted = (Vec<&'static str>, Vec<(&'static str, Option<Vec<String>>)>);

/// Which fields and associations to show for `display`.
fn wanted(res: &Resource, display: &Display) -> Wanted {
    match display {
        Display::Ids => (vec!["id"], vec![]),
        Display::Full => {
            let mut fields = vec!["id"];
            fields.extend(res.fields.iter().map(|f| f.name));
            (fields, res.assocs.iter().map(|a| (a.name, None)).collect())
        }
        Display::Fields(list) => {
            let mut fields = Vec::new();
            let mut assocs = Vec::new();
            for (name, sub) in list {
                if let Some(a) = res.assoc(name) {
                    assocs.push((a.name, sub.clone()));
                } else if name == "id" {
                    fields.push("id");
                } else if let Some(f) = res.field(name) {
                    fields.push(f.name);
                }
            }
            (fields, assocs)
        }
    }
}

fn assoc_rows(rec: &Record, name: &str, sub: &Option<Vec<String>>) -> Vec<Vec<(String, String)>> {
    rec.assoc
        .get(name)
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.iter()
                        .filter(|(k, _)| sub.as_ref().is_none_or(|s| s.iter().any(|x| x == *k)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn json_object(ctx: &Ctx<'_>, res: &Resource, rec: &Record, display: &Display) -> Value {
    let (fields, assocs) = wanted(res, display);
    let mut obj = Map::new();
    for name in fields {
        let value = rec.get(name);
        let v = if name == "id" {
            json!(rec.num("id"))
        } else if res.field(name).is_some_and(|f| f.lang) && !ctx.one_language {
            json!([{"id": "1", "value": value}])
        } else {
            json!(value)
        };
        obj.insert(name.to_owned(), v);
    }
    let mut assoc_obj = Map::new();
    for (name, sub) in assocs {
        let rows = assoc_rows(rec, name, &sub);
        // The JSON renderer drops empty arrays, associations included.
        if !rows.is_empty() {
            let rows = rows.into_iter().map(|r| Value::Object(r.into_iter().map(|(k, v)| (k, json!(v))).collect()));
            assoc_obj.insert(name.to_owned(), Value::Array(rows.collect()));
        }
    }
    if !assoc_obj.is_empty() {
        obj.insert("associations".into(), Value::Object(assoc_obj));
    }
    Value::Object(obj)
}

fn xml_object(ctx: &Ctx<'_>, res: &Resource, rec: &Record, display: &Display, out: &mut String) {
    let id = rec.get("id");
    if *display == Display::Ids {
        out.push_str(&format!("<{} id=\"{id}\" xlink:href=\"{}/{}/{id}\"/>\n", res.singular, ctx.api_url, res.name));
        return;
    }
    let (fields, assocs) = wanted(res, display);
    out.push_str(&format!("<{}>\n", res.singular));
    for name in fields {
        let value = rec.get(name);
        let field = res.field(name);
        if field.is_some_and(|f| f.lang) {
            out.push_str(&format!(
                "\t<{name}><language id=\"1\" xlink:href=\"{}/languages/1\">{}</language></{name}>\n",
                ctx.api_url,
                cdata(value)
            ));
        } else if let Some(to) = field.and_then(|f| f.link).filter(|_| !value.is_empty() && value != "0") {
            out.push_str(&format!("\t<{name} xlink:href=\"{}/{to}/{value}\">{}</{name}>\n", ctx.api_url, cdata(value)));
        } else {
            out.push_str(&format!("\t<{name}>{}</{name}>\n", cdata(value)));
        }
    }
    if !assocs.is_empty() {
        out.push_str("\t<associations>\n");
        for (name, sub) in assocs {
            let assoc = res.assoc(name).expect("assoc from schema");
            out.push_str(&format!("\t<{name} nodeType=\"{}\" api=\"{name}\">\n", assoc.node));
            for row in assoc_rows(rec, name, &sub) {
                out.push_str(&format!("\t<{}>\n", assoc.node));
                for (k, v) in row {
                    out.push_str(&format!("\t\t<{k}>{}</{k}>\n", cdata(&v)));
                }
                out.push_str(&format!("\t</{}>\n", assoc.node));
            }
            out.push_str(&format!("\t</{name}>\n"));
        }
        out.push_str("\t</associations>\n");
    }
    out.push_str(&format!("</{}>\n", res.singular));
}

pub fn detail(ctx: &Ctx<'_>, res: &Resource, rec: &Record) -> String {
    match ctx.format {
        Format::Json => json!({ res.singular: json_object(ctx, res, rec, &Display::Full) }).to_string(),
        Format::Xml => {
            let mut out = XML_HEAD.to_owned();
            xml_object(ctx, res, rec, &Display::Full, &mut out);
            out.push_str(XML_TAIL);
            out
        }
    }
}

pub fn list(ctx: &Ctx<'_>, res: &Resource, recs: &[Record], display: &Display) -> String {
    match ctx.format {
        // The renderer filters out empty arrays, so an empty list is `[]`, not `{"orders":[]}`.
        Format::Json if recs.is_empty() => "[]".to_owned(),
        Format::Json => {
            let items: Vec<Value> = recs.iter().map(|r| json_object(ctx, res, r, display)).collect();
            json!({ res.name: items }).to_string()
        }
        Format::Xml => {
            let mut out = XML_HEAD.to_owned();
            out.push_str(&format!("<{}>\n", res.name));
            for rec in recs {
                xml_object(ctx, res, rec, display, &mut out);
            }
            out.push_str(&format!("</{}>\n", res.name));
            out.push_str(XML_TAIL);
            out
        }
    }
}

pub fn error(format: Format, err: &PsError) -> String {
    match format {
        Format::Json => json!({"errors": [{"code": err.code, "message": err.message}]}).to_string(),
        Format::Xml => format!(
            "{XML_HEAD}<errors>\n<error>\n<code>{}</code>\n<message>{}</message>\n</error>\n</errors>\n{XML_TAIL}",
            cdata(&err.code.to_string()),
            cdata(&err.message)
        ),
    }
}
