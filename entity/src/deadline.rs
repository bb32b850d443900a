use sea_orm::entity::prelude::*;

/// Échéance: a date by which something must happen, derived by a rule from an object.
/// Unique per (subject, rule, key); kept up to date by the rules, never written by hand.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "deadline")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub territory_id: Uuid,
    pub rule: String,
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// Tells apart several deadlines of one rule on one subject (a month, a committee).
    pub key: String,
    pub due_on: Date,
    pub status: String,
    pub title: String,
    /// JSON list of who is to be reminded.
    pub recipients: String,
    pub met_on: Option<Date>,
    pub market_id: Option<Uuid>,
    pub chantier_id: Option<Uuid>,
    pub operation_id: Option<Uuid>,
    /// Bumped at each change; reminders are planned again while `planned_revision` lags it.
    pub revision: i32,
    pub planned_revision: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
