//! Building the RFC 5322 message: headers (RFC 2047 encoded-words for non-ASCII), a UTF-8
//! text/plain body in quoted-printable, CRLF line endings. Dot-stuffing is the transport's job.

use base64::Engine as _;

/// Why an address or header value was refused (it would break or inject into the message).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct MessageError(pub String);

/// The Message-ID for a key, without angle brackets: `kade.<key>@<domain of from>`.
///
/// Deterministic, so a resend after an in-doubt failure carries the same id and the recipient's
/// side (or an operator grepping the relay's log) can recognise the duplicate. Characters that are
/// not allowed in an id are written as `=XX`, which keeps distinct keys distinct.
pub fn message_id(key: &str, from: &str) -> String {
    let mut local = String::from("kade.");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            local.push(b as char);
        } else {
            local.push_str(&format!("={b:02X}"));
        }
    }
    if local.len() > 200 {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        local = String::from("kade.h");
        for b in digest.as_ref() {
            local.push_str(&format!("{b:02x}"));
        }
    }
    let domain = address_of(from)
        .and_then(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned()))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
        .unwrap_or_else(|| "kade.invalid".to_owned());
    format!("{local}@{domain}")
}

/// The bare address of `addr@x` or `Display Name <addr@x>`, checked to be usable in an envelope.
pub fn address_of(s: &str) -> Option<String> {
    let s = s.trim();
    // Control characters anywhere (CR/LF above all) would let a value inject commands or headers.
    if s.chars().any(char::is_control) {
        return None;
    }
    let addr = match (s.rfind('<'), s.ends_with('>')) {
        (Some(i), true) => &s[i + 1..s.len() - 1],
        _ => s,
    };
    let ok = !addr.is_empty()
        && addr.matches('@').count() == 1
        && !addr.starts_with('@')
        && !addr.ends_with('@')
        && addr.bytes().all(|b| b > b' ' && b != 0x7f && !matches!(b, b'<' | b'>' | b',' | b'"' | b'(' | b')' | b';'));
    ok.then(|| addr.to_owned())
}

/// RFC 2047 `=?UTF-8?B?...?=` words (≤ 75 chars each, split on char boundaries) when the text
/// is not plain ASCII; CR/LF are never allowed through (header injection).
pub fn encode_header_text(text: &str) -> String {
    let clean: String = text.chars().map(|c| if c == '\r' || c == '\n' || c == '\t' { ' ' } else { c }).collect();
    if clean.bytes().all(|b| (0x20..0x7f).contains(&b)) && !clean.contains("=?") {
        return clean;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        // 45 bytes of UTF-8 → 60 base64 chars + 12 of framing = 72 ≤ 75.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// `From`: the display name (if any) encoded, the address kept as is.
fn from_header(from: &str) -> Result<String, MessageError> {
    let addr = address_of(from).ok_or_else(|| MessageError(format!("the sender {from:?} is not an email address")))?;
    let name = match from.trim().rfind('<') {
        Some(i) => from.trim()[..i].trim().trim_matches('"').to_owned(),
        None => String::new(),
    };
    if name.is_empty() {
        return Ok(addr);
    }
    let encoded = encode_header_text(&name);
    if encoded.starts_with("=?") {
        Ok(format!("{encoded} <{addr}>"))
    } else {
        Ok(format!("\"{}\" <{addr}>", encoded.replace(['"', '\\'], "")))
    }
}

/// Quoted-printable (RFC 2045 §6.7) of text whose lines are already split: soft breaks keep
/// encoded lines ≤ 76 characters; trailing spaces and a leading '.' are encoded.
pub fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.split('\n').collect();
    for (n, line) in lines.iter().enumerate() {
        let bytes = line.as_bytes();
        let mut width = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = (b == b' ' || b == b'\t') && !last
                || (33..=126).contains(&b) && b != b'=' && !(b == b'.' && width == 0);
            let piece = if literal { (b as char).to_string() } else { format!("={b:02X}") };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            // A '.' that lands at the start of a line after a soft break is encoded too.
            let piece = if piece == "." && width == 0 { "=2E".to_owned() } else { piece };
            width += piece.len();
            out.push_str(&piece);
        }
        if n + 1 < lines.len() {
            out.push_str("\r\n");
        }
    }
    out
}

/// The full message (headers + body) with CRLF line endings, not yet dot-stuffed.
pub fn build_message(
    key: &str,
    from: &str,
    to: &str,
    subject: &str,
    text: &str,
    date_s: i64,
) -> Result<String, MessageError> {
    let to_addr =
        address_of(to).ok_or_else(|| MessageError(format!("the recipient {to:?} is not an email address")))?;
    let mut m = String::new();
    m.push_str(&format!("Date: {}\r\n", crate::timefmt::rfc5322(date_s)));
    m.push_str(&format!("From: {}\r\n", from_header(from)?));
    m.push_str(&format!("To: {to_addr}\r\n"));
    m.push_str(&format!("Subject: {}\r\n", encode_header_text(subject)));
    m.push_str(&format!("Message-ID: <{}>\r\n", message_id(key, from)));
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    m.push_str("Content-Transfer-Encoding: quoted-printable\r\n");
    // System mail: tells auto-responders not to answer it.
    m.push_str("Auto-Submitted: auto-generated\r\n");
    m.push_str("\r\n");
    m.push_str(&quoted_printable(text));
    m.push_str("\r\n");
    Ok(m)
}

/// Dot-stuffing (RFC 5321 §4.5.2): every line starting with '.' gets one more.
pub fn dot_stuff(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 8);
    for (i, line) in message.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_and_distinct() {
        assert_eq!(message_id("r1:o/9", "Shop <shop@example.com>"), "kade.r1=3Ao=2F9@example.com");
        assert_ne!(message_id("a:b", "x@y.z"), message_id("a/b", "x@y.z"));
        assert!(message_id(&"k".repeat(300), "x@y.z").starts_with("kade.h"));
        assert!(message_id("k", "nonsense").ends_with("@kade.invalid"));
    }

    #[test]
    fn encodes_non_ascii_headers_and_refuses_injection() {
        assert_eq!(encode_header_text("Your order"), "Your order");
        assert_eq!(encode_header_text("a\r\nBcc: x"), "a  Bcc: x");
        let e = encode_header_text("Je bestelling is onderweg 🚚 — dank je wel, Zoë! Tot snel bij Café Ünïcode");
        assert!(e.starts_with("=?UTF-8?B?"));
        assert!(e.split("\r\n ").all(|w| w.len() <= 75 && w.ends_with("?=")));
        assert_eq!(
            from_header("Café Shop <shop@example.com>").unwrap(),
            "=?UTF-8?B?Q2Fmw6kgU2hvcA==?= <shop@example.com>"
        );
        assert!(address_of("a@b.c\r\nRCPT TO:<x@y>").is_none());
        assert!(address_of("no-at-sign").is_none());
    }

    #[test]
    fn quoted_printable_is_bounded_and_reversible_enough() {
        let qp = quoted_printable("Hé = ok\n.dot line\ntrailing   \n");
        assert_eq!(qp, "H=C3=A9 =3D ok\r\n=2Edot line\r\ntrailing  =20\r\n");
        let long = quoted_printable(&"é".repeat(100));
        assert!(long.split("\r\n").all(|l| l.len() <= 76));
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuff("a\r\n.\r\n..b\r\nc."), "a\r\n..\r\n...b\r\nc.");
    }
}
