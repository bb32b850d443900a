//! Contract rules of DOMAIN.md section 4: CDDI length and weekly hours, immersions (PMSMP),
//! a chantier's supervision ratio and capacity, and one person's 48-hour week. Each refusal
//! names the rule, its limit and the value that broke it.

use chrono::NaiveDate;

use super::dates::{add_days, age_on, days_inclusive, last_day_of, overlaps};
use super::hours::format_hm as format_hours;
use super::params::{ParamKey as P, ParamSet};
use super::{CddiDerogation, RuleResult, RuleViolation};

/// A span of days; `None` end is open.
pub type Span = (NaiveDate, Option<NaiveDate>);

fn active_on(span: &Span, day: NaiveDate) -> bool {
    span.0 <= day && span.1.is_none_or(|e| day <= e)
}

/// Days where a count over `others` can peak within `new`: its start and every later start.
fn peaks(new: Span, others: &[Span], extra: impl Iterator<Item = NaiveDate>) -> Vec<NaiveDate> {
    let mut points: Vec<NaiveDate> = std::iter::once(new.0)
        .chain(others.iter().map(|o| o.0))
        .chain(extra)
        .filter(|p| *p >= new.0 && new.1.is_none_or(|e| *p <= e))
        .collect();
    points.sort_unstable();
    points.dedup();
    points
}

/// What the CDDI rules need to know about the person and the contract.
#[derive(Debug, Clone, Copy)]
pub struct CddiCase {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub weekly_minutes: i64,
    /// Days of the person's earlier CDDI with the same employer (renewals count together).
    pub prior_days: i64,
    /// Days of the person's later CDDI with the same employer: within the cap too.
    pub later_days: i64,
    pub birth_date: NaiveDate,
    pub disabled_worker: bool,
    pub derogation: Option<CddiDerogation>,
    pub training_end: Option<NaiveDate>,
}

/// Checks a CDDI being started or extended; returns the last day its cap allows.
pub fn check_cddi(c: &CddiCase, p: &ParamSet) -> RuleResult<NaiveDate> {
    let (min_w, max_w) = (p.int(P::CddiMinWeeklyHours), p.int(P::CddiMaxWeeklyHours));
    if c.weekly_minutes < min_w || c.weekly_minutes > max_w {
        let rule = if c.weekly_minutes < min_w {
            P::CddiMinWeeklyHours
        } else {
            P::CddiMaxWeeklyHours
        };
        return Err(RuleViolation::breach(
            "weeklyHours",
            rule.as_str(),
            format!(
                "{} h à {} h par semaine",
                format_hours(min_w),
                format_hours(max_w)
            ),
            format!("{} h", format_hours(c.weekly_minutes)),
            "un CDDI compte entre 20 et 35 heures par semaine",
        ));
    }
    let Some(end) = c.end else {
        return Err(RuleViolation::new(
            "endDate",
            "endDate : un CDDI est un contrat à durée déterminée, sa date de fin est requise (required for a CDDI)",
        ));
    };
    let min_months = p.int(P::CddiMinMonths);
    let earliest = last_day_of(c.start, min_months);
    if end < earliest && c.prior_days == 0 {
        return Err(RuleViolation::breach(
            "endDate",
            P::CddiMinMonths.as_str(),
            format!("{min_months} mois, fin au plus tôt le {earliest}"),
            format!("fin le {end}"),
            "un CDDI dure au moins 4 mois",
        ));
    }
    let counted = c.prior_days + c.later_days;
    let usual_cap = add_days(last_day_of(c.start, p.int(P::CddiMaxMonths)), -counted);
    if end <= usual_cap {
        return Ok(usual_cap);
    }
    let max_months = p.int(P::CddiMaxMonths);
    let Some(derogation) = c.derogation else {
        return Err(RuleViolation::breach(
            "endDate",
            P::CddiMaxMonths.as_str(),
            format!("{max_months} mois renouvellements compris, fin au plus tard le {usual_cap}"),
            format!("fin le {end}"),
            "un CDDI ne dépasse pas sa durée maximale sans dérogation (plus de 50 ans, travailleur handicapé, formation à terminer)",
        ));
    };
    match derogation {
        CddiDerogation::Senior => {
            let age = age_on(c.birth_date, usual_cap);
            let senior = p.int(P::CddiSeniorAge);
            if i64::from(age) < senior {
                return Err(RuleViolation::breach(
                    "derogation",
                    P::CddiSeniorAge.as_str(),
                    format!("{senior} ans au {usual_cap}"),
                    format!("{age} ans"),
                    "la dérogation « plus de 50 ans » demande l'âge requis à la fin de la durée normale",
                ));
            }
        }
        CddiDerogation::DisabledWorker if !c.disabled_worker => {
            return Err(RuleViolation::new(
                "derogation",
                "derogation : la personne n'est pas reconnue travailleur handicapé (public DISABLED_WORKER absent)",
            ));
        }
        CddiDerogation::DisabledWorker => {}
        CddiDerogation::TrainingCompletion => match c.training_end {
            None => {
                return Err(RuleViolation::new(
                    "trainingEndDate",
                    "trainingEndDate : la dérogation « formation à terminer » demande la date de fin de la formation (required)",
                ));
            }
            Some(t) if end > t => {
                return Err(RuleViolation::breach(
                    "endDate",
                    "CDDI_TRAINING_END",
                    format!("fin de la formation le {t}"),
                    format!("fin le {end}"),
                    "prolongé pour une formation, le contrat s'arrête à la fin de celle-ci",
                ));
            }
            Some(_) => {}
        },
    }
    let derog_months = p.int(P::CddiDerogationMaxMonths);
    let cap = add_days(last_day_of(c.start, derog_months), -counted);
    if end > cap {
        return Err(RuleViolation::breach(
            "endDate",
            P::CddiDerogationMaxMonths.as_str(),
            format!("{derog_months} mois par dérogation, fin au plus tard le {cap}"),
            format!("fin le {end}"),
            "même par dérogation, un CDDI a une durée maximale",
        ));
    }
    Ok(cap)
}

