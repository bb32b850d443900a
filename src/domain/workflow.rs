//! Life cycles as data (DOMAIN.md section 3): for each kind of object, its moves, the guards
//! each move must pass and the effects it has. Services gather the facts; this module judges.

use chrono::NaiveDate;

use super::{RuleResult, RuleViolation};

string_enum! {
    /// The objects that have a life cycle.
    Machine {
        Market = "MARKET",
        Chantier = "CHANTIER",
        Convention = "CONVENTION",
        Placement = "PLACEMENT",
        HourEntry = "HOUR_ENTRY",
        Commission = "COMMISSION",
    }
}

string_enum! {
    /// What must hold before a move.
    Guard {
        /// Every lot has an awardee (and there is a lot).
        EveryLotAwarded = "EVERY_LOT_AWARDED",
        /// No hour entry of the market awaits validation.
        NoHoursAwaitingReview = "NO_HOURS_AWAITING_REVIEW",
        /// The market's final report is produced, from the ledger as it is (DOMAIN.md section 3).
        FinalReportProduced = "FINAL_REPORT_PRODUCED",
        /// A State agreement (conventionnement) of the chantier is signed.
        SignedAgreement = "SIGNED_AGREEMENT",
        StartCommitteeHeld = "START_COMMITTEE_HELD",
        FinalCommitteeHeld = "FINAL_COMMITTEE_HELD",
        /// Two parties at least and, for a convention with money, its amounts.
        PartiesAndAmounts = "PARTIES_AND_AMOUNTS",
        /// The convention's start date has come.
        StartReached = "START_REACHED",
        /// The convention's end date has passed.
        EndPassed = "END_PASSED",
        /// The renewal window of the convention is open.
        RenewalWindowOpen = "RENEWAL_WINDOW_OPEN",
        /// The placement's exit is recorded (through `endPlacement`).
        ExitRecorded = "EXIT_RECORDED",
        /// The contract rules of the chantier issue hold on the day.
        ContractRules = "CONTRACT_RULES",
        /// No hours were recorded on the placement.
        NoHoursRecorded = "NO_HOURS_RECORDED",
        /// Its day has come.
        DateReached = "DATE_REACHED",
        /// Minutes (compte rendu) are recorded.
        Minutes = "MINUTES",
        /// The move says why.
        Reason = "REASON",
    }
}

/// What a move does besides changing the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The file is filed today (dépôt), unless a filing day was given.
    StampFiled,
    /// Signed today, unless a signing day was given.
    StampSigned,
    /// Invitations change (iCalendar SEQUENCE).
    BumpSequence,
}

/// One allowed move.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub from: &'static str,
    pub to: &'static str,
    pub guards: &'static [Guard],
    pub effects: &'static [Effect],
}

const fn mv(from: &'static str, to: &'static str, guards: &'static [Guard]) -> Move {
    Move {
        from,
        to,
        guards,
        effects: &[],
    }
}

const fn mv_with(
    from: &'static str,
    to: &'static str,
    guards: &'static [Guard],
    effects: &'static [Effect],
) -> Move {
    Move {
        from,
        to,
        guards,
        effects,
    }
}

use Guard as G;

const MARKET: &[Move] = &[
    mv("DRAFT", "PUBLISHED", &[]),
    mv("PUBLISHED", "AWARDED", &[G::EveryLotAwarded]),
    mv("AWARDED", "IN_PROGRESS", &[]),
    mv("IN_PROGRESS", "COMPLETED", &[]),
    mv(
        "COMPLETED",
        "CLOSED",
        &[G::NoHoursAwaitingReview, G::FinalReportProduced],
    ),
    mv("DRAFT", "CANCELLED", &[G::Reason]),
    mv("PUBLISHED", "CANCELLED", &[G::Reason]),
    mv("AWARDED", "CANCELLED", &[G::Reason]),
    mv("IN_PROGRESS", "CANCELLED", &[G::Reason]),
];

const CHANTIER: &[Move] = &[
    mv("PROJECT", "AGREED", &[G::SignedAgreement]),
    mv(
        "AGREED",
        "RUNNING",
        &[G::SignedAgreement, G::StartCommitteeHeld],
    ),
    mv("RUNNING", "ENDED", &[]),
    mv("ENDED", "EVALUATED", &[G::FinalCommitteeHeld]),
];

