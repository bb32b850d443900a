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
    /// Outcome of an upload of monthly statements (`hourImports`).
    HourImportStatus {
        /// Checked and recorded (lines already in the ledger skipped).
        Accepted = "ACCEPTED",
        /// Refused as a whole: nothing recorded, the errors kept.
        Refused = "REFUSED",
    }
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

string_enum! {
    /// Why a CDDI may run beyond its usual cap.
    CddiDerogation {
        /// Salarié de 50 ans et plus.
        Senior = "SENIOR",
        /// Travailleur handicapé (RQTH).
        DisabledWorker = "DISABLED_WORKER",
        /// To finish a training under way, until its end.
        TrainingCompletion = "TRAINING_COMPLETION",
    }
}

string_enum! {
    /// Kind of chantier (DOMAIN.md section 2).
    ChantierKind {
        /// Atelier chantier d'insertion.
        Aci = "ACI",
        /// Chantier-école.
        ChantierEcole = "CHANTIER_ECOLE",
        /// Chantier de formation (trainees of a training body).
        TrainingSite = "TRAINING_SITE",
        /// Chantier d'insertion rénovation on an urban-renewal operation (ACSé–ANRU, 2009).
        Renovation = "RENOVATION",
    }
}

string_enum! {
    /// Life cycle of a chantier (DOMAIN.md section 3).
    ChantierStatus {
        Project = "PROJECT",
        /// Conventionné.
        Agreed = "AGREED",
        Running = "RUNNING",
        Ended = "ENDED",
        Evaluated = "EVALUATED",
    }
}

string_enum! {
    /// Lines of the model budget of an ACI (seed 001, "budget prévisionnel type").
    BudgetCategory {
        /// Habillement (vêtements de travail et de sécurité).
        WorkClothes = "WORK_CLOTHES",
        OfficeSupplies = "OFFICE_SUPPLIES",
        /// Fournitures d'atelier (matières premières).
        WorkshopSupplies = "WORKSHOP_SUPPLIES",
        Insurance = "INSURANCE",
        PropertyRent = "PROPERTY_RENT",
        EquipmentRent = "EQUIPMENT_RENT",
        Maintenance = "MAINTENANCE",
        Documentation = "DOCUMENTATION",
        Training = "TRAINING",
        OccupationalHealth = "OCCUPATIONAL_HEALTH",
        Fees = "FEES",
        PostTelecom = "POST_TELECOM",
        Travel = "TRAVEL",
        Banking = "BANKING",
        Taxes = "TAXES",
        InsertionPay = "INSERTION_PAY",
        InsertionContributions = "INSERTION_CONTRIBUTIONS",
        SupervisorPay = "SUPERVISOR_PAY",
        SupervisorContributions = "SUPERVISOR_CONTRIBUTIONS",
        OtherStaffPay = "OTHER_STAFF_PAY",
        OtherStaffContributions = "OTHER_STAFF_CONTRIBUTIONS",
        /// Investment in equipment (what collectivités may pay half of).
        Equipment = "EQUIPMENT",
        /// Imprévus (about 5 %).
        Unforeseen = "UNFORESEEN",
        OtherCharge = "OTHER_CHARGE",
        /// Aide légale to the insertion contracts.
        ContractLegalAid = "CONTRACT_LEGAL_AID",
        /// Résiduel des contrats, by who pays it.
        ContractRemainderCommune = "CONTRACT_REMAINDER_COMMUNE",
        ContractRemainderDepartement = "CONTRACT_REMAINDER_DEPARTEMENT",
        ContractRemainderRegion = "CONTRACT_REMAINDER_REGION",
        ContractRemainderAssociation = "CONTRACT_REMAINDER_ASSOCIATION",
        ContractRemainderOther = "CONTRACT_REMAINDER_OTHER",
        /// Financement de la formation et de l'accompagnement.
        TrainingAccompanimentFunding = "TRAINING_ACCOMPANIMENT_FUNDING",
        /// Fonds propres: cotisations.
        OwnFundsDues = "OWN_FUNDS_DUES",
        /// Fonds propres: produits d'activité (commercial revenue, capped).
        CommercialRevenue = "COMMERCIAL_REVENUE",
        /// Subventions publiques (say which funder).
        PublicSubsidy = "PUBLIC_SUBSIDY",
        OtherProduct = "OTHER_PRODUCT",
    }
}

string_enum! {
    /// What a funding line pays for.
    FundingPurpose {
        /// Subvention ACSé chantier d'insertion rénovation.
        AcseRenovation = "ACSE_RENOVATION",
        /// Aide de l'État à l'accompagnement.
        Accompaniment = "ACCOMPANIMENT",
        /// Aide au démarrage (FDI).
        StartupAid = "STARTUP_AID",
        /// Appel à projets associatifs du Département.
        DepartementCall = "DEPARTEMENT_CALL",
        Equipment = "EQUIPMENT",
        /// Encadrement technique.
        Supervision = "SUPERVISION",
        Training = "TRAINING",
        /// Rémunération des contrats.
        ContractPay = "CONTRACT_PAY",
        Operating = "OPERATING",
        Other = "OTHER",
    }
}