/// A placement's weekly hours over its days.
#[derive(Debug, Clone, Copy)]
pub struct WeeklyLoad {
    pub span: Span,
    pub minutes: i64,
}

/// One person's overlapping placements may not exceed the weekly maximum together.
pub fn check_weekly_total(new: WeeklyLoad, others: &[WeeklyLoad], p: &ParamSet) -> RuleResult {
    let max = p.int(P::MaxWeeklyHoursAllPlacements);
    let spans: Vec<Span> = others.iter().map(|o| o.span).collect();
    for day in peaks(new.span, &spans, std::iter::empty()) {
        let total: i64 = new.minutes
            + others
                .iter()
                .filter(|o| active_on(&o.span, day))
                .map(|o| o.minutes)
                .sum::<i64>();
        if total > max {
            return Err(RuleViolation::breach(
                "weeklyHours",
                P::MaxWeeklyHoursAllPlacements.as_str(),
                format!("{} h par semaine", format_hours(max)),
                format!("{} h le {day}", format_hours(total)),
                "les missions de la personne qui se chevauchent dépassent la durée hebdomadaire maximale",
            ));
        }
    }
    Ok(())
}

/// The refusal of a chantier's capacity: `people` on `day` against `capacity` places.
fn over_capacity(
    field: &'static str,
    capacity: i64,
    people: i64,
    day: NaiveDate,
    words: &str,
) -> RuleViolation {
    RuleViolation::breach(
        field,
        "CHANTIER_CAPACITY",
        format!("{capacity} places"),
        format!("{people} participants le {day}"),
        words,
    )
}

/// A chantier's capacity (as edited) holds the people already on it on every day the count can
/// peak (each contract's start).
pub fn check_capacity_holds(placements: &[Span], capacity: i64) -> RuleResult {
    let mut starts: Vec<NaiveDate> = placements.iter().map(|s| s.0).collect();
    starts.sort_unstable();
    starts.dedup();
    for day in starts {
        let people = placements.iter().filter(|s| active_on(s, day)).count() as i64;
        if people > capacity {
            return Err(over_capacity(
                "capacity",
                capacity,
                people,
                day,
                "le chantier a déjà plus de participants ce jour-là",
            ));
        }
    }
    Ok(())
}

