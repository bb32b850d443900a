//! Users, sign-in, API keys and the audit trail.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{app_user, audit_event, credential, organization};

use super::access::actor;
use super::connection::{self, Conn, app};
use super::loaders::opt;
use super::party::Organization;
use crate::domain::auth::Role;
use crate::domain::auth::TokenPurpose;
use crate::ids::{self, Kind};
use crate::service;
use crate::service::accounts::{UpdateUserInput, UserFilter};
use crate::service::audit::AuditFilter;
use crate::service::auth::CreateUserInput;

/// A person who signs in.
pub struct User(pub app_user::Model);

#[Object]
impl User {
    /// Changes with every change of the object; an edit names the version it read.
    async fn version(&self) -> i32 {
        self.0.version
    }

    pub async fn id(&self) -> ID {
        ids::encode(Kind::User, self.0.id)
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn role(&self) -> Role {
        Role::from_db(&self.0.role)
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(opt::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization))
    }
    /// Territories a facilitator works in.
    async fn territory_ids(&self, ctx: &Context<'_>) -> Result<Vec<ID>> {
        // Batched: a page of users reads their territories in one query.
        let ts = super::loaders::children::<entity::user_territory::Entity>(ctx, self.0.id).await?;
        Ok(ts
            .into_iter()
            .map(|t| ids::encode(Kind::Territory, t.territory_id))
            .collect())
    }
}

/// A machine client's key. The secret is shown once, at creation.
pub struct ApiKey(pub credential::Model);

#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        ids::encode(Kind::ApiKey, self.0.id)
    }
    async fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// When it stops working; `null`: it works until revoked.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
}

#[derive(SimpleObject)]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    expires_at: Option<DateTime<Utc>>,
    user: User,
}

#[derive(SimpleObject)]
pub struct NewApiKey {
    /// The secret, shown this once: send as `Authorization: Bearer <secret>`.
    secret: String,
    key: ApiKey,
}

/// Who asked what, when: one line of the audit trail.
#[derive(SimpleObject)]
pub struct AuditEvent {
    id: ID,
    actor_label: String,
    action: String,
    object_type: String,
    object_id: ID,
    /// JSON of the fields before the change, if it changed an existing object.
    before: Option<String>,
    /// JSON of the fields after the change.
    after: Option<String>,
    at: DateTime<Utc>,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(m: audit_event::Model) -> Self {
        let kind = Kind::from_name(&m.object_type).unwrap_or(Kind::AuditEvent);
        AuditEvent {
            id: ids::encode(Kind::AuditEvent, m.id),
            actor_label: m.actor_label,
            action: m.action,
            object_type: m.object_type,
            object_id: ids::encode(kind, m.object_id),
            before: m.before,
            after: m.after,
            at: m.at,
        }
    }
}

/// Where a request comes from (the TCP peer), for login throttling; set by the HTTP layer.
#[derive(Clone)]
pub struct ClientAddress(pub String);

fn client_address<'a>(ctx: &Context<'a>) -> &'a str {
    ctx.data_opt::<ClientAddress>()
        .map_or("unknown", |a| a.0.as_str())
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// Who is asking.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let a = actor(ctx)?;
        let id = a
            .user_id
            .ok_or_else(crate::error::AppError::unauthenticated)?;
        Ok(User(
            service::get::<app_user::Entity, _>(&app(ctx).db.conn, id, "compte").await?,
        ))
    }

    /// Accounts, paged and filtered: all for administrators; for a facilitator, those of their
    /// territories (fellow facilitators, members of the territories' organizations).
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<User>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page = service::accounts::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args)
            .await?;
        Ok(connection::connection(page, had, |m| m.id, User))
    }

    /// The caller's own API keys.
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        Ok(service::auth::api_keys(app(ctx), actor(ctx)?)
            .await?
            .into_iter()
            .map(ApiKey)
            .collect())
    }

    /// The audit trail: everything for admins, their territories for facilitators.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let had = after.is_some();
        let args = connection::args(after, first)?;
        let page =
            service::audit::list(app(ctx), actor(ctx)?, filter.unwrap_or_default(), args).await?;
        Ok(connection::connection(
            page,
            had,
            |m| m.id,
            AuditEvent::from,
        ))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Signs in; after too many failures, per account or per address, waits 15 minutes.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<Session> {
        let (issued, user) =
            service::auth::login(app(ctx), &email, &password, client_address(ctx)).await?;
        Ok(Session {
            token: issued.secret,
            expires_at: issued.credential.expires_at,
            user: User(user),
        })
    }

    /// Revokes the token (or key) this request came with.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        service::auth::logout(app(ctx), actor(ctx)?).await?;
        Ok(true)
    }

    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<User> {
        Ok(User(
            service::auth::create_user(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// A key for a machine client (a payroll export declaring hours), with the caller's role.
    /// `expiresAt` (at most a year ahead) ends it; without it, it lasts until revoked.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        label: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewApiKey> {
        let issued =
            service::auth::create_api_key(app(ctx), actor(ctx)?, &label, expires_at).await?;
        Ok(NewApiKey {
            secret: issued.secret,
            key: ApiKey(issued.credential),
        })
    }

    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> Result<ApiKey> {
        Ok(ApiKey(
            service::auth::revoke_api_key(app(ctx), actor(ctx)?, &id).await?,
        ))
    }

    /// Changes an account's role, organization or territories (administrators). `territoryIds`
    /// replaces the whole set; the rules of creation are checked on the result.
    async fn update_user(&self, ctx: &Context<'_>, input: UpdateUserInput) -> Result<User> {
        Ok(User(
            service::accounts::update(app(ctx), actor(ctx)?, input).await?,
        ))
    }

    /// Switches an account off (administrators): its sessions and API keys stop at once.
    async fn deactivate_user(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<User> {
        Ok(User(
            service::accounts::deactivate(app(ctx), actor(ctx)?, &id, version).await?,
        ))
    }

    /// Switches an account back on (administrators); it signs in again.
    async fn reactivate_user(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<User> {
        Ok(User(
            service::accounts::reactivate(app(ctx), actor(ctx)?, &id, version).await?,
        ))
    }

    /// Changes the caller's own password; the current one is checked like a login. The
    /// caller's other sessions are revoked (this one and API keys stay).
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool> {
        service::accounts::change_password(
            app(ctx),
            actor(ctx)?,
            &current_password,
            &new_password,
            client_address(ctx),
        )
        .await?;
        Ok(true)
    }

    /// Mails a single-use link, valid one hour, to set a new password. Answers `true` whether
    /// or not an account has this address.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        service::accounts::request_reset(app(ctx), &email, client_address(ctx)).await?;
        Ok(true)
    }

    /// Sets a new password from a reset link; a wrong, used or expired link is refused (field
    /// `token`). Every session of the account is revoked.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> Result<bool> {
        service::accounts::use_link(
            app(ctx),
            TokenPurpose::Reset,
            &token,
            &new_password,
            "newPassword",
        )
        .await?;
        Ok(true)
    }

    /// Sets the first password of an invited account from its invitation link (seven days).
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> Result<bool> {
        service::accounts::use_link(
            app(ctx),
            TokenPurpose::Invite,
            &token,
            &password,
            "password",
        )
        .await?;
        Ok(true)
    }
}
