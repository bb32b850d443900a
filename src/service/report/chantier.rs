//! Chantier evaluation: the seeds' "fiche évaluation ACI", every field, for funders.

use std::collections::BTreeMap;

use async_graphql::{ID, SimpleObject};
use chrono::NaiveDate;
use entity::{
    chantier, chantier_budget, chantier_supervisor, commission, commission_member, convention,
    convention_party, funding_line, placement,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::figures::{self, ContractLine, ExitFigures, Figure, HourFigures, PeopleLine};
use super::market::names;
use super::slice::{self, Facets, Subject, Trace, Window};
use super::{Dates, ExportLinks};
use crate::domain::auth::Actor;
use crate::domain::params::ParamKey;
use crate::domain::{
    ChantierKind, ChantierStatus, FunderCategory, FundingPurpose, FundingStatus, HourKind,
};
use crate::error::AppResult;
use crate::ids::{self, Kind};
use crate::service::Ctx;
use crate::service::params::set_at;
use crate::service::stats::Counting;

/// Supervision hours of one kind given by one structure.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct SupervisionLine {
    /// "Formation technique", "Socio-professionnel" or "Formation théorique".
    pub kind: String,
    pub minutes: i64,
    /// The supervisor's organization (structure), or "—".
    pub structure: String,
}

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct FundingLineView {
    pub funder: String,
    pub funder_category: FunderCategory,
    pub purpose: FundingPurpose,
    pub year: i32,
    pub amount_cents: i64,
}

/// Fiche évaluation ACI.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct ChantierEvaluation {
    pub id: ID,
    /// Intitulé.
    pub title: String,
    pub kind: ChantierKind,
    pub status: ChantierStatus,
    /// Localisation.
    pub place: String,
    /// Calendrier.
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Ingénierie et coordination.
    pub coordination: Option<String>,
    /// Porteur du chantier.
    pub carrier: String,
    /// Maître d'ouvrage.
    pub owner: String,
    pub as_at: NaiveDate,
    /// Types de contrats de travail.
    pub contracts: Vec<ContractLine>,
    /// Effectif total and the situation at recruitment, women and men.
    pub headcount: i64,
    pub people: Vec<PeopleLine>,
    /// Nature des activités, travaux-supports.
    pub activities: String,
    /// Encadrements: hours by kind and structure.
    pub supervision: Vec<SupervisionLine>,
    pub objectives: Option<String>,
    /// Heures de travail hebdomadaire: average contract hours of the people, in minutes.
    pub weekly_minutes_average: Option<i64>,
    pub weekly_minutes_min: Option<i64>,
    pub weekly_minutes_max: Option<i64>,
    /// Heures de formation totales: validated training hours in the ledger.
    pub training: Figure,
    /// All the chantier's hours, by status.
    pub hours: HourFigures,
    /// Partenaires socio-professionnels et institutionnels: parties to its conventions,
    /// funders and members of its committees.
    pub partners: Vec<String>,
    /// Partenaires économiques.
    pub economic_partners: Option<String>,
    /// Financement: active funding lines.
    pub funding: Vec<FundingLineView>,
    pub funding_total_cents: i64,
    /// Coût total: charges of the current budget of each year.
    pub total_cost_cents: i64,
    /// Coût par personne (total ÷ headcount).
    pub cost_per_person_cents: Option<i64>,
    /// Évaluation: exits by category, rates, dynamic-exit rate against the target, abandonments.
    pub exits: ExitFigures,
    /// Autres renseignements, aspects qualitatifs.
    pub qualitative_notes: Option<String>,
    pub export: ExportLinks,
}

pub async fn report(
    ctx: &Ctx,
    actor: &Actor,
    id: &ID,
    dates: Dates,
) -> AppResult<ChantierEvaluation> {
    let conn = &ctx.db.conn;
    let c = crate::service::chantier::load(
        conn,
        actor,
        ids::decode(Kind::Chantier, id, "chantierId")?,
        false,
    )
    .await?;
    let w = super::window(ctx, conn, c.territory_id, dates).await?;
    build(conn, &c, w).await
}