/// A chantier can take one more participant over `new` only within its supervision ratio
/// and capacity, on every day the count can peak.
pub fn check_supervision(
    new: Span,
    placements: &[Span],
    supervisors: &[Span],
    capacity: i64,
    p: &ParamSet,
) -> RuleResult {
    let ratio = p.int(P::SupervisionRatio);
    // A supervisor leaving is a day the ratio can break.
    let leaving = supervisors
        .iter()
        .filter_map(|s| s.1.map(|e| add_days(e, 1)));
    for day in peaks(new, placements, leaving) {
        let people = 1 + placements.iter().filter(|s| active_on(s, day)).count() as i64;
        let staff = supervisors.iter().filter(|s| active_on(s, day)).count() as i64;
        if people > capacity {
            return Err(over_capacity(
                "chantierId",
                capacity,
                people,
                day,
                "le chantier est complet",
            ));
        }
        if people > ratio * staff {
            return Err(RuleViolation::breach(
                "chantierId",
                P::SupervisionRatio.as_str(),
                format!(
                    "{ratio} participants par encadrant × {staff} encadrant(s) = {}",
                    ratio * staff
                ),
                format!("{people} participants le {day}"),
                "le taux d'encadrement du chantier serait dépassé ; ajouter un encadrant",
            ));
        }
    }
    Ok(())
}

/// The supervision as edited (a supervisor corrected or removed) still covers the chantier's
/// placements: each is checked as if it came last, so every day a count can peak is tried.
pub fn check_supervision_holds(
    placements: &[Span],
    supervisors: &[Span],
    p: &ParamSet,
) -> RuleResult {
    for (i, span) in placements.iter().enumerate() {
        let others: Vec<Span> = placements
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, o)| *o)
            .collect();
        check_supervision(*span, &others, supervisors, i64::MAX, p).map_err(|mut v| {
            v.field = "supervisorId";
            v
        })?;
    }
    Ok(())
}

