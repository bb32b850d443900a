//! A chantier's budget (DOMAIN.md section 7) and its funding caps (section 4).

use chrono::{Datelike, NaiveDate};

use super::params::{ParamKey as P, ParamSet, ParamValue, def, format};
use super::{
    BudgetCategory, ChantierKind, FunderCategory, FundingPurpose, RuleResult, RuleViolation,
};

/// Whether a category is a charge (else a product), as the model budget sorts them.
pub fn is_charge(c: BudgetCategory) -> bool {
    use BudgetCategory::*;
    !matches!(
        c,
        ContractLegalAid
            | ContractRemainderCommune
            | ContractRemainderDepartement
            | ContractRemainderRegion
            | ContractRemainderAssociation
            | ContractRemainderOther
            | TrainingAccompanimentFunding
            | OwnFundsDues
            | CommercialRevenue
            | PublicSubsidy
            | OtherProduct
    )
}

/// Budgets and funding lines are for the calendar years the chantier runs.
pub fn check_year(year: i32, first: i32, last: i32) -> RuleResult {
    if year < first || year > last {
        return Err(RuleViolation::new(
            "year",
            format!(
                "year : le chantier court de {first} à {last} ; {year} est hors de ses dates (outside the chantier's years)"
            ),
        ));
    }
    Ok(())
}

/// Amounts as "12 345,67 €".
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let whole = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02} €", c % 100)
}

fn percent(bp: i64) -> String {
    format!(
        "{} %",
        format(&def(P::DynamicExitTarget), &ParamValue::Int(bp))
    )
}

