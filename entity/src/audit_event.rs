use sea_orm::entity::prelude::*;

/// Who did what to which object, when, with the fields before and after (JSON). Append-only.
/// Participants' identity fields are never copied here, so anonymization leaves no trace of them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Uuid,
    /// For scoping reads to a facilitator's territories.
    pub territory_id: Option<Uuid>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
