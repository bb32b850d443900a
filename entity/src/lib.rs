//! SeaORM entities of Passerelle: one module per table, no behaviour.
//! Enumerations are stored as strings; their meaning lives in the app's `domain` module.

pub mod hour_entry;
pub mod hour_entry_review;
pub mod lot;
pub mod market;
pub mod operation;
pub mod organization;
pub mod participant;
pub mod placement;
pub mod status_change;
pub mod territory;
