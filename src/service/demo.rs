//! A realistic sample for `passerelle demo`: La Réunion and Mayotte, the urban-renewal project of
//! M'Gombani, markets of every clause kind, participants, placements and months of hours.
//! Everything goes through the services, so the sample obeys every rule.

use async_graphql::ID;
use chrono::{Datelike, Months, NaiveDate};

use super::Ctx;
use super::auth::CreateUserInput;
use super::chantier::{
    AddFundingLineInput, AddSupervisorInput, BudgetLineInput, CreateChantierInput, SetBudgetInput,
};
use super::commission::{MemberInput, PlanCommissionInput};
use super::convention::{AmountInput, CreateConventionInput, PartyInput};
use super::eligibility::{ProofInput, RecordEligibilityInput};
use super::ledger::{CorrectHoursInput, RecordHoursInput, ReviewHoursInput};
use super::market::{CreateMarketInput, LotInput, SetHourTargetInput, TransitionMarketInput};
use super::operation::CreateOperationInput;
use super::organization::CreateOrganizationInput;
use super::participant::CreateParticipantInput;
use super::placement::CreatePlacementInput;
use super::territory::CreateTerritoryInput;
use super::workflow::TransitionInput;
use crate::domain::auth::{Actor, Role};
use crate::domain::*;
use crate::error::AppResult;
use crate::ids::{Kind, encode};

/// A SIRET with a valid Luhn key from 13 digits (sample data only).
pub fn sample_siret(first13: u64) -> String {
    let body = format!("{first13:013}");
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| siret::check("siret", s).is_ok())
        .expect("one key digit fits")
}

struct Seeder<'a> {
    ctx: &'a Ctx,
    siret_seq: u64,
}

/// Password of every demo account (documented in the README).
pub const DEMO_PASSWORD: &str = "passerelle-demo";

impl Seeder<'_> {
    async fn territory(&self, code: &str, name: &str, tz: &str) -> AppResult<ID> {
        let system = Actor::system();
        let t = super::territory::create(
            self.ctx,
            &system,
            CreateTerritoryInput {
                code: code.into(),
                name: name.into(),
                time_zone: tz.into(),
            },
        )
        .await?;
        Ok(encode(Kind::Territory, t.id))
    }

    async fn org(
        &mut self,
        name: &str,
        kind: OrganizationKind,
        subtype: Option<SiaeSubtype>,
        territory: &ID,
    ) -> AppResult<ID> {
        let system = Actor::system();
        self.siret_seq += 1;
        let o = super::organization::create(
            self.ctx,
            &system,
            CreateOrganizationInput {
                name: name.into(),
                kind,
                siae_subtype: subtype,
                siret: Some(sample_siret(9_760_000_000_000 + self.siret_seq * 1_000)),
                address: None,
                email: Some(format!("contact{}@exemple.fr", self.siret_seq)),
                territory_id: Some(territory.clone()),
            },
        )
        .await?;
        Ok(encode(Kind::Organization, o.id))
    }
}

/// A sample person: first and last name, birth date, sex, education, QPV resident, publics,
/// territory and prescriber.
type Person<'a> = (
    &'a str,
    &'a str,
    NaiveDate,
    Sex,
    EducationLevel,
    bool,
    Vec<Public>,
    &'a ID,
    &'a ID,
);

fn lot(number: i32, title: &str, awardee: &ID) -> LotInput {
    LotInput {
        number,
        title: title.into(),
        awardee_id: Some(awardee.clone()),
        amount_cents: None,
        target_hours: None,
    }
}

