//! The mails themselves: French text and HTML from templates (minijinja, HTML escaped), an
//! iCalendar invitation for commissions, a stable Message-ID, the Date of the injected clock.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use entity::{
    app_user, commission, commission_member, deadline, reminder, status_change, territory,
};
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use minijinja::{Environment, context};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::Settings;
use crate::domain::CommissionStatus;
use crate::domain::auth::{Role, TokenPurpose};
use crate::domain::deadlines::{DeadlineRule, DeadlineStatus, Recipient};
use crate::domain::reminders::{Delivery, ReminderKind, french_date};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};
use crate::service::Ctx;

/// What to do with a claimed row.
pub enum Composed {
    Mail(Box<Message>),
    /// Not to be sent any more; says why.
    Drop(String),
    /// Cannot be sent as it is (a malformed address): a permanent failure.
    Invalid(String),
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            (
                "layout.html",
                include_str!("../../../templates/layout.html"),
            ),
            (
                "reminder.txt",
                include_str!("../../../templates/reminder.txt"),
            ),
            (
                "reminder.html",
                include_str!("../../../templates/reminder.html"),
            ),
            ("notice.txt", include_str!("../../../templates/notice.txt")),
            (
                "notice.html",
                include_str!("../../../templates/notice.html"),
            ),
            ("digest.txt", include_str!("../../../templates/digest.txt")),
            (
                "digest.html",
                include_str!("../../../templates/digest.html"),
            ),
            (
                "account.txt",
                include_str!("../../../templates/account.txt"),
            ),
            (
                "account.html",
                include_str!("../../../templates/account.html"),
            ),
        ] {
            env.add_template(name, src).expect("templates parse");
        }
        env
    })
}

fn render(name: &str, ctx: &minijinja::Value) -> AppResult<String> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| AppError::Internal(format!("template {name}: {e}")))
}

/// French words for what a deadline is about.
fn subject_label(kind: &str) -> &'static str {
    match Kind::from_name(kind) {
        Some(Kind::Market) => "marché",
        Some(Kind::Chantier) => "chantier d'insertion",
        Some(Kind::Convention) => "convention",
        Some(Kind::Commission) => "commission",
        Some(Kind::Placement) => "contrat ou mise en situation",
        Some(Kind::Participant) => "parcours d'un participant",
        _ => "dossier",
    }
}

fn role_label(role: Option<&str>) -> &'static str {
    match role.and_then(Recipient::parse) {
        Some(Recipient::Facilitator) => "facilitateur ou facilitatrice du territoire",
        Some(Recipient::Awardee) => "titulaire du lot",
        Some(Recipient::Buyer) => "maître d'ouvrage du marché",
        Some(Recipient::Employer) => "employeur",
        Some(Recipient::Carrier) => "structure porteuse du chantier",
        Some(Recipient::Owner) => "maître d'ouvrage du chantier",
        Some(Recipient::Parties) => "partie à la convention",
        Some(Recipient::Members) => "membre de la commission",
        Some(Recipient::DecisionOwner) => "responsable de la décision",
        None => "destinataire",
    }
}

