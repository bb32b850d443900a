//! Migrations of Passerelle. Run at start-up by the app (under an advisory lock on PostgreSQL),
//! or with `passerelle migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_first_slice;
mod m20261122_000002_accounts;
mod m20261122_000003_chantiers;
mod m20261122_000004_workflow;
mod m20261122_000005_reminders;
mod m20261122_000006_reports;
mod m20261122_000007_deadline_to_plan;
mod m20261122_000008_placement_lot;
mod m20261201_000010_server_secret;
mod m20261201_000011_redact_audit;
mod m20261201_000012_erasable_proofs;
mod m20261201_000014_territory_reflow;
mod m20261201_000015_market_final_report;
mod m20261201_000016_commercial_derogation;
mod m20261201_000017_versions;
mod m20261201_000018_account_tokens;
mod m20261201_000019_import_history;
mod m20261201_000021_withdrawals;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_first_slice::Migration),
            Box::new(m20261122_000002_accounts::Migration),
            Box::new(m20261122_000003_chantiers::Migration),
            Box::new(m20261122_000004_workflow::Migration),
            Box::new(m20261122_000005_reminders::Migration),
            Box::new(m20261122_000006_reports::Migration),
            Box::new(m20261122_000007_deadline_to_plan::Migration),
            Box::new(m20261122_000008_placement_lot::Migration),
            Box::new(m20261201_000010_server_secret::Migration),
            Box::new(m20261201_000011_redact_audit::Migration),
            Box::new(m20261201_000012_erasable_proofs::Migration),
            Box::new(m20261201_000014_territory_reflow::Migration),
            Box::new(m20261201_000015_market_final_report::Migration),
            Box::new(m20261201_000016_commercial_derogation::Migration),
            Box::new(m20261201_000017_versions::Migration),
            Box::new(m20261201_000018_account_tokens::Migration),
            Box::new(m20261201_000019_import_history::Migration),
            Box::new(m20261201_000021_withdrawals::Migration),
        ]
    }
}