/// `part / whole` in basis points, rounded down; 0 for an empty whole.
pub fn share_bp(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        ((part as i128 * 10_000) / whole as i128) as i64
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSummary {
    pub charges: i64,
    pub products: i64,
    pub commercial_share_bp: i64,
    pub unforeseen_share_bp: i64,
    pub equipment: i64,
    /// Rules that warn without refusing.
    pub warnings: Vec<String>,
}

/// Checks a derogation's share: above the ordinary cap (it raises it), at most the derogation's
/// limit (50 % by default: "dans la limite de 50 %", Code du travail art. D5132-34).
pub fn check_derogation_share(share_bp: i64, p: &ParamSet) -> RuleResult {
    let (cap, limit) = (
        p.int(P::CommercialRevenueMaxShare),
        p.int(P::CommercialRevenueDerogationShare),
    );
    if share_bp <= cap || share_bp > limit {
        return Err(RuleViolation::new(
            "shareBp",
            format!(
                "shareBp : une dérogation relève la part des recettes commerciales au-delà de {} et au plus à {} ({} reçu) (share out of range)",
                percent(cap),
                percent(limit),
                percent(share_bp)
            ),
        ));
    }
    Ok(())
}

/// Checks a budget: positive lines, balanced, commercial revenue within its cap (or the
/// derogation's share, when one is recorded); the unforeseen line away from its share is only a
/// warning.
pub fn check_budget(
    lines: &[(BudgetCategory, i64)],
    derogation: Option<i64>,
    p: &ParamSet,
) -> RuleResult<BudgetSummary> {
    if lines.is_empty() {
        return Err(RuleViolation::new(
            "lines",
            "lines : un budget a des lignes (empty budget)",
        ));
    }
    if let Some((i, _)) = lines.iter().enumerate().find(|(_, (_, a))| *a <= 0) {
        return Err(RuleViolation::new(
            "lines",
            format!("lines[{i}].amountCents : un montant de budget est positif (must be positive)"),
        ));
    }
    let sum = |f: &dyn Fn(BudgetCategory) -> bool| -> i64 {
        lines.iter().filter(|(c, _)| f(*c)).map(|(_, a)| a).sum()
    };
    let charges = sum(&|c| is_charge(c));
    let products = sum(&|c| !is_charge(c));
    if charges != products {
        return Err(RuleViolation::breach(
            "lines",
            "BUDGET_BALANCE",
            format!("charges = produits = {}", euros(charges)),
            format!(
                "produits {} (écart {})",
                euros(products),
                euros(products - charges)
            ),
            "le budget doit être équilibré",
        ));
    }
    // Code du travail art. D5132-34: receipts "ne peuvent couvrir qu'une part inférieure à 30 %
    // des charges liées à ces activités": strictly under the cap, of the charges. "Cette part
    // peut être augmentée sur décision du préfet, dans la limite de 50 %": the part raised is
    // still "une part inférieure à", so strictly under the decision's share too (the decree of
    // 15 September 2006 that made the rule said "sans pouvoir atteindre 50 %"). Exact integers.
    let commercial = sum(&|c| c == BudgetCategory::CommercialRevenue);
    let commercial_share_bp = share_bp(commercial, charges);
    let (rule, limit) = match derogation {
        Some(share) => (
            P::CommercialRevenueDerogationShare,
            share
                .max(p.int(P::CommercialRevenueMaxShare))
                .min(p.int(P::CommercialRevenueDerogationShare)),
        ),
        None => (
            P::CommercialRevenueMaxShare,
            p.int(P::CommercialRevenueMaxShare),
        ),
    };
    if commercial as i128 * 10_000 >= limit as i128 * charges as i128 {
        return Err(RuleViolation::breach(
            "lines",
            rule.as_str(),
            format!("moins de {} des charges", percent(limit)),
            format!("{} ({})", percent(commercial_share_bp), euros(commercial)),
            if derogation.is_some() {
                "les recettes commerciales d'un ACI restent sous la part que permet la dérogation du préfet (art. D5132-34)"
            } else {
                "les recettes commerciales d'un ACI couvrent moins de 30 % de ses charges, jusqu'à 50 % par dérogation du préfet enregistrée sur le chantier (art. D5132-34)"
            },
        ));
    }
    let unforeseen = sum(&|c| c == BudgetCategory::Unforeseen);
    let unforeseen_share_bp = share_bp(unforeseen, charges);
    let (target, tolerance) = (p.int(P::UnforeseenShare), p.int(P::UnforeseenTolerance));
    let mut warnings = Vec::new();
    // |unforeseen / charges − target| > tolerance, in exact integers.
    let gap = (unforeseen as i128 * 10_000 - target as i128 * charges as i128).abs();
    if gap > tolerance as i128 * charges as i128 {
        warnings.push(format!(
            "UNFORESEEN_SHARE : la ligne « imprévus » fait {} des charges ({}), loin des {} attendus (± {})",
            percent(unforeseen_share_bp),
            euros(unforeseen),
            percent(target),
            percent(tolerance)
        ));
    }
    Ok(BudgetSummary {
        charges,
        products,
        commercial_share_bp,
        unforeseen_share_bp,
        equipment: sum(&|c| c == BudgetCategory::Equipment),
        warnings,
    })
}

/// Collectivités (for the equipment rule).
pub fn is_collectivite(f: FunderCategory) -> bool {
    matches!(
        f,
        FunderCategory::Departement
            | FunderCategory::Region
            | FunderCategory::Commune
            | FunderCategory::Epci
    )
}

/// A funding line as the caps see it.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub funder: FunderCategory,
    pub purpose: FundingPurpose,
    pub year: i32,
    pub amount: i64,
}

/// What the caps need about the chantier.
#[derive(Debug, Clone, Copy)]
pub struct FundedChantier {
    pub kind: ChantierKind,
    pub first_year: i32,
    pub last_year: i32,
    pub capacity: i64,
    /// EQUIPMENT charges of the current budget of the line's year.
    pub equipment: i64,
}

fn over(field: &'static str, rule: P, limit: i64, total: i64, words: &str) -> RuleViolation {
    RuleViolation::breach(field, rule.as_str(), euros(limit), euros(total), words)
}

