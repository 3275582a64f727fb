//! The rules of leadteam, free of IO: parsed input, identifiers, the one
//! authorization decision, routing of new leads, billing arithmetic and TOTP.
//!
//! Nothing in this crate talks to a database, a socket or the clock: time and
//! randomness are passed in as values, so every rule can be tested on its own.

pub mod authz;
pub mod availability;
pub mod billing;
pub mod content;
pub mod error;
pub mod forms;
pub mod ids;
pub mod import;
pub mod intake;
pub mod net;
pub mod reports;
pub mod routing;
pub mod secret;
pub mod time;
pub mod totp;
pub mod validate;
pub mod webhooks;

pub use error::{FieldError, ValidationErrors};
pub use ids::*;
pub use time::Timestamp;
