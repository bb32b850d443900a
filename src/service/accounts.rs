//! Managing accounts: the list, edits, deactivation, and passwords (changed, reset by a mailed
//! link, or set from an invitation). Sign-in, sessions and API keys are `auth`.
//!
//! A mailed link carries a secret the store never keeps: the `account_token` row keeps its
//! SHA-256, and the mail, composed later by the outbox, derives the secret again from the row's
//! ID under the server's key (`secret::TraceKey`: TRACE_SECRET, or the key drawn at first start).

use async_graphql::{ID, InputObject, MaybeUndefined};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::{account_token, app_user, credential, login_failure, organization, user_territory};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::auth::{self as signin, API_KEY, SESSION};
use super::page::{self, Page, PageArgs};
use super::secret::TraceKey;
use super::{Ctx, audit};
use crate::domain::auth::{self, Actor, LinkRefusal, Role, TokenPurpose};
use crate::domain::reminders::ReminderKind;
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// Reset requests tolerated in the window (`auth::FAILURE_WINDOW_MINUTES`), per address asked
/// for and per client address.
pub const MAX_RESETS_PER_ACCOUNT: u64 = 3;
pub const MAX_RESETS_PER_ADDRESS: u64 = 10;

/// Signed before the token's ID, so that no other signature of the key is ever a link.
const LINK_CONTEXT: &[u8] = b"passerelle account link v1\n";

/// The secret of a link: derived from its row's ID under the server's key, so the mail can be
/// written later without the store ever holding the secret.
pub fn link_secret(key: &TraceKey, token_id: Uuid) -> String {
    let tag = key.sign(&[LINK_CONTEXT, token_id.as_bytes().as_slice()].concat());
    format!("pal_{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Where a link leads in the front end.
pub fn link_url(app_url: &str, purpose: TokenPurpose, secret: &str) -> String {
    let page = match purpose {
        TokenPurpose::Reset => "reinitialiser",
        TokenPurpose::Invite => "invitation",
    };
    format!("{}/{page}?jeton={secret}", app_url.trim_end_matches('/'))
}

/// The reminder kind that mails a link of `purpose`.
pub fn mail_kind(purpose: TokenPurpose) -> ReminderKind {
    match purpose {
        TokenPurpose::Reset => ReminderKind::AccountReset,
        TokenPurpose::Invite => ReminderKind::AccountInvitation,
    }
}

/// Makes a link for `user` and queues its mail, in the caller's transaction.
pub(crate) async fn issue_link<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    user: &app_user::Model,
    purpose: TokenPurpose,
) -> AppResult<account_token::Model> {
    let now = ctx.clock.now();
    let id = ctx.clock.new_id();
    let secret = link_secret(&ctx.trace_key, id);
    let mut mail = super::reminders::new_row(
        ctx,
        mail_kind(purpose),
        format!("account-link:{id}"),
        None,
        user.email.clone(),
        now,
    );
    mail.user_id = Set(Some(user.id));
    let mail = mail.insert(conn).await?;
    Ok(account_token::ActiveModel {
        id: Set(id),
        purpose: Set(purpose.as_str().into()),
        user_id: Set(user.id),
        token_hash: Set(auth::secret_hash(&secret)),
        created_at: Set(now),
        expires_at: Set(now + purpose.lifetime()),
        used_at: Set(None),
        mail_id: Set(Some(mail.id)),
    }
    .insert(conn)
    .await?)
}

/// Withdraws the unused links of `user` (all, or of one purpose): they can never be used.
async fn withdraw_links<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    user: Uuid,
    purpose: Option<TokenPurpose>,
) -> AppResult<u64> {
    let mut q = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(ctx.clock.now()))
        .filter(account_token::Column::UserId.eq(user))
        .filter(account_token::Column::UsedAt.is_null());
    if let Some(p) = purpose {
        q = q.filter(account_token::Column::Purpose.eq(p.as_str()));
    }
    Ok(q.exec(conn).await?.rows_affected)
}

