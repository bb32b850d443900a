//! SIRET: 14 digits with a Luhn checksum; La Poste's establishments (SIREN 356000000) use
//! a different rule (sum of digits divisible by 5).

use super::{RuleResult, RuleViolation};

const LA_POSTE_SIREN: &str = "356000000";

/// Normalises (spaces removed) and checks a SIRET.
pub fn check(field: &'static str, raw: &str) -> RuleResult<String> {
    let siret: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if siret.len() != 14 || !siret.chars().all(|c| c.is_ascii_digit()) {
        return Err(RuleViolation::new(
            field,
            format!(
                "{field} : un SIRET compte 14 chiffres, reçu « {raw} » (a SIRET has 14 digits)"
            ),
        ));
    }
    let digits: Vec<u32> = siret.chars().map(|c| c.to_digit(10).unwrap_or(0)).collect();
    let valid = if siret.starts_with(LA_POSTE_SIREN) && siret != "35600000000048" {
        digits.iter().sum::<u32>().is_multiple_of(5)
    } else {
        luhn(&digits)
    };
    if valid {
        Ok(siret)
    } else {
        Err(RuleViolation::new(
            field,
            format!(
                "{field} : le SIRET {siret} est invalide (clé de contrôle) (invalid SIRET checksum)"
            ),
        ))
    }
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_sirets() {
        // Real establishments: a town hall and a company head office.
        assert_eq!(check("siret", "21750001600019").unwrap(), "21750001600019");
        assert_eq!(
            check("siret", "732 829 320 00074").unwrap(),
            "73282932000074"
        );
        // La Poste: sum of digits divisible by 5.
        assert!(check("siret", "35600000049837").is_ok());
        // La Poste's head office follows Luhn.
        assert!(check("siret", "35600000000048").is_ok());
    }

    #[test]
    fn checksum_off_by_one_is_refused() {
        assert!(check("siret", "21750001600018").is_err());
        assert!(check("siret", "21750001600010").is_err());
        assert!(check("siret", "35600000049838").is_err());
    }

    #[test]
    fn wrong_length_or_letters() {
        assert!(check("siret", "2175000160001").is_err());
        assert!(check("siret", "217500016000190").is_err());
        assert!(check("siret", "2175000160001A").is_err());
        assert_eq!(check("siret", "").unwrap_err().field, "siret");
    }
}
