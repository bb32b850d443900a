//! SeaORM entities of Passerelle: one module per table, no behaviour.
//! Enumerations are stored as strings; their meaning lives in the app's `domain` module.

pub mod account_token;
pub mod app_user;
pub mod audit_event;
pub mod budget_line;
pub mod chantier;
pub mod chantier_budget;
pub mod chantier_supervisor;
pub mod commercial_derogation;
pub mod commission;
pub mod commission_member;
pub mod convention;
pub mod convention_amount;
pub mod convention_document;
pub mod convention_party;
pub mod credential;
pub mod deadline;
pub mod decision;
pub mod eligibility;
pub mod eligibility_proof;
pub mod exit_follow_up;
pub mod funding_line;
pub mod hour_entry;
pub mod hour_entry_review;
pub mod hour_import;
pub mod hour_import_territory;
pub mod immersion;
pub mod login_failure;
pub mod lot;
pub mod market;
pub mod market_final_report;
pub mod operation;
pub mod organization;
pub mod parameter_value;
pub mod participant;
pub mod participant_access;
pub mod pass_iae;
pub mod pass_iae_extension;
pub mod placement;
pub mod placement_exit;
pub mod reminder;
pub mod reminder_preference;
pub mod server_secret;
pub mod status_change;
pub mod territory;
pub mod territory_reflow;
pub mod user_territory;

/// Every save of a versioned row through its `ActiveModel` moves its version: an insert starts
/// at 1, an update of a row that was read adds one to the version read. So no code path can
/// change such a row and keep its version (bulk `update_many` must bump it by hand).
pub fn bump_version<A>(
    mut am: A,
    insert: bool,
    field: impl Fn(&mut A) -> &mut sea_orm::ActiveValue<i32>,
) -> A {
    let v = field(&mut am);
    match v {
        sea_orm::ActiveValue::NotSet if insert => *v = sea_orm::ActiveValue::Set(1),
        sea_orm::ActiveValue::Unchanged(n) if !insert => *v = sea_orm::ActiveValue::Set(*n + 1),
        _ => {}
    }
    am
}
