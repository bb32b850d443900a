//! Facilitator report: everything of a territory over a period, for the annual review.

use async_graphql::{ID, SimpleObject};
use chrono::NaiveDate;
use entity::{chantier, market, operation, territory};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::figures::{
    self, ContractLine, Etp, ExitFigures, HourFigures, ModalityHours, PeopleLine,
};
use super::market::{MarketLine, market_lines};
use super::operation::{Commitment, commitment};
use super::slice::{self, Facets, Subject, Trace, Window};
use super::{Dates, ExportLinks};
use crate::domain::auth::{Actor, Role};
use crate::domain::params::ParamKey;
use crate::domain::{AnruCategory, ChantierStatus};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};
use crate::service::params::{Place, set_at};
use crate::service::stats::counting_on;
use crate::service::{Ctx, get};

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct OperationLine {
    pub id: ID,
    pub name: String,
    pub hours: HourFigures,
    pub commitments: Vec<Commitment>,
}

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct ChantierLine {
    pub id: ID,
    pub title: String,
    pub status: ChantierStatus,
    pub hours: HourFigures,
    pub exits: ExitFigures,
}

/// Rapport d'activité du facilitateur.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct TerritoryReport {
    pub id: ID,
    pub name: String,
    pub as_at: NaiveDate,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub hours: HourFigures,
    pub by_modality: Vec<ModalityHours>,
    pub markets: Vec<MarketLine>,
    pub operations: Vec<OperationLine>,
    pub chantiers: Vec<ChantierLine>,
    pub contracts: Vec<ContractLine>,
    pub qpv_hires: i64,
    pub people: Vec<PeopleLine>,
    pub exits: ExitFigures,
    pub etp: Etp,
    pub export: ExportLinks,
}

pub async fn report(ctx: &Ctx, actor: &Actor, id: &ID, dates: Dates) -> AppResult<TerritoryReport> {
    let conn = &ctx.db.conn;
    let t_id = ids::decode(Kind::Territory, id, "territoryId")?;
    if !(actor.any_of(&[Role::Admin]) || actor.facilitates(t_id)) {
        return Err(AppError::NotFound("territoire".into()));
    }
    let t = get::<territory::Entity, _>(conn, t_id, "territoire").await?;
    let w = super::window(ctx, conn, t.id, dates).await?;
    build(conn, &t, w).await
}

pub async fn build<C: ConnectionTrait>(
    conn: &C,
    t: &territory::Model,
    w: Window,
) -> AppResult<TerritoryReport> {
    let params = set_at(conn, Place::territory(t.id), w.as_at).await?;
    let target = params.int(ParamKey::DynamicExitTarget);
    let subject = Subject::Territory(t.id);
    let base = Trace {
        subject,
        window: w,
        facets: Facets::default(),
    };
    // One scan of the ledger, grouped by chantier too: market and operation figures sum across it.
    let rows = slice::hours_by_chantier(conn, subject, &w).await?;
    let markets = market::Entity::find()
        .filter(market::Column::TerritoryId.eq(t.id))
        .order_by_asc(market::Column::Reference)
        .all(conn)
        .await?;
    let training = counting_on(
        conn,
        Place::territory(t.id),
        markets.iter().map(Place::of_market),
        w.as_at,
    )
    .await?;
    let operations = operation::Entity::find()
        .filter(operation::Column::TerritoryId.eq(t.id))
        .order_by_asc(operation::Column::Name)
        .all(conn)
        .await?;
    let chantiers = chantier::Entity::find()
        .filter(chantier::Column::TerritoryId.eq(t.id))
        .order_by_asc(chantier::Column::Title)
        .all(conn)
        .await?;
    // Only markets the period touches: running in it, or with hours in it.
    let touched: Vec<&market::Model> = markets
        .iter()
        .filter(|m| {
            rows.iter().any(|r| r.market == Some(m.id))
                || (w.from.is_none_or(|f| m.end_date >= f)
                    && w.to.is_none_or(|to| m.start_date <= to)
                    && m.start_date <= w.as_at)
        })
        .collect();
    let lines: Vec<MarketLine> =
        market_lines(conn, &touched, &rows, &params, &training, &base).await?;
    let operations = operations
        .iter()
        .map(|op| {
            let of: Vec<market::Model> = markets
                .iter()
                .filter(|m| m.operation_id == Some(op.id))
                .cloned()
                .collect();
            let scope = Facets {
                operation: Some(op.id),
                ..Default::default()
            };
            OperationLine {
                id: ids::encode(Kind::Operation, op.id),
                name: op.name.clone(),
                hours: figures::hour_figures(
                    &rows,
                    |r| r.market.is_some_and(|m| of.iter().any(|x| x.id == m)),
                    &training,
                    &base,
                    scope.clone(),
                ),
                commitments: vec![
                    commitment(
                        AnruCategory::WorksEngineering,
                        op.works_rate_bp,
                        &of,
                        &rows,
                        &params,
                        &training,
                        &base,
                        scope.clone(),
                    ),
                    commitment(
                        AnruCategory::LocalManagement,
                        op.gup_rate_bp,
                        &of,
                        &rows,
                        &params,
                        &training,
                        &base,
                        scope,
                    ),
                ],
            }
        })
        .collect();
    let exits = slice::exits(conn, subject, &w).await?;
    let chantiers = chantiers
        .iter()
        .map(|c| {
            let of: Vec<_> = exits
                .iter()
                .filter(|(ch, _, _)| *ch == Some(c.id))
                .map(|(_, o, n)| (*o, *n))
                .collect();
            let scope = Facets {
                chantier: Some(c.id),
                ..Default::default()
            };
            let exits = figures::exit_figures(&of, target, &base, &scope);
            ChantierLine {
                id: ids::encode(Kind::Chantier, c.id),
                title: c.title.clone(),
                status: ChantierStatus::from_db(&c.status),
                hours: figures::hour_figures(
                    &rows,
                    |r| r.chantier == Some(c.id),
                    &training,
                    &base,
                    scope,
                ),
                exits,
            }
        })
        .collect();
    let people: Vec<_> = slice::people(conn, subject, &w)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let contracts = slice::contracts(conn, subject, &w).await?;
    let all_exits: Vec<_> = exits.iter().map(|(_, o, n)| (*o, *n)).collect();
    let hours = figures::hour_figures(&rows, |_| true, &training, &base, Facets::default());
    let id = ids::encode(Kind::Territory, t.id);
    Ok(TerritoryReport {
        name: t.name.clone(),
        as_at: w.as_at,
        from: w.from,
        to: w.to,
        by_modality: figures::by_modality(&rows, &training, &base, &Facets::default()),
        markets: lines,
        operations,
        chantiers,
        qpv_hires: contracts.iter().map(|(_, _, q)| q).sum(),
        contracts: figures::contract_lines(&contracts, &base),
        people: figures::people_lines(&people, &base),
        exits: figures::exit_figures(&all_exits, target, &base, &Facets::default()),
        etp: figures::etp(hours.counted.minutes, params.int(ParamKey::EtpHours)),
        hours,
        export: ExportLinks::new("territory", &id, &w),
        id,
    })
}
