//! Planning: each deadline whose reminders lag its last change gets its outbox rows
//! (deadline × due date × offset × recipient) inserted ahead of time, under a unique key so
//! that racing planners are harmless; rows no longer wanted are cancelled before they go out.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{
    app_user, commission, commission_member, deadline, organization, reminder, reminder_preference,
    user_territory,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::Preferences;
use crate::domain::CommissionStatus;
use crate::domain::auth::Role;
use crate::domain::deadlines::{DeadlineRule, DeadlineStatus, Recipient, RecipientEntry, rule_def};
use crate::domain::params::ParamSet;
use crate::domain::reminders::{
    self as rules, Delivery, OfficeHours, ReminderKind, ReminderStatus,
};
use crate::error::AppResult;
use crate::service::Ctx;
use crate::service::params::{Place, set_at};

/// Deadlines planned per transaction.
const BATCH: u64 = 200;

/// One address to remind, and who it is.
#[derive(Debug, Clone)]
pub struct Addressee {
    pub email: String,
    pub name: Option<String>,
    pub role: Recipient,
    pub user_id: Option<Uuid>,
}

/// A territory's zone, hours and reminder parameters, read once per pass.
struct Territory {
    tz: Tz,
    hours: OfficeHours,
    params: ParamSet,
}

/// The next deadlines whose reminders lag their last change, in id order. The filter is, term
/// for term, the predicate of the partial index `ix_deadline_to_plan`, so a pass reads only the
/// lagging deadlines (a test checks that both stores use it).
pub fn lagging() -> sea_orm::Select<deadline::Entity> {
    deadline::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(deadline::Column::PlannedRevision.is_null())
                .add(sea_orm::sea_query::ExprTrait::lt(
                    sea_orm::sea_query::Expr::col(deadline::Column::PlannedRevision),
                    sea_orm::sea_query::Expr::col(deadline::Column::Revision),
                )),
        )
        .order_by_asc(deadline::Column::Id)
        .limit(BATCH)
}

/// Plans every deadline whose reminders lag its last change; returns how many rows it added.
pub async fn run(ctx: &Ctx) -> AppResult<usize> {
    let mut added = 0;
    loop {
        let txn = ctx.db.begin_write().await?;
        let batch = lagging().all(&*txn).await?;
        if batch.is_empty() {
            break;
        }
        added += plan_batch(&*txn, ctx, &batch).await?;
        txn.commit().await?;
    }
    Ok(added)
}

