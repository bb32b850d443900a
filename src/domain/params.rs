//! Parameters (DOMAIN.md sections 4–6): every number of the rules, with its national default,
//! overridable per territory and, for a few, per operation or market. Values are exact integers
//! in a base unit (basis points, cents, minutes, months, days); people read and write them in
//! the unit they know ("30" %, "50000" €, "20" h, "30,7" days).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::deadlines::Recipient;
use super::{RuleResult, RuleViolation, hours};

string_enum! {
    /// Every parameter of the rules.
    ParamKey {
        /// Encadrement: active participants per supervisor on a chantier.
        SupervisionRatio = "SUPERVISION_RATIO",
        /// PMSMP: longest single immersion, in months.
        ImmersionMaxMonths = "IMMERSION_MAX_MONTHS",
        /// PMSMP: all immersions of a contract together, share of its length.
        ImmersionMaxShare = "IMMERSION_MAX_SHARE",
        CddiMinMonths = "CDDI_MIN_MONTHS",
        CddiMaxMonths = "CDDI_MAX_MONTHS",
        /// CDDI beyond 24 months (over 50, disabled worker, training to finish).
        CddiDerogationMaxMonths = "CDDI_DEROGATION_MAX_MONTHS",
        /// Age from which the CDDI may go beyond its usual cap.
        CddiSeniorAge = "CDDI_SENIOR_AGE",
        CddiMinWeeklyHours = "CDDI_MIN_WEEKLY_HOURS",
        CddiMaxWeeklyHours = "CDDI_MAX_WEEKLY_HOURS",
        /// One person's overlapping placements together, per week.
        MaxWeeklyHoursAllPlacements = "MAX_WEEKLY_HOURS_ALL_PLACEMENTS",
        /// State pay support of a CAE, share of the gross minimum wage per hour.
        CaeStateShare = "CAE_STATE_SHARE",
        CaeMaxWeeklyHours = "CAE_MAX_WEEKLY_HOURS",
        /// State pay support of a CUI, share of wages.
        CuiStateShare = "CUI_STATE_SHARE",
        CuiMaxWeeklyHours = "CUI_MAX_WEEKLY_HOURS",
        /// CUI support together with the Département, share of the gross cost.
        CuiWithDepartementShare = "CUI_WITH_DEPARTEMENT_SHARE",
        /// Commercial revenue of an ACI, share of its budget.
        CommercialRevenueMaxShare = "COMMERCIAL_REVENUE_MAX_SHARE",
        /// The same with a recorded derogation.
        CommercialRevenueDerogationShare = "COMMERCIAL_REVENUE_DEROGATION_SHARE",
        /// ACSé chantier d'insertion rénovation: first year.
        AcseRenovationYear1Cap = "ACSE_RENOVATION_YEAR1_CAP",
        /// ACSé chantier d'insertion rénovation: each later year.
        AcseRenovationLaterCap = "ACSE_RENOVATION_LATER_CAP",
        /// Years the ACSé programme funds a chantier.
        AcseRenovationYears = "ACSE_RENOVATION_YEARS",
        /// Aide à l'accompagnement: per ACI and year.
        AccompanimentCapPerAci = "ACCOMPANIMENT_CAP_PER_ACI",
        /// Aide à l'accompagnement: per carrying structure and year, over its ACI.
        AccompanimentCapPerCarrier = "ACCOMPANIMENT_CAP_PER_CARRIER",
        /// Aide au démarrage (FDI).
        StartupAidCap = "STARTUP_AID_CAP",
        /// Département associative call: per chantier and year.
        DepartementCallCap = "DEPARTEMENT_CALL_CAP",
        /// Département associative call: added per person (capacity) and year.
        DepartementCallPerPerson = "DEPARTEMENT_CALL_PER_PERSON",
        /// Share of a chantier's equipment that collectivités may pay.
        EquipmentCollectiviteMaxShare = "EQUIPMENT_COLLECTIVITE_MAX_SHARE",
        /// Expected unforeseen-costs line of a budget, share of charges.
        UnforeseenShare = "UNFORESEEN_SHARE",
        /// Distance from that share before the budget gets a warning.
        UnforeseenTolerance = "UNFORESEEN_TOLERANCE",
        /// ANRU: hours on financed works and engineering.
        AnruWorksShare = "ANRU_WORKS_SHARE",
        /// ANRU: hours on local-management (GUP) markets.
        AnruGupShare = "ANRU_GUP_SHARE",
        /// Hours of one ETP.
        EtpHours = "ETP_HOURS",
        EtpHoursAci = "ETP_HOURS_ACI",
        EtpHoursEi = "ETP_HOURS_EI",
        /// Whether training hours count towards a clause.
        TrainingHoursCount = "TRAINING_HOURS_COUNT",
        /// Calibrage: insertion rate.
        CalibrationInsertionRate = "CALIBRATION_INSERTION_RATE",
        /// Calibrage: loaded hourly cost.
        CalibrationHourlyCost = "CALIBRATION_HOURLY_COST",
        /// An eligibility proof must be younger than this when checked.
        ProofMaxAgeMonths = "PROOF_MAX_AGE_MONTHS",
        /// Diagnostic by a prescriber.
        DiagnosticPrescriberMonths = "DIAGNOSTIC_PRESCRIBER_MONTHS",
        /// Diagnostic by the employer (auto-prescription).
        DiagnosticEmployerDays = "DIAGNOSTIC_EMPLOYER_DAYS",
        /// Clause eligibility checked by a facilitator.
        ClauseEligibilityMonths = "CLAUSE_ELIGIBILITY_MONTHS",
        /// Level-2 criteria needed without a level-1 one, by structure.
        IaeLevel2Aci = "IAE_LEVEL2_ACI",
        IaeLevel2Ei = "IAE_LEVEL2_EI",
        IaeLevel2Etti = "IAE_LEVEL2_ETTI",
        IaeLevel2Ai = "IAE_LEVEL2_AI",
        PassIaeMonths = "PASS_IAE_MONTHS",
        PassIaeExtensionMonths = "PASS_IAE_EXTENSION_MONTHS",
        /// Wait after a PASS IAE ends before a new one.
        PassIaeWaitMonths = "PASS_IAE_WAIT_MONTHS",
        /// Target share of sorties dynamiques.
        DynamicExitTarget = "DYNAMIC_EXIT_TARGET",
        /// The situation is recorded again this long after the exit.
        ExitFollowUpMonths = "EXIT_FOLLOW_UP_MONTHS",
        /// Personal data kept this long after the last exit.
        RetentionYears = "RETENTION_YEARS",
        /// Monthly hours statement due on this day for the month before.
        StatementDayOfMonth = "STATEMENT_DAY_OF_MONTH",
        AidAgreementMonthsBefore = "AID_AGREEMENT_MONTHS_BEFORE",
        StateAnswerMonths = "STATE_ANSWER_MONTHS",
        StateAnswerDays = "STATE_ANSWER_DAYS",
        /// Reminder offsets, in days before the due date (negative: after).
        RemindStatement = "REMIND_STATEMENT",
        RemindAidAgreement = "REMIND_AID_AGREEMENT",
        RemindStateAnswer = "REMIND_STATE_ANSWER",
        RemindConvention = "REMIND_CONVENTION",
        RemindCommission = "REMIND_COMMISSION",
        RemindSteering = "REMIND_STEERING",
        RemindDecision = "REMIND_DECISION",
        RemindPlacementEnd = "REMIND_PLACEMENT_END",
        RemindEligibility = "REMIND_ELIGIBILITY",
        RemindMarketBehind = "REMIND_MARKET_BEHIND",
        /// Local time at which single reminders go out.
        ReminderSendTime = "REMINDER_SEND_TIME",
        /// Office hours of the territory (local): no reminder goes out before or after them,
        /// nor on a Saturday or a Sunday.
        OfficeOpens = "OFFICE_OPENS",
        OfficeCloses = "OFFICE_CLOSES",
        /// Who is reminded of each kind of deadline (DOMAIN.md section 5).
        RecipientsStatement = "RECIPIENTS_STATEMENT",
        RecipientsAidAgreement = "RECIPIENTS_AID_AGREEMENT",
        RecipientsStateAnswer = "RECIPIENTS_STATE_ANSWER",
        RecipientsConvention = "RECIPIENTS_CONVENTION",
        RecipientsCommission = "RECIPIENTS_COMMISSION",
        RecipientsSteering = "RECIPIENTS_STEERING",
        RecipientsDecision = "RECIPIENTS_DECISION",
        RecipientsPlacementEnd = "RECIPIENTS_PLACEMENT_END",
        RecipientsEligibility = "RECIPIENTS_ELIGIBILITY",
        RecipientsMarketBehind = "RECIPIENTS_MARKET_BEHIND",
        /// A market whose forecast falls below this share of its target is behind.
        ForecastBehindShare = "FORECAST_BEHIND_SHARE",
        /// Below this share (and not behind), it is at risk.
        ForecastAtRiskShare = "FORECAST_AT_RISK_SHARE",
        /// No forecast before this share of the market's duration has passed.
        ForecastMinElapsedShare = "FORECAST_MIN_ELAPSED_SHARE",
    }
}