/// Checks a new funding line against the caps, given the chantier's other active lines and
/// the accompaniment lines of the carrier's other chantiers.
pub fn check_funding(
    new: Line,
    chantier: FundedChantier,
    lines: &[Line],
    carrier_lines: &[Line],
    p: &ParamSet,
) -> RuleResult {
    use FundingPurpose as F;
    if new.amount <= 0 {
        return Err(RuleViolation::new(
            "amountCents",
            "amountCents : un financement est positif (must be positive)",
        ));
    }
    check_year(new.year, chantier.first_year, chantier.last_year)?;
    let expected = match new.purpose {
        F::AcseRenovation => Some(FunderCategory::Acse),
        F::Accompaniment | F::StartupAid => Some(FunderCategory::State),
        F::DepartementCall => Some(FunderCategory::Departement),
        _ => None,
    };
    if let Some(e) = expected
        && e != new.funder
    {
        return Err(RuleViolation::new(
            "funderCategory",
            format!(
                "funderCategory : {} est un financement de {e}, pas de {} (funder does not match the purpose)",
                new.purpose, new.funder
            ),
        ));
    }
    let total = |purpose: F, same_year: bool| -> i64 {
        new.amount
            + lines
                .iter()
                .filter(|l| l.purpose == purpose && (!same_year || l.year == new.year))
                .map(|l| l.amount)
                .sum::<i64>()
    };
    match new.purpose {
        F::AcseRenovation => {
            if chantier.kind != ChantierKind::Renovation {
                return Err(RuleViolation::new(
                    "purpose",
                    "purpose : la subvention ACSé finance les chantiers d'insertion rénovation (kind RENOVATION)",
                ));
            }
            let index = i64::from(new.year - chantier.first_year + 1);
            let years = p.int(P::AcseRenovationYears);
            if index > years {
                return Err(RuleViolation::breach(
                    "year",
                    P::AcseRenovationYears.as_str(),
                    format!("{years} années"),
                    format!("année {index}"),
                    "l'ACSé ne finance le chantier que ses premières années",
                ));
            }
            let (rule, cap) = if index == 1 {
                (P::AcseRenovationYear1Cap, p.int(P::AcseRenovationYear1Cap))
            } else {
                (P::AcseRenovationLaterCap, p.int(P::AcseRenovationLaterCap))
            };
            let sum = total(new.purpose, true);
            if sum > cap {
                return Err(over(
                    "amountCents",
                    rule,
                    cap,
                    sum,
                    &format!("subvention ACSé de l'année {index} du chantier au-delà du plafond"),
                ));
            }
        }
        F::Accompaniment => {
            let cap = p.int(P::AccompanimentCapPerAci);
            let sum = total(new.purpose, true);
            if sum > cap {
                return Err(over(
                    "amountCents",
                    P::AccompanimentCapPerAci,
                    cap,
                    sum,
                    "aide à l'accompagnement de ce chantier pour l'année au-delà du plafond",
                ));
            }
            let carrier_cap = p.int(P::AccompanimentCapPerCarrier);
            let carrier_sum = sum
                + carrier_lines
                    .iter()
                    .filter(|l| l.purpose == F::Accompaniment && l.year == new.year)
                    .map(|l| l.amount)
                    .sum::<i64>();
            if carrier_sum > carrier_cap {
                return Err(over(
                    "amountCents",
                    P::AccompanimentCapPerCarrier,
                    carrier_cap,
                    carrier_sum,
                    "aide à l'accompagnement de la structure porteuse, tous ACI confondus, au-delà du plafond",
                ));
            }
        }
        F::StartupAid => {
            let cap = p.int(P::StartupAidCap);
            let sum = total(new.purpose, false);
            if sum > cap {
                return Err(over(
                    "amountCents",
                    P::StartupAidCap,
                    cap,
                    sum,
                    "aide au démarrage au-delà du plafond",
                ));
            }
        }
        F::DepartementCall => {
            let cap = p.int(P::DepartementCallCap)
                + p.int(P::DepartementCallPerPerson) * chantier.capacity;
            let sum = total(new.purpose, true);
            if sum > cap {
                return Err(RuleViolation::breach(
                    "amountCents",
                    P::DepartementCallCap.as_str(),
                    format!(
                        "{} + {} × {} places = {}",
                        euros(p.int(P::DepartementCallCap)),
                        euros(p.int(P::DepartementCallPerPerson)),
                        chantier.capacity,
                        euros(cap)
                    ),
                    euros(sum),
                    "appel à projets du Département au-delà du plafond",
                ));
            }
        }
        F::Equipment if is_collectivite(new.funder) => {
            let share = p.int(P::EquipmentCollectiviteMaxShare);
            let sum = new.amount
                + lines
                    .iter()
                    .filter(|l| {
                        l.purpose == F::Equipment && l.year == new.year && is_collectivite(l.funder)
                    })
                    .map(|l| l.amount)
                    .sum::<i64>();
            // sum ≤ share × equipment, exactly.
            if sum as i128 * 10_000 > share as i128 * chantier.equipment as i128 {
                return Err(RuleViolation::breach(
                    "amountCents",
                    P::EquipmentCollectiviteMaxShare.as_str(),
                    format!(
                        "{} de {} d'équipement au budget {}",
                        percent(share),
                        euros(chantier.equipment),
                        new.year
                    ),
                    euros(sum),
                    "les collectivités paieraient plus que leur part de l'équipement",
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Places at once: from 1 to 500 (at creation and at each edit).
pub fn check_capacity(capacity: i32) -> RuleResult {
    if !(1..=500).contains(&capacity) {
        return Err(RuleViolation::new(
            "capacity",
            format!("capacity : entre 1 et 500 places, reçu {capacity}"),
        ));
    }
    Ok(())
}

/// What already hangs on a chantier's dates.
#[derive(Debug, Clone, Default)]
pub struct DatedDependents {
    /// Contracts on it that are not cancelled: (reference, start).
    pub placements: Vec<(String, NaiveDate)>,
    /// Supervisors: (name, start).
    pub supervisors: Vec<(String, NaiveDate)>,
    /// Years of its budgets and active funding lines.
    pub years: Vec<i32>,
    /// First and last day of the hours declared on its contracts.
    pub first_hour: Option<NaiveDate>,
    pub last_hour: Option<NaiveDate>,
}

/// New dates of a chantier must still hold what it has: every contract and supervisor starts
/// within them (as at their creation), every budget and funding year is one of its years, and
/// no declared hour falls outside them.
pub fn check_dates_hold(start: NaiveDate, end: NaiveDate, has: &DatedDependents) -> RuleResult {
    let outside = |day: NaiveDate| -> Option<&'static str> {
        if day < start {
            Some("startDate")
        } else if day > end {
            Some("endDate")
        } else {
            None
        }
    };
    for (reference, day) in &has.placements {
        if let Some(field) = outside(*day) {
            return Err(RuleViolation::new(
                field,
                format!(
                    "{field} : le contrat {reference} commence le {day}, hors du {start} – {end} ; un contrat du chantier commence pendant le chantier (a placement starts outside)"
                ),
            ));
        }
    }
    for (name, day) in &has.supervisors {
        if let Some(field) = outside(*day) {
            return Err(RuleViolation::new(
                field,
                format!(
                    "{field} : l'encadrant {name} commence le {day}, hors du {start} – {end} (a supervisor starts outside)"
                ),
            ));
        }
    }
    if let Some(year) = has
        .years
        .iter()
        .find(|y| **y < start.year() || **y > end.year())
    {
        let field = if *year < start.year() {
            "startDate"
        } else {
            "endDate"
        };
        return Err(RuleViolation::new(
            field,
            format!(
                "{field} : un budget ou un financement porte sur {year}, hors des années {} – {} du chantier (budget or funding outside)",
                start.year(),
                end.year()
            ),
        ));
    }
    if let Some(first) = has.first_hour
        && first < start
    {
        return Err(RuleViolation::new(
            "startDate",
            format!(
                "startDate : des heures sont déclarées sur le chantier dès le {first} (hours declared before)"
            ),
        ));
    }
    if let Some(last) = has.last_hour
        && last > end
    {
        return Err(RuleViolation::new(
            "endDate",
            format!(
                "endDate : des heures sont déclarées sur le chantier jusqu'au {last} (hours declared after)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use BudgetCategory as B;

    fn p() -> ParamSet {
        ParamSet::national("2026-01-01".parse().unwrap())
    }

    fn rule<T: std::fmt::Debug>(r: RuleResult<T>) -> &'static str {
        r.unwrap_err().breach.expect("numeric rule").rule
    }

    #[test]
    fn categories_know_their_side() {
        assert!(is_charge(B::WorkClothes));
        assert!(is_charge(B::OtherCharge));
        assert!(!is_charge(B::ContractLegalAid));
        assert!(!is_charge(B::CommercialRevenue));
        // The model budget: 24 charge lines, 11 product lines.
        assert_eq!(B::ALL.iter().filter(|c| is_charge(**c)).count(), 24);
    }

    /// 100 000 € of charges with 5 000 € unforeseen, balanced by aid and `commercial` revenue.
    fn budget(commercial: i64, unforeseen: i64) -> Vec<(B, i64)> {
        [
            (B::InsertionPay, 10_000_000 - unforeseen),
            (B::Unforeseen, unforeseen),
            (B::ContractLegalAid, 10_000_000 - commercial),
            (B::CommercialRevenue, commercial),
        ]
        .into_iter()
        .filter(|(_, a)| *a > 0)
        .collect()
    }

    #[test]
    fn budget_balances() {
        let mut lines = budget(0, 500_000);
        assert!(check_budget(&lines, None, &p()).is_ok());
        lines[0].1 += 1;
        let b = check_budget(&lines, None, &p())
            .unwrap_err()
            .breach
            .unwrap();
        assert_eq!(b.rule, "BUDGET_BALANCE");
        assert!(b.value.contains("-0,01 €"), "{}", b.value);
        assert!(check_budget(&[(B::Taxes, 0)], None, &p()).is_err());
    }

    #[test]
    fn commercial_revenue_strictly_under_thirty_then_fifty_percent_of_charges() {
        // 100 000 € of charges: 29 999,99 € is under 30 %, 30 000 € is not (D5132-34).
        assert!(check_budget(&budget(2_999_999, 500_000), None, &p()).is_ok());
        assert_eq!(
            rule(check_budget(&budget(3_000_000, 500_000), None, &p())),
            "COMMERCIAL_REVENUE_MAX_SHARE"
        );
        let derogation = Some(5_000);
        assert!(check_budget(&budget(3_000_000, 500_000), derogation, &p()).is_ok());
        assert!(check_budget(&budget(4_999_999, 500_000), derogation, &p()).is_ok());
        for over in [5_000_000, 5_000_001] {
            assert_eq!(
                rule(check_budget(&budget(over, 500_000), derogation, &p())),
                "COMMERCIAL_REVENUE_DEROGATION_SHARE"
            );
        }
        // A decision at 40 %: under 40 %.
        assert!(check_budget(&budget(3_999_999, 500_000), Some(4_000), &p()).is_ok());
        assert!(check_budget(&budget(4_000_000, 500_000), Some(4_000), &p()).is_err());
    }

    #[test]
    fn the_base_is_the_charges() {
        // 20 000 € of receipts on 100 000 € of charges is 20 %, whatever else the products hold.
        let s = check_budget(&budget(2_000_000, 500_000), None, &p()).unwrap();
        assert_eq!(s.commercial_share_bp, 2_000);
        assert_eq!(s.charges, 10_000_000);
    }

    #[test]
    fn derogation_share_between_the_two_caps() {
        assert!(check_derogation_share(3_000, &p()).is_err());
        assert!(check_derogation_share(3_001, &p()).is_ok());
        assert!(check_derogation_share(5_000, &p()).is_ok());
        assert!(check_derogation_share(5_001, &p()).is_err());
    }

    #[test]
    fn unforeseen_near_five_percent_warns_only() {
        let warn = |u| {
            check_budget(&budget(0, u), None, &p())
                .unwrap()
                .warnings
                .len()
        };
        assert_eq!(warn(399_999), 1);
        assert_eq!(warn(400_000), 0);
        assert_eq!(warn(600_000), 0);
        assert_eq!(warn(600_001), 1);
    }

    fn chantier() -> FundedChantier {
        FundedChantier {
            kind: ChantierKind::Renovation,
            first_year: 2026,
            last_year: 2029,
            capacity: 12,
            equipment: 2_000_000,
        }
    }

    fn line(funder: FunderCategory, purpose: FundingPurpose, year: i32, euros: i64) -> Line {
        Line {
            funder,
            purpose,
            year,
            amount: euros * 100,
        }
    }

    #[test]
    fn acse_fifty_thousand_then_thirty_for_three_years() {
        use FunderCategory::Acse;
        use FundingPurpose::AcseRenovation as A;
        let c = chantier();
        let prior = [line(Acse, A, 2026, 20_000)];
        assert!(check_funding(line(Acse, A, 2026, 30_000), c, &prior, &[], &p()).is_ok());
        assert_eq!(
            rule(check_funding(
                Line {
                    amount: 3_000_001,
                    ..line(Acse, A, 2026, 0)
                },
                c,
                &prior,
                &[],
                &p()
            )),
            "ACSE_RENOVATION_YEAR1_CAP"
        );
        assert!(check_funding(line(Acse, A, 2027, 30_000), c, &prior, &[], &p()).is_ok());
        assert_eq!(
            rule(check_funding(
                line(Acse, A, 2028, 30_001),
                c,
                &prior,
                &[],
                &p()
            )),
            "ACSE_RENOVATION_LATER_CAP"
        );
        assert_eq!(
            rule(check_funding(line(Acse, A, 2029, 1), c, &prior, &[], &p())),
            "ACSE_RENOVATION_YEARS"
        );
        assert!(check_funding(line(FunderCategory::State, A, 2026, 1), c, &[], &[], &p()).is_err());
        let aci = FundedChantier {
            kind: ChantierKind::Aci,
            ..c
        };
        assert!(check_funding(line(Acse, A, 2026, 1), aci, &[], &[], &p()).is_err());
        assert!(check_funding(line(Acse, A, 2030, 1), c, &[], &[], &p()).is_err());
    }

    #[test]
    fn accompaniment_per_aci_and_per_carrier() {
        use FunderCategory::State;
        use FundingPurpose::Accompaniment as A;
        let c = chantier();
        assert!(check_funding(line(State, A, 2026, 15_000), c, &[], &[], &p()).is_ok());
        assert_eq!(
            rule(check_funding(
                line(State, A, 2026, 15_001),
                c,
                &[],
                &[],
                &p()
            )),
            "ACCOMPANIMENT_CAP_PER_ACI"
        );
        let others = [
            line(State, A, 2026, 15_000),
            line(State, A, 2026, 15_000),
            line(State, A, 2025, 15_000),
        ];
        assert!(check_funding(line(State, A, 2026, 15_000), c, &[], &others, &p()).is_ok());
        let more = [
            line(State, A, 2026, 15_000),
            line(State, A, 2026, 15_000),
            line(State, A, 2026, 1),
        ];
        assert_eq!(
            rule(check_funding(
                line(State, A, 2026, 15_000),
                c,
                &[],
                &more,
                &p()
            )),
            "ACCOMPANIMENT_CAP_PER_CARRIER"
        );
    }

    #[test]
    fn startup_departement_and_equipment_caps() {
        use FunderCategory::*;
        use FundingPurpose as F;
        let c = chantier();
        let prior = [line(State, F::StartupAid, 2026, 10_000)];
        assert!(
            check_funding(
                line(State, F::StartupAid, 2027, 5_000),
                c,
                &prior,
                &[],
                &p()
            )
            .is_ok()
        );
        assert_eq!(
            rule(check_funding(
                line(State, F::StartupAid, 2027, 5_001),
                c,
                &prior,
                &[],
                &p()
            )),
            "STARTUP_AID_CAP"
        );
        // 30 000 € + 1 000 € × 12 places.
        assert!(
            check_funding(
                line(Departement, F::DepartementCall, 2026, 42_000),
                c,
                &[],
                &[],
                &p()
            )
            .is_ok()
        );
        assert_eq!(
            rule(check_funding(
                line(Departement, F::DepartementCall, 2026, 42_001),
                c,
                &[],
                &[],
                &p()
            )),
            "DEPARTEMENT_CALL_CAP"
        );
        // 50 % of 20 000 € of equipment, for collectivités together; the State is not capped.
        let commune = [line(Commune, F::Equipment, 2026, 6_000)];
        assert!(
            check_funding(
                line(Region, F::Equipment, 2026, 4_000),
                c,
                &commune,
                &[],
                &p()
            )
            .is_ok()
        );
        assert_eq!(
            rule(check_funding(
                line(Region, F::Equipment, 2026, 4_001),
                c,
                &commune,
                &[],
                &p()
            )),
            "EQUIPMENT_COLLECTIVITE_MAX_SHARE"
        );
        assert!(
            check_funding(
                line(State, F::Equipment, 2026, 20_000),
                c,
                &commune,
                &[],
                &p()
            )
            .is_ok()
        );
    }

    #[test]
    fn euros_are_written_the_french_way() {
        assert_eq!(euros(5_000_000), "50\u{202f}000,00 €");
        assert_eq!(euros(-1), "-0,01 €");
    }

    #[test]
    fn capacity_is_one_to_five_hundred() {
        for (c, ok) in [(0, false), (1, true), (500, true), (501, false)] {
            assert_eq!(check_capacity(c).is_ok(), ok, "{c}");
        }
        assert_eq!(check_capacity(0).unwrap_err().field, "capacity");
    }

    #[test]
    fn new_dates_hold_contracts_supervisors_years_and_hours() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let has = DatedDependents {
            placements: vec![("P-1".into(), d("2026-03-01"))],
            supervisors: vec![("Jean".into(), d("2026-02-01"))],
            years: vec![2026, 2027],
            first_hour: Some(d("2026-03-01")),
            last_hour: Some(d("2027-03-31")),
        };
        let field = |s: &str, e: &str| {
            check_dates_hold(d(s), d(e), &has)
                .err()
                .map(|v| (v.field, v.message))
        };
        // At every bound: holds.
        assert!(field("2026-02-01", "2027-03-31").is_none());
        // The supervisor's start, one day after.
        let (f, m) = field("2026-02-02", "2027-12-31").unwrap();
        assert_eq!(f, "startDate");
        assert!(m.contains("Jean"), "{m}");
        // The contract's start, past the new end.
        let (f, m) = field("2026-01-01", "2026-02-28").unwrap();
        assert_eq!(f, "endDate");
        assert!(m.contains("P-1"), "{m}");
        // Hours declared to the end of March 2027.
        let (f, m) = field("2026-01-01", "2027-03-30").unwrap();
        assert_eq!(f, "endDate");
        assert!(m.contains("heures"), "{m}");
        // A budget year the dates no longer cover.
        let years = DatedDependents {
            years: vec![2025],
            ..Default::default()
        };
        let e = check_dates_hold(d("2026-01-01"), d("2026-12-31"), &years).unwrap_err();
        assert_eq!(e.field, "startDate");
        let hours_before = DatedDependents {
            first_hour: Some(d("2025-12-01")),
            ..Default::default()
        };
        let e = check_dates_hold(d("2026-01-01"), d("2026-12-31"), &hours_before).unwrap_err();
        assert_eq!(e.field, "startDate");
    }
}
