//! The resources the simulated webservice serves and the fields each one has.
//!
//! One declarative table drives everything generic in the webservice — output, `display`
//! validation, filters, required and read-only checks, and PUT's null-on-omit — so a resource
//! behaves the same in every code path, as the PrestaShop dispatcher (one `ObjectModel`
//! definition per class) does.

/// One field of a resource.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    /// POST and PUT fail with code 41 without it.
    pub required: bool,
    /// Present in input → 400 code 93.
    pub writable: bool,
    /// Multilingual (`<language id="1">` in XML, `[{"id":"1","value":..}]` in JSON).
    pub lang: bool,
    /// The value an omitted field takes on POST and PUT (PrestaShop sets it to NULL, which it
    /// renders as an empty string or the column default).
    pub default: &'static str,
    /// The resource this id field points at (rendered as `xlink:href` in XML).
    pub link: Option<&'static str>,
}

const fn f(name: &'static str) -> Field {
    Field { name, required: false, writable: true, lang: false, default: "", link: None }
}
const fn n(name: &'static str) -> Field {
    Field { default: "0", ..f(name) }
}
const fn req(name: &'static str) -> Field {
    Field { required: true, ..f(name) }
}
const fn ro(name: &'static str) -> Field {
    Field { writable: false, ..f(name) }
}
const fn lang(name: &'static str, required: bool) -> Field {
    Field { lang: true, required, ..f(name) }
}
const fn link(name: &'static str, to: &'static str, required: bool) -> Field {
    Field { link: Some(to), required, default: "0", ..f(name) }
}

/// An association (`<associations><order_rows>…`).
#[derive(Clone, Copy, Debug)]
pub struct Assoc {
    pub name: &'static str,
    /// The element name of one entry in XML (`order_row`).
    pub node: &'static str,
    pub fields: &'static [&'static str],
}

#[derive(Debug)]
pub struct Resource {
    /// Plural name, as in the URL (`orders`).
    pub name: &'static str,
    /// The element name of one object (`order`).
    pub singular: &'static str,
    pub fields: &'static [Field],
    pub assocs: &'static [Assoc],
}

impl Resource {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub fn assoc(&self, name: &str) -> Option<&'static Assoc> {
        self.assocs.iter().find(|a| a.name == name)
    }
}

const ORDER_ROW_FIELDS: &[&str] = &[
    "id",
    "product_id",
    "product_attribute_id",
    "product_quantity",
    "product_name",
    "product_reference",
    "product_ean13",
    "product_upc",
    "product_price",
    "unit_price_tax_incl",
    "unit_price_tax_excl",
];

