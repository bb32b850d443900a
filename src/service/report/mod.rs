//! Reports for buyers, funders, the ANRU and facilitators (DOMAIN.md section 8), built from
//! grouped queries over the ledger (`slice`), never by loading entries one by one.

pub mod chantier;
pub mod export;
pub mod figures;
pub mod import;
pub mod market;
pub mod operation;
pub mod slice;
pub mod territory;
pub mod trace;

use async_graphql::SimpleObject;
use chrono::{Days, NaiveDate};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::Ctx;
use crate::error::{AppError, AppResult};
use slice::Window;

/// The dates a report was asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dates {
    /// Figures as known at the end of this day (default: today in the territory).
    pub as_at: Option<NaiveDate>,
    /// Only hours of periods starting from this day …
    pub from: Option<NaiveDate>,
    /// … to this one, included.
    pub to: Option<NaiveDate>,
}

/// Checks the dates and fixes the cutoff in the territory's zone.
pub async fn window<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    territory: Uuid,
    dates: Dates,
) -> AppResult<Window> {
    let tz = super::territory::zone_of(ctx, conn, territory).await?;
    let today = ctx.clock.today_in(tz);
    let as_at = dates.as_at.unwrap_or(today);
    if as_at > today {
        return Err(AppError::bad_input(
            "asAt",
            format!(
                "asAt : {as_at} est dans le futur ; un rapport se fait au plus tard aujourd'hui ({today}) (date in the future)"
            ),
        ));
    }
    if let (Some(from), Some(to)) = (dates.from, dates.to)
        && to < from
    {
        return Err(AppError::bad_input(
            "to",
            "to : la fin de la période précède son début (period ends before it starts)",
        ));
    }
    let next = as_at + Days::new(1);
    let cutoff = crate::domain::reminders::local_instant(next, chrono::NaiveTime::MIN, tz);
    Ok(Window {
        as_at,
        cutoff,
        from: dates.from,
        to: dates.to,
    })
}

/// Where to download a report, with the same authentication as the API.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct ExportLinks {
    /// CSV, `;` and decimal comma (add `&sep=,&decimal=.` for other spreadsheets).
    pub csv: String,
    /// Excel workbook, one sheet per section.
    pub xlsx: String,
}

impl ExportLinks {
    pub fn new(kind: &str, id: &async_graphql::ID, w: &Window) -> Self {
        let mut query = format!("asAt={}", w.as_at);
        if let Some(from) = w.from {
            query.push_str(&format!("&from={from}"));
        }
        if let Some(to) = w.to {
            query.push_str(&format!("&to={to}"));
        }
        let link = |ext: &str| format!("/reports/{kind}/{}.{ext}?{query}", id.as_str());
        ExportLinks {
            csv: link("csv"),
            xlsx: link("xlsx"),
        }
    }
}

/// A report rendered as a file.
pub struct File {
    pub content_type: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn date_param(field: &'static str, raw: Option<&str>) -> AppResult<Option<NaiveDate>> {
    raw.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| {
                AppError::bad_input(
                    field,
                    format!("{field} : « {s} » n'est pas une date AAAA-MM-JJ"),
                )
            })
        })
        .transpose()
}

/// Renders `kind`'s report of `file` (`<id>.csv` or `<id>.xlsx`) for the caller.
#[allow(clippy::too_many_arguments)]
pub async fn download(
    ctx: &Ctx,
    actor: &crate::domain::auth::Actor,
    kind: &str,
    file: &str,
    as_at: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    sep: Option<&str>,
    decimal: Option<&str>,
) -> AppResult<File> {
    let (id, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| AppError::bad_input("format", "format : .csv ou .xlsx"))?;
    if ext != "csv" && ext != "xlsx" {
        return Err(AppError::bad_input(
            "format",
            format!("format : .csv ou .xlsx, pas .{ext}"),
        ));
    }
    let style = export::CsvStyle::parse(sep, decimal)?;
    let dates = Dates {
        as_at: date_param("asAt", as_at)?,
        from: date_param("from", from)?,
        to: date_param("to", to)?,
    };
    let id = async_graphql::ID(id.to_string());
    let doc = match kind {
        "market" => export::market(&market::report(ctx, actor, &id, dates).await?),
        "operation" => export::operation(&operation::report(ctx, actor, &id, dates).await?),
        "chantier" => export::chantier(&chantier::report(ctx, actor, &id, dates).await?),
        "territory" => export::territory(&territory::report(ctx, actor, &id, dates).await?),
        _ => return Err(AppError::NotFound(format!("rapport « {kind} »"))),
    };
    Ok(if ext == "csv" {
        File {
            content_type: "text/csv; charset=utf-8",
            file_name: format!("{}.csv", doc.file_name),
            bytes: export::csv(&doc, style)?,
        }
    } else {
        File {
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            file_name: format!("{}.xlsx", doc.file_name),
            bytes: export::xlsx(&doc)?,
        }
    })
}
