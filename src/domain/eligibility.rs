//! Eligibility of participants (DOMAIN.md sections 2 and 4): criteria with proofs, clause and
//! IAE eligibility (one level-1 criterion, or enough level-2 ones for the kind of structure),
//! validity by who attested it, and the PASS IAE with its extensions and waiting period.

use chrono::NaiveDate;

use super::dates::{add_days, add_months};
use super::params::{ParamKey as P, ParamSet};
use super::{AttesterKind, Criterion, EligibilityScheme, RuleResult, RuleViolation, SiaeSubtype};

/// Level of an IAE criterion: 1 is enough alone; level 2 ones add up.
pub fn level(c: Criterion) -> u8 {
    use Criterion::*;
    match c {
        Rsa | Ass | Aah | VeryLongTermUnemployed => 1,
        _ => 2,
    }
}

/// One criterion and the date of its proof.
#[derive(Debug, Clone, Copy)]
pub struct Proof {
    pub criterion: Criterion,
    pub date: NaiveDate,
}

/// An eligibility being recorded.
#[derive(Debug, Clone)]
pub struct Claim {
    pub scheme: EligibilityScheme,
    pub attester: AttesterKind,
    /// For IAE: the kind of structure that hires.
    pub structure: Option<SiaeSubtype>,
    pub checked_on: NaiveDate,
    pub proofs: Vec<Proof>,
}

fn level2_needed(s: SiaeSubtype, p: &ParamSet) -> Option<(P, i64)> {
    let key = match s {
        SiaeSubtype::Aci => P::IaeLevel2Aci,
        SiaeSubtype::Ei => P::IaeLevel2Ei,
        SiaeSubtype::Etti => P::IaeLevel2Etti,
        SiaeSubtype::Ai => P::IaeLevel2Ai,
        _ => return None,
    };
    Some((key, p.int(key)))
}

/// Checks a claim on `today` and returns the last day it is valid.
pub fn check(claim: &Claim, today: NaiveDate, p: &ParamSet) -> RuleResult<NaiveDate> {
    if claim.checked_on > today {
        return Err(RuleViolation::new(
            "checkedOn",
            format!(
                "checkedOn : {} est dans le futur (in the future)",
                claim.checked_on
            ),
        ));
    }
    let months = p.int(P::ProofMaxAgeMonths);
    // Less than 3 months old: the proof must be after the day 3 months before the check.
    let too_old = add_months(claim.checked_on, -months);
    for (i, proof) in claim.proofs.iter().enumerate() {
        if proof.date > claim.checked_on {
            return Err(RuleViolation::new(
                "proofs",
                format!(
                    "proofs[{i}].proofDate : le justificatif ({}) est daté après la vérification (after the check)",
                    proof.date
                ),
            ));
        }
        if proof.date <= too_old {
            return Err(RuleViolation::breach(
                "proofs",
                P::ProofMaxAgeMonths.as_str(),
                format!("moins de {months} mois, daté après le {too_old}"),
                format!("{} du {}", proof.criterion, proof.date),
                "un justificatif d'éligibilité a moins de 3 mois quand on le vérifie",
            ));
        }
    }
    let mut criteria: Vec<Criterion> = claim.proofs.iter().map(|p| p.criterion).collect();
    criteria.sort_unstable();
    criteria.dedup();
    match claim.scheme {
        EligibilityScheme::Clause => {
            if claim.attester == AttesterKind::Employer {
                return Err(RuleViolation::new(
                    "attesterKind",
                    "attesterKind : l'éligibilité aux clauses est attestée par le facilitateur ou un prescripteur (not by the employer)",
                ));
            }
            if criteria.is_empty() {
                return Err(RuleViolation::new(
                    "proofs",
                    "proofs : au moins un critère justifié (at least one criterion)",
                ));
            }
            Ok(add_days(
                add_months(claim.checked_on, p.int(P::ClauseEligibilityMonths)),
                -1,
            ))
        }
        EligibilityScheme::Iae => {
            let Some(structure) = claim.structure else {
                return Err(RuleViolation::new(
                    "structureKind",
                    "structureKind : l'éligibilité IAE se juge pour un type de structure (ACI, EI, ETTI, AI) (required)",
                ));
            };
            let Some((key, needed)) = level2_needed(structure, p) else {
                return Err(RuleViolation::new(
                    "structureKind",
                    format!(
                        "structureKind : {structure} n'est pas une SIAE soumise à l'éligibilité IAE (ACI, EI, ETTI, AI)"
                    ),
                ));
            };
            match claim.attester {
                // A prescriber's diagnostic stands on its own.
                AttesterKind::Prescriber => Ok(add_days(
                    add_months(claim.checked_on, p.int(P::DiagnosticPrescriberMonths)),
                    -1,
                )),
                AttesterKind::Facilitator => Err(RuleViolation::new(
                    "attesterKind",
                    "attesterKind : l'éligibilité IAE est attestée par un prescripteur habilité ou la SIAE qui embauche",
                )),
                AttesterKind::Employer => {
                    let level1 = criteria.iter().filter(|c| level(**c) == 1).count() as i64;
                    let level2 = criteria.iter().filter(|c| level(**c) == 2).count() as i64;
                    if level1 == 0 && level2 < needed {
                        return Err(RuleViolation::breach(
                            "proofs",
                            key.as_str(),
                            format!("1 critère de niveau 1 ou {needed} de niveau 2 en {structure}"),
                            format!("{level2} critère(s) de niveau 2"),
                            "critères d'éligibilité IAE insuffisants",
                        ));
                    }
                    Ok(add_days(
                        claim.checked_on,
                        p.int(P::DiagnosticEmployerDays) - 1,
                    ))
                }
            }
        }
    }
}