string_enum! {
    /// Who a funder is, as the caps need it.
    FunderCategory {
        /// État (DDETS, ex-DIECCTE).
        State = "STATE",
        Acse = "ACSE",
        Anru = "ANRU",
        Departement = "DEPARTEMENT",
        Region = "REGION",
        Commune = "COMMUNE",
        /// Intercommunalité (EPCI).
        Epci = "EPCI",
        /// FSE.
        Europe = "EUROPE",
        FranceTravail = "FRANCE_TRAVAIL",
        Opca = "OPCA",
        Agefiph = "AGEFIPH",
        Other = "OTHER",
    }
}

string_enum! {
    /// Status of a funding line: cancelled lines stay, for the record.
    FundingStatus {
        Active = "ACTIVE",
        Cancelled = "CANCELLED",
    }
}

string_enum! {
    /// Which eligibility is checked.
    EligibilityScheme {
        /// Public of the insertion clauses (checked by the facilitator or a prescriber).
        Clause = "CLAUSE",
        /// Insertion par l'activité économique (opens a PASS IAE).
        Iae = "IAE",
    }
}

string_enum! {
    /// Who attested an eligibility.
    AttesterKind {
        /// Prescripteur habilité (France Travail, Mission locale, Cap emploi, Département…).
        Prescriber = "PRESCRIBER",
        /// The insertion structure itself (auto-prescription).
        Employer = "EMPLOYER",
        /// Facilitateur de clauses.
        Facilitator = "FACILITATOR",
    }
}

string_enum! {
    /// Eligibility criteria (IAE criteria of 2021, also used for the clauses).
    Criterion {
        /// Level 1: bénéficiaire du RSA.
        Rsa = "RSA",
        /// Level 1: allocation de solidarité spécifique.
        Ass = "ASS",
        /// Level 1: allocation aux adultes handicapés.
        Aah = "AAH",
        /// Level 1: demandeur d'emploi de très longue durée (24 months or more).
        VeryLongTermUnemployed = "VERY_LONG_TERM_UNEMPLOYED",
        /// Level 2: demandeur d'emploi de longue durée (12 months or more).
        LongTermUnemployed = "LONG_TERM_UNEMPLOYED",
        /// Level 2: under 26.
        YoungUnder26 = "YOUNG_UNDER_26",
        /// Level 2: 50 or over.
        Senior50 = "SENIOR_50",
        /// Level 2: niveau d'études 3 (CAP/BEP) or below.
        LowQualification = "LOW_QUALIFICATION",
        /// Level 2: bénéficiaire de l'obligation d'emploi (RQTH).
        DisabledWorker = "DISABLED_WORKER",
        /// Level 2: parent isolé.
        SingleParent = "SINGLE_PARENT",
        /// Level 2: résident d'un QPV or a ZRR.
        QpvResident = "QPV_RESIDENT",
        /// Level 2: sortant de détention or sous main de justice.
        PrisonLeaver = "PRISON_LEAVER",
        /// Level 2: réfugié, protection subsidiaire.
        Refugee = "REFUGEE",
        /// Level 2: sans hébergement ou hébergé (CHRS).
        Homeless = "HOMELESS",
    }
}

string_enum! {
    /// Kind of proof document.
    ProofKind {
        /// Attestation d'inscription / historique France Travail.
        JobseekerCertificate = "JOBSEEKER_CERTIFICATE",
        /// Attestation CAF / MSA (RSA).
        BenefitCertificate = "BENEFIT_CERTIFICATE",
        /// Notification MDPH (AAH, RQTH).
        DisabilityDecision = "DISABILITY_DECISION",
        IdentityDocument = "IDENTITY_DOCUMENT",
        /// Justificatif de domicile.
        ResidenceProof = "RESIDENCE_PROOF",
        /// Déclaration sur l'honneur.
        SwornStatement = "SWORN_STATEMENT",
        /// Attestation de levée d'écrou, SPIP.
        JusticeCertificate = "JUSTICE_CERTIFICATE",
        /// Titre de séjour, décision OFPRA.
        ResidencePermit = "RESIDENCE_PERMIT",
        /// Attestation d'hébergement (CHRS, SIAO).
        HousingCertificate = "HOUSING_CERTIFICATE",
        Other = "OTHER",
    }
}

