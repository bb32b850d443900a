//! Traceability: the ledger entries behind any figure of any report, as they stood at the
//! report's date. Entries are shown without identities, so a buyer or a funder may trace too.

use std::collections::HashMap;

use entity::{chantier, hour_entry, hour_entry_review, lot, market, operation, placement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::slice::{self, Subject, Trace};
use crate::domain::HourStatus;
use crate::domain::auth::{Actor, Role};
use crate::domain::params::ParamKey;
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Page, PageArgs};
use crate::service::params::{Place, set_at};
use crate::service::{Ctx, scope};

/// One entry behind a figure, with its status at the report's date.
pub struct TracedEntry {
    pub entry: hour_entry::Model,
    pub status: HourStatus,
    pub placement_reference: String,
}

/// The subject's parameter place, once the caller is known to see the report.
async fn allowed(ctx: &Ctx, actor: &Actor, subject: Subject) -> AppResult<Place> {
    let conn = &ctx.db.conn;
    let market_place = |m: market::Model| Place::of_market(&m);
    Ok(match subject {
        Subject::Market(id) => market_place(
            scope::load::<market::Entity, _>(
                conn,
                scope::markets(actor)?,
                market::Column::Id,
                id,
                "marché",
            )
            .await?,
        ),
        Subject::Lot(id) => {
            let l = scope::load::<lot::Entity, _>(
                conn,
                scope::lots(actor)?,
                lot::Column::Id,
                id,
                "lot",
            )
            .await?;
            market_place(
                crate::service::get::<market::Entity, _>(conn, l.market_id, "marché").await?,
            )
        }
        Subject::Operation(id) => {
            let o = scope::load::<operation::Entity, _>(
                conn,
                scope::operations(actor)?,
                operation::Column::Id,
                id,
                "opération",
            )
            .await?;
            Place {
                territory: o.territory_id,
                operation: Some(o.id),
                market: None,
            }
        }
        Subject::Chantier(id) => {
            let c: chantier::Model = crate::service::chantier::load(conn, actor, id, false).await?;
            crate::service::chantier::place(&c)
        }
        Subject::Territory(id) => {
            if !(actor.any_of(&[Role::Admin]) || actor.facilitates(id)) {
                return Err(AppError::NotFound("territoire".into()));
            }
            Place::territory(id)
        }
    })
}

pub async fn entries(
    ctx: &Ctx,
    actor: &Actor,
    token: &str,
    args: PageArgs,
) -> AppResult<Page<TracedEntry>> {
    let trace = Trace::parse("trace", token)?;
    let place = allowed(ctx, actor, trace.subject).await?;
    let conn = &ctx.db.conn;
    let params = set_at(conn, place, trace.window.as_at).await?;
    let select = slice::entries(conn, &trace, params.flag(ParamKey::TrainingHoursCount)).await?;
    let page = page::fetch(conn, select, hour_entry::Column::Id, &args).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|e| e.id).collect();
    let reviews: HashMap<Uuid, hour_entry_review::Model> = hour_entry_review::Entity::find()
        .filter(hour_entry_review::Column::HourEntryId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.hour_entry_id, r))
        .collect();
    let references: HashMap<Uuid, String> = placement::Entity::find()
        .filter(placement::Column::Id.is_in(page.items.iter().map(|e| e.placement_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.reference))
        .collect();
    let items = page
        .items
        .into_iter()
        .map(|entry| {
            let status = reviews
                .get(&entry.id)
                .filter(|r| r.decided_at < trace.window.cutoff)
                .map_or(HourStatus::Declared, |r| HourStatus::from_db(&r.decision));
            TracedEntry {
                placement_reference: references
                    .get(&entry.placement_id)
                    .cloned()
                    .unwrap_or_default(),
                status,
                entry,
            }
        })
        .collect();
    Ok(Page {
        items,
        has_next: page.has_next,
    })
}
