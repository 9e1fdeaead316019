//! Deterministic answers in English and Dutch. Every sentence is built from facts the caller
//! was allowed to see; an unverified asker's answer contains nothing but their own words back.

use crate::facts::ProductFacts;
use crate::lang::Lang;
use crate::orders::{OrderFacts, Stage};
use crate::stock::Availability;

fn stage_text(stage: Stage, lang: Lang) -> &'static str {
    match (stage, lang) {
        (Stage::Received, Lang::En) => "we have received it and it will go to our warehouse soon",
        (Stage::Received, Lang::Nl) => "we hebben je bestelling ontvangen; die gaat binnenkort naar ons magazijn",
        (Stage::BeingPrepared, Lang::En) => "it is being picked and packed in our warehouse",
        (Stage::BeingPrepared, Lang::Nl) => "je bestelling wordt in ons magazijn verzameld en ingepakt",
        (Stage::WaitingForStock, Lang::En) => "it is waiting for stock of one or more items",
        (Stage::WaitingForStock, Lang::Nl) => "je bestelling wacht op voorraad van een of meer artikelen",
        (Stage::PartlyShipped, Lang::En) => "part of it has been shipped; the rest follows when it is back in stock",
        (Stage::PartlyShipped, Lang::Nl) => "een deel is verzonden; de rest volgt zodra het weer op voorraad is",
        (Stage::Shipped, Lang::En) => "it has been shipped",
        (Stage::Shipped, Lang::Nl) => "je bestelling is verzonden",
        (Stage::Completed, Lang::En) => "it has been completed",
        (Stage::Completed, Lang::Nl) => "je bestelling is afgerond",
        (Stage::OnHold, Lang::En) => "it is on hold for the moment; our customer service will contact you",
        (Stage::OnHold, Lang::Nl) => {
            "je bestelling staat even in de wacht; onze klantenservice neemt contact met je op"
        }
        (Stage::Cancelled, Lang::En) => "it has been cancelled",
        (Stage::Cancelled, Lang::Nl) => "je bestelling is geannuleerd",
    }
}

/// A verified order, in full.
pub fn order(o: &OrderFacts, lang: Lang) -> String {
    let mut s = match (lang, &o.reference) {
        (Lang::En, Some(r)) => format!("Order {} (reference {r}): {}.", o.orderid, stage_text(o.stage, lang)),
        (Lang::En, None) => format!("Order {}: {}.", o.orderid, stage_text(o.stage, lang)),
        (Lang::Nl, Some(r)) => format!("Bestelling {} (referentie {r}): {}.", o.orderid, stage_text(o.stage, lang)),
        (Lang::Nl, None) => format!("Bestelling {}: {}.", o.orderid, stage_text(o.stage, lang)),
    };
    let items: Vec<String> = o
        .lines
        .iter()
        .filter(|l| l.amount > l.amount_cancelled)
        .map(|l| format!("{} × {}", l.amount - l.amount_cancelled, l.name))
        .collect();
    if !items.is_empty() {
        s.push_str(if lang == Lang::En { "\nItems: " } else { "\nArtikelen: " });
        s.push_str(&items.join(", "));
        s.push('.');
    }
    for sh in &o.shipments {
        let carrier = sh.carrier.as_deref().unwrap_or(if lang == Lang::En { "the carrier" } else { "de vervoerder" });
        let parcels: Vec<String> = sh
            .parcels
            .iter()
            .map(|p| match (&p.tracking_code, &p.tracking_url) {
                (Some(c), Some(u)) => format!("{c} ({u})"),
                (Some(c), None) => c.clone(),
                (None, Some(u)) => u.clone(),
                (None, None) => "-".into(),
            })
            .collect();
        let label = match (lang, parcels.len()) {
            (Lang::En, 1) => format!("\nShipped with {carrier}, track & trace: "),
            (Lang::En, n) => format!("\nShipped with {carrier} in {n} parcels, track & trace: "),
            (Lang::Nl, 1) => format!("\nVerzonden met {carrier}, track & trace: "),
            (Lang::Nl, n) => format!("\nVerzonden met {carrier} in {n} pakketten, track & trace: "),
        };
        s.push_str(&label);
        s.push_str(&parcels.join(", "));
        s.push('.');
    }
    for b in &o.backorders {
        let name = if b.name.is_empty() { &b.productcode } else { &b.name };
        s.push_str(&match (lang, &b.expected) {
            (Lang::En, Some(d)) => format!("\nWaiting for stock: {} × {name}, expected {d}.", b.amount),
            (Lang::En, None) => format!("\nWaiting for stock: {} × {name}; we do not have a date yet.", b.amount),
            (Lang::Nl, Some(d)) => format!("\nWacht op voorraad: {} × {name}, verwacht op {d}.", b.amount),
            (Lang::Nl, None) => format!("\nWacht op voorraad: {} × {name}; er is nog geen datum bekend.", b.amount),
        });
    }
    s
}

