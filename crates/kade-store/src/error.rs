//! The store's error type. Messages name what failed in operator terms; they never include a
//! database URL (it may carry a password) or any secret value.

use thiserror::Error;

/// Everything a store operation can fail with.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL names no backend Kade supports.
    #[error("unsupported database URL (scheme {scheme:?}): use sqlite:PATH, a file path, or postgres://…")]
    UnsupportedUrl {
        /// Only the scheme, so that credentials in the rest of the URL never reach a log.
        scheme: String,
    },
    /// The database could not be opened or reached.
    #[error("cannot open the {backend} database: {source}")]
    Open {
        /// "sqlite" or "postgres".
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Applying the embedded schema migrations failed; the store is not usable.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed (connection lost, constraint violated, row not decodable...).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A statement of the SQLite ingest writer failed (`sqlite_writer.rs`, its own driver).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The caller passed a value the store cannot accept (an unknown job state, say).
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// The operation targets a row that does not exist.
    #[error("{what} {key:?} not found")]
    NotFound {
        /// The kind of row, e.g. "connection".
        what: &'static str,
        /// Its key.
        key: String,
    },
}

impl StoreError {
    /// True when the error is a unique-constraint violation. On PostgreSQL two concurrent
    /// transactions can both pass a "does it exist yet?" check; the loser sees this error and the
    /// store retries the whole operation, which then finds the winner's row.
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}
