//! `passerelle generate --scale S`: realistic data, from one territory for one year (S = 1) to
//! national scale for ten years (S = 100: a hundred départements).
//!
//! Sizes follow DOMAIN.md section 10 divided among 100 départements: per territory and year
//! about 600 markets, 36 buyers, 1 000 placements and 250 000 hours. Rows are
//! written straight into the tables in multi-row inserts (the services would check every rule
//! millions of times); deadlines are then derived by the engine itself (`deadlines::sync`) for
//! every object still live, so they are exactly what Passerelle would have made.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use entity::{
    commission, commission_member, convention, convention_amount, convention_party, deadline,
    hour_entry, hour_entry_review, lot, market, operation, organization, participant, placement,
    placement_exit,
};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;

use super::{Rng, insert_all};
use crate::domain::auth::{Actor, Role};
use crate::domain::ledger::last_day_of_month;
use crate::domain::reminders::local_instant;
use crate::domain::*;
use crate::ids::{Kind, encode};
use crate::service::deadlines::{self, SubjectRef};
use crate::service::{Ctx, auth, participant::encode_publics, territory};

/// Password of every generated facilitator account (`facilitateur@<code>.bench`).
pub const BENCH_PASSWORD: &str = "passerelle-bench";

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Territories (départements): 1 is one territory, 100 is national scale.
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// Years of history up to today; default 1 below scale 100, 10 from it.
    #[arg(long)]
    pub years: Option<u32>,
    /// Seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Territories generated at once (PostgreSQL; SQLite has one writer).
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
}

impl GenerateArgs {
    pub fn years(&self) -> u32 {
        self.years
            .unwrap_or(if self.scale >= 100 { 10 } else { 1 })
            .max(1)
    }
}

/// Per territory and year.
const MARKETS_PER_YEAR: usize = 600;
const BUYERS: usize = 36;
const COMPANIES: usize = 150;
const OPERATIONS: usize = 4;

/// What a run wrote.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub territories: usize,
    pub organizations: usize,
    pub operations: usize,
    pub markets: usize,
    pub lots: usize,
    pub participants: usize,
    pub placements: usize,
    pub entries: usize,
    pub corrections: usize,
    pub exits: usize,
    pub conventions: usize,
    pub commissions: usize,
    pub deadlines: usize,
    /// Territory codes, in order (benches log in as their facilitators).
    pub codes: Vec<String>,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.territories += o.territories;
        self.organizations += o.organizations;
        self.operations += o.operations;
        self.markets += o.markets;
        self.lots += o.lots;
        self.participants += o.participants;
        self.placements += o.placements;
        self.entries += o.entries;
        self.corrections += o.corrections;
        self.exits += o.exits;
        self.conventions += o.conventions;
        self.commissions += o.commissions;
        self.deadlines += o.deadlines;
        self.codes.extend(o.codes);
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} territories, {} organizations, {} operations, {} markets, {} lots, {} participants, \
             {} placements, {} ledger entries ({} corrections), {} exits, {} conventions, \
             {} commissions, {} deadlines",
            self.territories,
            self.organizations,
            self.operations,
            self.markets,
            self.lots,
            self.participants,
            self.placements,
            self.entries,
            self.corrections,
            self.exits,
            self.conventions,
            self.commissions,
            self.deadlines
        )
    }
}

/// The facilitator account of a generated territory.
pub fn facilitator_email(code: &str) -> String {
    format!("facilitateur@{}.bench", code.to_lowercase())
}

