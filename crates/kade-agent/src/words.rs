//! Word lists (English and Dutch) used to read customer messages. Kept apart from the logic
//! so the lists can grow without burying it.

#[rustfmt::skip]
pub const ORDER_WORDS: &[&str] = &[
    "order", "orders", "ordernumber", "ordernummer", "bestelling", "bestellingen", "bestelnummer", "besteld",
    "ordered", "pakket", "pakketje", "package", "parcel", "tracking", "track", "trace", "shipped", "shipping",
    "verzonden", "verstuurd", "delivered", "delivery", "geleverd", "levering", "bezorgd", "bezorging", "status",
    "arrive", "arrived", "aankomen", "binnen", "reference", "referentie", "sent", "shipment", "zending",
];

#[rustfmt::skip]
pub const STOCK_WORDS: &[&str] = &[
    "stock", "voorraad", "available", "availability", "beschikbaar", "leverbaar", "verkrijgbaar", "uitverkocht",
    "sold", "have", "hebben", "heb", "hebt", "got", "sell", "verkopen", "verkopen", "restock", "left", "over",
];

/// Words that carry no product meaning (English and Dutch), dropped before searching.
#[rustfmt::skip]
pub const FILLER: &[&str] = &[
    "a", "an", "the", "is", "are", "was", "do", "does", "you", "your", "yours", "we", "i", "my", "me", "it", "its",
    "in", "on", "of", "for", "to", "and", "or", "with", "still", "any", "anything", "some", "there", "this", "that",
    "have", "has", "got", "hi", "hello", "hey", "please", "thanks", "thank", "can", "could", "would", "will", "be",
    "what", "which", "when", "where", "how", "about", "stock", "available", "availability", "sold", "out", "left",
    "sell", "de", "het", "een", "is", "zijn", "jullie", "je", "jij", "u", "ik", "mijn", "m'n", "mn", "nog", "op",
    "in", "van", "voor", "met", "en", "of", "er", "hebben", "heb", "hebt", "heeft", "voorraad", "beschikbaar",
    "leverbaar", "verkrijgbaar", "uitverkocht", "hoi", "hallo", "dag", "goedemorgen", "goedemiddag", "graag",
    "bedankt", "dank", "wat", "welke", "wanneer", "waar", "hoe", "nu", "weer", "al", "ook", "wel", "niet", "geen",
    "kan", "kunnen", "wil", "willen", "weten", "zou", "zit", "staat", "dat", "die", "dit", "size", "maat", "colour",
    "color", "kleur", "want", "like", "looking", "zoek", "zoeken", "op", "te", "restock", "over", "verkopen", "not",
    "yet", "no", "yes", "ja", "nee", "know", "tell", "let", "us", "our", "ons", "onze", "jou", "uw",
];

/// Words that are common in short Dutch customer messages and rare in English ones.
#[rustfmt::skip]
pub const DUTCH: &[&str] = &[
    "ik", "mijn", "de", "het", "een", "is", "waar", "wanneer", "bestelling", "bestelnummer", "pakket", "pakketje",
    "heb", "hebben", "jullie", "nog", "op", "voorraad", "maat", "kleur", "blauw", "blauwe", "rood", "rode", "zwart",
    "zwarte", "groen", "groene", "wit", "witte", "grijs", "grijze", "jas", "jassen", "trui", "sokken", "schoenen",
    "niet", "geen", "wel", "al", "verzonden", "geleverd", "bezorgd", "hoi", "hallo", "goedemiddag", "goedemorgen",
    "bedankt", "dank", "graag", "wil", "weten", "kunnen", "kan", "zijn", "er", "nummer", "beschikbaar", "leverbaar",
    "wat", "welke", "zit", "staat", "mn", "m'n", "ontvangen", "van", "voor", "met", "en",
];

/// Words that are common in short English customer messages and rare in Dutch ones.
#[rustfmt::skip]
pub const ENGLISH: &[&str] = &[
    "i", "my", "the", "a", "an", "where", "when", "order", "package", "parcel", "have", "you", "do", "does", "in",
    "stock", "size", "colour", "color", "blue", "red", "black", "green", "white", "grey", "gray", "jacket", "not",
    "yet", "shipped", "delivered", "hi", "hello", "thanks", "thank", "please", "want", "know", "can", "is", "are",
    "there", "number", "available", "what", "which", "it", "of", "for", "with", "and", "still", "received",
];