/// A PASS IAE as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Pass {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A new PASS IAE from `start`: none running then, and the waiting period since the last one
/// over. Returns its end.
pub fn check_new_pass(start: NaiveDate, earlier: &[Pass], p: &ParamSet) -> RuleResult<NaiveDate> {
    let wait = p.int(P::PassIaeWaitMonths);
    for pass in earlier {
        if pass.start <= start && start <= pass.end {
            return Err(RuleViolation::new(
                "startDate",
                format!(
                    "startDate : un PASS IAE court déjà jusqu'au {} ; le prolonger plutôt (one is running)",
                    pass.end
                ),
            ));
        }
        let allowed = add_days(add_months(pass.end, wait), 1);
        if start > pass.end && start < allowed {
            return Err(RuleViolation::breach(
                "startDate",
                P::PassIaeWaitMonths.as_str(),
                format!("{wait} mois après la fin du précédent, soit le {allowed}"),
                format!("début le {start}"),
                "délai de carence entre deux PASS IAE",
            ));
        }
        if start < pass.start {
            return Err(RuleViolation::new(
                "startDate",
                format!(
                    "startDate : un PASS IAE plus récent existe (depuis le {}) (a later pass exists)",
                    pass.start
                ),
            ));
        }
    }
    Ok(add_days(add_months(start, p.int(P::PassIaeMonths)), -1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p() -> ParamSet {
        ParamSet::national(d("2026-01-01"))
    }

    fn claim(
        attester: AttesterKind,
        structure: SiaeSubtype,
        criteria: &[(Criterion, &str)],
    ) -> Claim {
        Claim {
            scheme: EligibilityScheme::Iae,
            attester,
            structure: Some(structure),
            checked_on: d("2026-11-22"),
            proofs: criteria
                .iter()
                .map(|(c, day)| Proof {
                    criterion: *c,
                    date: d(day),
                })
                .collect(),
        }
    }

    #[test]
    fn proofs_younger_than_three_months() {
        use Criterion::Rsa;
        let today = d("2026-11-22");
        let c = |day| claim(AttesterKind::Employer, SiaeSubtype::Aci, &[(Rsa, day)]);
        assert!(check(&c("2026-08-23"), today, &p()).is_ok());
        let e = check(&c("2026-08-22"), today, &p()).unwrap_err();
        assert_eq!(e.breach.unwrap().rule, "PROOF_MAX_AGE_MONTHS");
        assert!(check(&c("2026-11-23"), today, &p()).is_err());
    }

    #[test]
    fn level_two_counts_by_structure() {
        use Criterion::*;
        let today = d("2026-11-22");
        let two = [(YoungUnder26, "2026-11-01"), (QpvResident, "2026-11-01")];
        let three = [
            (YoungUnder26, "2026-11-01"),
            (QpvResident, "2026-11-01"),
            (LowQualification, "2026-11-01"),
        ];
        let aci2 = check(
            &claim(AttesterKind::Employer, SiaeSubtype::Aci, &two),
            today,
            &p(),
        );
        assert_eq!(aci2.unwrap_err().breach.unwrap().rule, "IAE_LEVEL2_ACI");
        assert!(
            check(
                &claim(AttesterKind::Employer, SiaeSubtype::Aci, &three),
                today,
                &p()
            )
            .is_ok()
        );
        assert!(
            check(
                &claim(AttesterKind::Employer, SiaeSubtype::Etti, &two),
                today,
                &p()
            )
            .is_ok()
        );
        assert!(
            check(
                &claim(AttesterKind::Employer, SiaeSubtype::Ai, &two[..1]),
                today,
                &p()
            )
            .is_err()
        );
        // The same criterion twice counts once.
        let dup = [
            (YoungUnder26, "2026-11-01"),
            (YoungUnder26, "2026-11-02"),
            (QpvResident, "2026-11-01"),
        ];
        assert!(
            check(
                &claim(AttesterKind::Employer, SiaeSubtype::Aci, &dup),
                today,
                &p()
            )
            .is_err()
        );
        assert!(
            check(
                &claim(AttesterKind::Employer, SiaeSubtype::Ea, &three),
                today,
                &p()
            )
            .is_err()
        );
    }

    #[test]
    fn validity_depends_on_who_attested() {
        let today = d("2026-11-22");
        let employer = check(
            &claim(
                AttesterKind::Employer,
                SiaeSubtype::Aci,
                &[(Criterion::Rsa, "2026-11-01")],
            ),
            today,
            &p(),
        );
        // 92 days: 22 November to 21 February included.
        assert_eq!(employer.unwrap(), d("2027-02-21"));
        let prescriber = check(
            &claim(AttesterKind::Prescriber, SiaeSubtype::Aci, &[]),
            today,
            &p(),
        );
        assert_eq!(prescriber.unwrap(), d("2027-05-21"));
        let clause = Claim {
            scheme: EligibilityScheme::Clause,
            structure: None,
            ..claim(
                AttesterKind::Facilitator,
                SiaeSubtype::Aci,
                &[(Criterion::Rsa, "2026-11-01")],
            )
        };
        assert_eq!(check(&clause, today, &p()).unwrap(), d("2027-05-21"));
        let empty = Claim {
            proofs: vec![],
            ..clause
        };
        assert!(check(&empty, today, &p()).is_err());
    }

    #[test]
    fn pass_iae_lasts_two_years_then_waits_two_years() {
        assert_eq!(
            check_new_pass(d("2026-01-01"), &[], &p()).unwrap(),
            d("2027-12-31")
        );
        let old = [Pass {
            start: d("2024-01-01"),
            end: d("2025-12-31"),
        }];
        assert!(check_new_pass(d("2025-06-01"), &old, &p()).is_err());
        let e = check_new_pass(d("2027-12-31"), &old, &p()).unwrap_err();
        assert_eq!(e.breach.unwrap().rule, "PASS_IAE_WAIT_MONTHS");
        assert!(check_new_pass(d("2028-01-01"), &old, &p()).is_ok());
    }
}
