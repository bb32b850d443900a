//! The rules of Passerelle as pure functions over plain values: no database, no I/O.
//! (The enums also derive `async_graphql::Enum` so that the API shows the very same names.)

#[macro_use]
pub mod enums;
pub mod auth;
pub mod calibration;
pub mod chantier;
pub mod contract;
pub mod dates;
pub mod deadlines;
pub mod eligibility;
pub mod exits;
pub mod figures;
pub mod hours;
pub mod ledger;
pub mod params;
pub mod placement;
pub mod reminders;
pub mod report;
pub mod siret;
pub mod text;
pub mod workflow;

pub use enums::*;

/// A broken rule, with the input field it concerns and a message a facilitator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub field: &'static str,
    pub message: String,
    /// For a numeric rule: which rule, its limit and the value that broke it.
    pub breach: Option<Breach>,
}

/// The rule, limit and value behind a refusal, so a front end can show them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub rule: &'static str,
    pub limit: String,
    pub value: String,
}

impl RuleViolation {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
            breach: None,
        }
    }

    /// A numeric rule broken: the message is built from the rule's words, its limit and the value.
    pub fn breach(
        field: &'static str,
        rule: &'static str,
        limit: impl std::fmt::Display,
        value: impl std::fmt::Display,
        words: &str,
    ) -> Self {
        let (limit, value) = (limit.to_string(), value.to_string());
        Self {
            field,
            message: format!("{field} : {words} — limite {limit}, valeur {value} (rule {rule})"),
            breach: Some(Breach { rule, limit, value }),
        }
    }
}

pub type RuleResult<T = ()> = Result<T, RuleViolation>;
