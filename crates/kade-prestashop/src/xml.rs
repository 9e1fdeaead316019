//! The XML the webservice takes as input: `<prestashop><{node}>` with one element per field,
//! values in CDATA, multilingual fields as `<language id="N">`.

use crate::object::{Object, Value};

fn cdata(value: &str) -> String {
    format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>"))
}

fn tag_ok(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Renders `object` as a write body. Field names that are not plain XML names are skipped (they
/// cannot come from the webservice), so a body is always well-formed.
pub fn render(object: &Object) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n",
    );
    out.push_str(&format!("<{}>\n", object.node));
    for (name, value) in &object.fields {
        if !tag_ok(name) {
            continue;
        }
        match value {
            Value::Text(v) => out.push_str(&format!("<{name}>{}</{name}>\n", cdata(v))),
            Value::Lang(langs) => {
                out.push_str(&format!("<{name}>"));
                for (id, v) in langs {
                    out.push_str(&format!("<language id=\"{id}\">{}</language>", cdata(v)));
                }
                out.push_str(&format!("</{name}>\n"));
            }
        }
    }
    out.push_str(&format!("</{}>\n</prestashop>\n", object.node));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cdata_and_cdata_ends_are_split() {
        let mut o = Object::new("customer_message");
        o.set("message", "a ]]> b & <c>");
        o.set_lang("name", "x");
        let xml = render(&o);
        assert!(xml.contains("<message><![CDATA[a ]]]]><![CDATA[> b & <c>]]></message>"), "{xml}");
        assert!(xml.contains("<name><language id=\"1\"><![CDATA[x]]></language></name>"), "{xml}");
    }
}
