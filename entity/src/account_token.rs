use sea_orm::entity::prelude::*;

/// A single-use link mailed to an account: to reset its password (`RESET`, one hour) or to set
/// the first one (`INVITE`, seven days). Only the SHA-256 of the secret is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "account_token")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `RESET` or `INVITE`.
    pub purpose: String,
    pub user_id: Uuid,
    #[sea_orm(unique)]
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// When it was used, or withdrawn (a newer password, a deactivation): never again.
    pub used_at: Option<DateTimeUtc>,
    /// The outbox row that mails the link.
    pub mail_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
