//! Configuration: `kade.toml`, overridden by a few environment variables, validated in one pass.
//!
//! The file is the operator's interface, so the loader is strict and talkative: unknown keys are
//! rejected (a typo must not silently fall back to a default), and every error names its key
//! path and line, all reported together. Secrets may be written as `env:NAME`, `file:PATH` or
//! literally; once resolved they live in [`Secret`], which never prints itself.
//! See `docs/configuration.md` for the user-facing description.

mod agent;
mod error;
mod events;
mod messaging;
mod model;
mod prestashop;
mod raw;
mod validate;

#[cfg(test)]
mod automation_tests;
#[cfg(test)]
mod prestashop_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{ConfigError, ConfigErrors};
pub use messaging::MessagingConfig;
pub use model::{Config, PicqerConnectionConfig};

/// Loads and validates `path`, with overrides from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    load_with_env(path, &|name| std::env::var(name).ok())
}

/// [`load`] with an explicit environment (`env:NAME` secrets and the `KADE_*` overrides).
pub fn load_with_env(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let message = format!("cannot read {}: {e}", path.display());
        ConfigErrors(vec![ConfigError { key: None, message, location: None }])
    })?;
    // Relative paths in the file mean "next to the file", whatever the working directory.
    let dir = std::path::absolute(path).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
    from_str(&text, &dir, env)
}

/// Validates a config held in memory; `dir` stands for the file's directory.
pub fn from_str(text: &str, dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
    let mut errors = error::Errors::new(text);
    let sources = validate::Sources { dir, env };
    let config = raw::parse(text, &mut errors).and_then(|raw| validate::build(raw, &sources, &mut errors));
    errors.into_result(config)
}