/// Revokes the live credentials of `user` of `kind` (all kinds: `None`), but `keep`.
async fn revoke_all<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    user: Uuid,
    kind: Option<&str>,
    keep: Option<Uuid>,
) -> AppResult<u64> {
    let mut q = credential::Entity::update_many()
        .col_expr(credential::Column::RevokedAt, Expr::value(ctx.clock.now()))
        .filter(credential::Column::UserId.eq(user))
        .filter(credential::Column::RevokedAt.is_null());
    if let Some(k) = kind {
        q = q.filter(credential::Column::Kind.eq(k));
    }
    if let Some(k) = keep {
        q = q.filter(credential::Column::Id.ne(k));
    }
    Ok(q.exec(conn).await?.rows_affected)
}

// ------------------------------------------------------------------------------------------
// The list.
// ------------------------------------------------------------------------------------------

#[derive(Debug, Default, InputObject)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub organization_id: Option<ID>,
    /// Facilitators of this territory and members of its organizations.
    pub territory_id: Option<ID>,
    pub active: Option<bool>,
    /// Part of the e-mail address or of the organization's name (case and accents ignored).
    pub search: Option<String>,
}

fn orgs_of_territories(ts: Vec<Uuid>) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(organization::Column::Id)
        .from(organization::Entity)
        .and_where(organization::Column::TerritoryId.is_in(ts))
        .to_owned()
}

fn facilitators_of(ts: Vec<Uuid>) -> Condition {
    Condition::all()
        .add(app_user::Column::Role.eq(Role::Facilitator.as_str()))
        .add(
            app_user::Column::Id.in_subquery(
                Query::select()
                    .column(user_territory::Column::UserId)
                    .from(user_territory::Entity)
                    .and_where(user_territory::Column::TerritoryId.is_in(ts))
                    .to_owned(),
            ),
        )
}

/// Accounts of these territories: their facilitators, the members of their organizations.
fn of_territories(ts: Vec<Uuid>) -> Condition {
    Condition::any()
        .add(app_user::Column::OrganizationId.in_subquery(orgs_of_territories(ts.clone())))
        .add(facilitators_of(ts))
}

/// Accounts an actor may list: administrators all; a facilitator those of their territories
/// (fellow facilitators, members of the territories' organizations); nobody else any.
pub fn visible(actor: &Actor) -> AppResult<Condition> {
    match actor.role {
        None | Some(Role::Admin) => Ok(Condition::all()),
        Some(Role::Facilitator) => Ok(of_territories(actor.territories.iter().copied().collect())),
        Some(_) => Err(AppError::Forbidden),
    }
}

/// Accounts in scope, in creation order, paged and filtered.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: UserFilter,
    args: PageArgs,
) -> AppResult<Page<app_user::Model>> {
    let mut q = app_user::Entity::find().filter(visible(actor)?);
    if let Some(r) = filter.role {
        q = q.filter(app_user::Column::Role.eq(r.as_str()));
    }
    q = page::by_id(
        q,
        app_user::Column::OrganizationId,
        Kind::Organization,
        filter.organization_id.as_ref(),
        "filter.organizationId",
    )?;
    if let Some(t) = ids::decode_opt(
        Kind::Territory,
        filter.territory_id.as_ref(),
        "filter.territoryId",
    )? {
        q = q.filter(of_territories(vec![t]));
    }
    if let Some(a) = filter.active {
        q = q.filter(app_user::Column::Active.eq(a));
    }
    if let Some(s) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let escaped: String = s
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        q = q.filter(
            Condition::any()
                .add(
                    Expr::col(app_user::Column::Email)
                        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
                )
                .add(
                    app_user::Column::OrganizationId.in_subquery(
                        Query::select()
                            .column(organization::Column::Id)
                            .from(organization::Entity)
                            .and_where(page::matches(organization::Column::SearchText, s))
                            .to_owned(),
                    ),
                ),
        );
    }
    page::fetch(&ctx.db.conn, q, app_user::Column::Id, &args).await
}

// ------------------------------------------------------------------------------------------
// Edits by an administrator.
// ------------------------------------------------------------------------------------------

#[derive(Debug, InputObject)]
pub struct UpdateUserInput {
    pub user_id: ID,
    /// The version read; another change since answers CONFLICT.
    pub version: i32,
    pub role: Option<Role>,
    /// Absent: unchanged; `null`: none (facilitators and administrators only).
    #[graphql(default)]
    pub organization_id: MaybeUndefined<ID>,
    /// Replaces the set when given (facilitators: at least one; others: none).
    pub territory_ids: Option<Vec<ID>>,
}

