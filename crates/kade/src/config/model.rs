//! The validated configuration: every value resolved, defaulted and checked, so the rest of Kade
//! never re-validates or re-reads the environment.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use kade_picqer::{ApiKey, ClientConfig};

/// A resolved secret (API key, token, master key): kade-core's type, so the same value travels
/// from the config file to the connector that uses it without being unwrapped to a `String`.
/// `Debug` and `Display` never show it (design principle 10).
pub use kade_core::Secret;

/// Everything `kade.toml` (plus the environment) says.
#[derive(Clone, Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    /// Encrypts API keys and hook secrets at rest (`[security] master_key`).
    pub master_key: Secret,
    /// Picqer connections by name; the name appears in webhook URLs and the admin API.
    pub picqer: BTreeMap<String, PicqerConnectionConfig>,
    /// PrestaShop shops by name (`[prestashop.NAME]`), each feeding one Picqer connection.
    pub prestashop: BTreeMap<String, kade_prestashop::ShopSettings>,
    /// The customer-answer agent (`[agent]`); defaults when the section is absent.
    pub agent: kade_agent::AgentConfig,
    /// Message providers (`[smtp]`, `[whatsapp]`, `[twilio]`) and automation settings.
    pub messaging: super::MessagingConfig,
    /// The `[[automation]]` rules, validated (templates parsed).
    pub automations: Vec<kade_core::automation::Rule>,
}

impl Config {
    /// Where Picqer delivers this connection's webhooks: `{public_url}/webhooks/picqer/{connection}`.
    pub fn webhook_url(&self, connection: &str) -> String {
        format!("{}/webhooks/picqer/{connection}", self.server.public_url)
    }
}

/// The HTTP server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// How Picqer reaches Kade from the internet, without a trailing slash.
    pub public_url: String,
    /// Bearer token for the admin API.
    pub admin_token: Secret,
}

/// Where Kade keeps its state.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// `sqlite:///absolute/path.db` (relative paths are resolved next to the config file) or
    /// `postgres://…` as written.
    pub url: String,
}

impl DatabaseConfig {
    /// Whether this is a PostgreSQL database (otherwise SQLite).
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }

    /// The URL with any password replaced by `***`, for printing. PostgreSQL URLs often carry
    /// credentials.
    pub fn redacted_url(&self) -> String {
        match reqwest::Url::parse(&self.url) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => self.url.clone(),
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig").field("url", &self.redacted_url()).finish()
    }
}

/// One Picqer account.
#[derive(Clone, Debug)]
pub struct PicqerConnectionConfig {
    /// `https://{subdomain}.picqer.com/api/v1`, or the configured `base_url`; no trailing slash.
    pub base_url: String,
    pub api_key: Secret,
    /// Goes into the User-Agent, which Picqer asks integrations to fill with a contact.
    pub contact: String,
    /// Picqer events Kade installs hooks for.
    pub events: Vec<String>,
    /// How often the catalogue is polled for changes webhooks may have missed.
    pub incremental_sync_minutes: u32,
}

impl PicqerConnectionConfig {
    /// A client configuration with Kade's defaults for this account.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::with_base_url(self.base_url.clone(), ApiKey::new(self.api_key.expose())).contact(&self.contact)
    }
}
