use sea_orm::entity::prelude::*;

/// An eligibility check of a participant (append-only; a newer one supersedes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "eligibility")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub participant_id: Uuid,
    pub scheme: String,
    pub attester_kind: String,
    pub attester_id: Option<Uuid>,
    pub structure_kind: Option<String>,
    pub checked_on: Date,
    pub valid_until: Date,
    pub created_at: DateTimeUtc,
    pub created_by: String,
    /// Bumped by every change (see `ActiveModelBehavior`); an edit names the version it read.
    pub version: i32,
    /// Set once when the decision is withdrawn (found wrong): it then counts nowhere.
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<String>,
    pub withdrawal_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        Ok(crate::bump_version(self, insert, |m| &mut m.version))
    }
}
