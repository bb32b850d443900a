//! What every edit and every delete shares: the version the caller read, checked against the
//! row the edit has locked, and the refusal that names what depends on a row.

use entity::audit_event;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::auth::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::ids::Kind;

/// Refuses with CONFLICT when `read` (the version the caller's edit names) is not `current`
/// (the version of the row, read under the edit's lock), naming who changed it last and when.
/// People's e-mail addresses are staff data: a caller other than an administrator or a
/// facilitator learns that someone changed it, and when, not who.
pub async fn expect_version<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    kind: Kind,
    id: Uuid,
    current: i32,
    read: i32,
) -> AppResult<()> {
    if current == read {
        return Ok(());
    }
    let last = audit_event::Entity::find()
        .filter(audit_event::Column::ObjectId.eq(id))
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .one(conn)
        .await?;
    let staff = actor.any_of(&[Role::Admin, Role::Facilitator]);
    let (changed_by, changed_at) = match last {
        Some(e) if staff => (e.actor_label, Some(e.at)),
        Some(e) => ("un autre utilisateur".to_string(), Some(e.at)),
        None => ("inconnu".to_string(), None),
    };
    let when = changed_at.map_or_else(
        || "à une date inconnue".to_string(),
        |at| format!("le {}", at.format("%d/%m/%Y à %H:%M:%S UTC")),
    );
    Err(AppError::Stale {
        message: format!(
            "{} modifié entre-temps par {changed_by} {when} : version {current}, la modification portait sur la version {read} ; relire puis refaire la modification (changed meanwhile, read it again)",
            kind.name()
        ),
        changed_by,
        changed_at,
        current,
    })
}

/// The counts that are not zero, as « 3 contrat(s) »: what a refusal names.
pub fn named(deps: &[(&str, u64)]) -> Vec<String> {
    deps.iter()
        .filter(|(_, n)| *n > 0)
        .map(|(dep, n)| format!("{n} {dep}"))
        .collect()
}

/// Refuses a delete while anything depends on the row: `deps` are (what, how many).
pub fn nothing_depends(what: &str, deps: &[(&str, u64)]) -> AppResult<()> {
    let named = named(deps);
    if named.is_empty() {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "{what} ne peut pas être supprimé : {} en dépend(ent) ; corriger plutôt que supprimer (still referenced: {})",
        named.join(", "),
        named.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_is_refused_naming_each_dependency_and_allowed_at_zero() {
        assert!(nothing_depends("le marché M-1", &[("placement(s)", 0), ("heure(s)", 0)]).is_ok());
        let e =
            nothing_depends("le marché M-1", &[("placement(s)", 1), ("heure(s)", 0)]).unwrap_err();
        assert_eq!(e.code(), "CONFLICT");
        let m = e.message();
        assert!(m.contains("1 placement(s)") && !m.contains("heure"), "{m}");
    }
}
