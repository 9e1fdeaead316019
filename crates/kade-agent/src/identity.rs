//! Identity rules: who may hear about an order. Pure and in one place, so the template path, the
//! MCP tools and the language-model path all obey the same rules.
//!
//! 1. Order details are disclosed only to an asker who proves one of: the order's email address,
//!    its delivery postcode, or — when the message arrived over WhatsApp or SMS — the phone
//!    number it came from. A phone number typed into a message proves nothing.
//! 2. Without such a proof the answer is the same whether the order exists or not: Kade never
//!    confirms that an order number exists to an unverified asker.
//! 3. Guessing is bounded: a message offering more than [`MAX_CLAIMS`] emails/postcodes is not
//!    checked at all, so nobody can try a list of postcodes in one go.

use serde::{Deserialize, Serialize};

/// Most identity claims one question may carry (emails + postcodes + phone).
pub const MAX_CLAIMS: usize = 3;

/// Where a message came from. Only WhatsApp/SMS vouch for a phone number and only email for an
/// email address; a web chat's `from` is whatever the widget sends and vouches for nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Whatsapp,
    Sms,
    Email,
    Chat,
    Helpdesk,
    Api,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "whatsapp" | "wa" => Channel::Whatsapp,
            "sms" | "text" => Channel::Sms,
            "email" | "e-mail" | "mail" => Channel::Email,
            "chat" | "webchat" | "web" => Channel::Chat,
            "helpdesk" | "ticket" => Channel::Helpdesk,
            "api" | "cli" | "" => Channel::Api,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Helpdesk => "helpdesk",
            Channel::Api => "api",
        }
    }
}

/// What the asker offers as proof, normalised.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub emails: Vec<String>,
    pub postcodes: Vec<String>,
    /// E.164, only ever from the channel.
    pub phone: Option<String>,
}

impl Claims {
    /// Builds claims from the channel's sender and what the message text offered. Typed phone
    /// numbers are not accepted (rule 1); the channel's `from` counts only where the channel
    /// vouches for it.
    pub fn gather(
        channel: Channel,
        from: Option<&str>,
        emails: &[String],
        postcodes: &[String],
        default_country: &str,
    ) -> Claims {
        let mut c = Claims::default();
        for e in emails.iter().filter_map(|e| normalize_email(e)) {
            if !c.emails.contains(&e) {
                c.emails.push(e);
            }
        }
        for p in postcodes.iter().filter_map(|p| normalize_postcode(p)) {
            if !c.postcodes.contains(&p) {
                c.postcodes.push(p);
            }
        }
        match (channel, from) {
            (Channel::Whatsapp | Channel::Sms, Some(f)) => c.phone = normalize_phone(f, default_country),
            (Channel::Email, Some(f)) => {
                if let Some(e) = normalize_email(f).filter(|e| !c.emails.contains(e)) {
                    c.emails.push(e);
                }
            }
            _ => {}
        }
        c
    }

    pub fn count(&self) -> usize {
        self.emails.len() + self.postcodes.len() + usize::from(self.phone.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }
}

/// What an order says about its customer (raw, as Picqer has it).
#[derive(Clone, Debug, Default)]
pub struct OrderIdentity {
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
}

/// How the asker proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proof {
    Email,
    Postcode,
    Phone,
}

/// The decision for one question about orders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Disclose these orders (indexes into the candidates), proven by this.
    Disclose(Vec<usize>, Proof),
    /// No proof offered: ask for the email address or delivery postcode.
    AskForIdentity,
    /// Proof offered but it matches no candidate (or there is no such order): say so without
    /// saying which.
    NoMatch,
    /// Too many claims to check (rule 3).
    TooManyClaims,
}

impl Gate {
    /// The verification state as reported in facts; identical for "no such order" and "wrong
    /// details", as rule 2 requires.
    pub fn label(&self) -> &'static str {
        match self {
            Gate::Disclose(..) => "verified",
            Gate::AskForIdentity => "required",
            Gate::NoMatch | Gate::TooManyClaims => "not_verified",
        }
    }
}

/// Which candidates the asker may hear about. `candidates` are the orders the question could
/// mean — possibly none; the outcome for "none" equals the outcome for "none matches".
pub fn gate(candidates: &[OrderIdentity], claims: &Claims, default_country: &str) -> Gate {
    if claims.is_empty() {
        return Gate::AskForIdentity;
    }
    if claims.count() > MAX_CLAIMS {
        return Gate::TooManyClaims;
    }
    let mut matched = Vec::new();
    let mut proof = None;
    for (i, order) in candidates.iter().enumerate() {
        if let Some(p) = proves(order, claims, default_country) {
            matched.push(i);
            proof.get_or_insert(p);
        }
    }
    match proof {
        Some(p) => Gate::Disclose(matched, p),
        None => Gate::NoMatch,
    }
}

/// The strongest proof `claims` give for `order`, if any.
pub fn proves(order: &OrderIdentity, claims: &Claims, default_country: &str) -> Option<Proof> {
    let email = order.email.as_deref().and_then(normalize_email);
    if email.is_some_and(|e| claims.emails.contains(&e)) {
        return Some(Proof::Email);
    }
    let phone = order.phone.as_deref().and_then(|p| normalize_phone(p, default_country));
    if phone.is_some() && phone == claims.phone {
        return Some(Proof::Phone);
    }
    let postcode = order.postcode.as_deref().and_then(normalize_postcode);
    if postcode.is_some_and(|p| claims.postcodes.contains(&p)) {
        return Some(Proof::Postcode);
    }
    None
}

