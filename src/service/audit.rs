//! The audit trail: every mutation writes who did what to which object, before and after,
//! in the same transaction as the change.

use async_graphql::{ID, InputObject};
use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use super::Ctx;
use super::page::{self, Page, PageArgs};
use crate::domain::auth::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

#[derive(Debug, Default, InputObject)]
pub struct AuditFilter {
    /// Any object's global ID.
    pub object_id: Option<ID>,
    /// A user's global ID.
    pub actor_id: Option<ID>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Keys that never enter the trail, in the spellings the app writes (snake_case in serialised
/// rows, camelCase in hand-made JSON): what DOMAIN.md section 9 protects — names, birth date,
/// publics (RSA, AAH, prison release...), eligibility criteria —, a contract's derogation
/// (DISABLED_WORKER tells a disability, SENIOR an age) and an exit's justification. The
/// trail outlives anonymization and administrators read it: a copy there would be a copy kept.
const PROTECTED: &[&str] = &[
    "publics",
    // The profile (sex, education, unemployment, QPV, prescriber): identity-level too.
    "sex",
    "educationLevel",
    "education_level",
    "qpvResident",
    "qpv_resident",
    "unemployedSince",
    "unemployed_since",
    "prescriberId",
    "prescriber_id",
    "trainingEndDate",
    "training_end_date",
    "derogation",
    "justification",
    // Why an eligibility decision was withdrawn: free text about the person, cleared by
    // anonymization, so never copied here.
    "withdrawalReason",
    "withdrawal_reason",
    "first_name",
    "last_name",
    "birth_date",
    "search_text",
    "firstName",
    "lastName",
    "birthDate",
    "searchText",
    "criteria",
    "criterion",
    "proofs",
    "identity",
];

/// Removes the protected keys wherever they sit in `value`.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in PROTECTED {
                map.remove(*key);
            }
            map.values_mut().for_each(redact);
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// An entity's fields as JSON, for `before` / `after` (`record` leaves out the protected ones).
pub fn json<T: serde::Serialize>(model: &T) -> Value {
    serde_json::to_value(model).unwrap_or(Value::Null)
}

#[allow(clippy::too_many_arguments)]
pub async fn record<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    actor: &Actor,
    action: &str,
    kind: Kind,
    object_id: Uuid,
    territory_id: Option<Uuid>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> AppResult<()> {
    // Every writer goes through here, so no writer can copy a protected field in by mistake.
    let kept = |v: &Value| {
        let mut v = v.clone();
        redact(&mut v);
        v.to_string()
    };
    audit_event::ActiveModel {
        id: Set(ctx.clock.new_id()),
        actor_id: Set(actor.user_id),
        actor_label: Set(actor.label.clone()),
        action: Set(action.to_string()),
        object_type: Set(kind.name().to_string()),
        object_id: Set(object_id),
        territory_id: Set(territory_id),
        before: Set(before.map(kept)),
        after: Set(after.map(kept)),
        at: Set(ctx.clock.now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Admins read everything; facilitators what happened in their territories.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: AuditFilter,
    args: PageArgs,
) -> AppResult<Page<audit_event::Model>> {
    let mut select = audit_event::Entity::find();
    if actor.is(Role::Facilitator) {
        select = select
            .filter(audit_event::Column::TerritoryId.is_in(actor.territories.iter().copied()));
    } else if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    if let Some(id) = &filter.object_id {
        let (_, uuid) = ids::parse(id).ok_or_else(|| {
            AppError::bad_input("filter.objectId", "filter.objectId : identifiant illisible")
        })?;
        select = select.filter(audit_event::Column::ObjectId.eq(uuid));
    }
    if let Some(a) = ids::decode_opt(Kind::User, filter.actor_id.as_ref(), "filter.actorId")? {
        select = select.filter(audit_event::Column::ActorId.eq(a));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(audit_event::Column::At.lt(to));
    }
    page::fetch(&ctx.db.conn, select, audit_event::Column::Id, &args).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_keys_leave_at_any_depth_and_the_rest_stays() {
        let mut v = serde_json::json!({
            "status": "ACTIVE",
            "sex": "FEMALE",
            "publics": "AAH,PRISON_LEAVER",
            "derogation": "DISABLED_WORKER",
            "nested": {"first_name": "Zoé", "kept": 1, "list": [{"birthDate": "1987-03-14", "x": 2}]},
        });
        redact(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"status": "ACTIVE", "nested": {"kept": 1, "list": [{"x": 2}]}})
        );
    }
}