/// No proof offered: ask for it, without saying whether the order exists.
pub fn ask_identity(asked: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "I can help with order {asked}. To protect your privacy, please send the email address or the delivery postcode used for the order."
        ),
        Lang::Nl => format!(
            "Ik help je graag met bestelling {asked}. Stuur ter bescherming van je privacy het e-mailadres of de postcode van het afleveradres van de bestelling."
        ),
    }
}

/// Proof offered that matches nothing — or no such order; the two read the same.
pub fn no_match(asked: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "I could not find order {asked} with those details. Please check the order number and send the email address or delivery postcode used for the order."
        ),
        Lang::Nl => format!(
            "Ik kon bestelling {asked} met deze gegevens niet vinden. Controleer het bestelnummer en stuur het e-mailadres of de postcode van het afleveradres van de bestelling."
        ),
    }
}

pub fn too_many_claims(lang: Lang) -> String {
    match lang {
        Lang::En => "Please send one email address or one postcode with your order number, not several.".into(),
        Lang::Nl => "Stuur één e-mailadres of één postcode mee met je bestelnummer, niet meerdere.".into(),
    }
}

pub fn need_order_number(lang: Lang) -> String {
    match lang {
        Lang::En => "Please send your order number together with the email address or delivery postcode of the order, and I will look it up.".into(),
        Lang::Nl => "Stuur je bestelnummer samen met het e-mailadres of de postcode van het afleveradres van de bestelling, dan zoek ik het voor je op.".into(),
    }
}

fn availability_text(a: Availability, lang: Lang) -> &'static str {
    match (a, lang) {
        (Availability::InStock, Lang::En) => "is in stock",
        (Availability::Low, Lang::En) => "is in stock, but only a few are left",
        (Availability::OutOfStock, Lang::En) => "is out of stock at the moment",
        (Availability::InStock, Lang::Nl) => "is op voorraad",
        (Availability::Low, Lang::Nl) => "is op voorraad, maar er zijn er nog maar een paar",
        (Availability::OutOfStock, Lang::Nl) => "is op dit moment niet op voorraad",
    }
}

fn short_availability(a: Availability, lang: Lang) -> &'static str {
    match (a, lang) {
        (Availability::InStock, Lang::En) => "in stock",
        (Availability::Low, Lang::En) => "only a few left",
        (Availability::OutOfStock, Lang::En) => "out of stock",
        (Availability::InStock, Lang::Nl) => "op voorraad",
        (Availability::Low, Lang::Nl) => "nog maar een paar",
        (Availability::OutOfStock, Lang::Nl) => "niet op voorraad",
    }
}

pub fn product(p: &ProductFacts, lang: Lang) -> String {
    format!("{} ({}) {}.", p.name, p.productcode, availability_text(p.availability, lang))
}

/// Several products fit: list them with their stock and ask which one.
pub fn candidates(ps: &[ProductFacts], more: usize, lang: Lang) -> String {
    let mut s = String::from(match lang {
        Lang::En => "Several products match your question:",
        Lang::Nl => "Er passen meerdere producten bij je vraag:",
    });
    for p in ps {
        s.push_str(&format!("\n- {} ({}): {}", p.name, p.productcode, short_availability(p.availability, lang)));
    }
    if more > 0 {
        s.push_str(&match lang {
            Lang::En => format!("\n…and {more} more."),
            Lang::Nl => format!("\n…en nog {more}."),
        });
    }
    s.push_str(match lang {
        Lang::En => "\nWhich one do you mean? A colour, a size or the product code helps.",
        Lang::Nl => "\nWelke bedoel je? Een kleur, een maat of de productcode helpt.",
    });
    s
}

pub fn unknown_product(words: &str, lang: Lang) -> String {
    match (lang, words.is_empty()) {
        (Lang::En, false) => {
            format!("I could not find a product matching \"{words}\". Could you send the product name or product code?")
        }
        (Lang::Nl, false) => {
            format!("Ik kon geen product vinden dat past bij \"{words}\". Kun je de productnaam of productcode sturen?")
        }
        (Lang::En, true) => "Which product do you mean? Please send its name or product code.".into(),
        (Lang::Nl, true) => "Welk product bedoel je? Stuur de productnaam of productcode.".into(),
    }
}

pub fn help(lang: Lang) -> String {
    match lang {
        Lang::En => "I can answer questions about your order (send the order number with the email address or delivery postcode of the order) and about stock (name the product, colour and size).".into(),
        Lang::Nl => "Ik kan vragen beantwoorden over je bestelling (stuur het bestelnummer met het e-mailadres of de postcode van het afleveradres) en over voorraad (noem het product, de kleur en de maat).".into(),
    }
}

pub fn unavailable(lang: Lang) -> String {
    match lang {
        Lang::En => "I cannot reach our order system right now. Please try again in a few minutes.".into(),
        Lang::Nl => "Ik kan ons bestelsysteem nu niet bereiken. Probeer het over een paar minuten opnieuw.".into(),
    }
}
