//! Enumerations of the domain, stored as their SCREAMING_CASE name.

/// Declares an enum whose variants are stored and shown as the given strings.
#[macro_export]
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, async_graphql::Enum)]
        pub enum $name { $($(#[$vm])* #[graphql(name = $s)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Reads a stored value; `None` for an unknown one.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }

            /// Reads a stored value that the database guarantees to be valid.
            pub fn from_db(s: &str) -> Self {
                Self::parse(s).unwrap_or_else(|| panic!("unknown {} in database: {s}", stringify!($name)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// Kind of organization (DOMAIN.md section 1).
    OrganizationKind {
        /// Maître d'ouvrage / acheteur public.
        Buyer = "BUYER",
        /// Entreprise titulaire.
        Company = "COMPANY",
        /// Structure d'insertion par l'activité économique.
        Siae = "SIAE",
        /// Structure employing facilitators (PLIE, Maison de l'emploi, ...).
        Facilitator = "FACILITATOR",
        /// Financeur / service de l'État.
        Funder = "FUNDER",
        /// Prescripteur (France Travail, Mission locale, ...).
        Prescriber = "PRESCRIBER",
    }
}

string_enum! {
    /// Subtype of an insertion structure.
    SiaeSubtype {
        /// Atelier chantier d'insertion.
        Aci = "ACI",
        /// Entreprise d'insertion.
        Ei = "EI",
        /// Entreprise de travail temporaire d'insertion.
        Etti = "ETTI",
        /// Association intermédiaire.
        Ai = "AI",
        /// Groupement d'employeurs pour l'insertion et la qualification.
        Geiq = "GEIQ",
        /// Entreprise adaptée.
        Ea = "EA",
        /// Établissement et service d'aide par le travail.
        Esat = "ESAT",
        /// Régie de quartier.
        Regie = "REGIE",
    }
}

string_enum! {
    /// Kind of operation.
    OperationKind {
        /// Projet de rénovation urbaine (PNRU).
        Pru = "PRU",
        /// Nouveau programme national de renouvellement urbain.
        Npnru = "NPNRU",
        Other = "OTHER",
    }
}

string_enum! {
    /// Kind of insertion clause, with its legal basis (DOMAIN.md section 2).
    ClauseKind {
        /// Condition d'exécution (L2112-2; art. 14 before 2016).
        ExecutionCondition = "EXECUTION_CONDITION",
        /// Marché de services de qualification et d'insertion (R2123-1 3°; art. 30).
        InsertionServiceMarket = "INSERTION_SERVICE_MARKET",
        /// Critère d'attribution (R2152-7; art. 53).
        AwardCriterion = "AWARD_CRITERION",
        /// Marché réservé aux SIAE (L2113-13; art. 15).
        ReservedSiae = "RESERVED_SIAE",
        /// Marché réservé aux EA / ESAT (L2113-12; art. 15).
        ReservedEaEsat = "RESERVED_EA_ESAT",
    }
}

impl ClauseKind {
    /// Article of the Code de la commande publique (2019).
    pub fn legal_basis(self) -> &'static str {
        match self {
            ClauseKind::ExecutionCondition => "L2112-2",
            ClauseKind::InsertionServiceMarket => "R2123-1 3°",
            ClauseKind::AwardCriterion => "R2152-7",
            ClauseKind::ReservedSiae => "L2113-13",
            ClauseKind::ReservedEaEsat => "L2113-12",
        }
    }

    /// Article of the former Code des marchés publics, still what users say.
    pub fn former_article(self) -> &'static str {
        match self {
            ClauseKind::ExecutionCondition => "art. 14",
            ClauseKind::InsertionServiceMarket => "art. 30",
            ClauseKind::AwardCriterion => "art. 53",
            ClauseKind::ReservedSiae | ClauseKind::ReservedEaEsat => "art. 15",
        }
    }

    /// `considerationsSociales` value of the national open data (DECP).
    pub fn decp_label(self) -> &'static str {
        match self {
            ClauseKind::ExecutionCondition | ClauseKind::InsertionServiceMarket => "Clause sociale",
            ClauseKind::AwardCriterion => "Critère social",
            ClauseKind::ReservedSiae | ClauseKind::ReservedEaEsat => "Marché réservé",
        }
    }
}

string_enum! {
    /// Which ANRU commitment a market's hours count towards.
    AnruCategory {
        /// Financed works and engineering: at least 5 % of hours worked.
        WorksEngineering = "WORKS_ENGINEERING",
        /// Gestion urbaine de proximité: at least 10 %.
        LocalManagement = "LOCAL_MANAGEMENT",
        Other = "OTHER",
    }
}

string_enum! {
    /// Life cycle of a market (DOMAIN.md section 3).
    MarketStatus {
        Draft = "DRAFT",
        Published = "PUBLISHED",
        Awarded = "AWARDED",
        InProgress = "IN_PROGRESS",
        Completed = "COMPLETED",
        Closed = "CLOSED",
        Cancelled = "CANCELLED",
    }
}

string_enum! {
    /// How the hour target was set.
    TargetSource {
        /// The calibrage formula's proposal, accepted.
        Proposal = "PROPOSAL",
        /// A value set by the buyer over the proposal.
        Override = "OVERRIDE",
    }
}

string_enum! {
    /// How a participant works on a market.
    Modality {
        /// Embauche directe par le titulaire.
        DirectHire = "DIRECT_HIRE",
        /// Mise à disposition by an ETTI, AI, GEIQ or ETT.
        MadeAvailable = "MADE_AVAILABLE",
        /// Sous-traitance to an insertion structure.
        Subcontracting = "SUBCONTRACTING",
        /// Co-traitance with an insertion structure.
        CoContracting = "CO_CONTRACTING",
        /// Qualifying training linked to the market.
        Training = "TRAINING",
    }
}

string_enum! {
    /// Contract type of a placement.
    ContractType {
        Cdi = "CDI",
        Cdd = "CDD",
        /// CDD d'insertion.
        Cddi = "CDDI",
        CuiCae = "CUI_CAE",
        CuiCie = "CUI_CIE",
        Interim = "INTERIM",
        InsertionInterim = "INSERTION_INTERIM",
        Apprenticeship = "APPRENTICESHIP",
        Professionalisation = "PROFESSIONALISATION",
        Trainee = "TRAINEE",
    }
}

string_enum! {
    /// Life cycle of a placement.
    PlacementStatus {
        Proposed = "PROPOSED",
        Active = "ACTIVE",
        Suspended = "SUSPENDED",
        Ended = "ENDED",
        Cancelled = "CANCELLED",
    }
}

string_enum! {
    Sex {
        Female = "FEMALE",
        Male = "MALE",
    }
}

string_enum! {
    /// Niveau de formation (nomenclature 2019).
    EducationLevel {
        /// Infra niveau 3: no diploma.
        BelowLevel3 = "BELOW_LEVEL_3",
        /// CAP, BEP.
        Level3 = "LEVEL_3",
        /// Baccalauréat.
        Level4 = "LEVEL_4",
        /// Bac + 2.
        Level5 = "LEVEL_5",
        /// Bac + 3 and above.
        Level6Plus = "LEVEL_6_PLUS",
    }
}

string_enum! {
    /// Publics prioritaires, as the reports count them.
    Public {
        /// Bénéficiaire du RSA.
        Rsa = "RSA",
        /// Allocation de solidarité spécifique.
        Ass = "ASS",
        /// Allocation aux adultes handicapés.
        Aah = "AAH",
        /// Travailleur handicapé (RQTH).
        DisabledWorker = "DISABLED_WORKER",
        /// Sortant de détention.
        PrisonLeaver = "PRISON_LEAVER",
        /// Hébergé en CHRS.
        Chrs = "CHRS",
        /// Demandeur d'emploi de longue durée.
        LongTermUnemployed = "LONG_TERM_UNEMPLOYED",
        /// Jeune de moins de 26 ans sans qualification.
        YoungUnqualified = "YOUNG_UNQUALIFIED",
        /// Senior de plus de 50 ans.
        Senior = "SENIOR",
        /// Réfugié / bénéficiaire de la protection internationale.
        Refugee = "REFUGEE",
    }
}

string_enum! {
    /// Granularity of a ledger period.
    PeriodKind {
        Month = "MONTH",
        Day = "DAY",
    }
}

string_enum! {
    /// What the hours were spent on.
    HourKind {
        Work = "WORK",
        Training = "TRAINING",
        Immersion = "IMMERSION",
    }
}

string_enum! {
    /// Where a ledger entry came from.
    HourSource {
        /// Déclaration mensuelle de l'entreprise.
        CompanyDeclaration = "COMPANY_DECLARATION",
        Import = "IMPORT",
        /// Saisie par le facilitateur.
        Facilitator = "FACILITATOR",
    }
}

string_enum! {
    /// Status of a ledger entry: `DECLARED → VALIDATED | REJECTED`.
    HourStatus {
        Declared = "DECLARED",
        Validated = "VALIDATED",
        Rejected = "REJECTED",
    }
}
