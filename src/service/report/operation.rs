//! Operation report for the ANRU: every market of an urban-renewal project, the 5 % and 10 %
//! commitments, hires of QPV residents and the people, as at any past date.

use async_graphql::{ID, SimpleObject};
use chrono::NaiveDate;
use entity::{market, operation};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::figures::{
    self, ContractLine, Etp, ExitFigures, HourFigures, ModalityHours, PeopleLine,
};
use super::market::{MarketLine, market_lines};
use super::slice::{self, Facets, HourRow, Subject, Trace, Window};
use super::{Dates, ExportLinks};
use crate::domain::auth::Actor;
use crate::domain::params::{ParamKey, ParamSet};
use crate::domain::report::estimated_worked_minutes;
use crate::domain::{AnruCategory, OperationKind};
use crate::error::AppResult;
use crate::ids::{self, Kind};
use crate::service::params::{Place, set_at};
use crate::service::stats::{Counting, counting_on};
use crate::service::{Ctx, scope};

/// One ANRU commitment: insertion hours against a share of the hours worked.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct Commitment {
    pub category: AnruCategory,
    /// The commitment, basis points of hours worked (500 = 5 %).
    pub rate_bp: i32,
    /// Counted insertion hours on the category's markets.
    pub insertion: HourFigures,
    /// Hours worked, estimated per market as the calibrage does (amount × labour share ÷
    /// hourly cost, or target ÷ insertion rate), in minutes.
    pub worked_minutes: i64,
    /// Markets of the category without amount and calibrage or target (left out of the estimate).
    pub markets_without_estimate: i64,
    /// Insertion hours owed: worked × rate, in minutes.
    pub owed_minutes: i64,
    /// Insertion ÷ worked, basis points.
    pub achieved_bp: Option<i64>,
    pub met: Option<bool>,
}

#[allow(clippy::too_many_arguments)]
pub fn commitment(
    category: AnruCategory,
    rate_bp: i32,
    markets: &[market::Model],
    rows: &[HourRow],
    params: &ParamSet,
    counting: &Counting,
    base: &Trace,
    scope: Facets,
) -> Commitment {
    let of: Vec<&market::Model> = markets
        .iter()
        .filter(|m| m.anru_category.as_deref() == Some(category.as_str()))
        .collect();
    let insertion = figures::hour_figures(
        rows,
        |r| r.market.is_some_and(|id| of.iter().any(|m| m.id == id)),
        counting,
        base,
        Facets {
            anru: Some(category.as_str().into()),
            ..scope
        },
    );
    let estimates: Vec<Option<i64>> = of
        .iter()
        .map(|m| {
            estimated_worked_minutes(
                m.amount_cents,
                m.calib_labour_share_bp,
                m.calib_hourly_cost_cents,
                m.target_minutes,
                m.calib_insertion_rate_bp
                    .map_or(params.int(ParamKey::CalibrationInsertionRate), i64::from),
            )
        })
        .collect();
    let worked: i64 = estimates.iter().flatten().sum();
    let owed = (worked as i128 * rate_bp as i128 / 10_000) as i64;
    let counted = insertion.counted.minutes;
    Commitment {
        category,
        rate_bp,
        worked_minutes: worked,
        markets_without_estimate: estimates.iter().filter(|e| e.is_none()).count() as i64,
        owed_minutes: owed,
        achieved_bp: (worked > 0).then(|| crate::domain::chantier::share_bp(counted, worked)),
        met: (worked > 0).then_some(counted >= owed),
        insertion,
    }
}

/// Rapport d'opération (ANRU).
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct OperationReport {
    pub id: ID,
    pub name: String,
    pub kind: OperationKind,
    pub as_at: NaiveDate,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub hours: HourFigures,
    pub by_modality: Vec<ModalityHours>,
    pub commitments: Vec<Commitment>,
    pub markets: Vec<MarketLine>,
    /// Placements started (contracts), and those of residents of a QPV.
    pub hires: i64,
    pub qpv_hires: i64,
    pub contracts: Vec<ContractLine>,
    pub people: Vec<PeopleLine>,
    pub exits: ExitFigures,
    pub etp: Etp,
    pub export: ExportLinks,
}

pub async fn report(ctx: &Ctx, actor: &Actor, id: &ID, dates: Dates) -> AppResult<OperationReport> {
    let conn = &ctx.db.conn;
    let op_id = ids::decode(Kind::Operation, id, "operationId")?;
    let op = scope::load::<operation::Entity, _>(
        conn,
        scope::operations(actor)?,
        operation::Column::Id,
        op_id,
        "opération",
    )
    .await?;
    let w = super::window(ctx, conn, op.territory_id, dates).await?;
    build(conn, &op, w).await
}

pub async fn build<C: ConnectionTrait>(
    conn: &C,
    op: &operation::Model,
    w: Window,
) -> AppResult<OperationReport> {
    let place = Place {
        territory: op.territory_id,
        operation: Some(op.id),
        market: None,
    };
    let params = set_at(conn, place, w.as_at).await?;
    let subject = Subject::Operation(op.id);
    let base = Trace {
        subject,
        window: w,
        facets: Facets::default(),
    };
    let rows = slice::hours(conn, subject, &w).await?;
    let markets = market::Entity::find()
        .filter(market::Column::OperationId.eq(op.id))
        .order_by_asc(market::Column::Reference)
        .all(conn)
        .await?;
    let training = counting_on(conn, place, markets.iter().map(Place::of_market), w.as_at).await?;
    let lines = market_lines(
        conn,
        &markets.iter().collect::<Vec<_>>(),
        &rows,
        &params,
        &training,
        &base,
    )
    .await?;
    let commitments = vec![
        commitment(
            AnruCategory::WorksEngineering,
            op.works_rate_bp,
            &markets,
            &rows,
            &params,
            &training,
            &base,
            Facets::default(),
        ),
        commitment(
            AnruCategory::LocalManagement,
            op.gup_rate_bp,
            &markets,
            &rows,
            &params,
            &training,
            &base,
            Facets::default(),
        ),
    ];
    let people: Vec<_> = slice::people(conn, subject, &w)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let contracts = slice::contracts(conn, subject, &w).await?;
    let exits: Vec<_> = slice::exits(conn, subject, &w)
        .await?
        .into_iter()
        .map(|(_, o, n)| (o, n))
        .collect();
    let hours = figures::hour_figures(&rows, |_| true, &training, &base, Facets::default());
    let id = ids::encode(Kind::Operation, op.id);
    Ok(OperationReport {
        name: op.name.clone(),
        kind: OperationKind::from_db(&op.kind),
        as_at: w.as_at,
        from: w.from,
        to: w.to,
        by_modality: figures::by_modality(&rows, &training, &base, &Facets::default()),
        commitments,
        markets: lines,
        hires: contracts.iter().map(|(_, n, _)| n).sum(),
        qpv_hires: contracts.iter().map(|(_, _, q)| q).sum(),
        contracts: figures::contract_lines(&contracts, &base),
        people: figures::people_lines(&people, &base),
        exits: figures::exit_figures(
            &exits,
            params.int(ParamKey::DynamicExitTarget),
            &base,
            &Facets::default(),
        ),
        etp: figures::etp(hours.counted.minutes, params.int(ParamKey::EtpHours)),
        hours,
        export: ExportLinks::new("operation", &id, &w),
        id,
    })
}