pub async fn run(ctx: &Ctx, args: &GenerateArgs) -> Result<(Counts, std::time::Duration), String> {
    let started = Instant::now();
    let years = args.years();
    let run_tag = Uuid::now_v7().simple().to_string()[24..].to_uppercase();
    let jobs = if ctx.db.backend() == sea_orm::DatabaseBackend::Sqlite {
        1
    } else {
        args.jobs.max(1)
    };
    let gate = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut set = tokio::task::JoinSet::new();
    for k in 0..args.scale as usize {
        let (ctx, gate, tag) = (ctx.clone(), gate.clone(), run_tag.clone());
        let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(k as u64);
        set.spawn(async move {
            let _slot = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            Gen::territory(&ctx, k, &tag, years, seed).await
        });
    }
    let mut total = Counts::default();
    let mut results = Vec::new();
    while let Some(done) = set.join_next().await {
        results.push(done.map_err(|e| e.to_string())??);
    }
    results.sort_by(|a, b| a.codes.cmp(&b.codes));
    for r in results {
        total.add(r);
    }
    if ctx.db.backend() == sea_orm::DatabaseBackend::Postgres {
        use sea_orm::ConnectionTrait;
        ctx.db
            .conn
            .execute_unprepared("ANALYZE")
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok((total, started.elapsed()))
}

/// One territory's generation.
struct Gen {
    rng: Rng,
    territory: Uuid,
    tz: Tz,
    code: String,
    now: DateTime<Utc>,
    today: NaiveDate,
    first_day: NaiveDate,
    counts: Counts,
}

/// Organizations of a territory, by role.
struct Orgs {
    buyers: Vec<Uuid>,
    companies: Vec<Uuid>,
    /// (id, subtype)
    siae: Vec<(Uuid, SiaeSubtype)>,
    funder: Uuid,
}

struct MarketRow {
    id: Uuid,
    clause: ClauseKind,
    start: NaiveDate,
    end: NaiveDate,
    lots: Vec<(Uuid, Uuid)>,
}

impl Gen {
    async fn territory(
        ctx: &Ctx,
        k: usize,
        tag: &str,
        years: u32,
        seed: u64,
    ) -> Result<Counts, String> {
        let err = |e: crate::error::AppError| e.message();
        let system = Actor::system();
        let code = format!("G{tag}-{k:03}");
        let tz_name = if k % 25 == 24 {
            "Indian/Reunion"
        } else {
            "Europe/Paris"
        };
        let t = territory::create(
            ctx,
            &system,
            territory::CreateTerritoryInput {
                code: code.clone(),
                name: format!("Département {:02}", k + 1),
                time_zone: tz_name.into(),
            },
        )
        .await
        .map_err(err)?;
        auth::create_user(
            ctx,
            &system,
            auth::CreateUserInput {
                email: facilitator_email(&code),
                password: Some(BENCH_PASSWORD.into()),
                role: Role::Facilitator,
                organization_id: None,
                territory_ids: vec![encode(Kind::Territory, t.id)],
            },
        )
        .await
        .map_err(err)?;
        let tz: Tz = tz_name.parse().map_err(|_| "time zone".to_string())?;
        let now = ctx.clock.now();
        let today = ctx.clock.today_in(tz);
        let first_day = NaiveDate::from_ymd_opt(today.year() - years as i32, today.month(), 1)
            .expect("a first day");
        let mut g = Gen {
            rng: Rng::new(seed),
            territory: t.id,
            tz,
            code: code.clone(),
            now,
            today,
            first_day,
            counts: Counts {
                territories: 1,
                codes: vec![code],
                ..Default::default()
            },
        };
        let conn = &ctx.db.conn;
        let orgs = g.organizations(conn).await?;
        let ops = g.operations(conn, &orgs).await?;
        let markets = g.markets(conn, &orgs, &ops, years).await?;
        g.people(conn, &orgs, &markets).await?;
        g.conventions(conn, &orgs).await?;
        g.commissions(conn, &orgs, &ops).await?;
        g.deadlines(ctx).await?;
        Ok(g.counts)
    }

    fn id(&self) -> Uuid {
        Uuid::now_v7()
    }

    async fn organizations<C: sea_orm::ConnectionTrait>(
        &mut self,
        conn: &C,
    ) -> Result<Orgs, String> {
        const BUYER_NAMES: [&str; 6] = [
            "Ville de",
            "Office public de l'habitat de",
            "Communauté d'agglomération de",
            "Département,",
            "Bailleur social de",
            "Centre hospitalier de",
        ];
        const SIAE: [(SiaeSubtype, usize); 5] = [
            (SiaeSubtype::Etti, 4),
            (SiaeSubtype::Ei, 3),
            (SiaeSubtype::Aci, 3),
            (SiaeSubtype::Ai, 1),
            (SiaeSubtype::Geiq, 1),
        ];
        let mut rows = Vec::new();
        let mut org =
            |g: &mut Gen, name: String, kind: OrganizationKind, sub: Option<SiaeSubtype>| {
                let id = g.id();
                rows.push(organization::ActiveModel {
                    version: Set(1),
                    id: Set(id),
                    search_text: Set(crate::domain::text::search_key(&[&name])),
                    name: Set(name),
                    kind: Set(kind.as_str().into()),
                    siae_subtype: Set(sub.map(|s| s.as_str().into())),
                    siret: Set(None),
                    address: Set(None),
                    email: Set(Some(format!(
                        "contact+{}@{}.bench",
                        id.simple(),
                        g.code.to_lowercase()
                    ))),
                    territory_id: Set(Some(g.territory)),
                    created_at: Set(g.now),
                });
                id
            };
        let buyers = (0..BUYERS)
            .map(|i| {
                let name = format!("{} {} {i}", BUYER_NAMES[i % BUYER_NAMES.len()], self.code);
                org(self, name, OrganizationKind::Buyer, None)
            })
            .collect();
        let companies = (0..COMPANIES)
            .map(|i| {
                org(
                    self,
                    format!("Entreprise {i} BTP {}", self.code),
                    OrganizationKind::Company,
                    None,
                )
            })
            .collect();
        let mut siae = Vec::new();
        for (sub, n) in SIAE {
            for i in 0..n {
                let name = format!("{} {i} {}", sub.as_str(), self.code);
                siae.push((org(self, name, OrganizationKind::Siae, Some(sub)), sub));
            }
        }
        let funder = org(
            self,
            format!("DDETS {}", self.code),
            OrganizationKind::Funder,
            None,
        );
        for name in ["France Travail", "Mission locale"] {
            org(
                self,
                format!("{name} {}", self.code),
                OrganizationKind::Prescriber,
                None,
            );
        }
        self.counts.organizations += rows.len();
        insert_all(conn, rows).await?;
        Ok(Orgs {
            buyers,
            companies,
            siae,
            funder,
        })
    }

    async fn operations<C: sea_orm::ConnectionTrait>(
        &mut self,
        conn: &C,
        orgs: &Orgs,
    ) -> Result<Vec<Uuid>, String> {
        let rows: Vec<operation::ActiveModel> = (0..OPERATIONS)
            .map(|i| operation::ActiveModel {
                version: Set(1),
                id: Set(self.id()),
                territory_id: Set(self.territory),
                owner_id: Set(Some(orgs.buyers[i])),
                name: Set(format!("NPNRU quartier {i} {}", self.code)),
                kind: Set(OperationKind::Npnru.as_str().into()),
                start_date: Set(Some(self.first_day)),
                end_date: Set(Some(self.today + Months::new(36))),
                works_rate_bp: Set(500),
                gup_rate_bp: Set(1000),
                created_at: Set(self.now),
            })
            .collect();
        let ids = rows.iter().map(|r| *r.id.as_ref()).collect();
        self.counts.operations += rows.len();
        insert_all(conn, rows).await?;
        Ok(ids)
    }

    async fn markets<C: sea_orm::ConnectionTrait>(
        &mut self,
        conn: &C,
        orgs: &Orgs,
        ops: &[Uuid],
        years: u32,
    ) -> Result<Vec<MarketRow>, String> {
        use ClauseKind as K;
        let span = (self.today - self.first_day).num_days().max(1);
        let count = MARKETS_PER_YEAR * years as usize;
        let (mut markets, mut lots, mut out) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..count {
            let id = self.id();
            let clause = self.rng.weighted(&[
                (K::ExecutionCondition, 78),
                (K::InsertionServiceMarket, 9),
                (K::AwardCriterion, 6),
                (K::ReservedSiae, 6),
                (K::ReservedEaEsat, 1),
            ]);
            // Spread evenly over the history, so each year starts about as many as the last.
            let start = self.first_day + Duration::days(span * i as i64 / count as i64);
            let months =
                self.rng
                    .weighted(&[(3, 10), (6, 25), (12, 35), (18, 15), (24, 10), (36, 5)]);
            let end = start + Months::new(months) - Duration::days(1);
            let status = if end < self.today - Duration::days(90) {
                MarketStatus::Closed
            } else if end < self.today {
                MarketStatus::Completed
            } else {
                MarketStatus::InProgress
            };
            let operation = (self.rng.chance(15)).then(|| *self.rng.pick(ops));
            let hours =
                self.rng
                    .weighted(&[(120, 30), (300, 30), (500, 25), (1000, 10), (2500, 5)]);
            let target = (hours as i64 + self.rng.range(-50, 50)) * 60;
            let reserved = matches!(clause, K::InsertionServiceMarket | K::ReservedSiae);
            let n_lots = self.rng.weighted(&[(1, 50), (2, 25), (3, 15), (4, 10)]);
            let mut my_lots = Vec::new();
            for n in 1..=n_lots {
                let awardee = if reserved {
                    self.rng.pick(&orgs.siae).0
                } else {
                    *self.rng.pick(&orgs.companies)
                };
                let lot_id = self.id();
                my_lots.push((lot_id, awardee));
                lots.push(lot::ActiveModel {
                    version: Set(1),
                    id: Set(lot_id),
                    market_id: Set(id),
                    number: Set(n),
                    title: Set(format!("Lot {n}")),
                    awardee_id: Set(Some(awardee)),
                    amount_cents: Set(None),
                    target_minutes: Set(None),
                    created_at: Set(self.now),
                });
            }
            let reference = format!("{}-{}-{i:05}", self.code, start.year());
            let title = format!("Marché {i} — travaux et services");
            markets.push(market::ActiveModel {
                version: Set(1),
                id: Set(id),
                territory_id: Set(self.territory),
                buyer_id: Set(*self.rng.pick(&orgs.buyers)),
                operation_id: Set(operation),
                search_text: Set(crate::domain::text::search_key(&[&reference, &title])),
                reference: Set(reference),
                title: Set(title),
                clause_kind: Set(clause.as_str().into()),
                anru_category: Set(operation.map(|_| {
                    if self.rng.chance(20) {
                        AnruCategory::LocalManagement
                    } else {
                        AnruCategory::WorksEngineering
                    }
                    .as_str()
                    .into()
                })),
                amount_cents: Set(self.rng.range(50_000, 5_000_000) * 100),
                notification_date: Set(Some(start - Duration::days(30))),
                start_date: Set(start),
                end_date: Set(end),
                status: Set(status.as_str().into()),
                target_minutes: Set(Some(target)),
                target_source: Set(Some(TargetSource::Proposal.as_str().into())),
                calib_labour_share_bp: Set(Some(4000)),
                calib_insertion_rate_bp: Set(Some(500)),
                calib_hourly_cost_cents: Set(Some(3500)),
                calib_proposed_minutes: Set(Some(target)),
                created_at: Set(self.now),
                updated_at: Set(self.now),
            });
            out.push(MarketRow {
                id,
                clause,
                start,
                end,
                lots: my_lots,
            });
        }
        self.counts.markets += markets.len();
        self.counts.lots += lots.len();
        insert_all(conn, markets).await?;
        insert_all(conn, lots).await?;
        Ok(out)
    }

    /// Participants, placements, the monthly ledger with reviews and corrections, and exits.
    async fn people<C: sea_orm::ConnectionTrait>(
        &mut self,
        conn: &C,
        orgs: &Orgs,
        markets: &[MarketRow],
    ) -> Result<(), String> {
        let etti: Vec<Uuid> = orgs
            .siae
            .iter()
            .filter(|(_, s)| *s == SiaeSubtype::Etti)
            .map(|(id, _)| *id)
            .collect();
        let ei: Vec<Uuid> = orgs
            .siae
            .iter()
            .filter(|(_, s)| *s == SiaeSubtype::Ei)
            .map(|(id, _)| *id)
            .collect();
        let (mut people, mut placements, mut entries, mut reviews, mut exits) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut known: Vec<Uuid> = Vec::new();
        for m in markets {
            let n = self
                .rng
                .weighted(&[(0, 10), (1, 40), (2, 30), (3, 12), (4, 8)]);
            for _ in 0..n {
                let days = (m.end - m.start).num_days();
                let start = m.start + Duration::days(self.rng.range(0, (days - 30).max(0)));
                if start > self.today {
                    continue;
                }
                let months =
                    self.rng
                        .weighted(&[(1, 15), (2, 20), (3, 20), (4, 15), (6, 20), (8, 10)]);
                let end = (start + Months::new(months) - Duration::days(1)).min(m.end);
                // One person in four comes back for another placement.
                let participant = if !known.is_empty() && self.rng.chance(25) {
                    *self.rng.pick(&known)
                } else {
                    let id = self.person(&mut people, start);
                    known.push(id);
                    id
                };
                let (lot, awardee) = *self.rng.pick(&m.lots);
                let (modality, employer, contract) = match m.clause {
                    ClauseKind::InsertionServiceMarket | ClauseKind::ReservedSiae => {
                        (Modality::DirectHire, awardee, ContractType::Cddi)
                    }
                    ClauseKind::ReservedEaEsat => {
                        (Modality::DirectHire, awardee, ContractType::Cdd)
                    }
                    _ => {
                        let (etti, ei) = (*self.rng.pick(&etti), *self.rng.pick(&ei));
                        self.rng.weighted(&[
                            ((Modality::DirectHire, awardee, ContractType::Cdd), 45),
                            (
                                (
                                    Modality::MadeAvailable,
                                    etti,
                                    ContractType::InsertionInterim,
                                ),
                                40,
                            ),
                            ((Modality::Subcontracting, ei, ContractType::Cddi), 10),
                            (
                                (
                                    Modality::Training,
                                    awardee,
                                    ContractType::Professionalisation,
                                ),
                                5,
                            ),
                        ])
                    }
                };
                let ended = end < self.today;
                let id = self.id();
                let weekly = self
                    .rng
                    .weighted(&[(35 * 60, 50), (26 * 60, 20), (20 * 60, 30)]);
                placements.push(placement::ActiveModel {
                    version: Set(1),
                    id: Set(id),
                    reference: Set(entity::placement::reference_for(id)),
                    participant_id: Set(participant),
                    market_id: Set(Some(m.id)),
                    lot_id: Set(Some(lot)),
                    modality: Set(modality.as_str().into()),
                    employer_id: Set(employer),
                    contract_type: Set(contract.as_str().into()),
                    start_date: Set(start),
                    end_date: Set(Some(end)),
                    weekly_minutes: Set(weekly),
                    status: Set(if ended {
                        PlacementStatus::Ended
                    } else {
                        PlacementStatus::Active
                    }
                    .as_str()
                    .into()),
                    created_at: Set(self.now),
                    chantier_id: Set(None),
                    derogation: Set(None),
                    training_end_date: Set(None),
                });
                let kind = if modality == Modality::Training {
                    HourKind::Training
                } else {
                    HourKind::Work
                };
                self.ledger(
                    &mut entries,
                    &mut reviews,
                    (id, m.id, lot, modality, kind),
                    (start, end),
                    weekly,
                );
                if ended {
                    let outcome = self.rng.weighted(&[
                        (ExitOutcome::CddUnder6Months, 20),
                        (ExitOutcome::InterimUnder6Months, 15),
                        (ExitOutcome::Cdi, 8),
                        (ExitOutcome::CddOver6Months, 10),
                        (ExitOutcome::QualifyingTraining, 10),
                        (ExitOutcome::OtherSiaeHire, 7),
                        (ExitOutcome::NoSolution, 15),
                        (ExitOutcome::Abandonment, 10),
                        (ExitOutcome::MovedAway, 5),
                    ]);
                    exits.push(placement_exit::ActiveModel {
                        id: Set(self.id()),
                        placement_id: Set(id),
                        exit_date: Set(end),
                        outcome: Set(outcome.as_str().into()),
                        category: Set(crate::domain::exits::category(outcome).as_str().into()),
                        detail: Set(None),
                        justification: Set(None),
                        created_at: Set(self.now),
                        created_by: Set("generate".into()),
                    });
                }
            }
        }
        self.counts.participants += people.len();
        self.counts.placements += placements.len();
        self.counts.entries += entries.len();
        self.counts.exits += exits.len();
        insert_all(conn, people).await?;
        insert_all(conn, placements).await?;
        insert_all(conn, entries).await?;
        insert_all(conn, reviews).await?;
        insert_all(conn, exits).await?;
        Ok(())
    }

    fn person(&mut self, rows: &mut Vec<participant::ActiveModel>, start: NaiveDate) -> Uuid {
        const FIRST: [&str; 8] = [
            "Karim", "Sophie", "Mamadou", "Julie", "Kevin", "Aïcha", "Thomas", "Nadia",
        ];
        const LAST: [&str; 8] = [
            "Martin", "Bernard", "Diallo", "Hoarau", "Payet", "Nguyen", "Moreau", "Benali",
        ];
        let id = self.id();
        let first = *self.rng.pick(&FIRST);
        let last = format!(
            "{} {}",
            self.rng.pick(&LAST),
            self.counts.participants + rows.len()
        );
        let publics = match self.rng.range(0, 9) {
            0..=3 => vec![Public::Rsa],
            4 => vec![Public::Rsa, Public::LongTermUnemployed],
            5 => vec![Public::YoungUnqualified],
            6 => vec![Public::DisabledWorker, Public::Aah],
            7 => vec![Public::Senior, Public::LongTermUnemployed],
            _ => vec![Public::LongTermUnemployed],
        };
        rows.push(participant::ActiveModel {
            version: Set(1),
            id: Set(id),
            territory_id: Set(self.territory),
            first_name: Set(first.into()),
            search_text: Set(crate::domain::text::search_key(&[first, &last])),
            last_name: Set(last),
            birth_date: Set(NaiveDate::from_ymd_opt(
                self.rng.range(1962, 2006) as i32,
                self.rng.range(1, 12) as u32,
                self.rng.range(1, 28) as u32,
            )
            .expect("a birth date")),
            sex: Set(if self.rng.chance(70) {
                Sex::Male
            } else {
                Sex::Female
            }
            .as_str()
            .into()),
            education_level: Set(self
                .rng
                .weighted(&[
                    (EducationLevel::BelowLevel3, 45),
                    (EducationLevel::Level3, 35),
                    (EducationLevel::Level4, 15),
                    (EducationLevel::Level5, 5),
                ])
                .as_str()
                .into()),
            unemployed_since: Set(Some(start - Duration::days(self.rng.range(180, 1800)))),
            qpv_resident: Set(self.rng.chance(40)),
            publics: Set(encode_publics(&publics)),
            prescriber_id: Set(None),
            anonymized_at: Set(None),
            created_at: Set(self.now),
        });
        id
    }

    /// One statement per month worked, declared on the 5th of the next month and reviewed two
    /// weeks later (3 % rejected); 2 % of validated ones corrected afterwards, with a reason.
    fn ledger(
        &mut self,
        entries: &mut Vec<hour_entry::ActiveModel>,
        reviews: &mut Vec<hour_entry_review::ActiveModel>,
        (placement, market, lot, modality, kind): (Uuid, Uuid, Uuid, Modality, HourKind),
        (start, end): (NaiveDate, NaiveDate),
        weekly: i32,
    ) {
        let mut month = start.with_day(1).expect("first of month");
        while month <= end {
            let last = last_day_of_month(month);
            let recorded = local_instant(
                last + Duration::days(5),
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                self.tz,
            );
            if recorded > self.now {
                break;
            }
            let from = start.max(month);
            let to = end.min(last);
            let days = (to - from).num_days() + 1;
            let full = last.day() as i64;
            // weekly × 52 / 12 for a full month, pro rata for a partial one, ± 10 %, to the quarter hour.
            let minutes = weekly as i64 * 52 * days / (12 * full);
            let minutes = (minutes * self.rng.range(90, 110) / 100 / 15 * 15).max(15);
            let id = self.id();
            let entry = |id: Uuid,
                         minutes: i64,
                         source: HourSource,
                         corrects: Option<Uuid>,
                         reason: Option<String>,
                         at: DateTime<Utc>| hour_entry::ActiveModel {
                id: Set(id),
                placement_id: Set(placement),
                market_id: Set(Some(market)),
                lot_id: Set(Some(lot)),
                modality: Set(modality.as_str().into()),
                period_kind: Set(PeriodKind::Month.as_str().into()),
                period_start: Set(month),
                period_end: Set(last),
                kind: Set(kind.as_str().into()),
                minutes: Set(minutes),
                source: Set(source.as_str().into()),
                corrects_id: Set(corrects),
                reason: Set(reason),
                recorded_at: Set(at),
                recorded_by: Set(Some("generate".into())),
                import_id: Set(None),
            };
            entries.push(entry(
                id,
                minutes,
                HourSource::CompanyDeclaration,
                None,
                None,
                recorded,
            ));
            let decided = recorded + Duration::days(14);
            if decided <= self.now {
                let rejected = self.rng.chance(3);
                reviews.push(self.review(id, rejected, decided));
                let corrected = recorded + Duration::days(30);
                if !rejected && corrected <= self.now && self.rng.chance(2) {
                    let fix = self.id();
                    let delta = -(self.rng.range(1, 8) * 60).min(minutes - 15);
                    entries.push(entry(
                        fix,
                        delta,
                        HourSource::Facilitator,
                        Some(id),
                        Some("Relevé rectifié par l'entreprise (absences non déclarées)".into()),
                        corrected,
                    ));
                    reviews.push(self.review(fix, false, corrected + Duration::days(1)));
                    self.counts.corrections += 1;
                }
            }
            month = month + Months::new(1);
        }
    }

    fn review(
        &mut self,
        entry: Uuid,
        rejected: bool,
        at: DateTime<Utc>,
    ) -> hour_entry_review::ActiveModel {
        hour_entry_review::ActiveModel {
            id: Set(self.id()),
            hour_entry_id: Set(entry),
            decision: Set(if rejected {
                HourStatus::Rejected
            } else {
                HourStatus::Validated
            }
            .as_str()
            .into()),
            reason: Set(rejected.then(|| "Heures hors période du contrat".to_string())),
            decided_at: Set(at),
            decided_by: Set(Some("generate".into())),
        }
    }

    /// Each SIAE's State agreements, three years each, renewed one after the other.
    async fn conventions<C: sea_orm::ConnectionTrait>(
        &mut self,
        conn: &C,
        orgs: &Orgs,
    ) -> Result<(), String> {
        let (mut rows, mut parties, mut amounts) = (Vec::new(), Vec::new(), Vec::new());
        for (n, (siae, sub)) in orgs.siae.iter().enumerate() {
            let mut start =
                NaiveDate::from_ymd_opt(self.first_day.year(), 1, 1).expect("1 January");
            let mut previous: Option<Uuid> = None;
            let mut k = 0;
            while start <= self.today {
                let id = self.id();
                let end = start + Months::new(36) - Duration::days(1);
                rows.push(convention::ActiveModel {
                    version: Set(1),
                    id: Set(id),
                    territory_id: Set(self.territory),
                    kind: Set(ConventionKind::StateAgreement.as_str().into()),
                    reference: Set(format!("CONV-{}-{n:02}-{k}", self.code)),
                    title: Set(format!(
                        "Conventionnement {} {}",
                        sub.as_str(),
                        start.year()
                    )),
                    status: Set(if end < self.today {
                        ConventionStatus::Expired
                    } else {
                        ConventionStatus::Active
                    }
                    .as_str()
                    .into()),
                    chantier_id: Set(None),
                    placement_id: Set(None),
                    operation_id: Set(None),
                    renews_id: Set(previous),
                    start_date: Set(Some(start)),
                    end_date: Set(Some(end)),
                    filed_on: Set(Some(start - Duration::days(90))),
                    signed_on: Set(Some(start - Duration::days(20))),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                });
                for (org, role) in [
                    (*siae, PartyRole::Beneficiary),
                    (orgs.funder, PartyRole::Signatory),
                ] {
                    parties.push(convention_party::ActiveModel {
                        id: Set(self.id()),
                        convention_id: Set(id),
                        organization_id: Set(org),
                        role: Set(role.as_str().into()),
                    });
                }
                for y in start.year()..=end.year() {
                    amounts.push(convention_amount::ActiveModel {
                        id: Set(self.id()),
                        convention_id: Set(id),
                        year: Set(y),
                        amount_cents: Set(self.rng.range(60_000, 300_000) * 100),
                    });
                }
                previous = Some(id);
                start = end + Duration::days(1);
                k += 1;
            }
        }
        self.counts.conventions += rows.len();
        insert_all(conn, rows).await?;
        insert_all(conn, parties).await?;
        insert_all(conn, amounts).await
    }

    /// A monthly insertion commission per operation (held in the past, planned ahead), with
    /// members: the facilitator, the operation's owner and an SIAE.
    async fn commissions<C: sea_orm::ConnectionTrait>(
        &mut self,
        conn: &C,
        orgs: &Orgs,
        ops: &[Uuid],
    ) -> Result<(), String> {
        let (mut rows, mut members) = (Vec::new(), Vec::new());
        let mut month = self.first_day;
        let mut i = 0usize;
        while month <= self.today + Months::new(2) {
            let op = ops[i % ops.len()];
            // The second Tuesday, 9:30 local time.
            let mut day = month + Duration::days(7);
            while day.weekday() != chrono::Weekday::Tue {
                day += Duration::days(1);
            }
            let starts = local_instant(day, NaiveTime::from_hms_opt(9, 30, 0).unwrap(), self.tz);
            let held = starts < self.now;
            let id = self.id();
            rows.push(commission::ActiveModel {
                version: Set(1),
                id: Set(id),
                territory_id: Set(self.territory),
                kind: Set(CommissionKind::InsertionCommission.as_str().into()),
                title: Set(format!(
                    "Commission d'insertion {}-{:02}",
                    day.year(),
                    day.month()
                )),
                operation_id: Set(Some(op)),
                market_id: Set(None),
                chantier_id: Set(None),
                starts_at: Set(starts),
                duration_minutes: Set(120),
                place: Set("Maison du projet".into()),
                agenda: Set("Suivi des heures, candidatures, sorties".into()),
                minutes: Set(held.then(|| {
                    "Compte rendu : heures à jour, deux recrutements validés.".to_string()
                })),
                status: Set(if held {
                    CommissionStatus::Held
                } else {
                    CommissionStatus::Planned
                }
                .as_str()
                .into()),
                sequence: Set(0),
                created_at: Set(self.now),
                updated_at: Set(self.now),
            });
            for (org, name) in [
                (None, "Facilitateur"),
                (Some(orgs.buyers[i % OPERATIONS]), "Maître d'ouvrage"),
                (Some(orgs.siae[i % orgs.siae.len()].0), "SIAE"),
            ] {
                members.push(commission_member::ActiveModel {
                    id: Set(self.id()),
                    commission_id: Set(id),
                    organization_id: Set(org),
                    name: Set(name.into()),
                    email: Set(Some(format!(
                        "{}.{}@{}.bench",
                        name.to_lowercase().replace(['\'', ' '], "-"),
                        i,
                        self.code.to_lowercase()
                    ))),
                });
            }
            month = month + Months::new(1);
            i += 1;
        }
        self.counts.commissions += rows.len();
        insert_all(conn, rows).await?;
        insert_all(conn, members).await
    }

    /// The engine derives the deadlines of every live object; history's reminders count as
    /// already planned (the planner then only works on what changes from now on).
    async fn deadlines(&mut self, ctx: &Ctx) -> Result<(), String> {
        let db = |e: sea_orm::DbErr| e.to_string();
        let err = |e: crate::error::AppError| e.message();
        let t = self.territory;
        let conn = &ctx.db.conn;
        let mut subjects: Vec<SubjectRef> = market::Entity::find()
            .filter(market::Column::TerritoryId.eq(t))
            .filter(market::Column::Status.is_in([
                MarketStatus::InProgress.as_str(),
                MarketStatus::Completed.as_str(),
            ]))
            .all(conn)
            .await
            .map_err(db)?
            .into_iter()
            .map(|m| SubjectRef::Market(m.id))
            .collect();
        let live_placements: Vec<Uuid> = placement::Entity::find()
            .select_only()
            .column(placement::Column::Id)
            .filter(placement::Column::Status.eq(PlacementStatus::Active.as_str()))
            .filter(
                placement::Column::MarketId.in_subquery(
                    market::Entity::find()
                        .select_only()
                        .column(market::Column::Id)
                        .filter(market::Column::TerritoryId.eq(t))
                        .into_query(),
                ),
            )
            .into_tuple()
            .all(conn)
            .await
            .map_err(db)?;
        subjects.extend(live_placements.into_iter().map(SubjectRef::Placement));
        subjects.extend(
            convention::Entity::find()
                .filter(convention::Column::TerritoryId.eq(t))
                .filter(convention::Column::Status.eq(ConventionStatus::Active.as_str()))
                .all(conn)
                .await
                .map_err(db)?
                .into_iter()
                .map(|c| SubjectRef::Convention(c.id)),
        );
        subjects.extend(
            commission::Entity::find()
                .filter(commission::Column::TerritoryId.eq(t))
                .filter(commission::Column::Status.eq(CommissionStatus::Planned.as_str()))
                .all(conn)
                .await
                .map_err(db)?
                .into_iter()
                .map(|c| SubjectRef::Commission(c.id)),
        );
        for chunk in subjects.chunks(200) {
            let txn = ctx.db.begin_write().await.map_err(db)?;
            for s in chunk {
                deadlines::sync(&txn.txn, ctx, *s).await.map_err(err)?;
            }
            txn.commit().await.map_err(db)?;
        }
        deadline::Entity::update_many()
            .col_expr(
                deadline::Column::PlannedRevision,
                sea_orm::sea_query::Expr::col(deadline::Column::Revision),
            )
            .filter(deadline::Column::TerritoryId.eq(t))
            .exec(conn)
            .await
            .map_err(db)?;
        self.counts.deadlines += deadline::Entity::find()
            .filter(deadline::Column::TerritoryId.eq(t))
            .count(conn)
            .await
            .map_err(db)? as usize;
        Ok(())
    }
}
