//! SeaORM entities of Passerelle: one module per table, no behaviour.
//! Enumerations are stored as strings; their meaning lives in the app's `domain` module.

pub mod app_user;
pub mod audit_event;
pub mod budget_line;
pub mod chantier;
pub mod chantier_budget;
pub mod chantier_supervisor;
pub mod credential;
pub mod eligibility;
pub mod eligibility_proof;
pub mod exit_follow_up;
pub mod funding_line;
pub mod hour_entry;
pub mod hour_entry_review;
pub mod immersion;
pub mod login_failure;
pub mod lot;
pub mod market;
pub mod operation;
pub mod organization;
pub mod parameter_value;
pub mod participant;
pub mod participant_access;
pub mod pass_iae;
pub mod pass_iae_extension;
pub mod placement;
pub mod placement_exit;
pub mod status_change;
pub mod territory;
pub mod user_territory;
