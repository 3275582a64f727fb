use leadteam_domain::ValidationErrors;
use leadteam_domain::authz::Denied;
use leadteam_store::StoreError;

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential, an unknown one, or an expired one.
    NoSession,
    /// Email and password do not match (the same answer for an unknown email).
    InvalidCredentials,
    /// The password was right; a TOTP or recovery code is needed too.
    TotpRequired,
    /// The TOTP or recovery code is wrong or was already used.
    InvalidTotp,
    /// The session has no account in which it is an active member.
    NoAccount,
    /// A webhook delivery is not signed by its lead source (why, in words).
    BadSignature(String),
    /// Facebook's subscription check gave another verify token.
    BadVerifyToken,
    /// `POST /api/v1/leads` was called with a credential that is not an
    /// intake key (why, in words).
    NotIntakeKey(String),
}

/// The one error type of the use cases; `web` maps each variant to one status.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    #[error("not authenticated")]
    Unauthenticated(AuthFailure),
    #[error("forbidden: {0}")]
    Denied(Denied),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {message}")]
    Conflict {
        message: String,
        field: Option<String>,
    },
    #[error("too many attempts; retry in {retry_after_secs} s")]
    TooManyAttempts {
        message: String,
        retry_after_secs: i64,
    },
    #[error("gone: {0}")]
    Gone(String),
    /// An uploaded file is over the size limit.
    #[error("too large: {0}")]
    TooLarge(String),
    /// An uploaded file's type is not accepted.
    #[error("unsupported type: {0}")]
    UnsupportedType(String),
    /// A body that cannot be read at all (not JSON, say): the parser's words.
    #[error("malformed body: {0}")]
    Malformed(String),
    #[error("internal error: {0}")]
    Internal(Fault),
}

/// An internal fault: what failed, and the error that caused it (its chain
/// is kept for the one log line the web layer writes with the request id).
#[derive(Debug)]
pub struct Fault {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Fault {
    pub fn new(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Fault {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The message and every cause, outermost first: `a: b: c`.
    pub fn chain(&self) -> String {
        let mut out = self.message.clone();
        let mut next: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        };
        while let Some(e) = next {
            out.push_str(": ");
            out.push_str(&e.to_string());
            next = e.source();
        }
        out
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        }
    }
}

impl From<String> for Fault {
    fn from(message: String) -> Self {
        Fault {
            message,
            source: None,
        }
    }
}

impl From<&str> for Fault {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(ValidationErrors::single(field, message))
    }

    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique { constraint } => AppError::Conflict {
                message: "this already exists".into(),
                field: Some(constraint),
            },
            other => AppError::Internal(Fault::new("storage failed", other)),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<leadteam_domain::FieldError> for AppError {
    fn from(e: leadteam_domain::FieldError) -> Self {
        AppError::Validation(e.into())
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotVisible => AppError::NotFound("resource"),
            other => AppError::Denied(other),
        }
    }
}