/// Immersions (PMSMP) during a contract: each within the contract and at most a month long,
/// none overlapping, and all together within a share of the contract.
pub fn check_immersion(
    contract: Span,
    new: (NaiveDate, NaiveDate),
    existing: &[(NaiveDate, NaiveDate)],
    p: &ParamSet,
) -> RuleResult {
    let (start, end) = new;
    if end < start {
        return Err(RuleViolation::new(
            "endDate",
            format!("endDate : la fin ({end}) précède le début ({start}) (end before start)"),
        ));
    }
    let Some(contract_end) = contract.1 else {
        return Err(RuleViolation::new(
            "placementId",
            "placementId : une immersion se mesure à la durée du contrat ; donner d'abord sa date de fin (contract has no end date)",
        ));
    };
    if start < contract.0 || end > contract_end {
        return Err(RuleViolation::new(
            "startDate",
            format!(
                "startDate : l'immersion ({start} – {end}) doit se tenir pendant le contrat ({} – {contract_end}) (outside the contract)",
                contract.0
            ),
        ));
    }
    let months = p.int(P::ImmersionMaxMonths);
    let longest = last_day_of(start, months);
    if end > longest {
        return Err(RuleViolation::breach(
            "endDate",
            P::ImmersionMaxMonths.as_str(),
            format!("{months} mois, fin au plus tard le {longest}"),
            format!("fin le {end}"),
            "une immersion dure au plus un mois",
        ));
    }
    if let Some((s, e)) = existing
        .iter()
        .find(|(s, e)| overlaps((start, Some(end)), (*s, Some(*e))))
    {
        return Err(RuleViolation::new(
            "startDate",
            format!("startDate : chevauche l'immersion du {s} au {e} (overlaps another immersion)"),
        ));
    }
    let contract_days = days_inclusive(contract.0, contract_end);
    let used: i64 = existing
        .iter()
        .map(|(s, e)| days_inclusive(*s, *e))
        .sum::<i64>()
        + days_inclusive(start, end);
    let share = p.int(P::ImmersionMaxShare);
    // used / contract ≤ share / 10 000, kept in integers.
    if used * 10_000 > share * contract_days {
        return Err(RuleViolation::breach(
            "endDate",
            P::ImmersionMaxShare.as_str(),
            format!(
                "{} % de {contract_days} jours de contrat = {} jours",
                super::params::format(
                    &super::params::def(P::ImmersionMaxShare),
                    &super::params::ParamValue::Int(share)
                ),
                share * contract_days / 10_000
            ),
            format!("{used} jours d'immersion"),
            "les immersions dépasseraient leur part du contrat",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn params() -> ParamSet {
        ParamSet::national(d("2026-01-01"))
    }

    fn cddi(end: &str) -> CddiCase {
        CddiCase {
            start: d("2026-01-01"),
            end: Some(d(end)),
            weekly_minutes: 26 * 60,
            prior_days: 0,
            later_days: 0,
            birth_date: d("1990-01-01"),
            disabled_worker: false,
            derogation: None,
            training_end: None,
        }
    }

    fn rule(r: RuleResult<impl std::fmt::Debug>) -> &'static str {
        r.unwrap_err().breach.expect("a numeric rule").rule
    }

    #[test]
    fn cddi_lasts_four_to_twenty_four_months() {
        let p = params();
        assert_eq!(rule(check_cddi(&cddi("2026-04-29"), &p)), "CDDI_MIN_MONTHS");
        assert!(check_cddi(&cddi("2026-04-30"), &p).is_ok());
        assert_eq!(
            check_cddi(&cddi("2027-12-31"), &p).unwrap(),
            d("2027-12-31")
        );
        assert_eq!(rule(check_cddi(&cddi("2028-01-01"), &p)), "CDDI_MAX_MONTHS");
        // Renewals count together: 31 days already done leaves 30 November 2027.
        let renewed = CddiCase {
            prior_days: 31,
            ..cddi("2027-11-30")
        };
        assert!(check_cddi(&renewed, &p).is_ok());
        let over = CddiCase {
            prior_days: 31,
            ..cddi("2027-12-01")
        };
        assert_eq!(rule(check_cddi(&over, &p)), "CDDI_MAX_MONTHS");
        // A later contract counts the same: the order they are entered in does not matter.
        let before_a_later = CddiCase {
            later_days: 31,
            ..cddi("2027-11-30")
        };
        assert!(check_cddi(&before_a_later, &p).is_ok());
        let over = CddiCase {
            later_days: 31,
            ..cddi("2027-12-01")
        };
        assert_eq!(rule(check_cddi(&over, &p)), "CDDI_MAX_MONTHS");
    }

    #[test]
    fn cddi_weekly_hours_between_twenty_and_thirty_five() {
        let p = params();
        for (h, ok) in [
            (20 * 60 - 1, false),
            (20 * 60, true),
            (35 * 60, true),
            (35 * 60 + 1, false),
        ] {
            let c = CddiCase {
                weekly_minutes: h,
                ..cddi("2026-12-31")
            };
            assert_eq!(check_cddi(&c, &p).is_ok(), ok, "{h} min");
        }
        let c = CddiCase {
            weekly_minutes: 19 * 60 + 59,
            ..cddi("2026-12-31")
        };
        let b = check_cddi(&c, &p).unwrap_err().breach.unwrap();
        assert_eq!(
            (b.rule, b.limit.as_str(), b.value.as_str()),
            (
                "CDDI_MIN_WEEKLY_HOURS",
                "20 h à 35 h par semaine",
                "19:59 h"
            )
        );
    }

    #[test]
    fn derogations_go_beyond_the_cap_for_the_right_people() {
        let p = params();
        let long = |derogation, birth: &str| CddiCase {
            derogation: Some(derogation),
            birth_date: d(birth),
            ..cddi("2028-06-30")
        };
        // 50 on the usual cap date (31 December 2027), not a day later.
        assert!(check_cddi(&long(CddiDerogation::Senior, "1977-12-31"), &p).is_ok());
        assert_eq!(
            rule(check_cddi(&long(CddiDerogation::Senior, "1978-01-01"), &p)),
            "CDDI_SENIOR_AGE"
        );
        assert!(check_cddi(&long(CddiDerogation::DisabledWorker, "1990-01-01"), &p).is_err());
        let disabled = CddiCase {
            disabled_worker: true,
            ..long(CddiDerogation::DisabledWorker, "1990-01-01")
        };
        assert!(check_cddi(&disabled, &p).is_ok());
        let training = |t: &str| CddiCase {
            training_end: Some(d(t)),
            ..long(CddiDerogation::TrainingCompletion, "1990-01-01")
        };
        assert!(check_cddi(&training("2028-06-30"), &p).is_ok());
        assert_eq!(
            rule(check_cddi(&training("2028-06-29"), &p)),
            "CDDI_TRAINING_END"
        );
        // 60 months at most, even so.
        let senior = |end: &str| CddiCase {
            end: Some(d(end)),
            ..long(CddiDerogation::Senior, "1960-01-01")
        };
        assert!(check_cddi(&senior("2030-12-31"), &p).is_ok());
        assert_eq!(
            rule(check_cddi(&senior("2031-01-01"), &p)),
            "CDDI_DEROGATION_MAX_MONTHS"
        );
    }

    #[test]
    fn forty_eight_hours_across_overlapping_placements() {
        let p = params();
        let load = |s: &str, e: Option<&str>, h: i64| WeeklyLoad {
            span: (d(s), e.map(d)),
            minutes: h * 60,
        };
        let others = [
            load("2026-01-01", Some("2026-03-31"), 30),
            load("2026-04-01", None, 40),
        ];
        // 18 h beside the 30 h: 48 h, allowed; then the 40 h placement starts: 58 h.
        assert!(
            check_weekly_total(load("2026-02-01", Some("2026-03-31"), 18), &others, &p).is_ok()
        );
        let e =
            check_weekly_total(load("2026-02-01", Some("2026-04-01"), 9), &others, &p).unwrap_err();
        assert_eq!(e.breach.unwrap().value, "49 h le 2026-04-01");
        assert!(
            check_weekly_total(load("2026-02-01", Some("2026-03-31"), 19), &others, &p).is_err()
        );
    }

    #[test]
    fn twelve_per_supervisor_and_capacity() {
        let p = params();
        let span = |s: &str| (d(s), Some(d("2026-12-31")));
        let eleven: Vec<Span> = (0..11).map(|_| span("2026-01-01")).collect();
        let twelve: Vec<Span> = (0..12).map(|_| span("2026-01-01")).collect();
        let one = [span("2026-01-01")];
        assert!(check_supervision(span("2026-02-01"), &eleven, &one, 30, &p).is_ok());
        assert_eq!(
            rule(check_supervision(span("2026-02-01"), &twelve, &one, 30, &p)),
            "SUPERVISION_RATIO"
        );
        // The supervisor leaves on 30 June: nobody may be on the chantier from 1 July.
        let leaves = [(d("2026-01-01"), Some(d("2026-06-30")))];
        assert!(
            check_supervision(
                (d("2026-02-01"), Some(d("2026-06-30"))),
                &[],
                &leaves,
                30,
                &p
            )
            .is_ok()
        );
        assert!(
            check_supervision(
                (d("2026-02-01"), Some(d("2026-07-01"))),
                &[],
                &leaves,
                30,
                &p
            )
            .is_err()
        );
        assert_eq!(
            rule(check_supervision(span("2026-02-01"), &eleven, &one, 11, &p)),
            "CHANTIER_CAPACITY"
        );
        assert!(check_supervision(span("2026-02-01"), &eleven, &one, 12, &p).is_ok());
    }

    #[test]
    fn immersions_a_month_each_and_a_quarter_of_the_contract() {
        let p = params();
        // 1 January – 30 April 2026: 120 days, so 30 days of immersion.
        let contract = (d("2026-01-01"), Some(d("2026-04-30")));
        let im = |s: &str, e: &str| (d(s), d(e));
        assert!(check_immersion(contract, im("2026-02-01", "2026-02-28"), &[], &p).is_ok());
        let year = (d("2026-01-01"), Some(d("2026-12-31")));
        assert!(check_immersion(year, im("2026-01-10", "2026-02-09"), &[], &p).is_ok());
        assert_eq!(
            rule(check_immersion(
                year,
                im("2026-01-10", "2026-02-10"),
                &[],
                &p
            )),
            "IMMERSION_MAX_MONTHS"
        );
        let first = [im("2026-01-05", "2026-01-24")]; // 20 days
        assert!(check_immersion(contract, im("2026-03-01", "2026-03-10"), &first, &p).is_ok()); // 30
        assert_eq!(
            rule(check_immersion(
                contract,
                im("2026-03-01", "2026-03-11"),
                &first,
                &p
            )),
            "IMMERSION_MAX_SHARE"
        );
        assert!(check_immersion(contract, im("2026-01-20", "2026-01-25"), &first, &p).is_err());
        assert!(check_immersion(contract, im("2026-04-25", "2026-05-02"), &[], &p).is_err());
        assert!(
            check_immersion(
                (d("2026-01-01"), None),
                im("2026-02-01", "2026-02-02"),
                &[],
                &p
            )
            .is_err()
        );
    }

    #[test]
    fn supervision_still_covers_the_placements_after_an_edit() {
        let p = params(); // 12 participants per supervisor
        let twelve: Vec<Span> = (0..12)
            .map(|_| (d("2026-03-01"), Some(d("2026-06-30"))))
            .collect();
        let one = [(d("2026-03-01"), None)];
        assert!(check_supervision_holds(&twelve, &one, &p).is_ok());
        // Thirteen people: one supervisor is one short, on the day the thirteenth starts.
        let mut thirteen = twelve.clone();
        thirteen.push((d("2026-05-01"), Some(d("2026-05-31"))));
        let e = check_supervision_holds(&thirteen, &one, &p).unwrap_err();
        assert_eq!(e.field, "supervisorId");
        assert!(e.message.contains("2026-05-01"), "{}", e.message);
        // The supervisor leaving the day before the last contract ends: one day uncovered.
        let leaves = [(d("2026-03-01"), Some(d("2026-06-29")))];
        assert!(check_supervision_holds(&twelve, &leaves, &p).is_err());
        let stays = [(d("2026-03-01"), Some(d("2026-06-30")))];
        assert!(check_supervision_holds(&twelve, &stays, &p).is_ok());
        // Starting a day after the first contract.
        let late = [(d("2026-03-02"), None)];
        assert!(check_supervision_holds(&twelve, &late, &p).is_err());
    }

    #[test]
    fn a_capacity_holds_the_people_present_on_each_day() {
        // Two overlap from 1 April; a third starts after the first has left.
        let spans = [
            (d("2026-03-01"), Some(d("2026-04-30"))),
            (d("2026-04-01"), None),
            (d("2026-05-01"), Some(d("2026-06-30"))),
        ];
        assert!(check_capacity_holds(&spans, 2).is_ok());
        let e = check_capacity_holds(&spans, 1).unwrap_err();
        let b = e.breach.unwrap();
        assert_eq!(e.field, "capacity");
        assert_eq!(
            (b.rule, b.limit.as_str(), b.value.as_str()),
            (
                "CHANTIER_CAPACITY",
                "1 places",
                "2 participants le 2026-04-01"
            )
        );
        // The last day of one and the first of another count together.
        let touching = [
            (d("2026-03-01"), Some(d("2026-04-01"))),
            (d("2026-04-01"), Some(d("2026-04-02"))),
        ];
        assert!(check_capacity_holds(&touching, 1).is_err());
        let apart = [
            (d("2026-03-01"), Some(d("2026-03-31"))),
            (d("2026-04-01"), Some(d("2026-04-02"))),
        ];
        assert!(check_capacity_holds(&apart, 1).is_ok());
        assert!(check_capacity_holds(&[], 1).is_ok());
    }
}
