//! XML input, the only input the classic webservice takes. The body is parsed into a small tree,
//! then read the way the dispatcher reads it: the object node named after the resource, one child
//! per field, `<language>` children for multilingual fields, and `<associations>`.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::errors::{PsError, PsResult, code};
use super::schema::Resource;
use super::world::{Input, Row};

#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

fn xml_error(detail: impl std::fmt::Display) -> PsError {
    // The webservice answers unparseable XML with a 500, not a 400.
    PsError::new(500, code::XML_ERROR, format!("XML error : {detail}"))
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

fn parse_tree(body: &str) -> PsResult<Node> {
    let mut reader = Reader::from_str(body);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().map_err(xml_error)? {
            Event::Start(e) => {
                let mut node = Node { name: e.name().as_ref().to_owned(), ..Node::default() };
                for a in e.attributes() {
                    let a = a.map_err(xml_error)?;
                    let value = a.normalized_value(quick_xml::XmlVersion::default()).map_err(xml_error)?.into_owned();
                    node.attrs.push((a.key.as_ref().to_owned(), value));
                }
                stack.push(node);
            }
            Event::Empty(e) => {
                let node = Node { name: e.name().as_ref().to_owned(), ..Node::default() };
                stack.last_mut().expect("root").children.push(node);
            }
            Event::End(e) => {
                let node = stack
                    .pop()
                    .filter(|n| n.name == e.name().as_ref())
                    .ok_or_else(|| xml_error("mismatched end tag"))?;
                stack.last_mut().ok_or_else(|| xml_error("unbalanced document"))?.children.push(node);
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                stack.last_mut().expect("root").text.push_str(&text);
            }
            Event::CData(t) => {
                let text = t.xml10_content();
                stack.last_mut().expect("root").text.push_str(&text);
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(xml_error)? {
                    Some(c) => c,
                    None => {
                        let name = r.xml10_content();
                        entity(&name).ok_or_else(|| xml_error(format!("unknown entity &{name};")))?
                    }
                };
                stack.last_mut().expect("root").text.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(xml_error("premature end of data"));
    }
    let mut root = stack.pop().expect("root");
    if root.children.len() != 1 {
        return Err(xml_error("a document needs exactly one root element"));
    }
    Ok(root.children.remove(0))
}

fn leaf_rows(node: &Node) -> Row {
    node.children.iter().map(|c| (c.name.clone(), c.text.trim().to_owned())).collect()
}

/// Parses a write body for `res`. A missing object node yields an empty input, so the caller's
/// required-field and id checks answer it, as the dispatcher does.
pub fn parse(res: &Resource, body: &[u8]) -> PsResult<Input> {
    let text = std::str::from_utf8(body).map_err(|_| xml_error("the body is not UTF-8"))?;
    if text.trim().is_empty() {
        return Err(xml_error("the body is empty"));
    }
    let root = parse_tree(text)?;
    let mut input = Input::default();
    let Some(object) = root.children.iter().find(|c| c.name == res.singular) else { return Ok(input) };
    for child in &object.children {
        if child.name == "associations" {
            let mut assoc = BTreeMap::new();
            for a in &child.children {
                assoc.insert(a.name.clone(), a.children.iter().map(leaf_rows).collect());
            }
            input.assoc = Some(assoc);
        } else if let Some(lang) = child.children.iter().find(|c| c.name == "language") {
            let first =
                child.children.iter().find(|c| c.attrs.iter().any(|(k, v)| k == "id" && v == "1")).unwrap_or(lang);
            input.fields.insert(child.name.clone(), first.text.trim().to_owned());
        } else {
            input.fields.insert(child.name.clone(), child.text.trim().to_owned());
        }
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prestashop::schema::resource;

    #[test]
    fn reads_cdata_entities_languages_and_associations() {
        let body = br#"<?xml version="1.0"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><product>
            <id><![CDATA[7]]></id><reference>A&amp;B</reference>
            <name><language id="1" xlink:href="x"><![CDATA[Blue <jacket>]]></language></name>
            <associations><combinations><combination><id>3</id></combination></combinations></associations>
            </product></prestashop>"#;
        let input = parse(resource("products").unwrap(), body).unwrap();
        assert_eq!(input.fields["id"], "7");
        assert_eq!(input.fields["reference"], "A&B");
        assert_eq!(input.fields["name"], "Blue <jacket>");
        assert_eq!(input.assoc.unwrap()["combinations"][0]["id"], "3");
    }

    #[test]
    fn malformed_xml_is_a_500_with_code_127() {
        for body in
            [&b"<prestashop><product><id>1</product></prestashop>"[..], b"<prestashop><product>", b"{\"json\":1}"]
        {
            let err = parse(resource("products").unwrap(), body).unwrap_err();
            assert_eq!((err.status.as_u16(), err.code), (500, 127), "{}", String::from_utf8_lossy(body));
        }
    }
}