fn admin_only(actor: &Actor) -> AppResult<()> {
    if actor.any_of(&[Role::Admin]) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Loads an account for a change by an administrator, locked until the transaction ends.
async fn for_update<C: ConnectionTrait>(
    conn: &C,
    id: &ID,
    field: &str,
) -> AppResult<app_user::Model> {
    let id = ids::decode(Kind::User, id, field)?;
    app_user::Entity::find()
        .filter(app_user::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("compte".into()))
}

/// Refuses a change that would leave no active administrator. Changes that remove one wait
/// for each other, so two admins switching each other off at once cannot both pass.
async fn keeps_an_admin(
    txn: &crate::db::WriteTxn,
    user: &app_user::Model,
    field: &str,
) -> AppResult<()> {
    txn.serialise_on(&["accounts: active administrators"])
        .await?;
    let others = app_user::Entity::find()
        .filter(app_user::Column::Role.eq(Role::Admin.as_str()))
        .filter(app_user::Column::Active.eq(true))
        .filter(app_user::Column::Id.ne(user.id))
        .count(&txn.txn)
        .await?;
    if others == 0 {
        return Err(AppError::bad_input(
            field,
            format!(
                "{field} : {} est le dernier administrateur actif ; en nommer un autre d'abord (last active administrator)",
                user.email
            ),
        ));
    }
    Ok(())
}

async fn territories_of<C: ConnectionTrait>(conn: &C, user: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(user_territory::Entity::find()
        .filter(user_territory::Column::UserId.eq(user))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.territory_id)
        .collect())
}

/// What the audit trail keeps of an account, with its territories.
fn summary(u: &app_user::Model, territories: &[Uuid]) -> serde_json::Value {
    let mut v = signin::user_summary(u);
    v["territoryIds"] = serde_json::json!(territories);
    v
}

pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    input: UpdateUserInput,
) -> AppResult<app_user::Model> {
    admin_only(actor)?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let user = for_update(conn, &input.user_id, "userId").await?;
    super::edit::expect_version(
        conn,
        actor,
        Kind::User,
        user.id,
        user.version,
        input.version,
    )
    .await?;
    let old_role = Role::from_db(&user.role);
    let role = input.role.unwrap_or(old_role);
    let org = match &input.organization_id {
        MaybeUndefined::Undefined => user.organization_id,
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(id) => Some(ids::decode(Kind::Organization, id, "organizationId")?),
    };
    let before_territories = territories_of(conn, user.id).await?;
    let territories: Vec<Uuid> = match &input.territory_ids {
        Some(list) => {
            let set = list
                .iter()
                .map(|t| ids::decode(Kind::Territory, t, "territoryIds"))
                .collect::<AppResult<std::collections::BTreeSet<Uuid>>>()?;
            set.into_iter().collect()
        }
        // A facilitator who becomes something else leaves their territories.
        None if role != Role::Facilitator => Vec::new(),
        None => before_territories.clone(),
    };
    if old_role == Role::Admin && role != Role::Admin {
        if actor.user_id == Some(user.id) {
            return Err(AppError::bad_input(
                "role",
                "role : un administrateur ne retire pas son propre rôle (cannot demote yourself)",
            ));
        }
        if user.active {
            keeps_an_admin(&txn, &user, "role").await?;
        }
    }
    auth::check_role_territories(role, territories.len())?;
    signin::check_profile(conn, role, org, &territories).await?;
    let before = summary(&user, &before_territories);
    let mut am = user.clone().into_active_model();
    am.role = Set(role.as_str().into());
    am.organization_id = Set(org);
    let row = am.update(conn).await?;
    if territories != before_territories {
        user_territory::Entity::delete_many()
            .filter(user_territory::Column::UserId.eq(row.id))
            .exec(conn)
            .await?;
        for t in &territories {
            user_territory::ActiveModel {
                user_id: Set(row.id),
                territory_id: Set(*t),
            }
            .insert(conn)
            .await?;
        }
    }
    audit::record(
        ctx,
        conn,
        actor,
        "updateUser",
        Kind::User,
        row.id,
        None,
        Some(&before),
        Some(&summary(&row, &territories)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Switches an account off: its sessions and API keys are revoked in the same transaction
/// (and `authenticate` refuses any credential of an inactive account anyway), its unused
/// links withdrawn.
pub async fn deactivate(
    ctx: &Ctx,
    actor: &Actor,
    id: &ID,
    version: i32,
) -> AppResult<app_user::Model> {
    admin_only(actor)?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let user = for_update(conn, id, "id").await?;
    super::edit::expect_version(conn, actor, Kind::User, user.id, user.version, version).await?;
    if !user.active {
        return Err(AppError::Conflict(format!(
            "le compte {} est déjà désactivé (already deactivated)",
            user.email
        )));
    }
    if actor.user_id == Some(user.id) {
        return Err(AppError::bad_input(
            "id",
            "id : un administrateur ne désactive pas son propre compte (cannot deactivate yourself)",
        ));
    }
    if Role::from_db(&user.role) == Role::Admin {
        keeps_an_admin(&txn, &user, "id").await?;
    }
    let before = signin::user_summary(&user);
    let mut am = user.into_active_model();
    am.active = Set(false);
    let row = am.update(conn).await?;
    let revoked = revoke_all(ctx, conn, row.id, None, None).await?;
    let withdrawn = withdraw_links(ctx, conn, row.id, None).await?;
    let mut after = signin::user_summary(&row);
    after["credentialsRevoked"] = revoked.into();
    after["linksWithdrawn"] = withdrawn.into();
    audit::record(
        ctx,
        conn,
        actor,
        "deactivateUser",
        Kind::User,
        row.id,
        None,
        Some(&before),
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Switches an account back on. Its old sessions and keys stay revoked: it signs in again.
pub async fn reactivate(
    ctx: &Ctx,
    actor: &Actor,
    id: &ID,
    version: i32,
) -> AppResult<app_user::Model> {
    admin_only(actor)?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    let user = for_update(conn, id, "id").await?;
    super::edit::expect_version(conn, actor, Kind::User, user.id, user.version, version).await?;
    if user.active {
        return Err(AppError::Conflict(format!(
            "le compte {} est déjà actif (already active)",
            user.email
        )));
    }
    let before = signin::user_summary(&user);
    let mut am = user.into_active_model();
    am.active = Set(true);
    let row = am.update(conn).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "reactivateUser",
        Kind::User,
        row.id,
        None,
        Some(&before),
        Some(&signin::user_summary(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

// ------------------------------------------------------------------------------------------
// Passwords.
// ------------------------------------------------------------------------------------------

/// Changes the caller's own password; the current one is checked through the same gate and
/// throttle as a login (a wrong one counts as a failed login). Every other session of the
/// account is revoked; the one making the change, and API keys, stay. Every open link of the
/// account (reset or invitation) is withdrawn: none may set a password over this one.
pub async fn change_password(
    ctx: &Ctx,
    actor: &Actor,
    current: &str,
    new: &str,
    address: &str,
) -> AppResult<u64> {
    let user_id = actor.user_id.ok_or_else(AppError::unauthenticated)?;
    auth::check_password_as("newPassword", new)?;
    if current == new {
        return Err(AppError::bad_input(
            "newPassword",
            "newPassword : identique au mot de passe actuel (same as the current one)",
        ));
    }
    let ticket = ctx.passwords.admit()?;
    let user = super::get::<app_user::Entity, _>(&ctx.db.conn, user_id, "compte").await?;
    // Throttled like a login (a refusal here names the field rather than the session).
    let attempt = signin::reserve(ctx, &user.email, address)
        .await
        .map_err(|e| match e {
            AppError::Unauthenticated(m) => {
                AppError::bad_input("currentPassword", format!("currentPassword : {m}"))
            }
            e => e,
        })?;
    let stored = Some(user.password_hash.clone()).filter(|h| auth::has_password(h));
    if !ticket.verify(current.to_string(), stored).await? {
        // The reservation stays: it is the record of this failure.
        return Err(AppError::bad_input(
            "currentPassword",
            "currentPassword : mot de passe actuel incorrect (wrong current password)",
        ));
    }
    let hash = ctx.passwords.hash(new.to_string()).await?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    login_failure::Entity::delete_by_id(attempt)
        .exec(conn)
        .await?;
    let user = app_user::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .filter(|u| u.active)
        .ok_or_else(AppError::unauthenticated)?;
    let mut am = user.into_active_model();
    am.password_hash = Set(hash);
    let row = am.update(conn).await?;
    let revoked = revoke_all(ctx, conn, row.id, Some(SESSION), actor.credential_id).await?;
    let withdrawn = withdraw_links(ctx, conn, row.id, None).await?;
    audit::record(
        ctx,
        conn,
        actor,
        "changePassword",
        Kind::User,
        row.id,
        None,
        None,
        Some(&serde_json::json!({"otherSessionsRevoked": revoked, "linksWithdrawn": withdrawn})),
    )
    .await?;
    txn.commit().await?;
    Ok(revoked)
}

fn too_many_requests() -> AppError {
    AppError::Busy(format!(
        "trop de demandes de réinitialisation ; réessayer dans {} minutes (too many requests)",
        signin::FAILURE_WINDOW_MINUTES
    ))
}

/// Asks for a reset link. The answer is the same whether or not an account has this address
/// (and the mail goes out later, from the outbox): only the owner of the mailbox learns it.
/// Throttled per address asked for and per client, like logins (counted apart from them).
/// The account's earlier reset links are withdrawn: only the latest one works (and the mail of
/// an earlier one not sent yet is dropped).
pub async fn request_reset(ctx: &Ctx, email: &str, address: &str) -> AppResult<()> {
    let email = signin::normalise_email(email)?;
    signin::count_request(
        ctx,
        &format!("reset:{email}"),
        &format!("reset:{address}"),
        MAX_RESETS_PER_ACCOUNT,
        MAX_RESETS_PER_ADDRESS,
        too_many_requests,
    )
    .await?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    // Locked like every password change (`use_link`, `change_password`): the account row first,
    // then its links, so no two of them wait for each other.
    let user = app_user::Entity::find()
        .filter(app_user::Column::Email.eq(&email))
        .lock_exclusive()
        .one(conn)
        .await?
        .filter(|u| u.active);
    // An unknown or inactive address does the same reads and writes nothing.
    let Some(user) = user else {
        account_token::Entity::find()
            .filter(account_token::Column::UserId.eq(Uuid::nil()))
            .count(conn)
            .await?;
        txn.rollback().await?;
        return Ok(());
    };
    let withdrawn = withdraw_links(ctx, conn, user.id, Some(TokenPurpose::Reset)).await?;
    issue_link(ctx, conn, &user, TokenPurpose::Reset).await?;
    let me = signin::actor_of(ctx, &user, None).await?;
    audit::record(
        ctx,
        conn,
        &me,
        "requestPasswordReset",
        Kind::User,
        user.id,
        None,
        None,
        Some(&serde_json::json!({"earlierLinksWithdrawn": withdrawn})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn invalid_link(field: &str) -> AppError {
    AppError::bad_input(
        field,
        format!(
            "{field} : lien invalide ; vérifier qu'il a été copié en entier, ou en demander un nouveau (invalid link)"
        ),
    )
}

fn refused_link(field: &str, why: LinkRefusal, purpose: TokenPurpose) -> AppError {
    let again = match purpose {
        TokenPurpose::Reset => "en demander un nouveau (« mot de passe oublié »)",
        TokenPurpose::Invite => "demander un nouveau lien (« mot de passe oublié »)",
    };
    AppError::bad_input(
        field,
        match why {
            LinkRefusal::Used => {
                format!("{field} : ce lien a déjà servi ; {again} (link already used)")
            }
            LinkRefusal::Expired => format!("{field} : ce lien a expiré ; {again} (link expired)"),
        },
    )
}

/// Sets a password from a mailed link of `purpose`: refused when the link is wrong, used or
/// expired (field `token`), and an invitation also once the account has a password (as if
/// used); in one transaction, the link is marked used (of two uses at once, one wins), the
/// password set, every other open link of the account (of both purposes) withdrawn, and every
/// session and API key of the account revoked.
pub async fn use_link(
    ctx: &Ctx,
    purpose: TokenPurpose,
    token: &str,
    password: &str,
    password_field: &'static str,
) -> AppResult<()> {
    auth::check_password_as(password_field, password)?;
    let hash = auth::secret_hash(token.trim());
    let found = account_token::Entity::find()
        .filter(account_token::Column::TokenHash.eq(&hash))
        .one(&ctx.db.conn)
        .await?
        .filter(|t| auth::same_hash(&t.token_hash, &hash) && t.purpose == purpose.as_str())
        .ok_or_else(|| invalid_link("token"))?;
    auth::check_link(ctx.clock.now(), found.expires_at, found.used_at)
        .map_err(|why| refused_link("token", why, purpose))?;
    let password_hash = ctx.passwords.hash(password.to_string()).await?;
    let txn = ctx.db.begin_write().await?;
    let conn = &txn.txn;
    // The account first, locked: two links of one account (or a link and `changePassword`) used
    // at once take their turns, and the second sees what the first did.
    let user = app_user::Entity::find_by_id(found.user_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| invalid_link("token"))?;
    let now = ctx.clock.now();
    // The claim: one statement, so of two uses at once only one finds it unused.
    let claimed = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::Id.eq(found.id))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?
        .rows_affected;
    if claimed != 1 {
        let again = account_token::Entity::find_by_id(found.id)
            .one(conn)
            .await?;
        let why = match again {
            Some(t) if t.used_at.is_none() => LinkRefusal::Expired,
            _ => LinkRefusal::Used,
        };
        return Err(refused_link("token", why, purpose));
    }
    // An invitation sets the first password only: once one is set (by a reset, `changePassword`
    // or an administrator), a leftover invitation is as good as used. Nothing is written.
    if purpose == TokenPurpose::Invite && auth::has_password(&user.password_hash) {
        return Err(refused_link("token", LinkRefusal::Used, purpose));
    }
    let mut am = user.into_active_model();
    am.password_hash = Set(password_hash);
    let row = am.update(conn).await?;
    let revoked = revoke_all(ctx, conn, row.id, Some(SESSION), None).await?;
    // Whoever had the account may have made API keys: they go too (an invited account, which
    // never signed in, has none).
    let keys_revoked = revoke_all(ctx, conn, row.id, Some(API_KEY), None).await?;
    let withdrawn = withdraw_links(ctx, conn, row.id, None).await?;
    let me = signin::actor_of(ctx, &row, None).await?;
    let action = match purpose {
        TokenPurpose::Reset => "resetPassword",
        TokenPurpose::Invite => "acceptInvitation",
    };
    audit::record(
        ctx,
        conn,
        &me,
        action,
        Kind::User,
        row.id,
        None,
        None,
        Some(&serde_json::json!({
            "sessionsRevoked": revoked,
            "apiKeysRevoked": keys_revoked,
            "linksWithdrawn": withdrawn,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A link's mail, as the outbox composes it: the link, or why it should not go out any more.
pub struct LinkMail {
    pub purpose: TokenPurpose,
    pub url: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

pub async fn link_of_mail<C: ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    mail_id: Uuid,
    app_url: &str,
) -> AppResult<Result<LinkMail, String>> {
    let Some(t) = account_token::Entity::find()
        .filter(account_token::Column::MailId.eq(mail_id))
        .one(conn)
        .await?
    else {
        return Ok(Err("lien supprimé (link gone)".into()));
    };
    if let Err(why) = auth::check_link(ctx.clock.now(), t.expires_at, t.used_at) {
        return Ok(Err(match why {
            LinkRefusal::Used => "lien déjà utilisé ou retiré (link used or withdrawn)".into(),
            LinkRefusal::Expired => "lien expiré avant l'envoi (link expired)".into(),
        }));
    }
    let purpose = TokenPurpose::from_db(&t.purpose);
    Ok(Ok(LinkMail {
        purpose,
        url: link_url(app_url, purpose, &link_secret(&ctx.trace_key, t.id)),
        expires_at: t.expires_at,
    }))
}
