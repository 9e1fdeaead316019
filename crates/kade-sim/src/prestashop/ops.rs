//! What the shop itself does outside the webservice: its install data (order states, carriers,
//! countries), products created in the back office, and orders placed by shoppers.

use serde::Deserialize;

use super::errors::{PsError, PsResult, code};
use super::world::{Notice, Record, Row, World};

fn rec(pairs: &[(&str, &str)]) -> Record {
    Record { fields: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), ..Record::default() }
}

/// The install data of a fresh PrestaShop 8: the 13 default order states, a few carriers (one
/// edited in the back office, so its old id is deleted and the new one shares `id_reference`),
/// and the countries the tests ship to.
pub fn seed(w: &mut World, products: usize) {
    let states: [(&str, &str, &str); 13] = [
        ("Awaiting check payment", "cheque", ""),
        ("Payment accepted", "payment", "paid"),
        ("Processing in progress", "preparation", "paid"),
        ("Shipped", "shipped", "paid shipped"),
        ("Delivered", "", "paid shipped delivery"),
        ("Canceled", "order_canceled", ""),
        ("Refunded", "refund", "paid"),
        ("Payment error", "payment_error", ""),
        ("On backorder (paid)", "outofstock", "paid"),
        ("Awaiting bank wire payment", "bankwire", ""),
        ("Remote payment accepted", "payment", "paid"),
        ("On backorder (not paid)", "outofstock", ""),
        ("Awaiting Cash On Delivery validation", "cashondelivery", ""),
    ];
    for (name, template, flags) in states {
        let flag = |f: &str| if flags.contains(f) { "1" } else { "0" };
        let mails = if template.is_empty() { "0" } else { "1" };
        w.insert(
            "order_states",
            rec(&[
                ("name", name),
                ("template", template),
                ("send_email", mails),
                ("paid", flag("paid")),
                ("shipped", flag("shipped")),
                ("delivery", flag("delivery")),
                ("logable", flag("paid")),
                ("unremovable", "1"),
            ]),
        );
    }
    let carriers = [
        ("PostNL", "1", "1", "https://postnl.example/track/@"),
        ("DHL Parcel", "2", "0", "https://dhl.example/track?code=@"),
        ("DPD", "3", "0", ""),
        ("PostNL", "1", "0", "https://postnl.example/track/@"),
    ];
    for (name, reference, deleted, url) in carriers {
        let active = if deleted == "1" { "0" } else { "1" };
        w.insert(
            "carriers",
            rec(&[
                ("name", name),
                ("id_reference", reference),
                ("deleted", deleted),
                ("active", active),
                ("url", url),
                ("delay", "1-2 days"),
            ]),
        );
    }
    // Install ids: 13 is NL, 3 BE, 1 DE on a default PrestaShop; the rest are filled with stubs.
    for id in 1..=21u64 {
        let iso = match id {
            1 => "DE",
            3 => "BE",
            8 => "FR",
            13 => "NL",
            17 => "GB",
            21 => "US",
            _ => "XX",
        };
        w.insert("countries", rec(&[("iso_code", iso), ("name", iso), ("active", "1")]));
    }
    for n in 1..=products {
        let reference = format!("SIM-{n:05}");
        add_product(
            w,
            &ProductSpec {
                reference,
                name: format!("Simulated product {n}"),
                price: "10.00".into(),
                quantity: 10,
                combinations: vec![],
                tax_rate: None,
                image: None,
            },
        );
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct ComboSpec {
    pub reference: String,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub price: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ProductSpec {
    pub reference: String,
    pub name: String,
    #[serde(default = "default_price")]
    pub price: String,
    /// Stock of a simple product (ignored when there are combinations: the total is their sum).
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub combinations: Vec<ComboSpec>,
    /// The tax rate of the product's tax rules group, in percent (default 21).
    #[serde(default)]
    pub tax_rate: Option<f64>,
    /// The product's cover image file (its bytes); none when absent.
    #[serde(default)]
    pub image: Option<Vec<u8>>,
}

fn default_price() -> String {
    "10.000000".into()
}

/// Creates a product (and its combinations) with their stock rows, as the back office does.
pub fn add_product(w: &mut World, spec: &ProductSpec) -> u64 {
    let id = w.insert(
        "products",
        rec(&[
            ("reference", &spec.reference),
            ("name", &spec.name),
            ("price", &spec.price),
            ("link_rewrite", "product"),
        ]),
    );
    if let Some(rate) = spec.tax_rate {
        w.tax_rates.insert(id, rate);
    }
    if let Some(file) = &spec.image {
        let id_image = w.images.keys().next_back().map_or(1, |last| last + 1);
        w.images.insert(id_image, (id, file.clone()));
        w.set("products", id, "id_default_image", id_image.to_string());
    }
    w.add_stock_row(id, 0, if spec.combinations.is_empty() { spec.quantity } else { 0 });
    for combo in &spec.combinations {
        let c = w.insert(
            "combinations",
            rec(&[
                ("id_product", &id.to_string()),
                ("reference", &combo.reference),
                ("price", combo.price.as_deref().unwrap_or("0")),
            ]),
        );
        w.add_stock_row(id, c, combo.quantity);
    }
    id
}

#[derive(Clone, Debug, Deserialize)]
pub struct CustomerSpec {
    pub firstname: String,
    pub lastname: String,
    pub email: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AddressSpec {
    #[serde(default)]
    pub company: String,
    pub address1: String,
    #[serde(default)]
    pub address2: String,
    pub postcode: String,
    pub city: String,
    /// ISO code; must be a seeded country.
    pub country: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LineSpec {
    /// Product or combination reference; must exist in the shop.
    pub reference: String,
    pub quantity: u32,
    /// Unit price incl. tax; the product price when absent.
    #[serde(default)]
    pub price: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OrderSpec {
    pub customer: CustomerSpec,
    pub address: AddressSpec,
    #[serde(default)]
    pub invoice_address: Option<AddressSpec>,
    pub lines: Vec<LineSpec>,
    /// Initial order state (default 2, payment accepted).
    #[serde(default)]
    pub state: Option<u64>,
    /// Carrier id (default 4, the current PostNL).
    #[serde(default)]
    pub carrier: Option<u64>,
    /// The 9-letter order reference; generated when absent.
    #[serde(default)]
    pub reference: Option<String>,
}

fn bad(message: impl Into<String>) -> PsError {
    PsError::bad(code::VALIDATION, message)
}

fn find_country(w: &World, iso: &str) -> PsResult<u64> {
    w.table("countries")
        .find(|(_, c)| c.get("iso_code") == iso)
        .map(|(id, _)| *id)
        .ok_or_else(|| bad(format!("unknown country {iso}")))
}

fn add_address(w: &mut World, customer: u64, c: &CustomerSpec, a: &AddressSpec, alias: &str) -> PsResult<u64> {
    let country = find_country(w, &a.country)?.to_string();
    Ok(w.insert(
        "addresses",
        rec(&[
            ("id_customer", &customer.to_string()),
            ("id_country", &country),
            ("alias", alias),
            ("company", &a.company),
            ("firstname", &c.firstname),
            ("lastname", &c.lastname),
            ("address1", &a.address1),
            ("address2", &a.address2),
            ("postcode", &a.postcode),
            ("city", &a.city),
            ("phone", &a.phone),
        ]),
    ))
}

/// A shopper checks out: customer (found by email or created), addresses, order with its rows,
/// order carrier, first history row, stock decremented — then the module's `order.created`.
pub fn place_order(w: &mut World, spec: &OrderSpec) -> PsResult<u64> {
    if spec.lines.is_empty() {
        return Err(bad("an order needs at least one line"));
    }
    let mut rows = Vec::new();
    let (mut total, mut products_wt) = (0.0_f64, 0.0_f64);
    for (i, line) in spec.lines.iter().enumerate() {
        let combo = w
            .table("combinations")
            .find(|(_, c)| c.get("reference") == line.reference)
            .map(|(id, c)| (*id, c.num("id_product") as u64));
        let (product, attr) = match combo {
            Some((c, p)) => (p, c),
            None => {
                let p = w.table("products").find(|(_, p)| p.get("reference") == line.reference).map(|(id, _)| *id);
                (p.ok_or_else(|| bad(format!("no product or combination with reference {}", line.reference)))?, 0)
            }
        };
        let prod = w.get("products", product).cloned().unwrap_or_default();
        let price: f64 =
            line.price.clone().unwrap_or_else(|| prod.get("price").to_owned()).parse().map_err(|_| bad("bad price"))?;
        let rate = w.tax_rates.get(&product).copied().unwrap_or(21.0);
        let excl = price / (1.0 + rate / 100.0);
        products_wt += price * f64::from(line.quantity);
        total += price * f64::from(line.quantity);
        rows.push(Row::from_iter(
            [
                ("id", (i + 1).to_string()),
                ("product_id", product.to_string()),
                ("product_attribute_id", attr.to_string()),
                ("product_quantity", line.quantity.to_string()),
                ("product_name", prod.get("name").to_owned()),
                ("product_reference", line.reference.clone()),
                ("product_ean13", String::new()),
                ("product_upc", String::new()),
                ("product_price", format!("{excl:.6}")),
                ("unit_price_tax_incl", format!("{price:.6}")),
                ("unit_price_tax_excl", format!("{excl:.6}")),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        ));
        if let Some((row, s)) = w.stock_row(product, attr) {
            let left = s.num("quantity") - i64::from(line.quantity);
            w.set("stock_availables", row, "quantity", left.to_string());
            w.recompute_total(product);
        }
    }
    let c = &spec.customer;
    let known = w.table("customers").find(|(_, x)| x.get("email") == c.email).map(|(id, _)| *id);
    let customer = match known {
        Some(id) => id,
        None => w.insert(
            "customers",
            rec(&[("firstname", &c.firstname), ("lastname", &c.lastname), ("email", &c.email), ("passwd", "x")]),
        ),
    };
    let delivery = add_address(w, customer, c, &spec.address, "Delivery")?;
    let invoice = match &spec.invoice_address {
        Some(a) => add_address(w, customer, c, a, "Invoice")?,
        None => delivery,
    };
    let state = spec.state.unwrap_or(2);
    if w.get("order_states", state).is_none() {
        return Err(bad(format!("unknown order state {state}")));
    }
    let carrier = spec.carrier.unwrap_or(4);
    if w.get("carriers", carrier).is_none() {
        return Err(bad(format!("unknown carrier {carrier}")));
    }
    let reference = spec.reference.clone().unwrap_or_else(|| (0..9).map(|_| w.rng.uppercase()).collect());
    let (total_s, wt_s) = (format!("{total:.6}"), format!("{products_wt:.6}"));
    let mut order = rec(&[
        ("id_address_delivery", &delivery.to_string()),
        ("id_address_invoice", &invoice.to_string()),
        ("id_cart", "1"),
        ("id_currency", "1"),
        ("id_lang", "1"),
        ("id_customer", &customer.to_string()),
        ("id_carrier", &carrier.to_string()),
        ("current_state", &state.to_string()),
        ("module", "ps_wirepayment"),
        ("payment", "Bank wire"),
        ("reference", &reference),
        ("total_paid", &total_s),
        ("total_paid_tax_incl", &total_s),
        ("total_paid_real", &total_s),
        ("total_products_wt", &wt_s),
        ("total_products", &format!("{:.6}", products_wt / 1.21)),
        ("valid", "1"),
    ]);
    order.assoc.insert("order_rows".into(), rows);
    let id = w.insert("orders", order);
    let mut oc = rec(&[
        ("id_order", &id.to_string()),
        ("id_carrier", &carrier.to_string()),
        ("weight", "1.250000"),
        ("shipping_cost_tax_incl", "6.950000"),
        ("shipping_cost_tax_excl", "5.743802"),
    ]);
    oc.fields.insert("id_order_invoice".into(), "1".into());
    w.insert("order_carriers", oc);
    w.insert("order_histories", rec(&[("id_order", &id.to_string()), ("id_order_state", &state.to_string())]));
    let date_upd = w.get("orders", id).map(|o| o.get("date_upd").to_owned()).unwrap_or_default();
    w.notices.push(Notice {
        event: "order.created",
        id_order: id,
        current_state: state,
        previous_state: None,
        date_upd,
    });
    Ok(id)
}