pub async fn build<C: ConnectionTrait>(
    conn: &C,
    c: &chantier::Model,
    w: Window,
) -> AppResult<ChantierEvaluation> {
    let params = set_at(conn, crate::service::chantier::place(c), w.as_at).await?;
    let subject = Subject::Chantier(c.id);
    let base = Trace {
        subject,
        window: w,
        facets: Facets::default(),
    };
    let rows = slice::hours(conn, subject, &w).await?;
    let training_hours = figures::hour_figures(
        &rows,
        |r| r.kind == HourKind::Training,
        &Counting::everything(),
        &base,
        Facets {
            kind: Some(HourKind::Training.as_str().into()),
            ..Default::default()
        },
    );
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

    let supervisors = chantier_supervisor::Entity::find()
        .filter(chantier_supervisor::Column::ChantierId.eq(c.id))
        .filter(chantier_supervisor::Column::StartDate.lte(w.as_at))
        .all(conn)
        .await?;
    let funding = funding_line::Entity::find()
        .filter(funding_line::Column::ChantierId.eq(c.id))
        .filter(funding_line::Column::Status.eq(FundingStatus::Active.as_str()))
        .order_by_asc(funding_line::Column::Year)
        .all(conn)
        .await?;
    let parties = convention_party::Entity::find()
        .filter(
            convention_party::Column::ConventionId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(convention::Column::Id)
                    .from(convention::Entity)
                    .and_where(convention::Column::ChantierId.eq(c.id))
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    let members = commission_member::Entity::find()
        .filter(
            commission_member::Column::CommissionId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(commission::Column::Id)
                    .from(commission::Entity)
                    .and_where(commission::Column::ChantierId.eq(c.id))
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    let budgets = chantier_budget::Entity::find()
        .filter(chantier_budget::Column::ChantierId.eq(c.id))
        .filter(chantier_budget::Column::CreatedAt.lt(w.cutoff))
        .all(conn)
        .await?;
    let weekly: Vec<i64> = placement::Entity::find()
        .filter(slice::live_placements(subject, &w))
        .all(conn)
        .await?
        .iter()
        .map(|p| i64::from(p.weekly_minutes))
        .collect();

    let partner_ids: Vec<Uuid> = parties
        .iter()
        .map(|p| p.organization_id)
        .chain(funding.iter().filter_map(|f| f.funder_id))
        .chain(members.iter().filter_map(|m| m.organization_id))
        .filter(|o| *o != c.carrier_id)
        .collect();
    let org_names = names(
        conn,
        partner_ids
            .iter()
            .copied()
            .chain(supervisors.iter().filter_map(|s| s.organization_id))
            .chain([c.carrier_id, c.owner_id]),
    )
    .await?;
    let mut partners: Vec<String> = partner_ids
        .iter()
        .filter_map(|o| org_names.get(o).cloned())
        .collect();
    partners.sort();
    partners.dedup();

    let mut supervision: BTreeMap<(usize, String), i64> = BTreeMap::new();
    for s in &supervisors {
        let structure = s
            .organization_id
            .and_then(|o| org_names.get(&o).cloned())
            .unwrap_or_else(|| "—".into());
        for (i, minutes) in [
            s.technical_minutes,
            s.socio_professional_minutes,
            s.theory_training_minutes,
        ]
        .into_iter()
        .enumerate()
        {
            if minutes > 0 {
                *supervision.entry((i, structure.clone())).or_default() += minutes;
            }
        }
    }
    const KINDS: [&str; 3] = [
        "Formation technique",
        "Socio-professionnel",
        "Formation théorique",
    ];
    let supervision = supervision
        .into_iter()
        .map(|((i, structure), minutes)| SupervisionLine {
            kind: KINDS[i].into(),
            minutes,
            structure,
        })
        .collect();

    // The latest version of each year's budget, as known at the report's date.
    let mut latest: BTreeMap<i32, &chantier_budget::Model> = BTreeMap::new();
    for b in &budgets {
        if latest.get(&b.year).is_none_or(|l| l.version < b.version) {
            latest.insert(b.year, b);
        }
    }
    let total_cost: i64 = latest.values().map(|b| b.charges_cents).sum();
    let headcount = people.len() as i64;
    let funding: Vec<FundingLineView> = funding
        .iter()
        .filter(|f| f.created_at < w.cutoff)
        .map(|f| FundingLineView {
            funder: f
                .funder_id
                .and_then(|o| org_names.get(&o).cloned())
                .unwrap_or_else(|| f.funder_category.clone()),
            funder_category: FunderCategory::from_db(&f.funder_category),
            purpose: FundingPurpose::from_db(&f.purpose),
            year: f.year,
            amount_cents: f.amount_cents,
        })
        .collect();
    let id = ids::encode(Kind::Chantier, c.id);
    Ok(ChantierEvaluation {
        title: c.title.clone(),
        kind: ChantierKind::from_db(&c.kind),
        status: ChantierStatus::from_db(&c.status),
        place: c.place.clone(),
        start_date: c.start_date,
        end_date: c.end_date,
        coordination: c.coordination.clone(),
        carrier: org_names.get(&c.carrier_id).cloned().unwrap_or_default(),
        owner: org_names.get(&c.owner_id).cloned().unwrap_or_default(),
        as_at: w.as_at,
        contracts: figures::contract_lines(&contracts, &base),
        headcount,
        people: figures::people_lines(&people, &base),
        activities: c.activities.clone(),
        supervision,
        objectives: c.objectives.clone(),
        weekly_minutes_average: (!weekly.is_empty())
            .then(|| weekly.iter().sum::<i64>() / weekly.len() as i64),
        weekly_minutes_min: weekly.iter().min().copied(),
        weekly_minutes_max: weekly.iter().max().copied(),
        training: training_hours.validated,
        hours: figures::hour_figures(
            &rows,
            |_| true,
            &Counting::everything(),
            &base,
            Facets::default(),
        ),
        partners,
        economic_partners: c.economic_partners.clone(),
        funding_total_cents: funding.iter().map(|f| f.amount_cents).sum(),
        funding,
        total_cost_cents: total_cost,
        cost_per_person_cents: (headcount > 0).then(|| total_cost / headcount),
        exits: figures::exit_figures(
            &exits,
            params.int(ParamKey::DynamicExitTarget),
            &base,
            &Facets::default(),
        ),
        qualitative_notes: c.qualitative_notes.clone(),
        export: ExportLinks::new("chantier", &id, &w),
        id,
    })
}
