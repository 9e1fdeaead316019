//! Configuration errors: each names the key it is about, and where in the file that key is.

use std::fmt;
use std::ops::Range;

/// A position in the config file, 1-based, counted in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One problem with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The key path (`picqer.main.api_key`), or `None` for problems with the file as a whole
    /// (unreadable, not TOML).
    pub key: Option<String>,
    /// What is wrong and, where it helps, what to write instead. Never contains a secret.
    pub message: String,
    /// Where the offending text is, when it came from the file (not from the environment).
    pub location: Option<Location>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(Location { line, column }) = self.location {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one configuration. Reported together, so one edit-and-rerun cycle
/// fixes them all instead of one per run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors while the whole file is checked.
pub(super) struct Errors<'t> {
    /// The file's text, to turn byte spans into lines and columns.
    text: &'t str,
    list: Vec<ConfigError>,
}

impl<'t> Errors<'t> {
    pub fn new(text: &'t str) -> Self {
        Errors { text, list: Vec::new() }
    }

    /// Records an error about `key`.
    pub fn push(&mut self, key: impl Into<String>, message: impl Into<String>, span: Option<Range<usize>>) {
        let location = span.map(|s| self.locate(s.start));
        self.list.push(ConfigError { key: Some(key.into()), message: message.into(), location });
    }

    /// Records that a required `key` is missing, unless `key` already has an error: a value the
    /// schema check rejected (and dropped) must not be reported a second time as missing.
    pub fn push_missing(&mut self, key: &str, message: impl Into<String>) {
        if !self.list.iter().any(|e| e.key.as_deref() == Some(key)) {
            self.push(key, message, None);
        }
    }

    /// Records a problem with the file as a whole.
    pub fn push_file(&mut self, message: impl Into<String>, span: Option<Range<usize>>) {
        let location = span.map(|s| self.locate(s.start));
        self.list.push(ConfigError { key: None, message: message.into(), location });
    }

    /// The value if nothing was wrong, else every error: in file order, then those with no
    /// place in the file (missing keys, environment variables).
    pub fn into_result<T>(mut self, value: Option<T>) -> Result<T, ConfigErrors> {
        match value {
            Some(v) if self.list.is_empty() => Ok(v),
            _ => {
                self.list.sort_by_key(|e| e.location.map_or((1, 0, 0), |l| (0, l.line, l.column)));
                Err(ConfigErrors(self.list))
            }
        }
    }

    fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        // Spans from the parser always fall on character boundaries; be safe anyway.
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location { line: before.matches('\n').count() + 1, column: before[line_start..].chars().count() + 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        let mut errors = Errors::new(text);
        errors.push("x", "m", Some(0..1));
        errors.push("y", "m", Some(text.find('=').unwrap()..9));
        errors.push("z", "m", Some(text.rfind('=').unwrap()..9));
        let Err(all) = errors.into_result(Some(())) else { panic!("errors expected") };
        let at: Vec<_> = all.iter().map(|e| e.location.unwrap()).collect();
        assert_eq!(
            at,
            [Location { line: 1, column: 1 }, Location { line: 1, column: 3 }, Location { line: 2, column: 4 }]
        );
    }

    #[test]
    fn a_rejected_key_is_not_also_missing_and_errors_follow_the_file() {
        let mut errors = Errors::new("a = 1\nb = 2\n");
        errors.push("c", "from the environment", None);
        errors.push("b", "wrong type", Some(6..7));
        errors.push_missing("b", "is required");
        errors.push("a", "bad", Some(0..1));
        let Err(all) = errors.into_result(Some(())) else { panic!("errors expected") };
        assert_eq!(
            all.to_string(),
            "a: bad (line 1, column 1)\nb: wrong type (line 2, column 1)\nc: from the environment"
        );
    }
}
