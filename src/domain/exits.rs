//! Exits (sorties): the State's classification and the dynamic-exit rate (DOMAIN.md section 2).

use chrono::NaiveDate;

use super::dates::add_months;
use super::params::{ParamKey, ParamSet};
use super::{ExitCategory, ExitOutcome, RuleResult, RuleViolation};

pub fn category(o: ExitOutcome) -> ExitCategory {
    use ExitOutcome::*;
    match o {
        Cdi | CddOver6Months | InterimOver6Months | BusinessCreation | CivilService => {
            ExitCategory::DurableEmployment
        }
        CddUnder6Months | InterimUnder6Months | SubsidisedContract | WorkStudy => {
            ExitCategory::TransitionEmployment
        }
        QualifyingTraining | OtherSiaeHire | OtherPositive => ExitCategory::PositiveExit,
        Abandonment | NoSolution | MovedAway | Health | Other => ExitCategory::Other,
    }
}

pub fn is_dynamic(c: ExitCategory) -> bool {
    c != ExitCategory::Other
}

/// An exit claimed as positive without being one of the listed outcomes needs its reason.
pub fn check_justification(o: ExitOutcome, justification: Option<&str>) -> RuleResult {
    if o == ExitOutcome::OtherPositive && justification.is_none_or(|j| j.trim().is_empty()) {
        return Err(RuleViolation::new(
            "justification",
            "justification : une sortie « autre positive » se justifie (required for OTHER_POSITIVE)",
        ));
    }
    Ok(())
}

/// When the situation a year after an exit is to be recorded.
pub fn follow_up_due(exit: NaiveDate, p: &ParamSet) -> NaiveDate {
    add_months(exit, p.int(ParamKey::ExitFollowUpMonths))
}

/// The follow-up is observed once its time has come, and not in the future.
pub fn check_follow_up(
    exit: NaiveDate,
    observed: NaiveDate,
    today: NaiveDate,
    p: &ParamSet,
) -> RuleResult {
    let due = follow_up_due(exit, p);
    if observed < due {
        return Err(RuleViolation::breach(
            "observedOn",
            ParamKey::ExitFollowUpMonths.as_str(),
            format!(
                "{} mois après la sortie, soit le {due}",
                p.int(ParamKey::ExitFollowUpMonths)
            ),
            observed,
            "la situation à un an s'observe un an après la sortie",
        ));
    }
    if observed > today {
        return Err(RuleViolation::new(
            "observedOn",
            format!("observedOn : {observed} est dans le futur"),
        ));
    }
    Ok(())
}

/// Counts of exits by category, and the rate of sorties dynamiques against a target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitCounts {
    pub total: i64,
    pub durable: i64,
    pub transition: i64,
    pub positive: i64,
    pub other: i64,
    pub abandonments: i64,
}

impl ExitCounts {
    pub fn add(&mut self, o: ExitOutcome) {
        self.total += 1;
        match category(o) {
            ExitCategory::DurableEmployment => self.durable += 1,
            ExitCategory::TransitionEmployment => self.transition += 1,
            ExitCategory::PositiveExit => self.positive += 1,
            ExitCategory::Other => self.other += 1,
        }
        if o == ExitOutcome::Abandonment {
            self.abandonments += 1;
        }
    }

    pub fn dynamic(&self) -> i64 {
        self.durable + self.transition + self.positive
    }

    /// Rate in basis points (rounded down), `None` without exits.
    pub fn dynamic_rate_bp(&self) -> Option<i64> {
        (self.total > 0).then(|| self.dynamic() * 10_000 / self.total)
    }

    /// Whether the rate reaches the target, compared exactly (dynamic / total ≥ target).
    pub fn meets(&self, target_bp: i64) -> Option<bool> {
        (self.total > 0).then(|| self.dynamic() * 10_000 >= target_bp * self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExitOutcome::*;

    #[test]
    fn classification_of_the_seeds() {
        assert_eq!(category(Cdi), ExitCategory::DurableEmployment);
        assert_eq!(
            category(CddUnder6Months),
            ExitCategory::TransitionEmployment
        );
        assert_eq!(category(OtherSiaeHire), ExitCategory::PositiveExit);
        assert_eq!(category(Abandonment), ExitCategory::Other);
        for o in ExitOutcome::ALL {
            assert_eq!(
                is_dynamic(category(*o)),
                !matches!(o, Abandonment | NoSolution | MovedAway | Health | Other)
            );
        }
    }

    #[test]
    fn rate_against_target_at_the_boundary() {
        let mut c = ExitCounts::default();
        for o in [
            Cdi,
            CddUnder6Months,
            QualifyingTraining,
            Abandonment,
            NoSolution,
            NoSolution,
            NoSolution,
            MovedAway,
            Health,
            Other,
        ] {
            c.add(o);
        }
        assert_eq!((c.total, c.dynamic(), c.abandonments), (10, 3, 1));
        assert_eq!(c.dynamic_rate_bp(), Some(3_000));
        assert_eq!(c.meets(2_999), Some(true));
        assert_eq!(c.meets(3_000), Some(true));
        assert_eq!(c.meets(3_001), Some(false));
        assert_eq!(ExitCounts::default().meets(3_000), None);
    }

    #[test]
    fn follow_up_a_year_later_not_in_the_future() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let p = ParamSet::national(d("2026-01-01"));
        let today = d("2028-01-01");
        assert!(check_follow_up(d("2026-11-20"), d("2027-11-19"), today, &p).is_err());
        assert!(check_follow_up(d("2026-11-20"), d("2027-11-20"), today, &p).is_ok());
        assert!(check_follow_up(d("2026-11-20"), d("2028-01-02"), today, &p).is_err());
    }

    #[test]
    fn other_positive_needs_a_reason() {
        assert!(check_justification(OtherPositive, None).is_err());
        assert!(check_justification(OtherPositive, Some("  ")).is_err());
        assert!(check_justification(OtherPositive, Some("permis obtenu")).is_ok());
        assert!(check_justification(Cdi, None).is_ok());
    }
}
