use sea_orm::entity::prelude::*;

/// How a user wants reminders: one mail each, or a daily or weekly digest; rules muted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "reminder_preference")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub delivery: String,
    /// Comma-separated deadline rules the user does not want reminders of.
    pub muted_rules: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
