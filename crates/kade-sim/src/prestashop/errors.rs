//! PrestaShop's error answers: `<prestashop><errors><error><code>…` in XML, `{"errors":[…]}` in
//! JSON, with the webservice's own numeric codes. Codes marked GUESS are not documented for the
//! situation they are used in (see docs/simulators.md).

use axum::http::StatusCode;

pub mod code {
    pub const NO_KEY: u32 = 16;
    pub const EMPTY_KEY: u32 = 17;
    pub const KEY_FORMAT: u32 = 18;
    /// GUESS: a well-formed key that does not exist.
    pub const UNKNOWN_KEY: u32 = 19;
    pub const KEY_INACTIVE: u32 = 20;
    pub const DISABLED: u32 = 22;
    pub const METHOD_INVALID: u32 = 23;
    pub const METHOD_NOT_ALLOWED_FOR_KEY: u32 = 25;
    pub const RESOURCE_NOT_ALLOWED: u32 = 26;
    pub const UNKNOWN_RESOURCE: u32 = 27;
    /// GUESS: a filter on an unknown field (or on a date field without `date=1`).
    pub const BAD_FILTER: u32 = 32;
    pub const DISPLAY_UNKNOWN_FIELD: u32 = 35;
    pub const DISPLAY_SYNTAX: u32 = 36;
    /// GUESS: a bad `sort` or `limit` parameter.
    pub const BAD_PARAMETER: u32 = 37;
    pub const REQUIRED: u32 = 41;
    pub const UNABLE_TO_SAVE: u32 = 46;
    pub const VALIDATION: u32 = 85;
    pub const UNKNOWN_ASSOCIATION: u32 = 86;
    pub const NOT_EXISTS: u32 = 87;
    pub const ID_REQUIRED: u32 = 90;
    pub const ID_FORBIDDEN: u32 = 91;
    pub const INVALID_ID: u32 = 92;
    pub const NOT_WRITABLE: u32 = 93;
    pub const XML_ERROR: u32 = 127;
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}, code {code}: {message}")]
pub struct PsError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

pub type PsResult<T> = Result<T, PsError>;

impl PsError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        PsError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
        }
    }
    pub fn bad(code: u32, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn not_exists(resource: &str, id: u64) -> Self {
        Self::new(404, code::NOT_EXISTS, format!("Id(s) not exists: {id} (resource {resource})"))
    }
}
