//! A person's file as a workbook: one sheet per section, French headers, the same values as the
//! API's answer. Text is written as text (never a formula), as every export.

use chrono::{DateTime, Utc};

use super::{FileExit, ParticipantFile};
use crate::service::report::export::{Cell, Document, Table};

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt(s: &Option<String>) -> Cell {
    text(s.clone().unwrap_or_default())
}

fn yes_no(b: bool) -> Cell {
    text(if b { "oui" } else { "non" })
}

/// An instant, to the second, in UTC (the zone is written out).
fn instant(at: DateTime<Utc>) -> Cell {
    text(at.format("%d/%m/%Y %H:%M:%S UTC").to_string())
}

fn instant_opt(at: Option<DateTime<Utc>>) -> Cell {
    at.map_or_else(|| text(""), instant)
}

pub fn document(f: &ParticipantFile) -> Document {
    let who = match &f.identity {
        Some(i) => format!("{} {}", i.first_name, i.last_name),
        None => "personne anonymisée".to_string(),
    };
    Document {
        title: format!(
            "Dossier de {who} — droit d'accès (RGPD art. 15) — établi le {}",
            f.produced_at.format("%d/%m/%Y")
        ),
        file_name: format!("dossier-personnel-{}", f.produced_at.date_naive()),
        tables: vec![
            identity(f),
            eligibilities(f),
            passes(f),
            placements(f),
            hours(f),
            path(f),
            immersions(f),
            exits(f),
            conventions(f),
            accesses(f),
        ],
    }
}

