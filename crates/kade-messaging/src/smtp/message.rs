//! Building the RFC 5322 message.

/// The Message-ID for a key (without angle brackets).
pub fn message_id(key: &str, from: &str) -> String {
    let _ = (key, from);
    String::new()
}

/// The full message text (headers + body), CRLF line endings, not yet dot-stuffed.
pub fn build_message(key: &str, from: &str, to: &str, subject: &str, text: &str, date_s: i64) -> String {
    let _ = (key, from, to, subject, text, date_s);
    String::new()
}