const CONVENTION: &[Move] = &[
    mv_with(
        "DRAFT",
        "SUBMITTED",
        &[G::PartiesAndAmounts],
        &[Effect::StampFiled],
    ),
    mv_with(
        "SUBMITTED",
        "SIGNED",
        &[G::PartiesAndAmounts],
        &[Effect::StampSigned],
    ),
    mv("SIGNED", "ACTIVE", &[G::StartReached]),
    mv("ACTIVE", "RENEWAL_DUE", &[G::RenewalWindowOpen]),
    mv("ACTIVE", "EXPIRED", &[G::EndPassed]),
    mv("RENEWAL_DUE", "EXPIRED", &[G::EndPassed]),
    mv("SIGNED", "TERMINATED", &[G::Reason]),
    mv("ACTIVE", "TERMINATED", &[G::Reason]),
    mv("RENEWAL_DUE", "TERMINATED", &[G::Reason]),
];

const PLACEMENT: &[Move] = &[
    mv("PROPOSED", "ACTIVE", &[G::ContractRules]),
    mv("ACTIVE", "SUSPENDED", &[G::Reason]),
    mv("SUSPENDED", "ACTIVE", &[G::ContractRules]),
    mv("ACTIVE", "ENDED", &[G::ExitRecorded]),
    mv("SUSPENDED", "ENDED", &[G::ExitRecorded]),
    mv("PROPOSED", "CANCELLED", &[G::Reason]),
    mv("ACTIVE", "CANCELLED", &[G::Reason, G::NoHoursRecorded]),
    mv("SUSPENDED", "CANCELLED", &[G::Reason, G::NoHoursRecorded]),
];

const HOUR_ENTRY: &[Move] = &[
    mv("DECLARED", "VALIDATED", &[]),
    mv("DECLARED", "REJECTED", &[G::Reason]),
];

const COMMISSION: &[Move] = &[
    mv("PLANNED", "HELD", &[G::DateReached, G::Minutes]),
    mv_with(
        "PLANNED",
        "CANCELLED",
        &[G::Reason],
        &[Effect::BumpSequence],
    ),
];

pub fn moves(machine: Machine) -> &'static [Move] {
    match machine {
        Machine::Market => MARKET,
        Machine::Chantier => CHANTIER,
        Machine::Convention => CONVENTION,
        Machine::Placement => PLACEMENT,
        Machine::HourEntry => HOUR_ENTRY,
        Machine::Commission => COMMISSION,
    }
}

/// Words for an object in messages.
fn noun(machine: Machine) -> &'static str {
    match machine {
        Machine::Market => "un marché",
        Machine::Chantier => "un chantier",
        Machine::Convention => "une convention",
        Machine::Placement => "un contrat",
        Machine::HourEntry => "une déclaration d'heures",
        Machine::Commission => "une commission",
    }
}

/// What the guards read. The service fills what its object's guards need.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub today: Option<NaiveDate>,
    pub reason: Option<String>,
    pub lot_count: usize,
    pub lots_without_awardee: usize,
    pub entries_awaiting_review: usize,
    /// The last final report's version, and whether the ledger is as it was when it was made.
    pub final_report: Option<(i32, bool)>,
    pub signed_agreement: bool,
    pub start_committee_held: bool,
    pub final_committee_held: bool,
    pub party_count: usize,
    pub needs_amounts: bool,
    pub amount_count: usize,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub renewal_opens: Option<NaiveDate>,
    pub exit_recorded: bool,
    /// The contract rules' verdict on the day, when the move asks for it.
    pub contract: Option<RuleViolation>,
    pub hours_recorded: usize,
    pub meeting_day: Option<NaiveDate>,
    pub has_minutes: bool,
}

fn refuse(field: &'static str, words: String) -> RuleResult {
    Err(RuleViolation::new(field, format!("{field} : {words}")))
}

fn day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| "non renseignée".into())
}

