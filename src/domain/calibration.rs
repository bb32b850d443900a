//! Calibrage: the hour target proposed for a market,
//! `hours = amount × labour share × insertion rate ÷ loaded hourly cost`.

use super::{RuleResult, RuleViolation};

/// Inputs of the formula; rates in basis points (5 % = 500), money in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalibrationInput {
    pub amount_cents: i64,
    pub labour_share_bp: i32,
    pub insertion_rate_bp: i32,
    pub hourly_cost_cents: i64,
}

/// Checks the inputs and returns the proposal in minutes, rounded to the nearest whole hour
/// (how buyers write targets; DOMAIN.md's example gives 833 h).
pub fn propose(input: CalibrationInput) -> RuleResult<i64> {
    if input.amount_cents <= 0 {
        return Err(RuleViolation::new(
            "amountCents",
            "amountCents : le montant du marché doit être positif (must be positive)",
        ));
    }
    rate("labourShareBp", input.labour_share_bp)?;
    rate("insertionRateBp", input.insertion_rate_bp)?;
    if !(100..=100_000).contains(&input.hourly_cost_cents) {
        return Err(RuleViolation::new(
            "hourlyCostCents",
            format!(
                "hourlyCostCents : coût horaire chargé entre 1 € et 1 000 €, reçu {} centimes (out of range)",
                input.hourly_cost_cents
            ),
        ));
    }
    // minutes = cents × bp × bp × 60 / (10⁸ × cost): i128 keeps every market amount exact.
    let num = input.amount_cents as i128
        * input.labour_share_bp as i128
        * input.insertion_rate_bp as i128
        * 60;
    let den = 100_000_000i128 * input.hourly_cost_cents as i128;
    let hour = 60 * den;
    let hours = (num + hour / 2) / hour;
    Ok((hours * 60) as i64)
}

fn rate(field: &'static str, bp: i32) -> RuleResult {
    if (1..=10_000).contains(&bp) {
        Ok(())
    } else {
        Err(RuleViolation::new(
            field,
            format!(
                "{field} : un taux entre 0,01 % et 100 % (1 à 10 000 points de base), reçu {bp}"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(amount_euros: i64, labour: i32, rate: i32, cost_euros: i64) -> CalibrationInput {
        CalibrationInput {
            amount_cents: amount_euros * 100,
            labour_share_bp: labour,
            insertion_rate_bp: rate,
            hourly_cost_cents: cost_euros * 100,
        }
    }

    #[test]
    fn domain_example_gives_833_hours() {
        assert_eq!(propose(input(1_000_000, 5_000, 500, 30)).unwrap(), 833 * 60);
    }

    #[test]
    fn rounds_to_nearest_hour() {
        // 1 000 € × 100 % × 100 % ÷ 30 €/h = 33.33 h → 33 h; 1 005 € → 33.5 h → 34 h.
        assert_eq!(propose(input(1_000, 10_000, 10_000, 30)).unwrap(), 33 * 60);
        assert_eq!(propose(input(1_005, 10_000, 10_000, 30)).unwrap(), 34 * 60);
    }

    #[test]
    fn huge_amounts_do_not_overflow() {
        // 2 billion euros of works.
        let m = propose(input(2_000_000_000, 10_000, 10_000, 1)).unwrap();
        assert_eq!(m, 2_000_000_000 * 60);
    }

    #[test]
    fn rate_boundaries() {
        assert!(propose(input(1000, 0, 500, 30)).is_err());
        assert!(propose(input(1000, 1, 500, 30)).is_ok());
        assert!(propose(input(1000, 10_000, 500, 30)).is_ok());
        assert_eq!(
            propose(input(1000, 10_001, 500, 30)).unwrap_err().field,
            "labourShareBp"
        );
        assert_eq!(
            propose(input(0, 5000, 500, 30)).unwrap_err().field,
            "amountCents"
        );
        assert_eq!(
            propose(input(1000, 5000, 500, 0)).unwrap_err().field,
            "hourlyCostCents"
        );
    }
}