async fn plan_batch<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    batch: &[deadline::Model],
) -> AppResult<usize> {
    let now = ctx.clock.now();
    let mut territories: HashMap<Uuid, Territory> = HashMap::new();
    for d in batch {
        if let std::collections::hash_map::Entry::Vacant(slot) = territories.entry(d.territory_id) {
            let tz = crate::service::territory::zone_of(ctx, conn, d.territory_id).await?;
            let params = set_at(
                conn,
                Place::territory(d.territory_id),
                ctx.clock.today_in(tz),
            )
            .await?;
            slot.insert(Territory {
                tz,
                hours: OfficeHours::of(&params),
                params,
            });
        }
    }
    let book = AddressBook::load(conn, batch).await?;
    let meetings = meetings(conn, batch).await?;
    let ids: Vec<Uuid> = batch.iter().map(|d| d.id).collect();
    // Rows still to go out, and cancelled ones that may be wanted again (a rule unmuted, a
    // deadline moved back to its first day).
    let mut live = ReminderStatus::PENDING.to_vec();
    live.push(ReminderStatus::Cancelled);
    let rows = reminder::Entity::find()
        .filter(reminder::Column::DeadlineId.is_in(ids.clone()))
        .filter(reminder::Column::Status.is_in(live.iter().map(|s| s.as_str())))
        .all(conn)
        .await?;
    let pending: Vec<&reminder::Model> = rows
        .iter()
        .filter(|r| r.status != ReminderStatus::Cancelled.as_str())
        .collect();
    let mut wanted: Vec<reminder::ActiveModel> = Vec::new();
    let mut keep: HashSet<String> = HashSet::new();
    for d in batch {
        let t = &territories[&d.territory_id];
        let rule = DeadlineRule::from_db(&d.rule);
        if DeadlineStatus::from_db(&d.status) == DeadlineStatus::Open {
            let today = now.with_timezone(&t.tz).date_naive();
            let entries: Vec<RecipientEntry> =
                serde_json::from_str(&d.recipients).unwrap_or_default();
            let people = book.resolve(d.territory_id, &entries);
            for offset in t.params.get(rule_def(rule).offsets).value.list() {
                if rules::reminder_day(d.due_on, offset) < today {
                    // Its day passed before the deadline existed: nobody wants yesterday's news.
                    continue;
                }
                let send_at = t.hours.send_at(d.due_on, offset, t.tz);
                for who in &people {
                    let prefs = book.preferences(who.user_id);
                    if prefs.muted.contains(&rule) || !rules::reminds(rule, who.role, offset) {
                        continue;
                    }
                    let key = rules::reminder_key(d.id, d.due_on, offset, &who.email);
                    keep.insert(key.clone());
                    let mut row = row(
                        ctx,
                        ReminderKind::Reminder,
                        key,
                        d.territory_id,
                        who,
                        send_at,
                    );
                    row.deadline_id = Set(Some(d.id));
                    row.offset_days = Set(Some(offset as i32));
                    row.due_on = Set(Some(d.due_on));
                    row.via_digest = Set(prefs.delivery != Delivery::Single);
                    wanted.push(row);
                }
            }
        }
        if let Some((c, members)) = meetings.get(&d.subject_id) {
            wanted.extend(notices(ctx, now, d, c, members, &book, &mut keep));
        }
    }
    // Still pending, no longer wanted: the deadline was met, moved or cancelled, the rule muted,
    // the recipient gone, or a newer notice supersedes this one.
    let stale: Vec<Uuid> = pending
        .iter()
        .filter(|r| !keep.contains(&r.dedupe_key))
        .map(|r| r.id)
        .collect();
    if !stale.is_empty() {
        reminder::Entity::update_many()
            .set(reminder::ActiveModel {
                status: Set(ReminderStatus::Cancelled.as_str().into()),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(reminder::Column::Id.is_in(stale))
            .filter(super::pending())
            .exec(conn)
            .await?;
    }
    // A pending row whose territory changed its send time, or whose user switched to a digest.
    let by_key: HashMap<&str, &reminder::Model> =
        rows.iter().map(|r| (r.dedupe_key.as_str(), r)).collect();
    let mut added = 0;
    let mut fresh = Vec::new();
    for w in wanted {
        let key = w.dedupe_key.clone().unwrap();
        match by_key.get(key.as_str()) {
            Some(old) => {
                let (send_at, via) = (w.send_at.clone().unwrap(), w.via_digest.clone().unwrap());
                let revived = old.status == ReminderStatus::Cancelled.as_str();
                if revived || old.send_at != send_at || old.via_digest != via {
                    let mut change = reminder::ActiveModel {
                        send_at: Set(send_at),
                        next_attempt_at: Set(send_at.max(old.next_attempt_at)),
                        via_digest: Set(via),
                        updated_at: Set(now),
                        ..Default::default()
                    };
                    if revived {
                        change.status = Set(ReminderStatus::Planned.as_str().into());
                        change.next_attempt_at = Set(send_at);
                        change.last_error = Set(None);
                    }
                    reminder::Entity::update_many()
                        .set(change)
                        .filter(reminder::Column::Id.eq(old.id))
                        .exec(conn)
                        .await?;
                }
            }
            None => fresh.push(w),
        }
    }
    if !fresh.is_empty() {
        added += reminder::Entity::insert_many(fresh)
            .on_conflict(
                OnConflict::column(reminder::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await? as usize;
    }
    for d in batch {
        // The revision read, not the current one: a change made meanwhile stays to be planned.
        deadline::Entity::update_many()
            .col_expr(
                deadline::Column::PlannedRevision,
                sea_orm::sea_query::Expr::value(d.revision),
            )
            .filter(deadline::Column::Id.eq(d.id))
            .exec(conn)
            .await?;
    }
    Ok(added)
}

/// A new outbox row to one addressee.
fn row(
    ctx: &Ctx,
    kind: ReminderKind,
    key: String,
    territory: Uuid,
    who: &Addressee,
    send_at: DateTime<Utc>,
) -> reminder::ActiveModel {
    let mut r = super::new_row(ctx, kind, key, Some(territory), who.email.clone(), send_at);
    r.user_id = Set(who.user_id);
    r.recipient_name = Set(who.name.clone());
    r.recipient_role = Set(Some(who.role.as_str().into()));
    r
}

/// The commissions of a batch's commission deadlines, with their members: two queries.
async fn meetings<C: ConnectionTrait>(
    conn: &C,
    batch: &[deadline::Model],
) -> AppResult<HashMap<Uuid, (commission::Model, Vec<commission_member::Model>)>> {
    let ids: Vec<Uuid> = batch
        .iter()
        .filter(|d| DeadlineRule::from_db(&d.rule) == DeadlineRule::Commission)
        .map(|d| d.subject_id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut out: HashMap<Uuid, (commission::Model, Vec<commission_member::Model>)> =
        commission::Entity::find()
            .filter(commission::Column::Id.is_in(ids.clone()))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, (c, Vec::new())))
            .collect();
    for m in commission_member::Entity::find()
        .filter(commission_member::Column::CommissionId.is_in(ids))
        .order_by_asc(commission_member::Column::Name)
        .all(conn)
        .await?
    {
        if let Some((_, members)) = out.get_mut(&m.commission_id) {
            members.push(m);
        }
    }
    Ok(out)
}

/// A commission re-planned or cancelled (its sequence above 0) tells each member at once, with
/// the updated or withdrawn invitation; an older notice not yet sent is superseded.
fn notices(
    ctx: &Ctx,
    now: DateTime<Utc>,
    d: &deadline::Model,
    c: &commission::Model,
    members: &[commission_member::Model],
    book: &AddressBook,
    keep: &mut HashSet<String>,
) -> Vec<reminder::ActiveModel> {
    let moved = c.sequence > 0
        && matches!(
            CommissionStatus::from_db(&c.status),
            CommissionStatus::Planned | CommissionStatus::Cancelled
        )
        && c.starts_at > now;
    if !moved {
        return vec![];
    }
    let mut out = Vec::new();
    for m in members {
        let Some(email) = m.email.clone().filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        let who = Addressee {
            user_id: book.user_by_email(&email),
            email,
            name: Some(m.name.clone()),
            role: Recipient::Members,
        };
        let key = rules::notice_key(c.id, c.sequence, &who.email);
        keep.insert(key.clone());
        let mut r = row(
            ctx,
            ReminderKind::CommissionNotice,
            key,
            d.territory_id,
            &who,
            now,
        );
        r.deadline_id = Set(Some(d.id));
        r.commission_id = Set(Some(c.id));
        r.sequence = Set(Some(c.sequence));
        r.due_on = Set(Some(d.due_on));
        out.push(r);
    }
    out
}

/// Who the roles of a batch's deadlines are: facilitators of each territory, the active users
/// of each organization (or its own address when it has no account), people named by e-mail.
struct AddressBook {
    facilitators: HashMap<Uuid, Vec<app_user::Model>>,
    org_users: HashMap<Uuid, Vec<app_user::Model>>,
    org_emails: HashMap<Uuid, (String, Option<String>)>,
    by_email: HashMap<String, Uuid>,
    prefs: HashMap<Uuid, Preferences>,
}

impl AddressBook {
    async fn load<C: ConnectionTrait>(conn: &C, batch: &[deadline::Model]) -> AppResult<Self> {
        let territories: HashSet<Uuid> = batch.iter().map(|d| d.territory_id).collect();
        let mut orgs: HashSet<Uuid> = HashSet::new();
        let mut emails: HashSet<String> = HashSet::new();
        for d in batch {
            let entries: Vec<RecipientEntry> =
                serde_json::from_str(&d.recipients).unwrap_or_default();
            for e in entries {
                orgs.extend(e.organization_id);
                emails.extend(e.email.map(|m| m.to_lowercase()));
            }
        }
        let links = user_territory::Entity::find()
            .filter(user_territory::Column::TerritoryId.is_in(territories))
            .all(conn)
            .await?;
        let facilitator_ids: Vec<Uuid> = links.iter().map(|l| l.user_id).collect();
        let users = app_user::Entity::find()
            .filter(app_user::Column::Active.eq(true))
            .filter(
                sea_orm::Condition::any()
                    .add(app_user::Column::Id.is_in(facilitator_ids))
                    .add(app_user::Column::OrganizationId.is_in(orgs.clone()))
                    .add(app_user::Column::Email.is_in(emails)),
            )
            .order_by_asc(app_user::Column::Email)
            .all(conn)
            .await?;
        let mut book = AddressBook {
            facilitators: HashMap::new(),
            org_users: HashMap::new(),
            org_emails: HashMap::new(),
            by_email: users
                .iter()
                .map(|u| (u.email.to_lowercase(), u.id))
                .collect(),
            prefs: HashMap::new(),
        };
        for l in &links {
            if let Some(u) = users
                .iter()
                .find(|u| u.id == l.user_id && u.role == Role::Facilitator.as_str())
            {
                book.facilitators
                    .entry(l.territory_id)
                    .or_default()
                    .push(u.clone());
            }
        }
        for u in &users {
            if let Some(org) = u.organization_id {
                book.org_users.entry(org).or_default().push(u.clone());
            }
        }
        for o in organization::Entity::find()
            .filter(organization::Column::Id.is_in(orgs))
            .all(conn)
            .await?
        {
            if let Some(email) = o.email.filter(|e| !e.trim().is_empty()) {
                book.org_emails.insert(o.id, (email, Some(o.name)));
            }
        }
        let user_ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
        for p in reminder_preference::Entity::find()
            .filter(reminder_preference::Column::UserId.is_in(user_ids))
            .all(conn)
            .await?
        {
            book.prefs.insert(p.user_id, Preferences::of(&p));
        }
        Ok(book)
    }

    fn user_by_email(&self, email: &str) -> Option<Uuid> {
        self.by_email.get(&email.to_lowercase()).copied()
    }

    fn preferences(&self, user: Option<Uuid>) -> Preferences {
        user.and_then(|u| self.prefs.get(&u).cloned())
            .unwrap_or_default()
    }

    /// The addresses behind a deadline's recipients, each once.
    fn resolve(&self, territory: Uuid, entries: &[RecipientEntry]) -> Vec<Addressee> {
        let mut out: Vec<Addressee> = Vec::new();
        let user = |u: &app_user::Model, role| Addressee {
            email: u.email.clone(),
            name: None,
            role,
            user_id: Some(u.id),
        };
        for e in entries {
            match (e.role, e.organization_id) {
                (Recipient::Facilitator, _) => out.extend(
                    self.facilitators
                        .get(&territory)
                        .into_iter()
                        .flatten()
                        .map(|u| user(u, e.role)),
                ),
                (_, Some(org)) => match self.org_users.get(&org) {
                    Some(users) => out.extend(users.iter().map(|u| user(u, e.role))),
                    None => out.extend(self.org_emails.get(&org).map(|(email, name)| Addressee {
                        email: email.clone(),
                        name: name.clone(),
                        role: e.role,
                        user_id: None,
                    })),
                },
                (_, None) => out.extend(e.email.iter().filter(|m| !m.trim().is_empty()).map(
                    |email| Addressee {
                        email: email.clone(),
                        name: e.name.clone(),
                        role: e.role,
                        user_id: self.user_by_email(email),
                    },
                )),
            }
        }
        let mut seen = HashSet::new();
        out.retain(|a| seen.insert(a.email.to_lowercase()));
        out
    }
}