string_enum! {
    /// The unit a parameter is read and written in.
    ParamUnit {
        Count = "COUNT",
        Months = "MONTHS",
        Days = "DAYS",
        Years = "YEARS",
        /// Written "30" or "12.5"; kept in basis points.
        Percent = "PERCENT",
        /// Written in euros ("50000" or "50000.50"); kept in cents.
        Euros = "EUROS",
        /// Written "20" or "20:30"; kept in minutes.
        Hours = "HOURS",
        /// "true" or "false".
        Flag = "FLAG",
        /// Days before a due date, e.g. "30,7" or "3,0,-3".
        DayOffsets = "DAY_OFFSETS",
        /// "09:00"; kept in minutes after midnight.
        TimeOfDay = "TIME_OF_DAY",
        /// Roles to remind, e.g. "AWARDEE,FACILITATOR"; kept as a set of bits.
        Recipients = "RECIPIENTS",
    }
}

string_enum! {
    /// Where a parameter's value comes from, from the most general.
    ParamLevel {
        National = "NATIONAL",
        Territory = "TERRITORY",
        Operation = "OPERATION",
        Market = "MARKET",
    }
}

/// How a parameter is defined.
#[derive(Debug, Clone, Copy)]
pub struct ParamDef {
    pub key: ParamKey,
    pub label: &'static str,
    pub unit: ParamUnit,
    /// National default, as people write it.
    pub default: &'static str,
    /// Bounds in the base unit (each element, for offsets).
    pub min: i64,
    pub max: i64,
    /// Whether an operation or a market may override it (DOMAIN.md section 6).
    pub per_market: bool,
}

