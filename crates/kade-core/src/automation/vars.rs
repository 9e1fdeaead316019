//! Template variables and recipients, computed from the Picqer resources a send is about.
//!
//! The inputs are the resources as JSON objects in Picqer's own field names (the order, the
//! return, the order's shipments), so the same function serves the event's data, the entity
//! re-read at send time, and a preview of a recorded event.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::phone;

/// What a message is rendered from.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub rule: &'a str,
    /// The Picqer event or derived trigger.
    pub event: &'a str,
    pub order: Option<&'a Value>,
    /// The return, for return triggers.
    pub ret: Option<&'a Value>,
    /// Shipments of the order (cancelled ones are ignored).
    pub shipments: &'a [Value],
    /// Country for phone numbers written without one (ISO-2, e.g. "NL").
    pub default_country: &'a str,
}

fn s<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v?.get(key)?.as_str().map(str::trim).filter(|t| !t.is_empty())
}

fn n(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::Number(x) => Some(x.to_string()),
        Value::String(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => None,
    }
}

/// One parcel of a shipment, flattened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parcel {
    pub carrier: String,
    pub code: String,
    pub url: String,
}

/// Every parcel of the live shipments, in shipment order. A shipment without a parcel list
/// (older data) counts as one parcel with the shipment's own tracking code.
pub fn parcels(shipments: &[Value]) -> Vec<Parcel> {
    let mut out = Vec::new();
    for sh in shipments {
        if sh.get("cancelled").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        let carrier = s(Some(sh), "public_providername").or(s(Some(sh), "provider")).unwrap_or_default().to_string();
        let own_url = s(Some(sh), "tracktraceurl").or(s(Some(sh), "trackingurl")).unwrap_or_default();
        let list = sh.get("parcels").and_then(Value::as_array).filter(|a| !a.is_empty());
        match list {
            Some(list) => {
                for p in list {
                    out.push(Parcel {
                        carrier: carrier.clone(),
                        code: s(Some(p), "tracking_code").unwrap_or_default().to_string(),
                        url: s(Some(p), "tracking_url").unwrap_or(own_url).to_string(),
                    });
                }
            }
            None => out.push(Parcel {
                carrier: carrier.clone(),
                code: s(Some(sh), "trackingcode").unwrap_or_default().to_string(),
                url: own_url.to_string(),
            }),
        }
    }
    out
}