fn short(day: chrono::NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

/// « dans 3 jours », « aujourd'hui », « dépassée depuis 2 jours », from the reminder's offset.
fn headline(offset: i64, due: chrono::NaiveDate) -> String {
    match offset {
        0 => format!("L'échéance est aujourd'hui, {}.", french_date(due)),
        1 => format!("L'échéance est demain, {}.", french_date(due)),
        n if n > 0 => format!("L'échéance est dans {n} jours, le {}.", french_date(due)),
        n => format!(
            "L'échéance du {} est dépassée de {} jour{} : elle reste à tenir.",
            french_date(due),
            -n,
            if n < -1 { "s" } else { "" }
        ),
    }
}

fn link(s: &Settings, kind: &str, id: uuid::Uuid) -> String {
    match Kind::from_name(kind) {
        Some(k) => format!(
            "{}/{}/{}",
            s.app_url,
            kind.to_lowercase(),
            ids::encode(k, id).0
        ),
        None => s.app_url.clone(),
    }
}

/// When and where a commission meets, in its territory's local time.
fn when(c: &commission::Model, tz: Tz) -> String {
    let local = c.starts_at.with_timezone(&tz);
    format!(
        "{} à {}",
        french_date(local.date_naive()),
        local.format("%H h %M")
    )
}

/// The iCalendar invitation of a commission in its current version, and its METHOD: a
/// request, or a cancellation once cancelled, with the commission's sequence so calendars
/// replace the last one.
pub fn invitation(
    c: &commission::Model,
    members: &[commission_member::Model],
    organizer: &str,
    now: DateTime<Utc>,
) -> (String, &'static str) {
    let cancelled = CommissionStatus::from_db(&c.status) == CommissionStatus::Cancelled;
    let mut ev = icalendar::Event::new();
    ev.uid(&format!("commission-{}@passerelle", c.id))
        .summary(&c.title)
        .description(&c.agenda)
        .location(&c.place)
        .starts(c.starts_at)
        .ends(c.starts_at + Duration::minutes(i64::from(c.duration_minutes)))
        .sequence(c.sequence.max(0) as u32)
        .timestamp(now)
        .add_property("ORGANIZER", format!("mailto:{organizer}"));
    ev.status(if cancelled {
        EventStatus::Cancelled
    } else {
        EventStatus::Confirmed
    });
    for m in members {
        if let Some(email) = &m.email {
            let mut p = Property::new("ATTENDEE", format!("mailto:{email}"));
            p.add_parameter("CN", &m.name);
            p.add_parameter("ROLE", "REQ-PARTICIPANT");
            ev.append_multi_property(p);
        }
    }
    let method = if cancelled { "CANCEL" } else { "REQUEST" };
    let mut cal = Calendar::new();
    cal.append_property(Property::new("METHOD", method));
    cal.push(ev.done());
    (cal.done().to_string(), method)
}

/// One entry of a digest.
#[derive(Serialize)]
struct Item {
    due_date: String,
    title: String,
    headline: String,
    link: String,
}

struct Place {
    name: String,
    tz: Tz,
}

async fn place<C: ConnectionTrait>(conn: &C, id: uuid::Uuid) -> AppResult<Place> {
    let t = crate::service::get::<territory::Entity, _>(conn, id, "territoire").await?;
    Ok(Place {
        tz: crate::service::territory::time_zone(&t),
        name: t.name,
    })
}

/// Writes the mail of a claimed row, or says why it should not go out any more.
pub async fn compose(ctx: &Ctx, s: &Settings, row: &reminder::Model) -> AppResult<Composed> {
    let conn = &ctx.db.conn;
    let now = ctx.clock.now();
    let kind = ReminderKind::from_db(&row.kind);
    if matches!(
        kind,
        ReminderKind::AccountReset | ReminderKind::AccountInvitation
    ) {
        return account_mail(ctx, s, row, now).await;
    }
    let Some(territory) = row.territory_id else {
        return Ok(Composed::Invalid(
            "rappel sans territoire (reminder without a territory)".into(),
        ));
    };
    let at = place(conn, territory).await?;
    let mut ics: Option<(String, &'static str)> = None;
    let (subject, text, html) = match kind {
        ReminderKind::AccountReset | ReminderKind::AccountInvitation => {
            return Ok(Composed::Drop("courriel de compte (account mail)".into()));
        }
        ReminderKind::Reminder => {
            let Some(d) = deadline_of(conn, row).await? else {
                return Ok(Composed::Drop("échéance supprimée".into()));
            };
            if DeadlineStatus::from_db(&d.status) != DeadlineStatus::Open {
                return Ok(Composed::Drop(format!(
                    "échéance {} entre-temps (deadline no longer open)",
                    if d.status == "MET" {
                        "tenue"
                    } else {
                        "annulée"
                    }
                )));
            }
            if Some(d.due_on) != row.due_on {
                return Ok(Composed::Drop(
                    "échéance déplacée ; un rappel est prévu pour la nouvelle date (deadline moved)"
                        .into(),
                ));
            }
            let offset = i64::from(row.offset_days.unwrap_or(0));
            let mut meeting = None;
            if DeadlineRule::from_db(&d.rule) == DeadlineRule::Commission
                && let Some((c, members)) = meeting_of(conn, d.subject_id).await?
            {
                meeting = Some(context! {
                    when => when(&c, at.tz),
                    place => c.place.clone(),
                    agenda => c.agenda.clone(),
                });
                ics = Some(invitation(&c, &members, &sender_email(s), now));
            }
            let subject = match offset {
                n if n > 0 => format!("Rappel : {} — pour le {}", d.title, short(d.due_on)),
                0 => format!("Rappel : {} — aujourd'hui", d.title),
                _ => format!("Relance : {} — attendu le {}", d.title, short(d.due_on)),
            };
            let vars = context! {
                subject => subject.clone(),
                name => row.recipient_name.clone(),
                headline => headline(offset, d.due_on),
                title => d.title.clone(),
                due_date => french_date(d.due_on),
                subject_label => subject_label(&d.subject_kind),
                reference => ids::encode(Kind::from_name(&d.subject_kind).unwrap_or(Kind::Deadline), d.subject_id).0,
                territory => at.name.clone(),
                link => link(s, &d.subject_kind, d.subject_id),
                role => role_label(row.recipient_role.as_deref()),
                meeting => meeting,
            };
            (
                subject,
                render("reminder.txt", &vars)?,
                render("reminder.html", &vars)?,
            )
        }
        ReminderKind::CommissionNotice => {
            let Some((c, members)) =
                meeting_of(conn, row.commission_id.unwrap_or_default()).await?
            else {
                return Ok(Composed::Drop("commission supprimée".into()));
            };
            if Some(c.sequence) != row.sequence {
                return Ok(Composed::Drop(
                    "commission modifiée de nouveau ; un avis plus récent part (superseded)".into(),
                ));
            }
            let cancelled = CommissionStatus::from_db(&c.status) == CommissionStatus::Cancelled;
            let reason = status_change::Entity::find()
                .filter(status_change::Column::ObjectId.eq(c.id))
                .order_by_desc(status_change::Column::ChangedAt)
                .one(conn)
                .await?
                .and_then(|h| h.reason);
            let subject = if cancelled {
                format!("Annulée : {} — {}", c.title, when(&c, at.tz))
            } else {
                format!("Nouvelle date : {} — {}", c.title, when(&c, at.tz))
            };
            let vars = context! {
                subject => subject.clone(),
                name => row.recipient_name.clone(),
                cancelled => cancelled,
                title => c.title.clone(),
                when => when(&c, at.tz),
                place => c.place.clone(),
                reason => reason,
                link => link(s, Kind::Commission.name(), c.id),
            };
            ics = Some(invitation(&c, &members, &sender_email(s), now));
            (
                subject,
                render("notice.txt", &vars)?,
                render("notice.html", &vars)?,
            )
        }
        ReminderKind::Digest => {
            let parts = reminder::Entity::find()
                .filter(reminder::Column::DigestId.eq(row.id))
                .order_by_asc(reminder::Column::SendAt)
                .all(conn)
                .await?;
            let ids: Vec<uuid::Uuid> = parts.iter().filter_map(|p| p.deadline_id).collect();
            let deadlines = deadline::Entity::find()
                .filter(deadline::Column::Id.is_in(ids))
                .all(conn)
                .await?;
            let mut items = Vec::new();
            for p in &parts {
                if let Some(d) = deadlines.iter().find(|d| Some(d.id) == p.deadline_id) {
                    items.push(Item {
                        due_date: french_date(d.due_on),
                        title: d.title.clone(),
                        headline: headline(i64::from(p.offset_days.unwrap_or(0)), d.due_on),
                        link: link(s, &d.subject_kind, d.subject_id),
                    });
                }
            }
            // A digest row's offset is the number of days it covers.
            let weekly =
                row.offset_days.map(i64::from) == Some(Delivery::Weekly.horizon().num_days());
            let local_day = row.send_at.with_timezone(&at.tz).date_naive();
            let (period, subject) = if weekly {
                (
                    "de la semaine",
                    format!("Vos rappels de la semaine du {}", french_date(local_day)),
                )
            } else {
                (
                    "du jour",
                    format!("Vos rappels du {}", french_date(local_day)),
                )
            };
            let subject = format!("{subject} ({})", items.len());
            let vars = context! {
                subject => subject.clone(),
                name => row.recipient_name.clone(),
                period => period,
                items => items,
            };
            (
                subject,
                render("digest.txt", &vars)?,
                render("digest.html", &vars)?,
            )
        }
    };
    Ok(build(s, row, now, subject, text, html, ics))
}

/// How a role is named in an invitation.
fn role_name(role: &str) -> &'static str {
    match Role::parse(role) {
        Some(Role::Admin) => "administrateur",
        Some(Role::Facilitator) => "facilitateur",
        Some(Role::Buyer) => "maître d'ouvrage",
        Some(Role::Company) => "entreprise",
        Some(Role::Siae) => "structure d'insertion",
        Some(Role::Funder) => "financeur",
        None => "utilisateur",
    }
}

/// The mail of a reset or invitation link: the link derived again from its row (the store
/// keeps only its hash), or dropped when the link was used, withdrawn or expired meanwhile, or
/// the account switched off.
async fn account_mail(
    ctx: &Ctx,
    s: &Settings,
    row: &reminder::Model,
    now: DateTime<Utc>,
) -> AppResult<Composed> {
    let conn = &ctx.db.conn;
    let link = match crate::service::accounts::link_of_mail(ctx, conn, row.id, &s.app_url).await? {
        Ok(link) => link,
        Err(why) => return Ok(Composed::Drop(why)),
    };
    let user = match row.user_id {
        Some(id) => app_user::Entity::find_by_id(id).one(conn).await?,
        None => None,
    };
    let Some(user) = user.filter(|u| u.active) else {
        return Ok(Composed::Drop(
            "compte désactivé entre-temps (account deactivated)".into(),
        ));
    };
    let invite = link.purpose == TokenPurpose::Invite;
    let subject = if invite {
        "Passerelle : votre compte est ouvert, choisissez votre mot de passe".to_string()
    } else {
        "Passerelle : réinitialiser votre mot de passe".to_string()
    };
    let vars = context! {
        subject => subject.clone(),
        invite => invite,
        email => user.email.clone(),
        role => role_name(&user.role),
        link => link.url,
        expires => link.expires_at.format("%d/%m/%Y à %H:%M").to_string(),
    };
    Ok(build(
        s,
        row,
        now,
        subject,
        render("account.txt", &vars)?,
        render("account.html", &vars)?,
        None,
    ))
}

async fn deadline_of<C: ConnectionTrait>(
    conn: &C,
    row: &reminder::Model,
) -> AppResult<Option<deadline::Model>> {
    match row.deadline_id {
        Some(id) => Ok(deadline::Entity::find_by_id(id).one(conn).await?),
        None => Ok(None),
    }
}

async fn meeting_of<C: ConnectionTrait>(
    conn: &C,
    id: uuid::Uuid,
) -> AppResult<Option<(commission::Model, Vec<commission_member::Model>)>> {
    let Some(c) = commission::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    let members = crate::service::children::<commission_member::Entity, _>(
        conn,
        commission_member::Column::CommissionId,
        id,
        commission_member::Column::Name,
    )
    .await?;
    Ok(Some((c, members)))
}

fn sender_email(s: &Settings) -> String {
    s.from
        .parse::<Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| s.from.clone())
}

fn build(
    s: &Settings,
    row: &reminder::Model,
    now: DateTime<Utc>,
    subject: String,
    text: String,
    html: String,
    ics: Option<(String, &'static str)>,
) -> Composed {
    let from: Mailbox = match s.from.parse() {
        Ok(m) => m,
        Err(e) => return Composed::Invalid(format!("MAIL_FROM « {} » : {e}", s.from)),
    };
    let to = match row.recipient_email.parse() {
        Ok(addr) => Mailbox::new(row.recipient_name.clone(), addr),
        Err(e) => {
            return Composed::Invalid(format!(
                "adresse « {} » invalide : {e} (invalid address)",
                row.recipient_email
            ));
        }
    };
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{}>", row.message_id)))
        .date(std::time::SystemTime::from(now));
    let body = MultiPart::alternative_plain_html(text, html);
    let built = match ics {
        Some((ics, method)) => {
            let kind =
                ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .expect("a valid content type");
            builder.multipart(
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new("invitation.ics".into()).body(ics, kind)),
            )
        }
        None => builder.multipart(body),
    };
    match built {
        Ok(m) => Composed::Mail(Box::new(m)),
        Err(e) => Composed::Invalid(format!("message : {e}")),
    }
}