/// Fills an empty database; returns a one-line summary.
pub async fn seed(ctx: &Ctx) -> AppResult<String> {
    let system = Actor::system();
    let mut s = Seeder { ctx, siret_seq: 0 };
    let today = ctx.clock.today_in(chrono_tz::Indian::Reunion);
    let this_month = today.with_day(1).expect("day 1");
    let months_ago = |n: u32| this_month.checked_sub_months(Months::new(n)).expect("date");

    let reunion = s
        .territory(
            "974-TCO",
            "Territoire de la Côte Ouest (La Réunion)",
            "Indian/Reunion",
        )
        .await?;
    let mayotte = s
        .territory(
            "976-CADEMA",
            "Mamoudzou – CADEMA (Mayotte)",
            "Indian/Mayotte",
        )
        .await?;

    use OrganizationKind as K;
    let le_port = s.org("Commune du Port", K::Buyer, None, &reunion).await?;
    let shlmr = s
        .org("SHLMR – bailleur social", K::Buyer, None, &reunion)
        .await?;
    let mamoudzou = s
        .org("Commune de Mamoudzou", K::Buyer, None, &mayotte)
        .await?;
    let sim = s
        .org("Société immobilière de Mayotte", K::Buyer, None, &mayotte)
        .await?;
    let btp_ouest = s
        .org("BTP Ouest Bâtiment", K::Company, None, &reunion)
        .await?;
    let verts = s
        .org("Jardins du Port SARL", K::Company, None, &reunion)
        .await?;
    let btp_976 = s
        .org("Mahoraise de Construction", K::Company, None, &mayotte)
        .await?;
    let aci_976 = s
        .org(
            "ACI Ushababi M'Gombani",
            K::Siae,
            Some(SiaeSubtype::Aci),
            &mayotte,
        )
        .await?;
    let etti = s
        .org(
            "ETTI Océan Indien Intérim",
            K::Siae,
            Some(SiaeSubtype::Etti),
            &reunion,
        )
        .await?;
    let ei_976 = s
        .org(
            "EI Propreté Mahoraise",
            K::Siae,
            Some(SiaeSubtype::Ei),
            &mayotte,
        )
        .await?;
    let ea = s
        .org(
            "EA Blanchisserie de l'Ouest",
            K::Siae,
            Some(SiaeSubtype::Ea),
            &reunion,
        )
        .await?;
    s.org("PLIE de l'Ouest", K::Facilitator, None, &reunion)
        .await?;
    let deets = s.org("DEETS de Mayotte", K::Funder, None, &mayotte).await?;
    let ft_port = s
        .org("France Travail Le Port", K::Prescriber, None, &reunion)
        .await?;
    let ml_976 = s
        .org("Mission locale de Mayotte", K::Prescriber, None, &mayotte)
        .await?;

    let pru = super::operation::create(
        ctx,
        &system,
        CreateOperationInput {
            territory_id: mayotte.clone(),
            owner_id: Some(mamoudzou.clone()),
            name: "PRU de M'Gombani".into(),
            kind: OperationKind::Pru,
            start_date: Some(months_ago(18)),
            end_date: Some(
                this_month
                    .checked_add_months(Months::new(30))
                    .expect("date"),
            ),
            works_rate_bp: None,
            gup_rate_bp: None,
        },
    )
    .await?;
    let pru = encode(Kind::Operation, pru.id);

    struct M {
        buyer: ID,
        operation: Option<ID>,
        reference: &'static str,
        title: &'static str,
        clause: ClauseKind,
        anru: Option<AnruCategory>,
        euros: i64,
        labour_bp: i32,
        lots: Vec<LotInput>,
    }
    // Where insertion is the object of the market (art. 30, reserved markets), most of the labour
    // is insertion: 60 % instead of the 5 % of an execution clause.
    let insertion_rate = |clause: ClauseKind| match clause {
        ClauseKind::InsertionServiceMarket
        | ClauseKind::ReservedSiae
        | ClauseKind::ReservedEaEsat => Some(6_000),
        _ => None,
    };
    let markets = vec![
        M {
            buyer: sim.clone(),
            operation: Some(pru.clone()),
            reference: "SIM-2025-014",
            title: "Réhabilitation de 120 logements – M'Gombani",
            clause: ClauseKind::ExecutionCondition,
            anru: Some(AnruCategory::WorksEngineering),
            euros: 4_200_000,
            labour_bp: 5_000,
            lots: vec![lot(1, "Gros œuvre", &btp_976), lot(2, "Peinture", &btp_976)],
        },
        M {
            buyer: mamoudzou.clone(),
            operation: Some(pru.clone()),
            reference: "MDZ-2025-ART30-02",
            title: "Chantier d'insertion – aménagement des espaces extérieurs de M'Gombani",
            clause: ClauseKind::InsertionServiceMarket,
            anru: Some(AnruCategory::WorksEngineering),
            euros: 380_000,
            labour_bp: 8_000,
            lots: vec![lot(1, "Aménagements paysagers", &aci_976)],
        },
        M {
            buyer: mamoudzou.clone(),
            operation: Some(pru.clone()),
            reference: "MDZ-2025-GUP-07",
            title: "Nettoyage des parties communes (GUP) – marché réservé",
            clause: ClauseKind::ReservedSiae,
            anru: Some(AnruCategory::LocalManagement),
            euros: 210_000,
            labour_bp: 8_000,
            lots: vec![lot(1, "Secteur nord", &ei_976)],
        },
        M {
            buyer: le_port.clone(),
            operation: None,
            reference: "LP-2025-EV-03",
            title: "Entretien des espaces verts de la ville",
            clause: ClauseKind::AwardCriterion,
            anru: None,
            euros: 650_000,
            labour_bp: 7_000,
            lots: vec![
                lot(1, "Parcs et jardins", &verts),
                lot(2, "Voirie", &btp_ouest),
            ],
        },
        M {
            buyer: shlmr.clone(),
            operation: None,
            reference: "SHLMR-2025-031",
            title: "Construction de 48 logements sociaux – Rivière des Galets",
            clause: ClauseKind::ExecutionCondition,
            anru: None,
            euros: 6_800_000,
            labour_bp: 5_000,
            lots: vec![
                lot(1, "Gros œuvre", &btp_ouest),
                lot(2, "Second œuvre", &btp_ouest),
            ],
        },
        M {
            buyer: le_port.clone(),
            operation: None,
            reference: "LP-2025-BL-01",
            title: "Blanchisserie des équipements municipaux – marché réservé EA/ESAT",
            clause: ClauseKind::ReservedEaEsat,
            anru: None,
            euros: 90_000,
            labour_bp: 7_000,
            lots: vec![lot(1, "Linge et tenues", &ea)],
        },
    ];
    let mut market_ids = Vec::new();
    for m in markets {
        let created = super::market::create(
            ctx,
            &system,
            CreateMarketInput {
                buyer_id: m.buyer,
                territory_id: None,
                operation_id: m.operation,
                reference: m.reference.into(),
                title: m.title.into(),
                clause_kind: m.clause,
                anru_category: m.anru,
                amount_cents: m.euros * 100,
                notification_date: Some(months_ago(9)),
                start_date: months_ago(8),
                end_date: this_month
                    .checked_add_months(Months::new(16))
                    .expect("date"),
                lots: m.lots,
            },
        )
        .await?;
        let id = encode(Kind::Market, created.id);
        super::market::set_hour_target(
            ctx,
            &system,
            SetHourTargetInput {
                market_id: id.clone(),
                labour_share_bp: m.labour_bp,
                insertion_rate_bp: insertion_rate(m.clause),
                hourly_cost_cents: None,
                override_hours: None,
            },
        )
        .await?;
        for to in [
            MarketStatus::Published,
            MarketStatus::Awarded,
            MarketStatus::InProgress,
        ] {
            super::market::transition(
                ctx,
                &system,
                TransitionMarketInput {
                    market_id: id.clone(),
                    to,
                    reason: None,
                },
            )
            .await?;
        }
        let lots = super::market::lots_of(ctx, created.id).await?;
        market_ids.push((
            id,
            lots.into_iter()
                .map(|l| encode(Kind::Lot, l.id))
                .collect::<Vec<_>>(),
        ));
    }

    // People: (first, last, born, sex, level, qpv, publics, territory, prescriber)
    let people: Vec<Person> = vec![
        (
            "Anli",
            "Madi",
            d(1998, 3, 12),
            Sex::Male,
            EducationLevel::BelowLevel3,
            true,
            vec![Public::YoungUnqualified],
            &mayotte,
            &ml_976,
        ),
        (
            "Zaïnaba",
            "Ousseni",
            d(1985, 7, 2),
            Sex::Female,
            EducationLevel::Level3,
            true,
            vec![Public::Rsa],
            &mayotte,
            &ml_976,
        ),
        (
            "Soilihi",
            "Abdou",
            d(1970, 11, 20),
            Sex::Male,
            EducationLevel::BelowLevel3,
            true,
            vec![Public::LongTermUnemployed, Public::Senior],
            &mayotte,
            &ml_976,
        ),
        (
            "Faïza",
            "Ahamada",
            d(2002, 1, 15),
            Sex::Female,
            EducationLevel::Level4,
            false,
            vec![],
            &mayotte,
            &ml_976,
        ),
        (
            "Nassur",
            "Attoumani",
            d(1992, 5, 9),
            Sex::Male,
            EducationLevel::BelowLevel3,
            true,
            vec![Public::Rsa],
            &mayotte,
            &ml_976,
        ),
        (
            "Mariama",
            "Said",
            d(1979, 9, 30),
            Sex::Female,
            EducationLevel::Level3,
            true,
            vec![Public::Chrs],
            &mayotte,
            &ml_976,
        ),
        (
            "Jean-Claude",
            "Payet",
            d(1968, 4, 4),
            Sex::Male,
            EducationLevel::Level3,
            false,
            vec![Public::Senior, Public::DisabledWorker],
            &reunion,
            &ft_port,
        ),
        (
            "Marie-Annick",
            "Hoarau",
            d(1990, 12, 1),
            Sex::Female,
            EducationLevel::Level4,
            true,
            vec![Public::Rsa],
            &reunion,
            &ft_port,
        ),
        (
            "Kévin",
            "Grondin",
            d(2003, 6, 18),
            Sex::Male,
            EducationLevel::BelowLevel3,
            true,
            vec![Public::YoungUnqualified],
            &reunion,
            &ft_port,
        ),
        (
            "Sabrina",
            "Técher",
            d(1987, 2, 25),
            Sex::Female,
            EducationLevel::Level5,
            false,
            vec![Public::LongTermUnemployed],
            &reunion,
            &ft_port,
        ),
        (
            "Didier",
            "Fontaine",
            d(1975, 8, 8),
            Sex::Male,
            EducationLevel::BelowLevel3,
            true,
            vec![Public::PrisonLeaver],
            &reunion,
            &ft_port,
        ),
        (
            "Laetitia",
            "Rivière",
            d(1995, 10, 10),
            Sex::Female,
            EducationLevel::Level3,
            true,
            vec![Public::Aah, Public::DisabledWorker],
            &reunion,
            &ft_port,
        ),
    ];
    let mut participant_ids = Vec::new();
    let mut prescribers = Vec::new();
    for (first, last, born, sex, level, qpv, publics, territory, prescriber) in people {
        prescribers.push(prescriber.clone());
        let p = super::participant::create(
            ctx,
            &system,
            CreateParticipantInput {
                territory_id: territory.clone(),
                first_name: first.into(),
                last_name: last.into(),
                birth_date: born,
                sex,
                education_level: level,
                unemployed_since: Some(months_ago(20)),
                qpv_resident: qpv,
                publics,
                prescriber_id: Some(prescriber.clone()),
            },
        )
        .await?;
        participant_ids.push(encode(Kind::Participant, p.id));
    }

    // (participant, market index, lot index, modality, employer, contract, weekly hours)
    let placements: Vec<(usize, usize, usize, Modality, &ID, ContractType, &str)> = vec![
        (
            0,
            0,
            0,
            Modality::DirectHire,
            &btp_976,
            ContractType::Cdd,
            "35",
        ),
        (
            1,
            0,
            1,
            Modality::DirectHire,
            &btp_976,
            ContractType::Professionalisation,
            "35",
        ),
        (
            2,
            1,
            0,
            Modality::Subcontracting,
            &aci_976,
            ContractType::Cddi,
            "26",
        ),
        (
            3,
            1,
            0,
            Modality::Subcontracting,
            &aci_976,
            ContractType::Cddi,
            "26",
        ),
        (
            4,
            2,
            0,
            Modality::Subcontracting,
            &ei_976,
            ContractType::Cddi,
            "30",
        ),
        (
            5,
            2,
            0,
            Modality::Subcontracting,
            &ei_976,
            ContractType::Cddi,
            "24",
        ),
        (
            6,
            3,
            0,
            Modality::DirectHire,
            &verts,
            ContractType::Cdi,
            "35",
        ),
        (
            7,
            3,
            1,
            Modality::MadeAvailable,
            &etti,
            ContractType::InsertionInterim,
            "35",
        ),
        (
            8,
            4,
            0,
            Modality::MadeAvailable,
            &etti,
            ContractType::InsertionInterim,
            "35",
        ),
        (
            9,
            4,
            1,
            Modality::DirectHire,
            &btp_ouest,
            ContractType::Apprenticeship,
            "35",
        ),
        (
            10,
            4,
            0,
            Modality::Training,
            &btp_ouest,
            ContractType::Trainee,
            "20",
        ),
        (
            11,
            5,
            0,
            Modality::Subcontracting,
            &ea,
            ContractType::Cdd,
            "28",
        ),
    ];
    let mut entries = 0;
    let mut pending = Vec::new();
    for (i, (person, m, l, modality, employer, contract, weekly)) in
        placements.into_iter().enumerate()
    {
        let (market_id, lots) = &market_ids[m];
        if contract == ContractType::Cddi {
            // A CDDI needs an IAE eligibility: a prescriber's diagnostic before the hire.
            let structure = if *employer == ei_976 {
                SiaeSubtype::Ei
            } else {
                SiaeSubtype::Aci
            };
            super::eligibility::record(
                ctx,
                &system,
                RecordEligibilityInput {
                    participant_id: participant_ids[person].clone(),
                    scheme: EligibilityScheme::Iae,
                    attester_kind: AttesterKind::Prescriber,
                    attester_id: Some(prescribers[person].clone()),
                    structure_kind: Some(structure),
                    checked_on: Some(months_ago(7)),
                    proofs: vec![ProofInput {
                        criterion: Criterion::VeryLongTermUnemployed,
                        proof_kind: ProofKind::JobseekerCertificate,
                        proof_date: months_ago(8),
                        reference: None,
                    }],
                },
            )
            .await?;
        }
        let pl = super::placement::create(
            ctx,
            &system,
            CreatePlacementInput {
                participant_id: participant_ids[person].clone(),
                market_id: Some(market_id.clone()),
                lot_id: lots.get(l).cloned(),
                chantier_id: None,
                derogation: None,
                training_end_date: None,
                proposed: false,
                modality,
                employer_id: (*employer).clone(),
                contract_type: contract,
                start_date: months_ago(6),
                end_date: Some(this_month.checked_add_months(Months::new(6)).expect("date")),
                weekly_hours: weekly.into(),
            },
        )
        .await?;
        let pl = encode(Kind::Placement, pl.id);
        // Five closed months: the four oldest validated, the last awaiting validation.
        for back in (1..=5).rev() {
            let month = months_ago(back);
            let minutes = 100 + (i as i64 * 7 + back as i64 * 3) % 50;
            let e = super::ledger::record(
                ctx,
                &system,
                RecordHoursInput {
                    placement_id: pl.clone(),
                    month: Some(month.format("%Y-%m").to_string()),
                    day: None,
                    kind: if modality == Modality::Training {
                        HourKind::Training
                    } else {
                        HourKind::Work
                    },
                    hours: minutes.to_string(),
                    source: HourSource::CompanyDeclaration,
                },
            )
            .await?;
            entries += 1;
            let id = encode(Kind::HourEntry, e.id);
            if back > 1 {
                super::ledger::review(
                    ctx,
                    &system,
                    ReviewHoursInput {
                        entry_ids: vec![id.clone()],
                        reason: None,
                    },
                    HourStatus::Validated,
                )
                .await?;
            } else {
                pending.push(id.clone());
            }
            if i == 0 && back == 3 {
                // The company declared 10 h too many: corrected by the facilitator, which
                // validates the correction as it is entered.
                super::ledger::correct(
                    ctx,
                    &system,
                    CorrectHoursInput {
                        entry_id: id.clone(),
                        hours: (minutes - 10).to_string(),
                        reason: "Erreur de saisie : 10 h comptées deux fois (relevé d'heures de l'entreprise)".into(),
                    },
                )
                .await?;
                entries += 1;
            }
        }
    }
    // One declaration rejected: hours outside the market's site.
    if let Some(first) = pending.first() {
        super::ledger::review(
            ctx,
            &system,
            ReviewHoursInput {
                entry_ids: vec![first.clone()],
                reason: Some("Heures effectuées sur un autre chantier que le marché".into()),
            },
            HourStatus::Rejected,
        )
        .await?;
    }
    // One account per role, all with DEMO_PASSWORD.
    // A chantier d'insertion rénovation of the PRU, bought through the art. 30 market, carried by
    // the ACI: supervised, budgeted and funded within the caps.
    let start = months_ago(6);
    let chantier = super::chantier::create(
        ctx,
        &system,
        CreateChantierInput {
            territory_id: mayotte.clone(),
            title: "Chantier d'insertion rénovation – halls et espaces extérieurs".into(),
            kind: ChantierKind::Renovation,
            carrier_id: aci_976.clone(),
            owner_id: mamoudzou.clone(),
            operation_id: Some(pru.clone()),
            market_id: Some(market_ids[1].0.clone()),
            place: "M'Gombani, Mamoudzou".into(),
            start_date: start,
            end_date: this_month
                .checked_add_months(Months::new(18))
                .expect("date"),
            capacity: 12,
            activities: "Peinture des halls, aménagements paysagers, petite maçonnerie".into(),
            commercial_derogation: None,
            commercial_derogation_decided_on: None,
        },
    )
    .await?;
    let chantier_id = encode(Kind::Chantier, chantier.id);
    super::chantier::add_supervisor(
        ctx,
        &system,
        AddSupervisorInput {
            chantier_id: chantier_id.clone(),
            name: "Encadrant technique".into(),
            organization_id: Some(aci_976.clone()),
            technical_hours: "1400".into(),
            socio_professional_hours: "350".into(),
            theory_training_hours: "120".into(),
            start_date: None,
            end_date: None,
        },
    )
    .await?;
    let line = |category, amount_cents| BudgetLineInput {
        category,
        label: None,
        amount_cents,
        funder_id: None,
    };
    use BudgetCategory as B;
    super::chantier::set_budget(
        ctx,
        &system,
        SetBudgetInput {
            chantier_id: chantier_id.clone(),
            year: start.year(),
            lines: vec![
                line(B::WorkClothes, 240_000),
                line(B::WorkshopSupplies, 1_200_000),
                line(B::Insurance, 310_000),
                line(B::InsertionPay, 9_800_000),
                line(B::InsertionContributions, 1_150_000),
                line(B::SupervisorPay, 3_200_000),
                line(B::SupervisorContributions, 1_300_000),
                line(B::Equipment, 1_000_000),
                line(B::Unforeseen, 950_000),
                line(B::ContractLegalAid, 9_400_000),
                line(B::ContractRemainderCommune, 1_550_000),
                line(B::TrainingAccompanimentFunding, 1_500_000),
                line(B::PublicSubsidy, 5_000_000),
                line(B::CommercialRevenue, 1_700_000),
            ],
        },
    )
    .await?;
    for (funder, category, purpose, year, cents) in [
        (
            None,
            FunderCategory::Acse,
            FundingPurpose::AcseRenovation,
            start.year(),
            5_000_000,
        ),
        (
            None,
            FunderCategory::Acse,
            FundingPurpose::AcseRenovation,
            start.year() + 1,
            3_000_000,
        ),
        (
            Some(deets.clone()),
            FunderCategory::State,
            FundingPurpose::Accompaniment,
            start.year(),
            1_500_000,
        ),
        (
            None,
            FunderCategory::Commune,
            FundingPurpose::Equipment,
            start.year(),
            500_000,
        ),
    ] {
        super::chantier::add_funding(
            ctx,
            &system,
            AddFundingLineInput {
                chantier_id: chantier_id.clone(),
                funder_id: funder,
                funder_category: category,
                purpose,
                year,
                amount_cents: cents,
            },
        )
        .await?;
    }

    workflow_sample(
        ctx,
        &system,
        &mayotte,
        &chantier_id,
        &aci_976,
        &deets,
        &pru,
        start,
        today,
    )
    .await?;

    let accounts: [(&str, Role, Option<&ID>, Vec<ID>); 6] = [
        ("admin@demo.passerelle.fr", Role::Admin, None, vec![]),
        (
            "facilitatrice@demo.passerelle.fr",
            Role::Facilitator,
            None,
            vec![reunion.clone(), mayotte.clone()],
        ),
        (
            "acheteur@demo.passerelle.fr",
            Role::Buyer,
            Some(&mamoudzou),
            vec![],
        ),
        (
            "entreprise@demo.passerelle.fr",
            Role::Company,
            Some(&btp_976),
            vec![],
        ),
        (
            "siae@demo.passerelle.fr",
            Role::Siae,
            Some(&aci_976),
            vec![],
        ),
        (
            "financeur@demo.passerelle.fr",
            Role::Funder,
            Some(&deets),
            vec![],
        ),
    ];
    for (email, role, org, territory_ids) in accounts {
        super::auth::create_user(
            ctx,
            &system,
            CreateUserInput {
                email: email.into(),
                password: Some(DEMO_PASSWORD.into()),
                role,
                organization_id: org.cloned(),
                territory_ids,
            },
        )
        .await?;
    }
    Ok(format!(
        "demo: 2 territories, {} markets, 1 chantier, {} participants, {} ledger entries, 6 accounts",
        market_ids.len(),
        participant_ids.len(),
        entries
    ))
}

