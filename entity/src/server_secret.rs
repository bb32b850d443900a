use sea_orm::entity::prelude::*;

/// A key this deployment drew for itself (the one signing trace tokens when TRACE_SECRET is
/// unset), shared by every instance on the store. Written once, never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "server_secret")]
pub struct Model {
    /// What the key is for (`trace`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The key, base64.
    pub value: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
