//! Accounts, sign-in, sessions and API keys.

use std::collections::BTreeSet;

use async_graphql::{ID, InputObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use entity::{app_user, credential, login_failure, organization, territory, user_territory};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{Ctx, audit, get};
use crate::domain::auth::{self, Actor, Role};
use crate::domain::{OrganizationKind, text};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// Failed logins tolerated in the window, per account and per client address.
pub const MAX_FAILURES_PER_ACCOUNT: u64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

pub(crate) const SESSION: &str = "SESSION";
pub(crate) const API_KEY: &str = "API_KEY";

#[derive(Debug, InputObject)]
pub struct CreateUserInput {
    pub email: String,
    /// 12 characters at least. Without it, the account is created without a password and an
    /// invitation is mailed: a single-use link, valid seven days, to choose one.
    pub password: Option<String>,
    pub role: Role,
    /// Required for BUYER, COMPANY, SIAE and FUNDER: an organization of the matching kind.
    pub organization_id: Option<ID>,
    /// Required for FACILITATOR: the territories they work in.
    #[graphql(default)]
    pub territory_ids: Vec<ID>,
}

/// A new secret, shown once.
pub struct Issued {
    pub secret: String,
    pub credential: credential::Model,
}

fn new_secret(prefix: &str) -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

pub(crate) fn normalise_email(raw: &str) -> AppResult<String> {
    Ok(text::email("email", Some(raw))?
        .ok_or_else(|| AppError::bad_input("email", "email : obligatoire (required)"))?
        .to_lowercase())
}

pub async fn create_user(
    ctx: &Ctx,
    actor: &Actor,
    input: CreateUserInput,
) -> AppResult<app_user::Model> {
    if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    let email = normalise_email(&input.email)?;
    if let Some(p) = &input.password {
        auth::check_password(p)?;
    }
    let org_id = ids::decode_opt(
        Kind::Organization,
        input.organization_id.as_ref(),
        "organizationId",
    )?;
    let territory_ids = input
        .territory_ids
        .iter()
        .map(|t| ids::decode(Kind::Territory, t, "territoryIds"))
        .collect::<AppResult<BTreeSet<Uuid>>>()?;
    auth::check_role_territories(input.role, territory_ids.len())?;
    let territory_ids: Vec<Uuid> = territory_ids.into_iter().collect();
    let password_hash = match input.password {
        Some(p) => ctx.passwords.hash(p).await?,
        None => auth::NO_PASSWORD.to_string(),
    };
    let invite = !auth::has_password(&password_hash);
    let txn = ctx.db.begin_write().await?;
    check_profile(&txn.txn, input.role, org_id, &territory_ids).await?;
    if app_user::Entity::find()
        .filter(app_user::Column::Email.eq(&email))
        .count(&txn.txn)
        .await?
        > 0
    {
        return Err(AppError::Conflict(format!(
            "email : un compte existe déjà pour {email} (already registered)"
        )));
    }
    let user = app_user::ActiveModel {
        id: Set(ctx.clock.new_id()),
        email: Set(email),
        password_hash: Set(password_hash),
        role: Set(input.role.as_str().to_string()),
        organization_id: Set(org_id),
        active: Set(true),
        created_at: Set(ctx.clock.now()),
        ..Default::default()
    }
    .insert(&txn.txn)
    .await?;
    for t in territory_ids {
        user_territory::ActiveModel {
            user_id: Set(user.id),
            territory_id: Set(t),
        }
        .insert(&txn.txn)
        .await?;
    }
    let mut after = user_summary(&user);
    if invite {
        super::accounts::issue_link(ctx, &txn.txn, &user, auth::TokenPurpose::Invite).await?;
        after["invited"] = true.into();
    }
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createUser",
        Kind::User,
        user.id,
        None,
        None,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// The organization and territories a role takes, as creation and edits check them: buyers,
/// companies, SIAE and funders belong to an organization of their kind; facilitators and
/// admins may name any (their structure); each territory exists.
pub(crate) async fn check_profile<C: sea_orm::ConnectionTrait>(
    conn: &C,
    role: Role,
    org_id: Option<Uuid>,
    territory_ids: &[Uuid],
) -> AppResult<()> {
    let expected_kind = match role {
        Role::Buyer => Some(OrganizationKind::Buyer),
        Role::Company => Some(OrganizationKind::Company),
        Role::Siae => Some(OrganizationKind::Siae),
        Role::Funder => Some(OrganizationKind::Funder),
        Role::Facilitator => None,
        Role::Admin => None,
    };
    match (expected_kind, org_id) {
        (Some(kind), Some(org)) => {
            super::organization::expect_kind(conn, org, "organizationId", &[kind]).await?;
        }
        (Some(kind), None) => {
            return Err(AppError::bad_input(
                "organizationId",
                format!(
                    "organizationId : un compte {role} est rattaché à une organisation de type {kind}"
                ),
            ));
        }
        (None, Some(org)) => {
            get::<organization::Entity, _>(conn, org, "organisation").await?;
        }
        (None, None) => {}
    }
    for t in territory_ids {
        get::<territory::Entity, _>(conn, *t, "territoire").await?;
    }
    Ok(())
}

/// What the audit trail keeps of a user: never the password hash.
pub(crate) fn user_summary(u: &app_user::Model) -> serde_json::Value {
    serde_json::json!({"email": u.email, "role": u.role, "organizationId": u.organization_id, "active": u.active})
}

fn too_many() -> AppError {
    AppError::Unauthenticated(format!(
        "trop de tentatives de connexion ; réessayer dans {FAILURE_WINDOW_MINUTES} minutes (too many attempts)"
    ))
}

/// Signs in; the same answer for an unknown account and a wrong password.
///
/// The attempt takes its slot in the throttle before the password is checked (`reserve`), so
/// parallel attempts are counted like successive ones; a failure keeps the slot for the window,
/// a success gives it back.
pub async fn login(
    ctx: &Ctx,
    email: &str,
    password: &str,
    address: &str,
) -> AppResult<(Issued, app_user::Model)> {
    let email = email.trim().to_lowercase();
    // A place among the hashes first: past the queue, refused before anything is written.
    let ticket = ctx.passwords.admit()?;
    let attempt = reserve(ctx, &email, address).await?;
    let user = app_user::Entity::find()
        .filter(app_user::Column::Email.eq(&email))
        .one(&ctx.db.conn)
        .await?
        .filter(|u| u.active);
    // An invited account without a password yet costs a check like an unknown one.
    let ok = ticket
        .verify(
            password.to_string(),
            user.as_ref()
                .map(|u| u.password_hash.clone())
                .filter(|h| auth::has_password(h)),
        )
        .await?;
    let Some(user) = user.filter(|_| ok) else {
        // The reservation stays: it is the record of this failure.
        return Err(AppError::Unauthenticated(
            "e-mail ou mot de passe incorrect (wrong e-mail or password)".into(),
        ));
    };
    let txn = ctx.db.begin_write().await?;
    login_failure::Entity::delete_by_id(attempt)
        .exec(&txn.txn)
        .await?;
    let issued = issue(
        ctx,
        &txn.txn,
        user.id,
        SESSION,
        None,
        Some(ctx.clock.now() + Duration::hours(SESSION_HOURS)),
    )
    .await?;
    txn.commit().await?;
    Ok((issued, user))
}

/// Records an attempt as a failure and counts the window with it, in one transaction that
/// attempts on the same account or from the same address wait for: over either limit, the
/// transaction is rolled back (a refused attempt is not counted) and the attempt refused.
pub(crate) async fn reserve(ctx: &Ctx, email: &str, address: &str) -> AppResult<Uuid> {
    count_request(
        ctx,
        email,
        address,
        MAX_FAILURES_PER_ACCOUNT,
        MAX_FAILURES_PER_ADDRESS,
        too_many,
    )
    .await
}

/// Counts one request under `account` and `address` keys in the throttle's window (the rows of
/// `login_failure`, purged with them), refused with `refusal` past either limit.
pub(crate) async fn count_request(
    ctx: &Ctx,
    account: &str,
    address: &str,
    max_account: u64,
    max_address: u64,
    refusal: fn() -> AppError,
) -> AppResult<Uuid> {
    let txn = ctx.db.begin_write().await?;
    txn.serialise_on(&[
        &format!("login account {account}"),
        &format!("login address {address}"),
    ])
    .await?;
    let now = ctx.clock.now();
    let since = now - Duration::minutes(FAILURE_WINDOW_MINUTES);
    let id = ctx.clock.new_id();
    login_failure::ActiveModel {
        id: Set(id),
        email: Set(account.to_string()),
        address: Set(address.to_string()),
        at: Set(now),
    }
    .insert(&txn.txn)
    .await?;
    let by_account = login_failure::Entity::find()
        .filter(login_failure::Column::Email.eq(account))
        .filter(login_failure::Column::At.gt(since))
        .count(&txn.txn)
        .await?;
    let by_address = login_failure::Entity::find()
        .filter(login_failure::Column::Address.eq(address))
        .filter(login_failure::Column::At.gt(since))
        .count(&txn.txn)
        .await?;
    if by_account > max_account || by_address > max_address {
        txn.rollback().await?;
        return Err(refusal());
    }
    txn.commit().await?;
    Ok(id)
}

async fn issue<C: sea_orm::ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    user_id: Uuid,
    kind: &str,
    label: Option<String>,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<Issued> {
    let secret = new_secret(if kind == SESSION { "pst" } else { "pak" })?;
    let credential = credential::ActiveModel {
        id: Set(ctx.clock.new_id()),
        user_id: Set(user_id),
        kind: Set(kind.to_string()),
        token_hash: Set(auth::secret_hash(&secret)),
        label: Set(label),
        created_at: Set(ctx.clock.now()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(Issued { secret, credential })
}

fn invalid_token() -> AppError {
    AppError::Unauthenticated(
        "jeton invalide, expiré ou révoqué (invalid, expired or revoked token)".into(),
    )
}

/// The actor behind a bearer secret (session token or API key).
pub async fn authenticate(ctx: &Ctx, bearer: &str) -> AppResult<Actor> {
    let hash = auth::secret_hash(bearer.trim());
    let conn = &ctx.db.conn;
    // The credential and its account in one statement: every request pays for this.
    let (cred, user) = credential::Entity::find()
        .find_also_related(app_user::Entity)
        .filter(credential::Column::TokenHash.eq(&hash))
        .one(conn)
        .await?
        .filter(|(c, _)| auth::same_hash(&c.token_hash, &hash))
        .ok_or_else(invalid_token)?;
    let now = ctx.clock.now();
    if cred.revoked_at.is_some() || cred.expires_at.is_some_and(|e| e <= now) {
        return Err(invalid_token());
    }
    let user = user.ok_or_else(invalid_token)?;
    if !user.active {
        return Err(invalid_token());
    }
    actor_of(ctx, &user, Some(cred.id)).await
}

pub async fn actor_of(
    ctx: &Ctx,
    user: &app_user::Model,
    credential_id: Option<Uuid>,
) -> AppResult<Actor> {
    let territories = user_territories(ctx, user.id).await?.into_iter().collect();
    Ok(Actor {
        user_id: Some(user.id),
        role: Some(Role::from_db(&user.role)),
        organization_id: user.organization_id,
        territories,
        label: user.email.clone(),
        credential_id,
    })
}

/// Revokes the credential the request came with.
pub async fn logout(ctx: &Ctx, actor: &Actor) -> AppResult<()> {
    let id = actor.credential_id.ok_or_else(AppError::unauthenticated)?;
    let txn = ctx.db.begin_write().await?;
    revoke(ctx, &txn.txn, id).await?;
    txn.commit().await?;
    Ok(())
}

/// Marks a credential revoked (once; revoking again changes nothing).
async fn revoke<C: sea_orm::ConnectionTrait>(
    ctx: &Ctx,
    conn: &C,
    id: Uuid,
) -> AppResult<credential::Model> {
    let cred = get::<credential::Entity, _>(conn, id, "clé").await?;
    if cred.revoked_at.is_some() {
        return Ok(cred);
    }
    let mut am = cred.into_active_model();
    am.revoked_at = Set(Some(ctx.clock.now()));
    Ok(am.update(conn).await?)
}

/// An API key for a machine client, with the caller's own role and scope; it lasts until
/// `expires_at` (at most a year ahead), or until revoked when none is given.
pub async fn create_api_key(
    ctx: &Ctx,
    actor: &Actor,
    label: &str,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<Issued> {
    let user_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let label = text::required("label", label)?;
    if let Some(at) = expires_at {
        auth::check_key_expiry(ctx.clock.now(), at)?;
    }
    let txn = ctx.db.begin_write().await?;
    let issued = issue(ctx, &txn.txn, user_id, API_KEY, Some(label), expires_at).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createApiKey",
        Kind::ApiKey,
        issued.credential.id,
        None,
        None,
        Some(&serde_json::json!({
            "label": issued.credential.label,
            "expiresAt": issued.credential.expires_at,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// Revokes an API key: one's own, or any for an admin. Others' keys are "not found".
pub async fn revoke_api_key(ctx: &Ctx, actor: &Actor, id: &ID) -> AppResult<credential::Model> {
    let id = ids::decode(Kind::ApiKey, id, "id")?;
    let cred = credential::Entity::find_by_id(id)
        .one(&ctx.db.conn)
        .await?
        .filter(|c| {
            c.kind == API_KEY && (actor.any_of(&[Role::Admin]) || Some(c.user_id) == actor.user_id)
        })
        .ok_or_else(|| AppError::NotFound("clé d'API".into()))?;
    let txn = ctx.db.begin_write().await?;
    let revoked = revoke(ctx, &txn.txn, cred.id).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "revokeApiKey",
        Kind::ApiKey,
        id,
        None,
        None,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(revoked)
}

pub async fn api_keys(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<credential::Model>> {
    let user_id = actor.user_id.ok_or(AppError::Forbidden)?;
    Ok(credential::Entity::find()
        .filter(credential::Column::UserId.eq(user_id))
        .filter(credential::Column::Kind.eq(API_KEY))
        .order_by_asc(credential::Column::Id)
        .all(&ctx.db.conn)
        .await?)
}

pub async fn user_territories(ctx: &Ctx, user_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(user_territory::Entity::find()
        .filter(user_territory::Column::UserId.eq(user_id))
        .all(&ctx.db.conn)
        .await?
        .into_iter()
        .map(|t| t.territory_id)
        .collect())
}

/// Rows one purge statement deletes at most: a backlog (a night of attack) is deleted in short
/// transactions that sign-ins can slip between.
pub const PURGE_BATCH: u64 = 10_000;

/// What the nightly purge deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub login_failures: u64,
}

/// Deletes sessions past their expiry and login failures out of the throttle's window: neither
/// can ever count again. API keys stay, expired or revoked: they are few, their owners see them
/// in `apiKeys`, and the audit trail names them.
pub async fn purge(ctx: &Ctx, batch: u64) -> AppResult<Purged> {
    let now = ctx.clock.now();
    let sessions = delete_in_batches::<credential::Entity>(
        ctx,
        credential::Column::Id,
        Condition::all()
            .add(credential::Column::Kind.eq(SESSION))
            .add(credential::Column::ExpiresAt.lte(now)),
        batch,
    )
    .await?;
    let login_failures = delete_in_batches::<login_failure::Entity>(
        ctx,
        login_failure::Column::Id,
        Condition::all()
            .add(login_failure::Column::At.lte(now - Duration::minutes(FAILURE_WINDOW_MINUTES))),
        batch,
    )
    .await?;
    Ok(Purged {
        sessions,
        login_failures,
    })
}

/// `DELETE … WHERE id IN (SELECT id … WHERE cond LIMIT batch)`, one transaction a batch, until a
/// batch comes back short.
async fn delete_in_batches<E: EntityTrait>(
    ctx: &Ctx,
    id: E::Column,
    cond: Condition,
    batch: u64,
) -> AppResult<u64> {
    let batch = batch.max(1);
    let mut total = 0;
    loop {
        let ids = Query::select()
            .column(id)
            .from(E::default())
            .cond_where(cond.clone())
            .limit(batch)
            .to_owned();
        let txn = ctx.db.begin_write().await?;
        let n = E::delete_many()
            .filter(id.in_subquery(ids))
            .exec(&txn.txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        total += n;
        if n < batch {
            return Ok(total);
        }
    }
}