string_enum! {
    /// How a path ended (the State's classification, DOMAIN.md section 2).
    ExitOutcome {
        Cdi = "CDI",
        /// CDD of more than 6 months outside subsidised and insertion contracts.
        CddOver6Months = "CDD_OVER_6_MONTHS",
        InterimOver6Months = "INTERIM_OVER_6_MONTHS",
        BusinessCreation = "BUSINESS_CREATION",
        /// Entrée dans la fonction publique.
        CivilService = "CIVIL_SERVICE",
        CddUnder6Months = "CDD_UNDER_6_MONTHS",
        InterimUnder6Months = "INTERIM_UNDER_6_MONTHS",
        /// Contrat aidé (CAE, CUI) with an ordinary employer.
        SubsidisedContract = "SUBSIDISED_CONTRACT",
        /// Alternance with an ordinary employer.
        WorkStudy = "WORK_STUDY",
        QualifyingTraining = "QUALIFYING_TRAINING",
        /// Embauche dans une autre SIAE.
        OtherSiaeHire = "OTHER_SIAE_HIRE",
        /// Another exit the structure claims as positive (a justification is required).
        OtherPositive = "OTHER_POSITIVE",
        Abandonment = "ABANDONMENT",
        /// Fin de contrat sans solution.
        NoSolution = "NO_SOLUTION",
        MovedAway = "MOVED_AWAY",
        Health = "HEALTH",
        Other = "OTHER",
    }
}

string_enum! {
    /// Category of an exit; the first three are the sorties dynamiques.
    ExitCategory {
        DurableEmployment = "DURABLE_EMPLOYMENT",
        TransitionEmployment = "TRANSITION_EMPLOYMENT",
        PositiveExit = "POSITIVE_EXIT",
        Other = "OTHER",
    }
}

string_enum! {
    /// Kinds of convention (DOMAIN.md section 2).
    ConventionKind {
        /// Conventionnement of an insertion structure by the State (up to 3 years).
        StateAgreement = "STATE_AGREEMENT",
        /// Convention individuelle of a subsidised contract (CUI, CAE).
        IndividualAid = "INDIVIDUAL_AID",
        /// Funding agreement (ACSé, Département, FSE, Région, ANRU).
        Funding = "FUNDING",
        /// Convention de PMSMP.
        Immersion = "IMMERSION",
        /// Partnership or local charter (PLACI).
        Partnership = "PARTNERSHIP",
    }
}

impl ConventionKind {
    /// Whether the convention carries money, so signing it needs its amounts.
    pub fn has_amounts(self) -> bool {
        matches!(
            self,
            ConventionKind::StateAgreement
                | ConventionKind::IndividualAid
                | ConventionKind::Funding
        )
    }

    /// Whether the State answers its filing (so the answer is a deadline).
    pub fn state_answers(self) -> bool {
        matches!(
            self,
            ConventionKind::StateAgreement | ConventionKind::IndividualAid
        )
    }
}

string_enum! {
    ConventionStatus {
        Draft = "DRAFT",
        /// Filed, complete, awaiting the answer.
        Submitted = "SUBMITTED",
        Signed = "SIGNED",
        Active = "ACTIVE",
        RenewalDue = "RENEWAL_DUE",
        Expired = "EXPIRED",
        Terminated = "TERMINATED",
    }
}

string_enum! {
    /// A party's role in a convention.
    PartyRole {
        Signatory = "SIGNATORY",
        Funder = "FUNDER",
        /// The structure or employer the convention is for.
        Beneficiary = "BENEFICIARY",
        Partner = "PARTNER",
    }
}

string_enum! {
    /// Kinds of document a convention refers to.
    DocumentKind {
        Convention = "CONVENTION",
        /// Avenant.
        Amendment = "AMENDMENT",
        Annex = "ANNEX",
        /// Pièce justificative.
        Proof = "PROOF",
        Letter = "LETTER",
        Other = "OTHER",
    }
}

string_enum! {
    /// Kinds of commission (instance).
    CommissionKind {
        /// Commission d'insertion of an urban-renewal project.
        InsertionCommission = "INSERTION_COMMISSION",
        /// Comité de pilotage de démarrage of a chantier.
        SteeringStart = "STEERING_START",
        SteeringMidterm = "STEERING_MIDTERM",
        SteeringFinal = "STEERING_FINAL",
        RecruitmentJury = "RECRUITMENT_JURY",
        CdiaeReview = "CDIAE_REVIEW",
    }
}

impl CommissionKind {
    pub fn is_steering(self) -> bool {
        matches!(
            self,
            CommissionKind::SteeringStart
                | CommissionKind::SteeringMidterm
                | CommissionKind::SteeringFinal
        )
    }
}

string_enum! {
    CommissionStatus {
        Planned = "PLANNED",
        Held = "HELD",
        Cancelled = "CANCELLED",
    }
}