/// Lower-cased, trimmed, with surrounding `<>` and `mailto:` removed; `None` unless it has one
/// `@` with text on both sides and a dot in the domain.
pub fn normalize_email(raw: &str) -> Option<String> {
    // "Sanne de Vries <sanne@example.com>": the address between the brackets.
    let raw = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(a), Some(b)) if a < b => &raw[a + 1..b],
        _ => raw,
    };
    let s = raw.trim().trim_start_matches("mailto:").trim_matches(|c: char| "<>()[]\"',;:.!?".contains(c));
    let s = s.to_lowercase();
    let (local, domain) = s.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace);
    ok.then_some(s)
}

/// Upper-cased letters and digits only ("6811 ab" → "6811AB", "D-50667" → "D50667"); `None` if
/// that leaves fewer than 3 characters or no digit.
pub fn normalize_postcode(raw: &str) -> Option<String> {
    let s: String = raw.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
    (s.len() >= 3 && s.len() <= 10 && s.chars().any(|c| c.is_ascii_digit())).then_some(s)
}

/// E.164 (`+31612345678`). Accepts channel prefixes (`whatsapp:+31…`), spaces, dashes, dots and
/// parentheses, `00` for `+`, and a national number with a leading 0 in `default_country` (a
/// calling code such as "31"). `None` for anything that is not 8–15 digits once normalised.
pub fn normalize_phone(raw: &str, default_country: &str) -> Option<String> {
    let s = raw.trim();
    let s = s.rsplit_once(':').map_or(s, |(_, rest)| rest).trim();
    if s.chars().any(|c| !(c.is_ascii_digit() || " -.()+/".contains(c))) {
        return None;
    }
    let plus = s.starts_with('+');
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let e164 = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("{default_country}{rest}")
    } else {
        digits
    };
    ((8..=15).contains(&e164.len()) && !e164.starts_with('0')).then(|| format!("+{e164}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> OrderIdentity {
        OrderIdentity {
            email: Some("Sanne.deVries@Example.com".into()),
            postcode: Some("6811 AB".into()),
            phone: Some("06-12345678".into()),
        }
    }

    fn claims(emails: &[&str], postcodes: &[&str]) -> Claims {
        let e: Vec<String> = emails.iter().map(|s| s.to_string()).collect();
        let p: Vec<String> = postcodes.iter().map(|s| s.to_string()).collect();
        Claims::gather(Channel::Chat, None, &e, &p, "31")
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_email(" <Jan@Example.COM>. ").as_deref(), Some("jan@example.com"));
        assert_eq!(normalize_email("jan@localhost"), None);
        assert_eq!(normalize_email("@example.com"), None);
        assert_eq!(normalize_postcode("6811 ab").as_deref(), Some("6811AB"));
        assert_eq!(normalize_postcode("ab"), None);
        assert_eq!(normalize_phone("whatsapp:+31 6 1234 5678", "31").as_deref(), Some("+31612345678"));
        assert_eq!(normalize_phone("0031612345678", "31").as_deref(), Some("+31612345678"));
        assert_eq!(normalize_phone("06-12345678", "31").as_deref(), Some("+31612345678"));
        assert_eq!(normalize_phone("(0)6 12", "31"), None, "too short");
        assert_eq!(normalize_phone("call me", "31"), None);
    }

    #[test]
    fn any_one_proof_discloses() {
        assert_eq!(
            gate(&[order()], &claims(&["sanne.devries@example.com"], &[]), "31"),
            Gate::Disclose(vec![0], Proof::Email)
        );
        assert_eq!(gate(&[order()], &claims(&[], &["6811ab"]), "31"), Gate::Disclose(vec![0], Proof::Postcode));
        let wa = Claims::gather(Channel::Whatsapp, Some("whatsapp:+31612345678"), &[], &[], "31");
        assert_eq!(gate(&[order()], &wa, "31"), Gate::Disclose(vec![0], Proof::Phone));
        let mail = Claims::gather(Channel::Email, Some("Sanne <sanne.devries@example.com>"), &[], &[], "31");
        assert_eq!(gate(&[order()], &mail, "31"), Gate::Disclose(vec![0], Proof::Email));
    }

    #[test]
    fn a_chat_sender_or_typed_phone_proves_nothing() {
        let chat = Claims::gather(Channel::Chat, Some("+31612345678"), &[], &[], "31");
        assert!(chat.is_empty());
        assert_eq!(gate(&[order()], &chat, "31"), Gate::AskForIdentity);
    }

    #[test]
    fn unverified_outcomes_do_not_depend_on_existence() {
        let none = claims(&[], &[]);
        assert_eq!(gate(&[order()], &none, "31"), gate(&[], &none, "31"));
        let wrong = claims(&["someone@else.com"], &["1234XY"]);
        assert_eq!(gate(&[order()], &wrong, "31"), Gate::NoMatch);
        assert_eq!(gate(&[], &wrong, "31"), Gate::NoMatch);
        assert_eq!(Gate::NoMatch.label(), "not_verified");
    }

    #[test]
    fn lists_of_guesses_are_not_checked() {
        let many = claims(&[], &["6811AA", "6811AB", "6811AC", "6811AD"]);
        assert_eq!(gate(&[order()], &many, "31"), Gate::TooManyClaims);
    }

    #[test]
    fn only_matching_candidates_are_disclosed() {
        let other = OrderIdentity { email: Some("x@y.nl".into()), postcode: Some("1000AA".into()), phone: None };
        assert_eq!(gate(&[other, order()], &claims(&[], &["6811AB"]), "31"), Gate::Disclose(vec![1], Proof::Postcode));
    }
}
