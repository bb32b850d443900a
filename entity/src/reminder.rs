use sea_orm::entity::prelude::*;

/// Rappel: one e-mail of the outbox, planned ahead from a deadline (or a digest, or a notice
/// that a commission moved), claimed by one sender, sent once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "reminder")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique: racing planners insert each reminder once.
    pub dedupe_key: String,
    pub kind: String,
    /// `None` for account mails (reset and invitation links), which belong to no territory.
    pub territory_id: Option<Uuid>,
    pub deadline_id: Option<Uuid>,
    pub commission_id: Option<Uuid>,
    /// The commission's iCalendar SEQUENCE the mail carries.
    pub sequence: Option<i32>,
    /// Days before the due date (negative: after); for a digest, the days it covers.
    pub offset_days: Option<i32>,
    pub due_on: Option<Date>,
    pub user_id: Option<Uuid>,
    pub recipient_email: String,
    pub recipient_name: Option<String>,
    pub recipient_role: Option<String>,
    /// Goes out inside the recipient's digest rather than alone.
    pub via_digest: bool,
    pub digest_id: Option<Uuid>,
    pub send_at: DateTimeUtc,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub claimed_by: Option<String>,
    /// Stable across attempts, so a duplicate after a crash is recognisable.
    pub message_id: String,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
