//! The deterministic starting world: same seed, same account.
//!
//! Products come in families of variants (a "Jacket" in several colours and sizes, codes like
//! `JKT-0001-BLU-M`) because that is what real webshop catalogues look like and what SKU matching
//! has to cope with. Every 100th product is a small composition ("gift set") of the two products
//! before it, so parts endpoints have something to show. Timestamps are relative to the clock at
//! start (30 days back), so with a manual clock the world is identical down to the second.

use fastrand::Rng;

use super::state::catalog::{ShippingProfile, ShippingProvider, Supplier};
use super::state::customers::{Address, Customer};
use super::state::products::{Part, Product};
use super::state::stock::StockLevel;
use super::state::{ReturnReason, ReturnStatus, Tag, VatGroup, Warehouse, World};

struct Kind {
    name: &'static str,
    code: &'static str,
    sizes: &'static [&'static str],
    coloured: bool,
    euros: (i64, i64),
    grams: (i64, i64),
    /// Index into the VAT groups (0 = 21 %, 1 = 9 %, 2 = 0 %).
    vat: usize,
}

const KINDS: [Kind; 9] = [
    Kind {
        name: "Jacket",
        code: "JKT",
        sizes: &["S", "M", "L", "XL"],
        coloured: true,
        euros: (79, 199),
        grams: (800, 1500),
        vat: 0,
    },
    Kind {
        name: "T-Shirt",
        code: "TSH",
        sizes: &["S", "M", "L", "XL"],
        coloured: true,
        euros: (15, 35),
        grams: (150, 250),
        vat: 0,
    },
    Kind {
        name: "Hoodie",
        code: "HOD",
        sizes: &["S", "M", "L", "XL"],
        coloured: true,
        euros: (45, 89),
        grams: (500, 800),
        vat: 0,
    },
    Kind {
        name: "Sneaker",
        code: "SNK",
        sizes: &["40", "41", "42", "43", "44"],
        coloured: true,
        euros: (59, 149),
        grams: (700, 1100),
        vat: 0,
    },
    Kind { name: "Cap", code: "CAP", sizes: &[], coloured: true, euros: (12, 29), grams: (80, 150), vat: 0 },
    Kind { name: "Backpack", code: "BPK", sizes: &[], coloured: true, euros: (39, 129), grams: (600, 1400), vat: 0 },
    Kind {
        name: "Sock",
        code: "SCK",
        sizes: &["39-42", "43-46"],
        coloured: true,
        euros: (5, 15),
        grams: (40, 80),
        vat: 0,
    },
    Kind { name: "Handbook", code: "BOK", sizes: &[], coloured: false, euros: (12, 40), grams: (250, 900), vat: 1 },
    Kind { name: "Gift card", code: "GFC", sizes: &[], coloured: false, euros: (10, 50), grams: (5, 10), vat: 2 },
];

const COLOURS: [(&str, &str); 6] =
    [("BLU", "Blue"), ("RED", "Red"), ("BLK", "Black"), ("GRN", "Green"), ("WHT", "White"), ("GRY", "Grey")];

const ADJECTIVES: [&str; 10] =
    ["Alpine", "Harbor", "Summit", "Coastal", "Urban", "Nordic", "Drift", "Forest", "Metro", "Polar"];

const CENTS: [i64; 4] = [0, 50, 95, 99];