/// The chantier's State agreement, signed and active, so the chantier is AGREED; its start
/// committee is still to hold (RUNNING is refused until then) and the PRU's insertion commission
/// is planned in a fortnight: the facilitator's deadlines list has something to show.
#[allow(clippy::too_many_arguments)]
async fn workflow_sample(
    ctx: &Ctx,
    system: &Actor,
    territory: &ID,
    chantier: &ID,
    aci: &ID,
    deets: &ID,
    pru: &ID,
    start: NaiveDate,
    today: NaiveDate,
) -> AppResult<()> {
    let end = start
        .checked_add_months(Months::new(36))
        .and_then(|d| d.pred_opt())
        .expect("date");
    let amounts = (start.year()..=end.year())
        .map(|year| AmountInput {
            year,
            amount_cents: 1_500_000,
        })
        .collect();
    let conv = super::convention::create(
        ctx,
        system,
        CreateConventionInput {
            territory_id: territory.clone(),
            kind: ConventionKind::StateAgreement,
            reference: "CONV-ACI-976-01".into(),
            title: "Conventionnement ACI – chantier rénovation M'Gombani".into(),
            chantier_id: Some(chantier.clone()),
            placement_id: None,
            operation_id: Some(pru.clone()),
            renews_id: None,
            start_date: Some(start),
            end_date: Some(end),
            parties: vec![
                PartyInput {
                    organization_id: aci.clone(),
                    role: PartyRole::Beneficiary,
                },
                PartyInput {
                    organization_id: deets.clone(),
                    role: PartyRole::Signatory,
                },
            ],
            amounts,
        },
    )
    .await?;
    let conv_id = encode(Kind::Convention, conv.id);
    let step = |id: &ID, to: &str| TransitionInput {
        id: id.clone(),
        to: to.into(),
        reason: None,
    };
    for to in ["SUBMITTED", "SIGNED", "ACTIVE"] {
        super::workflow::transition(ctx, system, step(&conv_id, to)).await?;
    }
    super::workflow::transition(ctx, system, step(chantier, "AGREED")).await?;
    let at = |days: u64, hour: u32| {
        today
            .checked_add_days(chrono::Days::new(days))
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("date")
    };
    let member = |name: &str, email: &str, org: &ID| MemberInput {
        name: name.into(),
        email: Some(email.into()),
        organization_id: Some(org.clone()),
    };
    super::commission::plan(
        ctx,
        system,
        PlanCommissionInput {
            kind: CommissionKind::SteeringStart,
            title: "Comité de pilotage de démarrage".into(),
            operation_id: None,
            market_id: None,
            chantier_id: Some(chantier.clone()),
            starts_at: at(7, 9),
            duration_minutes: 120,
            place: "Mairie de Mamoudzou".into(),
            agenda: Some("Recrutements ; encadrement ; calendrier des travaux".into()),
            members: vec![
                member("Direction de l'ACI", "direction@aci-mgombani.example", aci),
                member("Service IAE", "iae@deets-mayotte.example", deets),
            ],
        },
    )
    .await?;
    super::commission::plan(
        ctx,
        system,
        PlanCommissionInput {
            kind: CommissionKind::InsertionCommission,
            title: "Commission d'insertion du PRU de M'Gombani".into(),
            operation_id: Some(pru.clone()),
            market_id: None,
            chantier_id: None,
            starts_at: at(14, 14),
            duration_minutes: 120,
            place: "Maison du projet, M'Gombani".into(),
            agenda: Some(
                "Candidats proposés ; heures réalisées ; difficultés des entreprises".into(),
            ),
            members: vec![member("Service IAE", "iae@deets-mayotte.example", deets)],
        },
    )
    .await?;
    Ok(())
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid sample date")
}
