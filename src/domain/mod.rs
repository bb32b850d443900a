//! The rules of Passerelle as pure functions over plain values: no database, no I/O.
//! (The enums also derive `async_graphql::Enum` so that the API shows the very same names.)

#[macro_use]
pub mod enums;
pub mod auth;
pub mod calibration;
pub mod hours;
pub mod ledger;
pub mod lifecycle;
pub mod placement;
pub mod siret;
pub mod text;

pub use enums::*;

/// A broken rule, with the input field it concerns and a message a facilitator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub field: &'static str,
    pub message: String,
}

impl RuleViolation {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

pub type RuleResult<T = ()> = Result<T, RuleViolation>;
