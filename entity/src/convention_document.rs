use sea_orm::entity::prelude::*;

/// A document a convention refers to (name, date, kind). Append-only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "convention_document")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub convention_id: Uuid,
    pub name: String,
    pub kind: String,
    pub dated_on: Date,
    pub reference: Option<String>,
    pub added_at: DateTimeUtc,
    pub added_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
