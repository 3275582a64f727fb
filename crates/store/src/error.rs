/// A storage failure. Unique-constraint violations are told apart so the
/// caller can answer 409 with the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated: {constraint}")]
    Unique { constraint: String },
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("invalid database url: {0}")]
    Config(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            let constraint = db
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned());
            return StoreError::Unique { constraint };
        }
        StoreError::Db(e)
    }
}

impl StoreError {
    /// Whether this is a unique violation whose constraint or message names `what`
    /// (a column or index name).
    pub fn is_unique_on(&self, what: &str) -> bool {
        matches!(self, StoreError::Unique { constraint } if constraint.contains(what))
    }
}