const EUR: i64 = 100;

pub fn def(key: ParamKey) -> ParamDef {
    use ParamKey::*;
    use ParamUnit as U;
    let d = |label, unit, default, min, max| ParamDef {
        key,
        label,
        unit,
        default,
        min,
        max,
        per_market: false,
    };
    let money = |label, default| d(label, U::Euros, default, 0, 100_000_000 * EUR);
    let pct = |label, default| d(label, U::Percent, default, 0, 10_000);
    let offsets = |label, default| d(label, U::DayOffsets, default, -365, 365);
    let roles = |label, default| d(label, U::Recipients, default, 1, Recipient::mask_all());
    let mut p = match key {
        SupervisionRatio => d("Participants actifs par encadrant", U::Count, "12", 1, 100),
        ImmersionMaxMonths => d(
            "Durée maximale d'une immersion (PMSMP)",
            U::Months,
            "1",
            1,
            12,
        ),
        ImmersionMaxShare => pct("Part maximale des immersions dans un contrat", "25"),
        CddiMinMonths => d("Durée minimale d'un CDDI", U::Months, "4", 1, 24),
        CddiMaxMonths => d("Durée maximale d'un CDDI", U::Months, "24", 1, 120),
        CddiDerogationMaxMonths => d(
            "Durée maximale d'un CDDI par dérogation",
            U::Months,
            "60",
            1,
            120,
        ),
        CddiSeniorAge => d("Âge ouvrant la dérogation CDDI", U::Years, "50", 16, 70),
        CddiMinWeeklyHours => d(
            "Heures hebdomadaires minimales d'un CDDI",
            U::Hours,
            "20",
            60,
            48 * 60,
        ),
        CddiMaxWeeklyHours => d(
            "Heures hebdomadaires maximales d'un CDDI",
            U::Hours,
            "35",
            60,
            48 * 60,
        ),
        MaxWeeklyHoursAllPlacements => d(
            "Heures hebdomadaires d'une personne, toutes missions confondues",
            U::Hours,
            "48",
            60,
            48 * 60,
        ),
        CaeStateShare => d(
            "Aide de l'État à un CAE (% du SMIC brut horaire)",
            U::Percent,
            "105",
            0,
            20_000,
        ),
        CaeMaxWeeklyHours => d(
            "Heures aidées d'un CAE par semaine",
            U::Hours,
            "24",
            60,
            48 * 60,
        ),
        CuiStateShare => pct("Aide de l'État à un CUI (% des salaires)", "95"),
        CuiMaxWeeklyHours => d(
            "Heures aidées d'un CUI par semaine",
            U::Hours,
            "26",
            60,
            48 * 60,
        ),
        CuiWithDepartementShare => pct("Prise en charge d'un CUI avec le Département", "80"),
        CommercialRevenueMaxShare => pct("Recettes commerciales d'un ACI (part du budget)", "30"),
        CommercialRevenueDerogationShare => {
            pct("Recettes commerciales d'un ACI par dérogation", "50")
        }
        AcseRenovationYear1Cap => money("Subvention ACSé chantier rénovation, année 1", "50000"),
        AcseRenovationLaterCap => money(
            "Subvention ACSé chantier rénovation, années suivantes",
            "30000",
        ),
        AcseRenovationYears => d("Années de subvention ACSé", U::Years, "3", 1, 10),
        AccompanimentCapPerAci => money("Aide à l'accompagnement par ACI et par an", "15000"),
        AccompanimentCapPerCarrier => money(
            "Aide à l'accompagnement par structure porteuse et par an",
            "45000",
        ),
        StartupAidCap => money("Aide au démarrage (FDI)", "15000"),
        DepartementCallCap => money(
            "Appel à projets du Département par chantier et par an",
            "30000",
        ),
        DepartementCallPerPerson => {
            money("Complément du Département par personne et par an", "1000")
        }
        EquipmentCollectiviteMaxShare => {
            pct("Part de l'équipement payée par une collectivité", "50")
        }
        UnforeseenShare => pct("Ligne « imprévus » d'un budget", "5"),
        UnforeseenTolerance => pct("Écart toléré sur la ligne « imprévus »", "1"),
        AnruWorksShare => pct("ANRU : heures d'insertion sur travaux et ingénierie", "5"),
        AnruGupShare => pct("ANRU : heures d'insertion sur la GUP", "10"),
        EtpHours => d("Heures d'un ETP", U::Hours, "1607", 60, 3000 * 60),
        EtpHoursAci => d(
            "Heures payées d'un ETP en ACI",
            U::Hours,
            "1820",
            60,
            3000 * 60,
        ),
        EtpHoursEi => d(
            "Heures payées d'un ETP en EI",
            U::Hours,
            "1505",
            60,
            3000 * 60,
        ),
        TrainingHoursCount => d("Les heures de formation comptent", U::Flag, "true", 0, 1),
        CalibrationInsertionRate => pct("Calibrage : taux d'insertion", "5"),
        CalibrationHourlyCost => d(
            "Calibrage : coût horaire chargé",
            U::Euros,
            "30",
            EUR,
            1000 * EUR,
        ),
        ProofMaxAgeMonths => d(
            "Ancienneté maximale d'un justificatif",
            U::Months,
            "3",
            1,
            24,
        ),
        DiagnosticPrescriberMonths => d(
            "Validité d'un diagnostic prescripteur",
            U::Months,
            "6",
            1,
            36,
        ),
        DiagnosticEmployerDays => d("Validité d'un diagnostic employeur", U::Days, "92", 1, 365),
        ClauseEligibilityMonths => d("Validité d'une éligibilité clause", U::Months, "6", 1, 36),
        IaeLevel2Aci => d("Critères de niveau 2 requis en ACI", U::Count, "3", 1, 10),
        IaeLevel2Ei => d("Critères de niveau 2 requis en EI", U::Count, "3", 1, 10),
        IaeLevel2Etti => d("Critères de niveau 2 requis en ETTI", U::Count, "2", 1, 10),
        IaeLevel2Ai => d("Critères de niveau 2 requis en AI", U::Count, "2", 1, 10),
        PassIaeMonths => d("Durée d'un PASS IAE", U::Months, "24", 1, 120),
        PassIaeExtensionMonths => d("Prolongation d'un PASS IAE", U::Months, "12", 1, 60),
        PassIaeWaitMonths => d("Carence après un PASS IAE", U::Months, "24", 0, 120),
        DynamicExitTarget => pct("Objectif de sorties dynamiques", "30"),
        ExitFollowUpMonths => d(
            "Suivi de la situation après la sortie",
            U::Months,
            "12",
            1,
            60,
        ),
        RetentionYears => d(
            "Conservation des données après la dernière sortie",
            U::Years,
            "5",
            1,
            50,
        ),
        StatementDayOfMonth => d("Jour du relevé mensuel d'heures", U::Count, "5", 1, 28),
        AidAgreementMonthsBefore => d(
            "Dépôt de la convention individuelle avant le contrat",
            U::Months,
            "2",
            0,
            12,
        ),
        StateAnswerMonths => d(
            "Réponse de l'État : mois après le dossier complet",
            U::Months,
            "1",
            0,
            12,
        ),
        StateAnswerDays => d("Réponse de l'État : jours en plus", U::Days, "15", 0, 31),
        RemindStatement => offsets("Rappels du relevé mensuel", "3,0,-3"),
        RemindAidAgreement => offsets("Rappels de la convention individuelle", "30,7"),
        RemindStateAnswer => offsets("Rappels de la réponse de l'État", "0"),
        RemindConvention => offsets("Rappels de fin de convention", "90,30,7"),
        RemindCommission => offsets("Rappels d'une commission", "14,2"),
        RemindSteering => offsets("Rappels des comités de pilotage", "30"),
        RemindDecision => offsets("Rappels d'une décision", "7,0"),
        RemindPlacementEnd => offsets("Rappels de fin de contrat et de plafond", "30,7"),
        RemindEligibility => offsets("Rappels de fin d'éligibilité", "30"),
        RemindMarketBehind => offsets("Rappels d'un marché en retard", "0"),
        RecipientsStatement => roles("Destinataires : relevé mensuel", "FACILITATOR,AWARDEE"),
        RecipientsAidAgreement => roles("Destinataires : convention individuelle", "EMPLOYER"),
        RecipientsStateAnswer => roles("Destinataires : réponse de l'État", "FACILITATOR"),
        RecipientsConvention => roles("Destinataires : fin de convention", "PARTIES"),
        RecipientsCommission => roles("Destinataires : commission", "MEMBERS"),
        RecipientsSteering => roles("Destinataires : comités de pilotage", "CARRIER,OWNER"),
        RecipientsDecision => roles("Destinataires : suivi des décisions", "DECISION_OWNER"),
        RecipientsPlacementEnd => roles(
            "Destinataires : fin de contrat et plafonds",
            "FACILITATOR,EMPLOYER",
        ),
        RecipientsEligibility => roles("Destinataires : fin d'éligibilité", "FACILITATOR"),
        RecipientsMarketBehind => roles("Destinataires : marché en retard", "FACILITATOR,BUYER"),
        ForecastBehindShare => pct("Prévision : en retard sous cette part de l'objectif", "80"),
        ForecastAtRiskShare => pct(
            "Prévision : à surveiller sous cette part de l'objectif",
            "100",
        ),
        ForecastMinElapsedShare => pct("Prévision : part de la durée écoulée avant de juger", "20"),
        ReminderSendTime => d(
            "Heure locale d'envoi des rappels",
            U::TimeOfDay,
            "09:00",
            6 * 60,
            20 * 60,
        ),
        OfficeOpens => d(
            "Ouverture des bureaux (aucun envoi avant)",
            U::TimeOfDay,
            "07:00",
            5 * 60,
            12 * 60,
        ),
        OfficeCloses => d(
            "Fermeture des bureaux (aucun envoi après)",
            U::TimeOfDay,
            "19:00",
            12 * 60,
            23 * 60,
        ),
    };
    p.per_market = matches!(
        key,
        CalibrationInsertionRate | CalibrationHourlyCost | EtpHours | TrainingHoursCount
    );
    p
}

