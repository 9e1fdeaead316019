//! Tags: Picqer sends them as an object keyed by tag title on orders and products, as an array on
//! picklists (since October 2025), and as `[]` or `{}` when there are none.

use std::fmt;

use kade_core::ids::TagId;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// One tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub idtag: TagId,
    #[serde(default, deserialize_with = "super::null_default")]
    pub title: String,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default, deserialize_with = "super::lenient_bool")]
    pub inherit: bool,
    #[serde(default, rename = "textColor")]
    pub text_color: Option<String>,
}

/// The tags on an object, whatever shape Picqer used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tags(pub Vec<Tag>);

impl Tags {
    /// Whether a tag with this title is present (titles are case-sensitive in Picqer).
    pub fn has_title(&self, title: &str) -> bool {
        self.0.iter().any(|t| t.title == title)
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("tags as an object keyed by title, an array, or null")
            }
            fn visit_unit<E>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_none<E>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let mut v = Vec::new();
                while let Some(t) = seq.next_element::<Tag>()? {
                    v.push(t);
                }
                Ok(Tags(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut v = Vec::new();
                while let Some((title, mut t)) = map.next_entry::<String, Tag>()? {
                    if t.title.is_empty() {
                        t.title = title;
                    }
                    v.push(t);
                }
                v.sort_by_key(|t| t.idtag);
                Ok(Tags(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_object_array_and_empty_forms() {
        let obj: Tags = serde_json::from_str(
            r##"{"DHL Small":{"idtag":11964,"title":"DHL Small","color":"#0000f0","inherit":true,"textColor":"#FFFFFF"}}"##,
        )
        .unwrap();
        assert!(obj.has_title("DHL Small"));
        assert!(obj.0[0].inherit);
        let arr: Tags = serde_json::from_str(r#"[{"idtag":1,"title":"B2B","color":null,"inherit":0}]"#).unwrap();
        assert_eq!(arr.0[0].idtag, TagId(1));
        for empty in ["[]", "{}", "null"] {
            assert_eq!(serde_json::from_str::<Tags>(empty).unwrap(), Tags::default());
        }
    }
}
