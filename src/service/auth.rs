//! Accounts, sign-in, sessions and API keys.

use std::collections::BTreeSet;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use async_graphql::{ID, InputObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use entity::{app_user, credential, login_failure, organization, territory, user_territory};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
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

const SESSION: &str = "SESSION";
const API_KEY: &str = "API_KEY";

#[derive(Debug, InputObject)]
pub struct CreateUserInput {
    pub email: String,
    /// 12 characters at least.
    pub password: String,
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

async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("random: {e}")))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Verifies on the blocking pool; a missing account is checked against a dummy hash so that the
/// answer takes as long whether the account exists or not.
async fn verify_password(password: String, hash: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Bo1+fHDjWt5O7ynFbCqWtNuQyfCjW5aBfIIdO1ThcA";
    let exists = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY.to_string());
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    ok && exists
}

fn normalise_email(raw: &str) -> AppResult<String> {
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
    auth::check_password(&input.password)?;
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
    match input.role {
        Role::Facilitator if territory_ids.is_empty() => {
            return Err(AppError::bad_input(
                "territoryIds",
                "territoryIds : un facilitateur travaille sur au moins un territoire",
            ));
        }
        Role::Facilitator => {}
        _ if !territory_ids.is_empty() => {
            return Err(AppError::bad_input(
                "territoryIds",
                "territoryIds : seulement pour un facilitateur",
            ));
        }
        _ => {}
    }
    let expected_kind = match input.role {
        Role::Buyer => Some(OrganizationKind::Buyer),
        Role::Company => Some(OrganizationKind::Company),
        Role::Siae => Some(OrganizationKind::Siae),
        Role::Funder => Some(OrganizationKind::Funder),
        Role::Facilitator => None,
        Role::Admin => None,
    };
    let password_hash = hash_password(input.password).await?;
    let txn = ctx.db.begin_write().await?;
    match (expected_kind, org_id) {
        (Some(kind), Some(org)) => {
            super::organization::expect_kind(&txn.txn, org, "organizationId", &[kind]).await?;
        }
        (Some(kind), None) => {
            return Err(AppError::bad_input(
                "organizationId",
                format!(
                    "organizationId : un compte {} est rattaché à une organisation de type {kind}",
                    input.role
                ),
            ));
        }
        (None, Some(org)) => {
            // Facilitators and admins may name their structure; any kind will do.
            get::<organization::Entity, _>(&txn.txn, org, "organisation").await?;
        }
        (None, None) => {}
    }
    for t in &territory_ids {
        get::<territory::Entity, _>(&txn.txn, *t, "territoire").await?;
    }
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
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createUser",
        Kind::User,
        user.id,
        None,
        None,
        Some(&user_summary(&user)),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// What the audit trail keeps of a user: never the password hash.
fn user_summary(u: &app_user::Model) -> serde_json::Value {
    serde_json::json!({"email": u.email, "role": u.role, "organizationId": u.organization_id, "active": u.active})
}

fn too_many() -> AppError {
    AppError::Unauthenticated(format!(
        "trop de tentatives de connexion ; réessayer dans {FAILURE_WINDOW_MINUTES} minutes (too many attempts)"
    ))
}

/// Signs in; the same answer for an unknown account and a wrong password.
pub async fn login(
    ctx: &Ctx,
    email: &str,
    password: &str,
    address: &str,
) -> AppResult<(Issued, app_user::Model)> {
    let email = email.trim().to_lowercase();
    let since = ctx.clock.now() - Duration::minutes(FAILURE_WINDOW_MINUTES);
    let conn = &ctx.db.conn;
    let by_account = login_failure::Entity::find()
        .filter(login_failure::Column::Email.eq(&email))
        .filter(login_failure::Column::At.gt(since))
        .count(conn)
        .await?;
    let by_address = login_failure::Entity::find()
        .filter(login_failure::Column::Address.eq(address))
        .filter(login_failure::Column::At.gt(since))
        .count(conn)
        .await?;
    if by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
        return Err(too_many());
    }
    let user = app_user::Entity::find()
        .filter(app_user::Column::Email.eq(&email))
        .one(conn)
        .await?
        .filter(|u| u.active);
    let ok = verify_password(
        password.to_string(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let txn = ctx.db.begin_write().await?;
    let Some(user) = user.filter(|_| ok) else {
        login_failure::ActiveModel {
            id: Set(ctx.clock.new_id()),
            email: Set(email),
            address: Set(address.to_string()),
            at: Set(ctx.clock.now()),
        }
        .insert(&txn.txn)
        .await?;
        txn.commit().await?;
        return Err(AppError::Unauthenticated(
            "e-mail ou mot de passe incorrect (wrong e-mail or password)".into(),
        ));
    };
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

/// An API key for a machine client, with the caller's own role and scope.
pub async fn create_api_key(ctx: &Ctx, actor: &Actor, label: &str) -> AppResult<Issued> {
    let user_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let label = text::required("label", label)?;
    let txn = ctx.db.begin_write().await?;
    let issued = issue(ctx, &txn.txn, user_id, API_KEY, Some(label), None).await?;
    audit::record(
        ctx,
        &txn.txn,
        actor,
        "createApiKey",
        Kind::ApiKey,
        issued.credential.id,
        None,
        None,
        Some(&serde_json::json!({"label": issued.credential.label})),
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

pub async fn users(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<app_user::Model>> {
    if !actor.any_of(&[Role::Admin]) {
        return Err(AppError::Forbidden);
    }
    Ok(app_user::Entity::find()
        .order_by_asc(app_user::Column::Id)
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