fn ean13(index: usize) -> String {
    let body = format!("87{:010}", 1_000_000 + index);
    let sum: u32 = body.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Fills an empty world.
pub fn seed(w: &mut World, seed: u64, products: usize) {
    let mut rng = Rng::with_seed(seed);
    seed_catalog(w);
    seed_customers(w, &mut rng);
    seed_products(w, &mut rng, products);
}

fn seed_catalog(w: &mut World) {
    w.warehouses = vec![
        Warehouse {
            idwarehouse: 101,
            name: "Main warehouse".into(),
            accept_orders: true,
            counts_for_general_stock: true,
            priority: 1,
            active: true,
        },
        Warehouse {
            idwarehouse: 102,
            name: "Overflow warehouse".into(),
            accept_orders: true,
            counts_for_general_stock: true,
            priority: 2,
            active: true,
        },
        Warehouse {
            idwarehouse: 103,
            name: "Returns warehouse".into(),
            accept_orders: false,
            counts_for_general_stock: false,
            priority: 3,
            active: true,
        },
    ];
    w.vatgroups = vec![
        VatGroup { idvatgroup: 201, name: "Hoog (21%)".into(), percentage: 21.0 },
        VatGroup { idvatgroup: 202, name: "Laag (9%)".into(), percentage: 9.0 },
        VatGroup { idvatgroup: 203, name: "Geen (0%)".into(), percentage: 0.0 },
    ];
    for (title, color, inherit) in [
        ("New", "#2e7d32", false),
        ("Outlet", "#c62828", false),
        ("Bestseller", "#f9a825", false),
        ("Fragile", "#6a1b9a", true),
        ("VIP", "#1565c0", true),
    ] {
        let idtag = w.ids.tag.take();
        w.tags.insert(
            idtag,
            Tag { idtag, title: title.into(), color: color.into(), inherit, text_color: "#FFFFFF".into() },
        );
    }
    let profile = |id: u64, name: &str, carrier: &str| ShippingProfile {
        idshippingprovider_profile: id,
        name: name.into(),
        carrier: carrier.into(),
    };
    w.shipping = vec![
        ShippingProvider {
            idshippingprovider: 401,
            name: "PostNL".into(),
            carrier_key: "postnl".into(),
            profiles: vec![profile(451, "PostNL Standard", "postnl"), profile(452, "PostNL Signature", "postnl")],
        },
        ShippingProvider {
            idshippingprovider: 402,
            name: "DHL".into(),
            carrier_key: "dhl".into(),
            profiles: vec![profile(453, "DHL Parcel Connect", "dhl")],
        },
        ShippingProvider {
            idshippingprovider: 403,
            name: "DPD".into(),
            carrier_key: "dpd".into(),
            profiles: vec![profile(454, "DPD Home", "dpd")],
        },
    ];
    for (name, city, country) in [
        ("Nordic Outerwear BV", "Utrecht", "NL"),
        ("Urban Threads Ltd", "Manchester", "GB"),
        ("Footwear Factory GmbH", "Düsseldorf", "DE"),
    ] {
        let id = w.ids.supplier.take();
        w.suppliers.insert(
            id,
            Supplier {
                idsupplier: id,
                name: name.into(),
                contactname: Some("Purchasing".into()),
                address: Some("Industrieweg 1".into()),
                address2: None,
                zipcode: Some("1000AA".into()),
                city: Some(city.into()),
                region: None,
                country: Some(country.into()),
                telephone: None,
                emailaddress: Some(format!("orders@{}.example", name.split(' ').next().unwrap_or("x").to_lowercase())),
                remarks: None,
                language: "en".into(),
            },
        );
    }
    for (id, name, status, color, default) in [
        (501, "New", "new", "#9e9e9e", true),
        (502, "Received", "received", "#1565c0", false),
        (503, "Completed", "completed", "#2e7d32", false),
        (504, "Rejected", "rejected", "#c62828", false),
    ] {
        w.return_statuses.push(ReturnStatus {
            idreturn_status: id,
            name: name.into(),
            status: status.into(),
            color: color.into(),
            default,
        });
    }
    for (id, name) in [(551, "Too small"), (552, "Too large"), (553, "Damaged"), (554, "Changed my mind")] {
        w.return_reasons.push(ReturnReason { idreturn_reason: id, name: name.into() });
    }
}

fn seed_customers(w: &mut World, rng: &mut Rng) {
    const FIRST: [&str; 8] = ["Jan", "Sanne", "Pieter", "Emma", "Daan", "Lotte", "Bram", "Noor"];
    const LAST: [&str; 8] = ["Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos"];
    const CITIES: [(&str, &str, &str); 5] = [
        ("Arnhem", "6811", "NL"),
        ("Utrecht", "3511", "NL"),
        ("Amsterdam", "1012", "NL"),
        ("Antwerpen", "2000", "BE"),
        ("Köln", "50667", "DE"),
    ];
    for n in 0..24usize {
        let first = FIRST[n % FIRST.len()];
        let last = LAST[(n / FIRST.len() + n) % LAST.len()];
        let name = format!("{first} {last}");
        let (city, zip, country) = CITIES[rng.usize(..CITIES.len())];
        let zipcode = if country == "NL" { format!("{zip}{}", ["AB", "CD", "EF"][n % 3]) } else { zip.to_owned() };
        let id = w.ids.customer.take();
        let address = Address {
            idcustomer_address: w.ids.address.take(),
            name: Some(name.clone()),
            contactname: None,
            address: Some(format!("Dorpsstraat {}", rng.u32(1..200))),
            address2: None,
            zipcode: Some(zipcode),
            city: Some(city.into()),
            region: None,
            country: Some(country.into()),
            defaultinvoice: true,
            defaultdelivery: true,
        };
        let email = format!("{}.{}{}@example.com", first.to_lowercase(), last.replace(' ', "").to_lowercase(), n + 1);
        w.customers.insert(
            id,
            Customer {
                idcustomer: id,
                idtemplate: None,
                customerid: (1000 + n + 1).to_string(),
                name,
                contactname: None,
                telephone: Some(format!("06{:08}", 12_000_000 + n * 7919)),
                emailaddress: Some(email),
                discount: 0.0,
                vatnumber: None,
                calculatevat: true,
                default_order_remarks: None,
                auto_split: false,
                language: if country == "NL" { "nl".into() } else { "en".into() },
                addresses: vec![address],
            },
        );
    }
}

fn seed_products(w: &mut World, rng: &mut Rng, count: usize) {
    let start = w.now() - 30 * 24 * 3600 * 1000;
    let vat_ids: Vec<u64> = w.vatgroups.iter().map(|v| v.idvatgroup).collect();
    let tag_ids: Vec<u64> = w.tags.keys().copied().collect();
    let supplier_ids: Vec<u64> = w.suppliers.keys().copied().collect();
    let warehouse_ids: Vec<u64> = w.warehouses.iter().map(|wh| wh.idwarehouse).collect();
    let mut family = 0usize;
    while w.products.len() < count {
        family += 1;
        let kind = &KINDS[rng.usize(..KINDS.len())];
        let adjective = ADJECTIVES[rng.usize(..ADJECTIVES.len())];
        let base_cents = rng.i64(kind.euros.0..=kind.euros.1) * 100 + CENTS[rng.usize(..CENTS.len())];
        let grams = rng.i64(kind.grams.0..=kind.grams.1);
        let tags: Vec<u64> = match rng.u8(..10) {
            0 => vec![tag_ids[0]],
            1 => vec![tag_ids[1]],
            2 => vec![tag_ids[2], tag_ids[0]],
            _ => Vec::new(),
        };
        let idsupplier = Some(supplier_ids[family % supplier_ids.len()]);
        let colours: Vec<(&str, &str)> = if kind.coloured {
            let first = rng.usize(..COLOURS.len());
            let n = rng.usize(1..=3);
            (0..n).map(|k| COLOURS[(first + k) % COLOURS.len()]).collect()
        } else {
            vec![("", "")]
        };
        let sizes: &[&str] = if kind.sizes.is_empty() { &[""] } else { kind.sizes };
        for (ccode, cname) in &colours {
            for (si, size) in sizes.iter().enumerate() {
                if w.products.len() >= count {
                    return;
                }
                let index = w.products.len();
                if index % 100 == 99 {
                    push_gift_set(w, rng, start, &vat_ids, &warehouse_ids);
                    if w.products.len() >= count {
                        return;
                    }
                }
                let index = w.products.len();
                let mut code = format!("{}-{family:04}", kind.code);
                let mut name = format!("{adjective} {}", kind.name);
                for (c, n) in [(*ccode, *cname), (*size, *size)] {
                    if !c.is_empty() {
                        code.push('-');
                        code.push_str(c);
                        name.push(' ');
                        name.push_str(n);
                    }
                }
                // Bigger sizes cost a little more; keeps prices from being identical across variants.
                let price = base_cents + si as i64 * 100;
                let created = start + index as i64 * 1000;
                let stock = stock_for(rng, &warehouse_ids);
                let product = Product::new(w.products.next_id(), code, name, created, stock);
                w.products.push(Product {
                    price,
                    fixedstockprice: Some(price * 45 / 100),
                    idvatgroup: vat_ids[kind.vat],
                    idsupplier,
                    deliverytime: Some(rng.i64(2..=14)),
                    barcode: Some(ean13(index)),
                    weight: Some(grams + si as i64 * 20),
                    tags: tags.clone(),
                    ..product
                });
            }
        }
    }
}

fn stock_for(rng: &mut Rng, warehouse_ids: &[u64]) -> Vec<StockLevel> {
    warehouse_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let stock = match i {
                0 => {
                    if rng.u8(..10) == 0 {
                        0
                    } else {
                        rng.i64(1..=60)
                    }
                }
                1 => {
                    if rng.bool() {
                        0
                    } else {
                        rng.i64(1..=20)
                    }
                }
                _ => {
                    if rng.u8(..5) == 0 {
                        rng.i64(1..=5)
                    } else {
                        0
                    }
                }
            };
            StockLevel { idwarehouse: *id, stock, ..StockLevel::default() }
        })
        .collect()
}

fn push_gift_set(w: &mut World, rng: &mut Rng, start: i64, vat_ids: &[u64], warehouse_ids: &[u64]) {
    let index = w.products.len();
    let id = w.products.next_id();
    let parts: Vec<Part> = [id - 2, id - 1]
        .into_iter()
        .map(|idproduct| Part { idproduct_part: w.ids.part.take(), idproduct, amount: 1 })
        .collect();
    let price: i64 = parts.iter().filter_map(|p| w.products.get(p.idproduct)).map(|p| p.price).sum::<i64>() * 9 / 10;
    let created = start + index as i64 * 1000;
    let stock = stock_for(rng, warehouse_ids);
    let (code, name) = (format!("GFT-{:04}", index / 100 + 1), format!("Gift set {}", index / 100 + 1));
    w.products.push(Product {
        price,
        idvatgroup: vat_ids[0],
        description: Some("Two products in one box".into()),
        barcode: Some(ean13(index)),
        kind: "composition_with_stock".into(),
        parts,
        ..Product::new(id, code, name, created, stock)
    });
}
