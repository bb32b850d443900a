//! Market and lot report: what a maître d'ouvrage follows (DOMAIN.md section 8).

use async_graphql::{ID, SimpleObject};
use chrono::NaiveDate;
use entity::{lot, market, organization};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::figures::{self, ContractLine, Etp, HourFigures, KindHours, ModalityHours, PeopleLine};
use super::slice::{self, Facets, HourRow, Subject, Trace, Window};
use super::{Dates, ExportLinks};
use crate::domain::auth::Actor;
use crate::domain::deadlines::{self as rules, Pace};
use crate::domain::figures::completion_bp;
use crate::domain::params::{ParamKey, ParamSet};
use crate::domain::{AnruCategory, ClauseKind, MarketStatus};
use crate::error::AppResult;
use crate::ids::{self, Kind};
use crate::service::params::{Place, set_at};
use crate::service::stats::{Counting, counting_on};
use crate::service::{Ctx, scope};

/// The forecast of hours at the end date and the thresholds it was judged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, SimpleObject)]
pub struct ForecastFigures {
    /// Counted hours expected at the end date at the pace so far, in minutes.
    pub minutes_at_end: i64,
    pub pace: Pace,
    /// FORECAST_BEHIND_SHARE, FORECAST_AT_RISK_SHARE, FORECAST_MIN_ELAPSED_SHARE used (bp).
    pub behind_below_bp: i64,
    pub at_risk_below_bp: i64,
    pub judged_after_bp: i64,
}

/// One market as a line of any report.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct MarketLine {
    pub id: ID,
    pub reference: String,
    pub title: String,
    pub buyer: String,
    pub clause_kind: ClauseKind,
    pub anru_category: Option<AnruCategory>,
    pub status: MarketStatus,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub amount_cents: i64,
    pub target_minutes: Option<i64>,
    pub hours: HourFigures,
    /// Counted hours ÷ target, basis points.
    pub completion_bp: Option<i64>,
    pub forecast: Option<ForecastFigures>,
}

pub fn forecast_of(
    target: Option<i64>,
    counted: i64,
    start: NaiveDate,
    end: NaiveDate,
    on: NaiveDate,
    params: &ParamSet,
) -> Option<ForecastFigures> {
    let target = target?;
    let f = rules::forecast(target, counted, start, end, on, params);
    Some(ForecastFigures {
        minutes_at_end: f.minutes_at_end,
        pace: f.pace,
        behind_below_bp: params.int(ParamKey::ForecastBehindShare),
        at_risk_below_bp: params.int(ParamKey::ForecastAtRiskShare),
        judged_after_bp: params.int(ParamKey::ForecastMinElapsedShare),
    })
}

pub fn market_line(
    m: &market::Model,
    buyer: &str,
    rows: &[HourRow],
    params: &ParamSet,
    counting: &Counting,
    base: &Trace,
) -> MarketLine {
    let hours = figures::hour_figures(
        rows,
        |r| r.market == Some(m.id),
        counting,
        base,
        Facets {
            market: Some(m.id),
            ..Default::default()
        },
    );
    let on = base
        .window
        .to
        .map_or(base.window.as_at, |t| t.min(base.window.as_at));
    MarketLine {
        id: ids::encode(Kind::Market, m.id),
        reference: m.reference.clone(),
        title: m.title.clone(),
        buyer: buyer.to_string(),
        clause_kind: ClauseKind::from_db(&m.clause_kind),
        anru_category: m.anru_category.as_deref().and_then(AnruCategory::parse),
        status: MarketStatus::from_db(&m.status),
        start_date: m.start_date,
        end_date: m.end_date,
        amount_cents: m.amount_cents,
        target_minutes: m.target_minutes,
        completion_bp: completion_bp(hours.counted.minutes, m.target_minutes),
        forecast: forecast_of(
            m.target_minutes,
            hours.counted.minutes,
            m.start_date,
            m.end_date,
            on,
            params,
        ),
        hours,
    }
}