pub static RESOURCES: &[Resource] = &[
    Resource {
        name: "addresses",
        singular: "address",
        fields: &[
            link("id_customer", "customers", false),
            link("id_country", "countries", true),
            n("id_state"),
            req("alias"),
            f("company"),
            req("lastname"),
            req("firstname"),
            req("address1"),
            f("address2"),
            f("postcode"),
            req("city"),
            f("other"),
            f("phone"),
            f("phone_mobile"),
            f("vat_number"),
            n("deleted"),
            f("date_add"),
            f("date_upd"),
        ],
        assocs: &[],
    },
    Resource {
        name: "carriers",
        singular: "carrier",
        fields: &[
            n("deleted"),
            n("is_module"),
            n("id_tax_rules_group"),
            n("id_reference"),
            req("name"),
            Field { required: true, default: "1", ..f("active") },
            n("is_free"),
            f("url"),
            n("shipping_handling"),
            n("shipping_external"),
            n("range_behavior"),
            n("shipping_method"),
            n("max_weight"),
            n("grade"),
            f("external_module_name"),
            n("need_range"),
            n("position"),
            lang("delay", true),
        ],
        assocs: &[],
    },
    Resource {
        name: "combinations",
        singular: "combination",
        fields: &[
            link("id_product", "products", true),
            f("location"),
            f("ean13"),
            f("upc"),
            f("mpn"),
            ro("quantity"),
            f("reference"),
            n("wholesale_price"),
            n("price"),
            n("weight"),
            n("default_on"),
            Field { required: true, default: "1", ..f("minimal_quantity") },
        ],
        assocs: &[],
    },
    Resource {
        name: "countries",
        singular: "country",
        fields: &[n("id_zone"), req("iso_code"), lang("name", true), n("active")],
        assocs: &[],
    },
    Resource {
        name: "customer_messages",
        singular: "customer_message",
        fields: &[
            n("id_employee"),
            link("id_customer_thread", "customer_threads", true),
            f("ip_address"),
            req("message"),
            f("file_name"),
            f("user_agent"),
            n("private"),
            f("date_add"),
            f("date_upd"),
            n("read"),
        ],
        assocs: &[],
    },
    Resource {
        name: "customer_threads",
        singular: "customer_thread",
        fields: &[
            Field { required: true, ..link("id_lang", "languages", true) },
            n("id_shop"),
            link("id_customer", "customers", false),
            link("id_order", "orders", false),
            Field { required: true, ..n("id_contact") },
            n("id_product"),
            f("status"),
            f("email"),
            req("token"),
            f("date_add"),
            f("date_upd"),
        ],
        assocs: &[Assoc { name: "customer_messages", node: "customer_message", fields: &["id"] }],
    },
    Resource {
        name: "customers",
        singular: "customer",
        fields: &[
            n("id_default_group"),
            n("id_lang"),
            f("secure_key"),
            req("lastname"),
            req("firstname"),
            req("email"),
            req("passwd"),
            f("company"),
            n("newsletter"),
            Field { default: "1", ..f("active") },
            f("note"),
            f("date_add"),
            f("date_upd"),
        ],
        assocs: &[],
    },
    Resource {
        name: "order_carriers",
        singular: "order_carrier",
        fields: &[
            link("id_order", "orders", true),
            link("id_carrier", "carriers", true),
            n("id_order_invoice"),
            n("weight"),
            n("shipping_cost_tax_excl"),
            n("shipping_cost_tax_incl"),
            f("tracking_number"),
            f("date_add"),
        ],
        assocs: &[],
    },
    Resource {
        name: "order_histories",
        singular: "order_history",
        fields: &[
            n("id_employee"),
            link("id_order_state", "order_states", true),
            link("id_order", "orders", true),
            f("date_add"),
        ],
        assocs: &[],
    },
    Resource {
        name: "order_states",
        singular: "order_state",
        fields: &[
            n("unremovable"),
            n("delivery"),
            n("hidden"),
            n("send_email"),
            f("module_name"),
            n("invoice"),
            f("color"),
            n("logable"),
            n("shipped"),
            n("paid"),
            n("pdf_delivery"),
            n("pdf_invoice"),
            n("deleted"),
            lang("name", true),
            lang("template", false),
        ],
        assocs: &[],
    },
    Resource {
        name: "orders",
        singular: "order",
        fields: &[
            link("id_address_delivery", "addresses", true),
            link("id_address_invoice", "addresses", true),
            link("id_cart", "carts", true),
            link("id_currency", "currencies", true),
            link("id_lang", "languages", true),
            link("id_customer", "customers", true),
            link("id_carrier", "carriers", true),
            link("current_state", "order_states", false),
            req("module"),
            f("invoice_number"),
            f("invoice_date"),
            f("delivery_number"),
            f("delivery_date"),
            n("valid"),
            f("date_add"),
            f("date_upd"),
            f("shipping_number"),
            n("id_shop_group"),
            Field { default: "1", ..n("id_shop") },
            f("secure_key"),
            req("payment"),
            n("recyclable"),
            n("gift"),
            f("gift_message"),
            n("total_discounts"),
            n("total_paid"),
            n("total_paid_tax_incl"),
            n("total_paid_tax_excl"),
            Field { required: true, ..n("total_paid_real") },
            Field { required: true, ..n("total_products") },
            Field { required: true, ..n("total_products_wt") },
            n("total_shipping"),
            n("total_shipping_tax_incl"),
            n("total_shipping_tax_excl"),
            Field { required: true, default: "1", ..f("conversion_rate") },
            f("reference"),
            f("note"),
        ],
        assocs: &[Assoc { name: "order_rows", node: "order_row", fields: ORDER_ROW_FIELDS }],
    },
    Resource {
        name: "products",
        singular: "product",
        fields: &[
            n("id_manufacturer"),
            n("id_supplier"),
            n("id_category_default"),
            n("id_default_combination"),
            n("id_tax_rules_group"),
            ro("id_default_image"),
            ro("manufacturer_name"),
            ro("quantity"),
            f("type"),
            f("reference"),
            f("ean13"),
            f("upc"),
            f("isbn"),
            f("mpn"),
            Field { required: true, ..n("price") },
            n("wholesale_price"),
            n("weight"),
            Field { default: "1", ..f("active") },
            Field { default: "1", ..f("state") },
            f("date_add"),
            f("date_upd"),
            lang("name", true),
            lang("link_rewrite", false),
            lang("description", false),
        ],
        assocs: &[
            Assoc { name: "combinations", node: "combination", fields: &["id"] },
            Assoc { name: "stock_availables", node: "stock_available", fields: &["id", "id_product_attribute"] },
        ],
    },
    Resource {
        name: "stock_availables",
        singular: "stock_available",
        fields: &[
            link("id_product", "products", true),
            Field { required: true, ..link("id_product_attribute", "combinations", true) },
            Field { default: "1", ..n("id_shop") },
            n("id_shop_group"),
            Field { required: true, ..n("quantity") },
            Field { required: true, ..n("depends_on_stock") },
            Field { required: true, default: "2", ..f("out_of_stock") },
            f("location"),
        ],
        assocs: &[],
    },
];

pub fn resource(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.name == name)
}

/// Every method the webservice knows; permissions are granted per resource from this list.
pub const METHODS: [&str; 5] = ["GET", "PUT", "POST", "PATCH", "DELETE"];