fn identity(f: &ParticipantFile) -> Table {
    let p = &f.profile;
    let mut rows = vec![
        vec![text("Identifiant"), text(f.participant_id.as_str())],
        vec![text("Territoire"), text(&f.territory)],
    ];
    match &f.identity {
        Some(i) => rows.extend([
            vec![text("Prénom"), text(&i.first_name)],
            vec![text("Nom"), text(&i.last_name)],
            vec![text("Date de naissance"), Cell::Date(Some(i.birth_date))],
            vec![
                text("Publics"),
                text(
                    i.publics
                        .iter()
                        .map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
        ]),
        None => rows.push(vec![
            text("Identité"),
            text("effacée par anonymisation (nom, prénom, date de naissance, publics)"),
        ]),
    }
    rows.extend([
        vec![
            text("Année de naissance"),
            Cell::Int(i64::from(p.birth_year)),
        ],
        vec![text("Sexe"), text(p.sex.as_str())],
        vec![
            text("Niveau de formation"),
            text(p.education_level.as_str()),
        ],
        vec![
            text("Inscrit à France Travail depuis"),
            Cell::Date(p.unemployed_since),
        ],
        vec![text("Résident QPV"), yes_no(p.qpv_resident)],
        vec![text("Prescripteur"), opt(&p.prescriber)],
        vec![text("Enregistré le"), instant(p.registered_at)],
        vec![text("Anonymisé le"), instant_opt(f.anonymized_at)],
        vec![text("Dossier établi le"), instant(f.produced_at)],
    ]);
    Table {
        name: "Identité",
        headers: vec!["Rubrique", "Valeur"],
        rows,
    }
}

fn eligibilities(f: &ParticipantFile) -> Table {
    let mut rows = Vec::new();
    for e in &f.eligibilities {
        let head = vec![
            Cell::Date(Some(e.checked_on)),
            Cell::Date(Some(e.valid_until)),
            text(e.scheme.as_str()),
            text(e.attester_kind.as_str()),
            opt(&e.attester),
            text(e.structure_kind.map_or("", |s| s.as_str())),
            instant(e.recorded_at),
            text(&e.recorded_by),
        ];
        if e.criteria.is_empty() {
            let mut row = head.clone();
            row.extend([text(""), text(""), Cell::Date(None), text("")]);
            rows.push(row);
        }
        for c in &e.criteria {
            let mut row = head.clone();
            row.extend([
                text(c.criterion.as_str()),
                text(c.proof_kind.as_str()),
                Cell::Date(Some(c.proof_date)),
                opt(&c.reference),
            ]);
            rows.push(row);
        }
    }
    Table {
        name: "Éligibilité",
        headers: vec![
            "Date du contrôle",
            "Valide jusqu'au",
            "Dispositif",
            "Attestée par",
            "Organisme attestant",
            "Structure",
            "Enregistrée le",
            "Enregistrée par",
            "Critère",
            "Justificatif",
            "Date du justificatif",
            "Référence du justificatif",
        ],
        rows,
    }
}

fn passes(f: &ParticipantFile) -> Table {
    let mut rows = Vec::new();
    for x in &f.passes_iae {
        rows.push(vec![
            text(&x.number),
            text("Délivrance"),
            Cell::Date(Some(x.start_date)),
            Cell::Date(Some(x.end_date)),
            text(""),
            instant(x.issued_at),
            text(&x.issued_by),
        ]);
        for e in &x.extensions {
            rows.push(vec![
                text(&x.number),
                text("Prolongation"),
                Cell::Date(Some(e.previous_end)),
                Cell::Date(Some(e.new_end)),
                text(&e.reason),
                instant(e.extended_at),
                text(&e.extended_by),
            ]);
        }
    }
    Table {
        name: "PASS IAE",
        headers: vec![
            "Numéro",
            "Événement",
            "Début (ou fin précédente)",
            "Fin",
            "Motif",
            "Le",
            "Par",
        ],
        rows,
    }
}

fn placements(f: &ParticipantFile) -> Table {
    Table {
        name: "Contrats",
        headers: vec![
            "Référence",
            "Marché",
            "Lot",
            "Chantier",
            "Modalité",
            "Employeur",
            "Type de contrat",
            "Début",
            "Fin",
            "Heures hebdomadaires",
            "Statut",
            "Dérogation",
            "Fin de formation",
            "Créé le",
        ],
        rows: f
            .placements
            .iter()
            .map(|p| {
                vec![
                    text(&p.reference),
                    opt(&p.market),
                    opt(&p.lot),
                    opt(&p.chantier),
                    text(p.modality.as_str()),
                    opt(&p.employer),
                    text(p.contract_type.as_str()),
                    Cell::Date(Some(p.start_date)),
                    Cell::Date(p.end_date),
                    Cell::Hours(i64::from(p.weekly_minutes)),
                    text(p.status.as_str()),
                    text(p.derogation.map_or("", |d| d.as_str())),
                    Cell::Date(p.training_end_date),
                    instant(p.created_at),
                ]
            })
            .collect(),
    }
}

fn hours(f: &ParticipantFile) -> Table {
    Table {
        name: "Heures",
        headers: vec![
            "Mise en situation",
            "Mois",
            "Début de période",
            "Fin de période",
            "Nature",
            "Heures",
            "Statut",
            "Source",
            "Enregistrée le",
            "Enregistrée par",
            "Décision le",
            "Décision par",
            "Motif de la décision",
            "Corrige l'entrée",
            "Motif de la correction",
        ],
        rows: f
            .hours
            .iter()
            .map(|h| {
                vec![
                    text(&h.placement_reference),
                    text(&h.month),
                    Cell::Date(Some(h.period_start)),
                    Cell::Date(Some(h.period_end)),
                    text(h.kind.as_str()),
                    Cell::Hours(h.minutes),
                    text(h.status.as_str()),
                    text(h.source.as_str()),
                    instant(h.recorded_at),
                    opt(&h.recorded_by),
                    instant_opt(h.reviewed_at),
                    opt(&h.reviewed_by),
                    opt(&h.review_reason),
                    text(h.corrects_id.as_ref().map_or("", |c| c.as_str())),
                    opt(&h.reason),
                ]
            })
            .collect(),
    }
}

fn path(f: &ParticipantFile) -> Table {
    Table {
        name: "Parcours",
        headers: vec!["Mise en situation", "De", "Vers", "Motif", "Le", "Par"],
        rows: f
            .status_changes
            .iter()
            .map(|c| {
                vec![
                    text(&c.placement_reference),
                    text(&c.from),
                    text(&c.to),
                    opt(&c.reason),
                    instant(c.changed_at),
                    opt(&c.changed_by),
                ]
            })
            .collect(),
    }
}

fn immersions(f: &ParticipantFile) -> Table {
    Table {
        name: "Immersions",
        headers: vec!["Mise en situation", "Structure d'accueil", "Début", "Fin"],
        rows: f
            .immersions
            .iter()
            .map(|i| {
                vec![
                    text(&i.placement_reference),
                    text(&i.host_name),
                    Cell::Date(Some(i.start_date)),
                    Cell::Date(Some(i.end_date)),
                ]
            })
            .collect(),
    }
}

fn exit_row(what: &str, e: &FileExit) -> Vec<Cell> {
    vec![
        text(&e.placement_reference),
        text(what),
        Cell::Date(Some(e.date)),
        text(e.outcome.as_str()),
        text(e.category.as_str()),
        yes_no(e.dynamic),
        opt(&e.detail),
        opt(&e.justification),
        instant(e.recorded_at),
        text(&e.recorded_by),
    ]
}

fn exits(f: &ParticipantFile) -> Table {
    Table {
        name: "Sorties",
        headers: vec![
            "Mise en situation",
            "Type",
            "Date",
            "Issue",
            "Catégorie",
            "Sortie dynamique",
            "Précision",
            "Justification",
            "Enregistrée le",
            "Par",
        ],
        rows: f
            .exits
            .iter()
            .map(|e| exit_row("Sortie", e))
            .chain(
                f.follow_ups
                    .iter()
                    .map(|e| exit_row("Situation à un an", e)),
            )
            .collect(),
    }
}

fn conventions(f: &ParticipantFile) -> Table {
    Table {
        name: "Conventions",
        headers: vec![
            "Référence",
            "Type",
            "Intitulé",
            "Statut",
            "Mise en situation",
            "Début",
            "Fin",
            "Signée le",
        ],
        rows: f
            .conventions
            .iter()
            .map(|c| {
                vec![
                    text(&c.reference),
                    text(c.kind.as_str()),
                    text(&c.title),
                    text(c.status.as_str()),
                    text(&c.placement_reference),
                    Cell::Date(c.start_date),
                    Cell::Date(c.end_date),
                    Cell::Date(c.signed_on),
                ]
            })
            .collect(),
    }
}

fn accesses(f: &ParticipantFile) -> Table {
    Table {
        name: "Consultations",
        headers: vec!["Consulté par", "Le"],
        rows: f
            .accesses
            .iter()
            .map(|a| vec![text(&a.actor_label), instant(a.at)])
            .collect(),
    }
}