/// Lines of `markets`, their buyers' names read in one query.
pub async fn market_lines<C: ConnectionTrait>(
    conn: &C,
    markets: &[&market::Model],
    rows: &[HourRow],
    params: &ParamSet,
    counting: &Counting,
    base: &Trace,
) -> AppResult<Vec<MarketLine>> {
    let buyers = names(conn, markets.iter().map(|m| m.buyer_id)).await?;
    Ok(markets
        .iter()
        .map(|m| {
            market_line(
                m,
                buyers.get(&m.buyer_id).map_or("", |s| s),
                rows,
                params,
                counting,
                base,
            )
        })
        .collect())
}

/// Names of organizations by id, in one query.
pub async fn names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct LotLine {
    pub id: ID,
    pub number: i32,
    pub title: String,
    pub awardee: Option<String>,
    pub target_minutes: Option<i64>,
    pub hours: HourFigures,
    pub completion_bp: Option<i64>,
}

/// Rapport de marché.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct MarketReport {
    pub as_at: NaiveDate,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub market: MarketLine,
    pub by_modality: Vec<ModalityHours>,
    pub by_kind: Vec<KindHours>,
    pub lots: Vec<LotLine>,
    pub people: Vec<PeopleLine>,
    pub contracts: Vec<ContractLine>,
    /// Counted hours in ETP.
    pub etp: Etp,
    pub export: ExportLinks,
}

pub async fn report(ctx: &Ctx, actor: &Actor, id: &ID, dates: Dates) -> AppResult<MarketReport> {
    let conn = &ctx.db.conn;
    let market_id = ids::decode(Kind::Market, id, "marketId")?;
    let m = scope::load::<market::Entity, _>(
        conn,
        scope::markets(actor)?,
        market::Column::Id,
        market_id,
        "marché",
    )
    .await?;
    let w = super::window(ctx, conn, m.territory_id, dates).await?;
    build(conn, &m, w).await
}

pub async fn build<C: ConnectionTrait>(
    conn: &C,
    m: &market::Model,
    w: Window,
) -> AppResult<MarketReport> {
    let place = Place::of_market(m);
    let params = set_at(conn, place, w.as_at).await?;
    let training = counting_on(conn, place, [place], w.as_at).await?;
    let subject = Subject::Market(m.id);
    let base = Trace {
        subject,
        window: w,
        facets: Facets::default(),
    };
    let rows = slice::hours(conn, subject, &w).await?;
    let lots = lot::Entity::find()
        .filter(lot::Column::MarketId.eq(m.id))
        .order_by_asc(lot::Column::Number)
        .all(conn)
        .await?;
    let org_names = names(
        conn,
        lots.iter().filter_map(|l| l.awardee_id).chain([m.buyer_id]),
    )
    .await?;
    let line = market_line(
        m,
        org_names.get(&m.buyer_id).map_or("", |s| s),
        &rows,
        &params,
        &training,
        &base,
    );
    let lots = lots
        .iter()
        .map(|l| {
            let hours = figures::hour_figures(
                &rows,
                |r| r.lot == Some(l.id),
                &training,
                &base,
                Facets {
                    lot: Some(l.id),
                    ..Default::default()
                },
            );
            LotLine {
                id: ids::encode(Kind::Lot, l.id),
                number: l.number,
                title: l.title.clone(),
                awardee: l.awardee_id.and_then(|a| org_names.get(&a).cloned()),
                target_minutes: l.target_minutes,
                completion_bp: completion_bp(hours.counted.minutes, l.target_minutes),
                hours,
            }
        })
        .collect();
    let people = slice::people(conn, subject, &w).await?;
    let people: Vec<_> = people.into_iter().map(|(_, p)| p).collect();
    let contracts = slice::contracts(conn, subject, &w).await?;
    Ok(MarketReport {
        as_at: w.as_at,
        from: w.from,
        to: w.to,
        by_modality: figures::by_modality(&rows, &training, &base, &Facets::default()),
        by_kind: figures::by_kind(&rows, &training, &base, &Facets::default()),
        lots,
        people: figures::people_lines(&people, &base),
        contracts: figures::contract_lines(&contracts, &base),
        etp: figures::etp(line.hours.counted.minutes, params.int(ParamKey::EtpHours)),
        export: ExportLinks::new("market", &line.id, &w),
        market: line,
    })
}
