//! SeaORM entities of Passerelle: one module per table, no behaviour.
//! Enumerations are stored as strings; their meaning lives in the app's `domain` module.

pub mod app_user;
pub mod audit_event;
pub mod credential;
pub mod hour_entry;
pub mod hour_entry_review;
pub mod login_failure;
pub mod lot;
pub mod market;
pub mod operation;
pub mod organization;
pub mod participant;
pub mod participant_access;
pub mod placement;
pub mod status_change;
pub mod territory;
pub mod user_territory;