/// Checks one guard against the facts, in words a facilitator understands.
pub fn check_guard(guard: Guard, f: &Facts) -> RuleResult {
    let today = f.today.unwrap_or(NaiveDate::MIN);
    match guard {
        G::EveryLotAwarded if f.lot_count == 0 => refuse(
            "to",
            "attribuer un marché demande au moins un lot (no lot to award)".into(),
        ),
        G::EveryLotAwarded if f.lots_without_awardee > 0 => refuse(
            "to",
            format!(
                "{} lot(s) sans titulaire ; chaque lot doit avoir un attributaire (every lot needs an awardee)",
                f.lots_without_awardee
            ),
        ),
        G::NoHoursAwaitingReview if f.entries_awaiting_review > 0 => refuse(
            "to",
            format!(
                "{} déclaration(s) d'heures attendent encore validation (hours awaiting validation)",
                f.entries_awaiting_review
            ),
        ),
        G::FinalReportProduced => match f.final_report {
            None => refuse(
                "to",
                "le rapport final du marché n'a pas été produit ; le produire (produceMarketFinalReport) avant de clôturer (final report missing)".into(),
            ),
            Some((version, false)) => refuse(
                "to",
                format!(
                    "des heures ont été enregistrées ou décidées depuis le rapport final (version {version}) ; le produire à nouveau avant de clôturer (final report out of date)"
                ),
            ),
            Some((_, true)) => Ok(()),
        },
        G::SignedAgreement if !f.signed_agreement => refuse(
            "to",
            "le chantier n'a pas de conventionnement signé par l'État (no signed State agreement)"
                .into(),
        ),
        G::StartCommitteeHeld if !f.start_committee_held => refuse(
            "to",
            "le comité de pilotage de démarrage n'a pas été tenu (start committee not held)".into(),
        ),
        G::FinalCommitteeHeld if !f.final_committee_held => refuse(
            "to",
            "le comité de pilotage final n'a pas été tenu (final committee not held)".into(),
        ),
        G::PartiesAndAmounts if f.party_count < 2 => refuse(
            "to",
            format!(
                "une convention engage au moins deux parties ; {} renseignée(s) (parties missing)",
                f.party_count
            ),
        ),
        G::PartiesAndAmounts if f.needs_amounts && f.amount_count == 0 => refuse(
            "to",
            "les montants par année de la convention ne sont pas renseignés (amounts missing)"
                .into(),
        ),
        G::StartReached if f.start_date.is_none_or(|s| s > today) => refuse(
            "to",
            format!(
                "la convention commence le {} (not started yet)",
                day(f.start_date)
            ),
        ),
        G::EndPassed if f.end_date.is_none_or(|e| e >= today) => refuse(
            "to",
            format!(
                "la convention court jusqu'au {} inclus (not ended yet)",
                day(f.end_date)
            ),
        ),
        G::RenewalWindowOpen if f.renewal_opens.is_none_or(|o| o > today) => refuse(
            "to",
            format!(
                "le renouvellement s'ouvre le {} (renewal window not open)",
                day(f.renewal_opens)
            ),
        ),
        G::ExitRecorded if !f.exit_recorded => refuse(
            "to",
            "une fin de contrat s'enregistre avec sa sortie (endPlacement) (exit required)".into(),
        ),
        G::ContractRules => match &f.contract {
            Some(v) => Err(v.clone()),
            None => Ok(()),
        },
        G::NoHoursRecorded if f.hours_recorded > 0 => refuse(
            "to",
            format!(
                "{} déclaration(s) d'heures existent : terminez le contrat avec une sortie plutôt que l'annuler (hours recorded)",
                f.hours_recorded
            ),
        ),
        G::DateReached if f.meeting_day.is_none_or(|d| d > today) => refuse(
            "to",
            format!(
                "la réunion est prévue le {} (not held yet)",
                day(f.meeting_day)
            ),
        ),
        G::Minutes if !f.has_minutes => refuse(
            "to",
            "le compte rendu n'est pas enregistré (minutes missing)".into(),
        ),
        G::Reason if f.reason.as_deref().is_none_or(|r| r.trim().is_empty()) => refuse(
            "reason",
            "ce changement doit être motivé (a reason is required)".into(),
        ),
        _ => Ok(()),
    }
}