/// One line per product. A line without a name (returned products often carry only ids and
/// codes) borrows it from the matching order line in `names_from`.
fn lines(items: Option<&Value>, names_from: Option<&Value>) -> String {
    let Some(items) = items.and_then(Value::as_array) else { return String::new() };
    let borrowed = |l: &Value| -> Option<&str> {
        let id = l.get("idproduct")?;
        let order_lines = names_from?.get("products")?.as_array()?;
        order_lines.iter().find(|o| o.get("idproduct") == Some(id)).and_then(|o| s(Some(o), "name"))
    };
    items
        .iter()
        .filter(|l| l.get("partof_idorder_product").is_none_or(Value::is_null))
        .map(|l| {
            let amount = n(l, "amount").unwrap_or_else(|| "1".into());
            let name = s(Some(l), "name").or_else(|| borrowed(l)).or(s(Some(l), "productcode")).unwrap_or("?");
            match s(Some(l), "productcode").filter(|c| *c != name) {
                Some(code) => format!("{amount} x {name} ({code})"),
                None => format!("{amount} x {name}"),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The customer's name: the return's contact or name, else the order's delivery contact, its
/// delivery name, its invoice name.
fn customer_name(ctx: &Context<'_>) -> Option<String> {
    let from_return = s(ctx.ret, "contactname").or(s(ctx.ret, "name"));
    let from_order =
        ["deliverycontact", "deliverycontactname", "deliveryname", "invoicename"].iter().find_map(|k| s(ctx.order, k));
    from_return.or(from_order).map(str::to_string)
}

/// The country to read phone numbers in: the entity's own, else the default.
fn country<'a>(ctx: &Context<'a>) -> &'a str {
    s(ctx.ret, "country").or(s(ctx.order, "deliverycountry")).unwrap_or(ctx.default_country)
}

/// Every variable's value for this context (see [`super::VARIABLES`]); absent facts are empty.
pub fn variables(ctx: &Context<'_>) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: Option<String>| {
        v.insert(k.to_string(), val.unwrap_or_default());
    };
    put("rule", Some(ctx.rule.to_string()));
    put("event", Some(ctx.event.to_string()));
    put("customer_name", customer_name(ctx));
    put("customer_email", s(ctx.ret, "emailaddress").or(s(ctx.order, "emailaddress")).map(str::to_string));
    let tel = s(ctx.ret, "telephone").or(s(ctx.order, "telephone"));
    put("customer_phone", tel.map(|t| phone::normalize(t, country(ctx)).unwrap_or_else(|_| t.to_string())));
    put("order_number", ctx.order.and_then(|o| n(o, "orderid")));
    put("order_status", s(ctx.order, "status").map(str::to_string));
    put("order_reference", s(ctx.order, "reference").map(str::to_string));
    let reference = if ctx.ret.is_some() { s(ctx.ret, "reference") } else { s(ctx.order, "reference") };
    put("reference", reference.map(str::to_string));
    let products = match ctx.ret {
        Some(r) => lines(r.get("returned_products"), ctx.order),
        None => lines(ctx.order.and_then(|o| o.get("products")), None),
    };
    put("products", Some(products));
    let parcels = parcels(ctx.shipments);
    let first = parcels.first();
    put("tracking_code", first.map(|p| p.code.clone()));
    put("tracking_url", first.map(|p| p.url.clone()));
    put("carrier", first.map(|p| p.carrier.clone()));
    put("parcel_count", Some(parcels.len().to_string()));
    let listed: Vec<String> = parcels
        .iter()
        .map(|p| {
            [p.carrier.as_str(), p.code.as_str(), p.url.as_str()]
                .iter()
                .filter(|x| !x.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    put("parcels", Some(listed.join("\n")));
    put("return_number", ctx.ret.and_then(|r| n(r, "returnid")));
    put("return_status", s(ctx.ret, "status").map(str::to_string));
    v
}

/// Where a message goes, or why it cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    To(String),
    /// No usable contact: the send is skipped and this reason logged.
    Missing(String),
}

/// The recipient for `channel`: the e-mail address, or the phone number in E.164 (read in the
/// entity's country). Webhooks have no customer recipient (the target is the rule's URL).
pub fn recipient(channel: &str, ctx: &Context<'_>) -> Recipient {
    let what = if ctx.ret.is_some() { "return" } else { "order" };
    match channel {
        "email" => match s(ctx.ret, "emailaddress").or(s(ctx.order, "emailaddress")) {
            Some(e) if e.contains('@') && !e.contains(char::is_whitespace) => Recipient::To(e.to_string()),
            Some(e) => Recipient::Missing(format!("the {what}'s e-mail address {e:?} is not valid")),
            None => Recipient::Missing(format!("the {what} has no e-mail address")),
        },
        "sms" | "whatsapp" => match s(ctx.ret, "telephone").or(s(ctx.order, "telephone")) {
            Some(t) => match phone::normalize(t, country(ctx)) {
                Ok(e164) => Recipient::To(e164),
                Err(e) => Recipient::Missing(format!("the {what}'s telephone number cannot be used: {e}")),
            },
            None => Recipient::Missing(format!("the {what} has no telephone number")),
        },
        _ => Recipient::To(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Value {
        json!({"idorder": 20000001, "orderid": "20250001", "status": "completed", "reference": "PS #73",
               "deliveryname": "Acme BV", "deliverycontactname": "Jan Jansen", "deliverycountry": "NL",
               "emailaddress": "jan@example.com", "telephone": "06 1234 5678",
               "products": [{"amount": 2, "name": "Blue jacket", "productcode": "JACKET-BL"},
                            {"amount": 1, "name": "Part", "productcode": "P", "partof_idorder_product": 9}]})
    }

    fn shipments() -> Vec<Value> {
        vec![
            json!({"public_providername": "PostNL", "trackingcode": "3SA", "tracktraceurl": "https://t/3SA",
                   "parcels": [{"tracking_code": "3SA", "tracking_url": "https://t/3SA"},
                               {"tracking_code": "3SB", "tracking_url": "https://t/3SB"}]}),
            json!({"provider": "DHL", "trackingcode": "JV1", "tracktraceurl": "https://d/JV1", "parcels": []}),
            json!({"provider": "DPD", "trackingcode": "X", "cancelled": true}),
        ]
    }

    #[test]
    fn order_variables() {
        let (o, sh) = (order(), shipments());
        let ctx = Context {
            rule: "r",
            event: "order.shipped",
            order: Some(&o),
            ret: None,
            shipments: &sh,
            default_country: "NL",
        };
        let v = variables(&ctx);
        assert_eq!(v["customer_name"], "Jan Jansen");
        assert_eq!(v["order_number"], "20250001");
        assert_eq!(v["customer_phone"], "+31612345678");
        assert_eq!(v["products"], "2 x Blue jacket (JACKET-BL)");
        assert_eq!(v["tracking_code"], "3SA");
        assert_eq!(v["carrier"], "PostNL");
        assert_eq!(v["parcel_count"], "3");
        assert_eq!(v["parcels"], "PostNL 3SA https://t/3SA\nPostNL 3SB https://t/3SB\nDHL JV1 https://d/JV1");
        assert_eq!(v["return_number"], "");
        assert_eq!(recipient("email", &ctx), Recipient::To("jan@example.com".into()));
        assert_eq!(recipient("sms", &ctx), Recipient::To("+31612345678".into()));
    }

    #[test]
    fn return_variables_and_missing_contacts() {
        let r = json!({"idreturn": 6, "returnid": "40250001", "status": "Received", "name": "Piet",
                       "country": "BE", "telephone": "0470 12 34 56",
                       "returned_products": [{"amount": 1, "productcode": "JACKET-BL", "name": "Blue jacket"}]});
        let ctx = Context {
            rule: "r",
            event: "returns.products_received",
            order: None,
            ret: Some(&r),
            shipments: &[],
            default_country: "NL",
        };
        let v = variables(&ctx);
        assert_eq!((v["return_number"].as_str(), v["return_status"].as_str()), ("40250001", "Received"));
        assert_eq!(v["customer_name"], "Piet");
        assert_eq!(v["products"], "1 x Blue jacket (JACKET-BL)");
        assert_eq!(recipient("whatsapp", &ctx), Recipient::To("+32470123456".into()));
        assert_eq!(recipient("email", &ctx), Recipient::Missing("the return has no e-mail address".into()));
        let o = json!({"products": [{"idproduct": 7, "name": "Blue jacket", "productcode": "JACKET-BL"}]});
        let r2 =
            json!({"returnid": "1", "returned_products": [{"idproduct": 7, "amount": 1, "productcode": "JACKET-BL"}]});
        let with_order = Context { order: Some(&o), ret: Some(&r2), ..ctx };
        assert_eq!(variables(&with_order)["products"], "1 x Blue jacket (JACKET-BL)");
        let bad = json!({"telephone": "12"});
        let ctx = Context { order: Some(&bad), ret: None, ..ctx };
        assert!(matches!(recipient("sms", &ctx), Recipient::Missing(m) if m.contains("cannot be used")));
    }
}