/// A value in its base unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    Int(i64),
    List(Vec<i64>),
}

impl ParamValue {
    pub fn int(&self) -> i64 {
        match self {
            ParamValue::Int(v) => *v,
            ParamValue::List(v) => v.first().copied().unwrap_or(0),
        }
    }

    pub fn list(&self) -> Vec<i64> {
        match self {
            ParamValue::Int(v) => vec![*v],
            ParamValue::List(v) => v.clone(),
        }
    }

    /// How it is stored: integers, comma-separated for lists.
    pub fn to_stored(&self) -> String {
        self.list()
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn from_stored(unit: ParamUnit, s: &str) -> Option<Self> {
        let nums: Option<Vec<i64>> = s.split(',').map(|p| p.trim().parse().ok()).collect();
        let nums = nums?;
        Some(if unit == ParamUnit::DayOffsets {
            ParamValue::List(nums)
        } else {
            ParamValue::Int(*nums.first()?)
        })
    }
}

fn bad(def: &ParamDef, raw: &str, expected: &str) -> RuleViolation {
    RuleViolation::new(
        "value",
        format!(
            "value : « {raw} » ne convient pas à {} ({}) ; attendu {expected} (invalid value)",
            def.key, def.label
        ),
    )
}

/// A decimal with at most `scale` decimals, as an integer times 10^scale ("12.5" → 1250 at 2).
fn decimal(raw: &str, scale: u32) -> Option<i64> {
    let s = raw
        .trim()
        .replace([' ', '\u{a0}', '\u{202f}'], "")
        .replace(',', ".");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if int.is_empty() || frac.len() > scale as usize || int.starts_with('+') {
        return None;
    }
    let neg = int.starts_with('-');
    let digits = int.trim_start_matches('-');
    if !digits.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = digits.parse().ok()?;
    let frac_val: i64 = format!("{frac:0<width$}", width = scale as usize)
        .parse()
        .unwrap_or(0);
    let v = whole.checked_mul(10i64.pow(scale))?.checked_add(frac_val)?;
    Some(if neg { -v } else { v })
}

/// Reads a value as people write it, checked against the parameter's bounds.
pub fn parse(def: &ParamDef, raw: &str) -> RuleResult<ParamValue> {
    use ParamUnit as U;
    let one = |v: Option<i64>, expected: &str| -> RuleResult<i64> {
        let v = v.ok_or_else(|| bad(def, raw, expected))?;
        if v < def.min || v > def.max {
            return Err(RuleViolation::breach(
                "value",
                def.key.as_str(),
                format!(
                    "{} – {}",
                    format(def, &ParamValue::Int(def.min)),
                    format(def, &ParamValue::Int(def.max))
                ),
                raw.trim(),
                "valeur hors des bornes du paramètre",
            ));
        }
        Ok(v)
    };
    let t = raw.trim();
    Ok(match def.unit {
        U::Count | U::Months | U::Days | U::Years => {
            ParamValue::Int(one(decimal(t, 0), "un nombre entier")?)
        }
        U::Percent => ParamValue::Int(one(decimal(t, 2), "un pourcentage, ex. 30 ou 12.5")?),
        U::Euros => ParamValue::Int(one(decimal(t, 2), "un montant en euros, ex. 15000")?),
        U::Hours => ParamValue::Int(one(
            hours::parse_hours("value", t).ok(),
            "des heures, ex. 35 ou 26:30",
        )?),
        U::Flag => ParamValue::Int(one(
            match t {
                "true" | "oui" => Some(1),
                "false" | "non" => Some(0),
                _ => None,
            },
            "true ou false",
        )?),
        U::DayOffsets => {
            let mut out = Vec::new();
            for part in t.split(',') {
                out.push(one(
                    decimal(part, 0),
                    "des jours séparés par des virgules, ex. 30,7",
                )?);
            }
            out.sort_unstable_by(|a, b| b.cmp(a));
            out.dedup();
            ParamValue::List(out)
        }
        U::TimeOfDay => {
            let v = t.split_once(':').and_then(|(h, m)| {
                let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
                ((0..60).contains(&m) && h >= 0).then_some(h * 60 + m)
            });
            ParamValue::Int(one(v, "une heure HH:MM, ex. 09:00")?)
        }
        U::Recipients => {
            let mut mask = 0;
            for part in t.split(',') {
                let role = Recipient::parse(part.trim()).ok_or_else(|| {
                    let all: Vec<&str> = Recipient::ALL.iter().map(|r| r.as_str()).collect();
                    bad(def, raw, &format!("des rôles parmi {}", all.join(", ")))
                })?;
                mask |= role.bit();
            }
            ParamValue::Int(one(Some(mask), "au moins un rôle")?)
        }
    })
}

fn fixed(v: i64, scale: u32) -> String {
    let p = 10i64.pow(scale);
    let (w, f) = (v / p, (v % p).abs());
    if f == 0 {
        w.to_string()
    } else {
        let frac = format!("{f:0width$}", width = scale as usize);
        let sign = if v < 0 && w == 0 { "-" } else { "" };
        format!("{sign}{w}.{}", frac.trim_end_matches('0'))
    }
}

/// Writes a value as people read it (what `parse` takes back).
pub fn format(def: &ParamDef, v: &ParamValue) -> String {
    use ParamUnit as U;
    match def.unit {
        U::Count | U::Months | U::Days | U::Years => v.int().to_string(),
        U::Percent | U::Euros => fixed(v.int(), 2),
        U::Hours => hours::format_hm(v.int()),
        U::Flag => (v.int() != 0).to_string(),
        U::DayOffsets => v
            .list()
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(","),
        U::TimeOfDay => format!("{:02}:{:02}", v.int() / 60, v.int() % 60),
        U::Recipients => Recipient::from_mask(v.int())
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The national default in its base unit.
pub fn default_value(key: ParamKey) -> ParamValue {
    let d = def(key);
    parse(&d, d.default).expect("national defaults are valid")
}

/// One stored override, as the resolver needs it.
#[derive(Debug, Clone)]
pub struct Override {
    pub key: ParamKey,
    pub level: ParamLevel,
    /// `None` puts the level above back in force.
    pub value: Option<ParamValue>,
    pub effective_from: NaiveDate,
}

/// A value in force, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub key: ParamKey,
    pub value: ParamValue,
    pub level: ParamLevel,
    /// When that value took effect (`None` for a national default).
    pub since: Option<NaiveDate>,
}

/// The parameters in force on a day for one place (territory, and maybe operation and market).
#[derive(Debug, Clone)]
pub struct ParamSet {
    values: HashMap<ParamKey, Resolved>,
}

impl ParamSet {
    /// `overrides` in the order they were made; later ones win at the same level.
    pub fn resolve(on: NaiveDate, overrides: &[Override]) -> Self {
        let mut latest: HashMap<(ParamKey, ParamLevel), &Override> = HashMap::new();
        for o in overrides.iter().filter(|o| o.effective_from <= on) {
            let slot = latest.entry((o.key, o.level)).or_insert(o);
            if o.effective_from >= slot.effective_from {
                *slot = o;
            }
        }
        let mut values = HashMap::new();
        for &key in ParamKey::ALL {
            let mut r = Resolved {
                key,
                value: default_value(key),
                level: ParamLevel::National,
                since: None,
            };
            for level in [
                ParamLevel::Territory,
                ParamLevel::Operation,
                ParamLevel::Market,
            ] {
                if let Some(o) = latest.get(&(key, level))
                    && let Some(v) = &o.value
                {
                    r = Resolved {
                        key,
                        value: v.clone(),
                        level,
                        since: Some(o.effective_from),
                    };
                }
            }
            values.insert(key, r);
        }
        ParamSet { values }
    }

    /// National defaults only.
    pub fn national(on: NaiveDate) -> Self {
        Self::resolve(on, &[])
    }

    pub fn get(&self, key: ParamKey) -> &Resolved {
        &self.values[&key]
    }

    pub fn int(&self, key: ParamKey) -> i64 {
        self.get(key).value.int()
    }

    pub fn flag(&self, key: ParamKey) -> bool {
        self.int(key) != 0
    }

    pub fn all(&self) -> Vec<&Resolved> {
        ParamKey::ALL.iter().map(|k| &self.values[k]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_default_parses_and_formats_back() {
        for &key in ParamKey::ALL {
            let def = def(key);
            let v = parse(&def, def.default).unwrap_or_else(|e| panic!("{key}: {e:?}"));
            assert_eq!(format(&def, &v), def.default, "{key}");
        }
    }

    #[test]
    fn units_are_read_exactly() {
        let pct = def(ParamKey::DynamicExitTarget);
        assert_eq!(parse(&pct, "12.5").unwrap(), ParamValue::Int(1250));
        assert_eq!(parse(&pct, "12,5").unwrap(), ParamValue::Int(1250));
        assert!(parse(&pct, "12.555").is_err());
        assert_eq!(parse(&pct, "100").unwrap(), ParamValue::Int(10_000));
        let e = parse(&pct, "100.01").unwrap_err();
        assert_eq!(e.breach.unwrap().rule, "DYNAMIC_EXIT_TARGET");
        let eur = def(ParamKey::StartupAidCap);
        assert_eq!(parse(&eur, "15 000").unwrap(), ParamValue::Int(1_500_000));
        let off = def(ParamKey::RemindStatement);
        assert_eq!(
            parse(&off, "0, 3,-3").unwrap(),
            ParamValue::List(vec![3, 0, -3])
        );
        assert!(parse(&off, "3,,0").is_err());
        let t = def(ParamKey::ReminderSendTime);
        assert_eq!(parse(&t, "08:30").unwrap(), ParamValue::Int(510));
        assert!(parse(&t, "03:00").is_err(), "never at 3 a.m.");
        assert!(parse(&t, "9h").is_err());
        let ratio = def(ParamKey::SupervisionRatio);
        assert!(parse(&ratio, "0").is_err());
        assert!(parse(&ratio, "1").is_ok());
        assert!(parse(&ratio, "-1").is_err());
        assert!(parse(&ratio, "1.5").is_err());
        let who = def(ParamKey::RecipientsStatement);
        let v = parse(&who, "FACILITATOR, AWARDEE").unwrap();
        assert_eq!(format(&who, &v), "FACILITATOR,AWARDEE");
        assert!(parse(&who, "FACILITATOR,NOBODY").is_err());
        assert!(parse(&who, "").is_err());
    }

    #[test]
    fn the_most_specific_level_in_force_wins() {
        let o = |level, v: Option<i64>, from: &str| Override {
            key: ParamKey::CalibrationInsertionRate,
            level,
            value: v.map(ParamValue::Int),
            effective_from: d(from),
        };
        let rows = vec![
            o(ParamLevel::Territory, Some(700), "2026-01-01"),
            o(ParamLevel::Market, Some(1000), "2026-06-01"),
            o(ParamLevel::Market, None, "2026-09-01"),
        ];
        let at = |day: &str| {
            ParamSet::resolve(d(day), &rows)
                .get(ParamKey::CalibrationInsertionRate)
                .clone()
        };
        assert_eq!(at("2025-12-31").level, ParamLevel::National);
        assert_eq!(at("2025-12-31").value.int(), 500);
        assert_eq!(at("2026-01-01").value.int(), 700);
        assert_eq!(at("2026-05-31").value.int(), 700);
        assert_eq!(at("2026-06-01").level, ParamLevel::Market);
        assert_eq!(at("2026-06-01").value.int(), 1000);
        // Reset at market level: the territory's value is back.
        assert_eq!(at("2026-09-01").level, ParamLevel::Territory);
        assert_eq!(at("2026-09-01").since, Some(d("2026-01-01")));
    }
}