/// The move from `from` to `to`, if the life cycle has it.
pub fn find(machine: Machine, from: &str, to: &str) -> RuleResult<&'static Move> {
    moves(machine)
        .iter()
        .find(|m| m.from == from && m.to == to)
        .ok_or_else(|| {
            let allowed: Vec<&str> = targets(machine, from);
            RuleViolation::new(
                "to",
                format!(
                    "to : {} {from} ne peut pas passer à {to} ; possibles : {} (transition not allowed)",
                    noun(machine),
                    if allowed.is_empty() {
                        "aucun".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            )
        })
}

/// Every state a move may lead to from `from`.
pub fn targets(machine: Machine, from: &str) -> Vec<&'static str> {
    moves(machine)
        .iter()
        .filter(|m| m.from == from)
        .map(|m| m.to)
        .collect()
}

/// Checks a move and every guard it has.
pub fn check(machine: Machine, from: &str, to: &str, facts: &Facts) -> RuleResult<&'static Move> {
    let m = find(machine, from, to)?;
    for g in m.guards {
        check_guard(*g, facts)?;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChantierStatus, HourStatus, MarketStatus, PlacementStatus};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Every state in the tables is one of the object's states.
    #[test]
    fn tables_name_real_states() {
        let states = |m: Machine| -> Vec<&'static str> {
            match m {
                Machine::Market => MarketStatus::ALL.iter().map(|s| s.as_str()).collect(),
                Machine::Chantier => ChantierStatus::ALL.iter().map(|s| s.as_str()).collect(),
                Machine::Convention => crate::domain::ConventionStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
                Machine::Placement => PlacementStatus::ALL.iter().map(|s| s.as_str()).collect(),
                Machine::HourEntry => HourStatus::ALL.iter().map(|s| s.as_str()).collect(),
                Machine::Commission => crate::domain::CommissionStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
            }
        };
        for &m in Machine::ALL {
            let s = states(m);
            for mv in moves(m) {
                assert!(s.contains(&mv.from), "{m}: {}", mv.from);
                assert!(s.contains(&mv.to), "{m}: {}", mv.to);
            }
        }
    }

    #[test]
    fn only_listed_moves() {
        let f = Facts {
            lot_count: 1,
            ..Default::default()
        };
        assert!(check(Machine::Market, "DRAFT", "PUBLISHED", &f).is_ok());
        assert!(check(Machine::Market, "DRAFT", "IN_PROGRESS", &f).is_err());
        let e = check(Machine::Market, "COMPLETED", "CANCELLED", &f).unwrap_err();
        assert!(e.message.contains("possibles : CLOSED"), "{}", e.message);
        assert!(check(Machine::Market, "CLOSED", "DRAFT", &f).is_err());
    }

    #[test]
    fn award_needs_every_lot_awarded() {
        let mut f = Facts::default();
        assert!(check(Machine::Market, "PUBLISHED", "AWARDED", &f).is_err());
        f.lot_count = 2;
        f.lots_without_awardee = 1;
        assert!(check(Machine::Market, "PUBLISHED", "AWARDED", &f).is_err());
        f.lots_without_awardee = 0;
        assert!(check(Machine::Market, "PUBLISHED", "AWARDED", &f).is_ok());
    }

    #[test]
    fn close_needs_every_entry_reviewed() {
        let mut f = Facts {
            entries_awaiting_review: 1,
            final_report: Some((1, true)),
            ..Default::default()
        };
        assert!(check(Machine::Market, "COMPLETED", "CLOSED", &f).is_err());
        f.entries_awaiting_review = 0;
        assert!(check(Machine::Market, "COMPLETED", "CLOSED", &f).is_ok());
    }

    #[test]
    fn close_needs_a_current_final_report() {
        let mut f = Facts::default();
        let e = check(Machine::Market, "COMPLETED", "CLOSED", &f).unwrap_err();
        assert!(e.message.contains("rapport final"), "{}", e.message);
        f.final_report = Some((2, false));
        let e = check(Machine::Market, "COMPLETED", "CLOSED", &f).unwrap_err();
        assert!(e.message.contains("version 2"), "{}", e.message);
        f.final_report = Some((2, true));
        assert!(check(Machine::Market, "COMPLETED", "CLOSED", &f).is_ok());
    }

    #[test]
    fn a_reason_is_words_not_blanks() {
        let mut f = Facts::default();
        let e = check(Machine::Market, "DRAFT", "CANCELLED", &f).unwrap_err();
        assert_eq!(e.field, "reason");
        f.reason = Some("  ".into());
        assert!(check(Machine::Market, "DRAFT", "CANCELLED", &f).is_err());
        f.reason = Some("infructueux".into());
        assert!(check(Machine::Market, "DRAFT", "CANCELLED", &f).is_ok());
    }

    #[test]
    fn chantier_runs_with_agreement_and_start_committee() {
        let mut f = Facts::default();
        assert!(check(Machine::Chantier, "PROJECT", "AGREED", &f).is_err());
        f.signed_agreement = true;
        assert!(check(Machine::Chantier, "PROJECT", "AGREED", &f).is_ok());
        let e = check(Machine::Chantier, "AGREED", "RUNNING", &f).unwrap_err();
        assert!(e.message.contains("démarrage"));
        f.start_committee_held = true;
        assert!(check(Machine::Chantier, "AGREED", "RUNNING", &f).is_ok());
        assert!(check(Machine::Chantier, "ENDED", "EVALUATED", &f).is_err());
    }

    #[test]
    fn convention_dates_at_their_boundary() {
        let mut f = Facts {
            party_count: 1,
            needs_amounts: true,
            ..Default::default()
        };
        assert!(check(Machine::Convention, "DRAFT", "SUBMITTED", &f).is_err());
        f.party_count = 2;
        assert!(check(Machine::Convention, "SUBMITTED", "SIGNED", &f).is_err());
        f.amount_count = 1;
        assert!(check(Machine::Convention, "SUBMITTED", "SIGNED", &f).is_ok());
        f.start_date = Some(d("2026-03-01"));
        f.end_date = Some(d("2026-12-31"));
        f.renewal_opens = Some(d("2026-10-01"));
        f.today = Some(d("2026-02-28"));
        assert!(check(Machine::Convention, "SIGNED", "ACTIVE", &f).is_err());
        f.today = Some(d("2026-03-01"));
        assert!(check(Machine::Convention, "SIGNED", "ACTIVE", &f).is_ok());
        f.today = Some(d("2026-09-30"));
        assert!(check(Machine::Convention, "ACTIVE", "RENEWAL_DUE", &f).is_err());
        f.today = Some(d("2026-10-01"));
        assert!(check(Machine::Convention, "ACTIVE", "RENEWAL_DUE", &f).is_ok());
        f.today = Some(d("2026-12-31"));
        assert!(check(Machine::Convention, "RENEWAL_DUE", "EXPIRED", &f).is_err());
        f.today = Some(d("2027-01-01"));
        assert!(check(Machine::Convention, "RENEWAL_DUE", "EXPIRED", &f).is_ok());
    }

    #[test]
    fn commission_held_on_its_day_with_minutes() {
        let mut f = Facts {
            meeting_day: Some(d("2026-05-10")),
            today: Some(d("2026-05-09")),
            has_minutes: true,
            ..Default::default()
        };
        assert!(check(Machine::Commission, "PLANNED", "HELD", &f).is_err());
        f.today = Some(d("2026-05-10"));
        assert!(check(Machine::Commission, "PLANNED", "HELD", &f).is_ok());
        f.has_minutes = false;
        assert!(check(Machine::Commission, "PLANNED", "HELD", &f).is_err());
    }

    #[test]
    fn placement_with_hours_ends_rather_than_cancels() {
        let mut f = Facts {
            reason: Some("erreur de saisie".into()),
            hours_recorded: 1,
            ..Default::default()
        };
        assert!(check(Machine::Placement, "ACTIVE", "CANCELLED", &f).is_err());
        f.hours_recorded = 0;
        assert!(check(Machine::Placement, "ACTIVE", "CANCELLED", &f).is_ok());
        assert!(check(Machine::Placement, "ACTIVE", "ENDED", &f).is_err());
        f.exit_recorded = true;
        assert!(check(Machine::Placement, "ACTIVE", "ENDED", &f).is_ok());
    }
}
