//! Accounts managed without SQL (issue 20, point 4): the paged and filtered list, edits by an
//! administrator, deactivation that stops sessions and API keys at once, changing one's own
//! password, a forgotten password reset by a single-use link mailed through the outbox and a
//! real SMTP server, and invitations that let a new account set its own password.

mod common;

use chrono::Duration;
use common::smtp::SmtpServer;
use common::{PASSWORD, TestApp};
use passerelle::config::MailConfig;
use passerelle::domain::auth::{Actor, Role};
use passerelle::service::reminders::scheduler::Scheduler;
use serde_json::{Value, json};

db_tests!(
    a_page_of_users_reads_their_territories_at_once,
    users_are_paged_and_each_filter_narrows,
    a_facilitator_lists_the_accounts_of_their_territories_only,
    update_user_rechecks_the_creation_rules_and_the_version,
    deactivation_stops_sessions_and_api_keys_on_the_next_request,
    reactivation_needs_a_new_sign_in,
    an_admin_cannot_switch_off_themself_or_the_last_admin,
    change_password_needs_the_current_one,
    reset_link_is_mailed_over_smtp_and_works_once,
    unknown_address_gets_the_same_answer_and_no_mail,
    reset_requests_are_throttled_alike_for_known_and_unknown,
    reset_link_works_until_one_hour_and_not_after,
    a_wrong_or_foreign_token_is_refused,
    invitation_sets_the_first_password_within_seven_days,
    one_token_used_at_once_succeeds_exactly_once,
    two_admins_switching_each_other_off_at_once_leave_one,
    a_link_is_not_mailed_once_the_account_is_switched_off,
    wrong_current_passwords_count_as_failed_logins,
    a_password_set_by_one_link_withdraws_the_other,
    an_invitation_is_refused_once_the_account_has_a_password,
    change_password_withdraws_every_open_link,
    a_reset_revokes_api_keys_a_change_keeps_them,
    a_new_reset_request_withdraws_the_earlier_links,
    an_invitation_and_a_reset_used_at_once_set_one_password,
);

/// Mails with links are enabled by the scheduler: it does not start with a bad APP_URL.
#[tokio::test]
async fn the_scheduler_refuses_an_app_url_that_is_not_http() {
    let app = TestApp::sqlite().await;
    for bad in [
        "",
        "passerelle.example.fr",
        "ftp://passerelle.example.fr",
        "https://",
    ] {
        let refused = Scheduler::new(
            app.ctx.clone(),
            &MailConfig {
                app_url: bad.into(),
                ..MailConfig::default()
            },
        )
        .err()
        .unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert!(refused.contains("APP_URL"), "{refused}");
    }
    assert!(
        Scheduler::new(
            app.ctx.clone(),
            &MailConfig {
                app_url: "https://passerelle.example.fr/".into(),
                ..MailConfig::default()
            },
        )
        .is_ok()
    );
}

const APP_URL: &str = "https://passerelle.example.fr";

fn scheduler(app: &TestApp, smtp: &SmtpServer) -> Scheduler {
    Scheduler::new(
        app.ctx.clone(),
        &MailConfig {
            smtp_url: Some(smtp.url()),
            app_url: APP_URL.into(),
            ..MailConfig::default()
        },
    )
    .expect("valid settings")
}

fn admin_actor() -> Actor {
    Actor::system()
}

async fn run(app: &TestApp, who: &Actor, q: &str, vars: Value) -> Value {
    app.run_as(Some(who.clone()), q, vars).await
}

fn code(resp: &Value) -> (Option<String>, Option<String>) {
    let e = &resp["errors"][0];
    (
        e["extensions"]["code"].as_str().map(String::from),
        e["extensions"]["field"].as_str().map(String::from),
    )
}

fn ok(resp: &Value) -> &Value {
    assert!(resp.get("errors").is_none(), "unexpected errors: {resp:#}");
    &resp["data"]
}

/// Signs in through the real path; the secret.
async fn login(app: &TestApp, email: &str, password: &str) -> Result<String, String> {
    passerelle::service::auth::login(&app.ctx, email, password, "test")
        .await
        .map(|(i, _)| i.secret)
        .map_err(|e| e.message())
}

async fn authenticate(app: &TestApp, secret: &str) -> Result<Actor, String> {
    passerelle::service::auth::authenticate(&app.ctx, secret)
        .await
        .map_err(|e| e.code().to_string())
}

const USERS: &str = "query($f: UserFilter, $first: Int, $after: String) { users(filter: $f, first: $first, after: $after) { edges { cursor node { id email role active version } } pageInfo { hasNextPage endCursor } } }";
const UPDATE: &str = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { id role version territoryIds organization { id } } }";
const DEACTIVATE: &str =
    "mutation($id: ID!, $v: Int!) { deactivateUser(id: $id, version: $v) { id active version } }";
const REACTIVATE: &str =
    "mutation($id: ID!, $v: Int!) { reactivateUser(id: $id, version: $v) { id active version } }";
const CHANGE: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
const REQUEST: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str =
    "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";
const ACCEPT: &str =
    "mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p) }";

fn emails(resp: &Value) -> Vec<String> {
    ok(resp)["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap().to_string())
        .collect()
}

async fn user_node(app: &TestApp, email: &str) -> Value {
    let resp = run(app, &admin_actor(), USERS, json!({"f": {"search": email}})).await;
    let edges = ok(&resp)["users"]["edges"].as_array().unwrap().clone();
    edges
        .into_iter()
        .map(|e| e["node"].clone())
        .find(|n| n["email"] == email)
        .unwrap_or_else(|| panic!("no user {email}"))
}

/// The link of the last mail to `email`, after a send pass.
async fn mailed_link(s: &Scheduler, smtp: &SmtpServer, email: &str) -> String {
    s.send().await.map_err(|e| e.message()).unwrap();
    let mail = smtp
        .to(email)
        .pop()
        .unwrap_or_else(|| panic!("no mail to {email}"));
    let text = mail.text();
    let start = text
        .find(APP_URL)
        .unwrap_or_else(|| panic!("no link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

fn token_of(link: &str) -> String {
    link.split_once("?jeton=").unwrap().1.to_string()
}

async fn users_are_paged_and_each_filter_narrows(app: &TestApp) {
    let w = app.world().await;
    let t2 = app.territory("976-B").await;
    let company2 = app.org("Maçonnerie Mayotte", "COMPANY", None, &t2).await;
    app.user("admin@t.fr", Role::Admin, None, &[]).await;
    app.user("fac@t.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    app.user("fac2@t.fr", Role::Facilitator, None, &[&t2]).await;
    app.user("buyer@t.fr", Role::Buyer, Some(&w.buyer), &[])
        .await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    app.user("maconnerie@t.fr", Role::Company, Some(&company2), &[])
        .await;
    let admin = admin_actor();
    // Pages of two, in creation order, until the end.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let resp = run(app, &admin, USERS, json!({"first": 2, "after": after})).await;
        let data = ok(&resp)["users"].clone();
        seen.extend(emails(&resp));
        pages += 1;
        if data["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = data["pageInfo"]["endCursor"].as_str().map(String::from);
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        [
            "admin@t.fr",
            "fac@t.fr",
            "fac2@t.fr",
            "buyer@t.fr",
            "company@t.fr",
            "maconnerie@t.fr"
        ]
    );
    let page = |first: i32| run(app, &admin, USERS, json!({"first": first}));
    assert_eq!(code(&page(101).await).1.as_deref(), Some("first"));
    assert_eq!(emails(&page(100).await).len(), 6);
    let admin = &admin;
    let filtered = |f: Value| async move { emails(&run(app, admin, USERS, json!({"f": f})).await) };
    assert_eq!(
        filtered(json!({"role": "COMPANY"})).await,
        ["company@t.fr", "maconnerie@t.fr"]
    );
    assert_eq!(
        filtered(json!({"organizationId": w.buyer})).await,
        ["buyer@t.fr"]
    );
    // A territory: its facilitators and the members of its organizations.
    assert_eq!(
        filtered(json!({"territoryId": t2})).await,
        ["fac2@t.fr", "maconnerie@t.fr"]
    );
    assert_eq!(
        filtered(json!({"territoryId": w.territory})).await,
        ["fac@t.fr", "buyer@t.fr", "company@t.fr"]
    );
    // Search: part of the e-mail (any case), or of the organization's name (accents ignored).
    assert_eq!(filtered(json!({"search": "FAC2"})).await, ["fac2@t.fr"]);
    assert_eq!(
        filtered(json!({"search": "maconnerie mayo"})).await,
        ["maconnerie@t.fr"]
    );
    assert_eq!(filtered(json!({"search": "%"})).await, Vec::<String>::new());
    // Active: one switched off.
    let buyer = user_node(app, "buyer@t.fr").await;
    ok(&run(
        app,
        admin,
        DEACTIVATE,
        json!({"id": buyer["id"], "v": buyer["version"]}),
    )
    .await);
    assert_eq!(filtered(json!({"active": false})).await, ["buyer@t.fr"]);
    assert_eq!(filtered(json!({"active": true})).await.len(), 5);
    // Filters combine.
    assert_eq!(
        filtered(json!({"active": true, "territoryId": w.territory})).await,
        ["fac@t.fr", "company@t.fr"]
    );
}

async fn a_facilitator_lists_the_accounts_of_their_territories_only(app: &TestApp) {
    let w = app.world().await;
    let t2 = app.territory("976-B").await;
    let company2 = app.org("BTP B", "COMPANY", None, &t2).await;
    app.user("admin@t.fr", Role::Admin, None, &[]).await;
    let fac = app
        .user("fac@t.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    app.user("fac2@t.fr", Role::Facilitator, None, &[&t2]).await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let company2_user = app
        .user("b@t.fr", Role::Company, Some(&company2), &[])
        .await;
    let company = app
        .user("c2@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    assert_eq!(
        emails(&run(app, &fac, USERS, json!({})).await),
        ["fac@t.fr", "company@t.fr", "c2@t.fr"]
    );
    // Asking for another territory gives nothing more.
    assert_eq!(
        emails(&run(app, &fac, USERS, json!({"f": {"territoryId": t2}})).await),
        Vec::<String>::new()
    );
    for other in [&company, &company2_user] {
        assert_eq!(
            code(&run(app, other, USERS, json!({})).await).0.as_deref(),
            Some("FORBIDDEN")
        );
    }
    assert_eq!(
        code(&app.run_as(None, USERS, json!({})).await).0.as_deref(),
        Some("UNAUTHENTICATED")
    );
    // Nor may a facilitator edit an account.
    let c = user_node(app, "company@t.fr").await;
    let resp = run(app, &fac, UPDATE, json!({"i": {"userId": c["id"], "version": c["version"], "organizationId": w.buyer, "role": "BUYER"}})).await;
    assert_eq!(code(&resp).0.as_deref(), Some("FORBIDDEN"));
    assert_eq!(user_node(app, "company@t.fr").await["role"], "COMPANY");
}

async fn update_user_rechecks_the_creation_rules_and_the_version(app: &TestApp) {
    let w = app.world().await;
    let t2 = app.territory("976-B").await;
    app.user("fac@t.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let admin = admin_actor();
    let fac = user_node(app, "fac@t.fr").await;
    let v = fac["version"].as_i64().unwrap();
    let edit = |i: Value| run(app, &admin, UPDATE, json!({"i": i}));
    // Territories replace the set.
    let resp = edit(json!({"userId": fac["id"], "version": v, "territoryIds": [t2]})).await;
    let row = ok(&resp)["updateUser"].clone();
    assert_eq!(row["territoryIds"], json!([t2]));
    assert_eq!(row["version"], v + 1);
    // The old version: CONFLICT naming who changed it.
    let resp =
        edit(json!({"userId": fac["id"], "version": v, "territoryIds": [w.territory]})).await;
    assert_eq!(
        code(&resp),
        (Some("CONFLICT".into()), Some("version".into()))
    );
    assert!(
        resp["errors"][0]["extensions"]["changedBy"].is_string(),
        "{resp}"
    );
    let v = v + 1;
    // A facilitator keeps at least one territory.
    let resp = edit(json!({"userId": fac["id"], "version": v, "territoryIds": []})).await;
    assert_eq!(code(&resp).1.as_deref(), Some("territoryIds"));
    // Becoming a company needs a company.
    let resp = edit(json!({"userId": fac["id"], "version": v, "role": "COMPANY"})).await;
    assert_eq!(code(&resp).1.as_deref(), Some("organizationId"));
    let resp = edit(
        json!({"userId": fac["id"], "version": v, "role": "COMPANY", "organizationId": w.buyer}),
    )
    .await;
    assert_eq!(code(&resp).1.as_deref(), Some("organizationId"));
    // Nothing written by the refusals.
    let now = user_node(app, "fac@t.fr").await;
    assert_eq!(
        (now["role"].clone(), now["version"].as_i64()),
        (json!("FACILITATOR"), Some(v))
    );
    // Right kind: becomes a company, leaves the territories.
    let resp = edit(
        json!({"userId": fac["id"], "version": v, "role": "COMPANY", "organizationId": w.company}),
    )
    .await;
    let row = ok(&resp)["updateUser"].clone();
    assert_eq!(row["role"], "COMPANY");
    assert_eq!(row["territoryIds"], json!([]));
    assert_eq!(row["organization"]["id"], w.company);
    // A company cannot be given territories, nor lose its organization.
    let v = v + 1;
    let resp = edit(json!({"userId": fac["id"], "version": v, "territoryIds": [t2]})).await;
    assert_eq!(code(&resp).1.as_deref(), Some("territoryIds"));
    let resp = edit(json!({"userId": fac["id"], "version": v, "organizationId": null})).await;
    assert_eq!(code(&resp).1.as_deref(), Some("organizationId"));
    // Audited, before and after, without the password hash.
    let trail = app
        .ok(
            "query($id: ID!) { auditEvents(filter: {objectId: $id}) { edges { node { action before after } } } }",
            json!({"id": fac["id"]}),
        )
        .await;
    let edits: Vec<&Value> = trail["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "updateUser")
        .collect();
    assert_eq!(edits.len(), 2);
    let all = trail.to_string();
    assert!(!all.contains("argon2"), "{all}");
}

async fn deactivation_stops_sessions_and_api_keys_on_the_next_request(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let session = login(app, "company@t.fr", PASSWORD).await.unwrap();
    let me = authenticate(app, &session).await.unwrap();
    let key = passerelle::service::auth::create_api_key(&app.ctx, &me, "paie", None)
        .await
        .map_err(|e| e.message())
        .unwrap()
        .secret;
    assert!(authenticate(app, &key).await.is_ok());
    let u = user_node(app, "company@t.fr").await;
    let resp = run(
        app,
        &admin_actor(),
        DEACTIVATE,
        json!({"id": u["id"], "v": u["version"]}),
    )
    .await;
    assert_eq!(ok(&resp)["deactivateUser"]["active"], false);
    // The very next request with either credential is refused.
    assert_eq!(
        authenticate(app, &session).await.unwrap_err(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        authenticate(app, &key).await.unwrap_err(),
        "UNAUTHENTICATED"
    );
    // Revoked in the same transaction, not only refused while inactive.
    assert_eq!(
        app.count("credential WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM app_user WHERE email = 'company@t.fr')").await,
        0
    );
    assert!(login(app, "company@t.fr", PASSWORD).await.is_err());
    // Over HTTP too.
    let (base, _stop) = app.serve(&passerelle::config::Config::default()).await;
    let client = reqwest::Client::new();
    for secret in [&session, &key] {
        let (status, body) = common::post_gql(
            &client,
            &base,
            Some(secret),
            json!({"query": "{ me { email } }"}),
        )
        .await;
        assert_eq!(status, 401, "{body}");
    }
}

async fn reactivation_needs_a_new_sign_in(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let session = login(app, "company@t.fr", PASSWORD).await.unwrap();
    let admin = admin_actor();
    let u = user_node(app, "company@t.fr").await;
    let v = u["version"].as_i64().unwrap();
    let off =
        ok(&run(app, &admin, DEACTIVATE, json!({"id": u["id"], "v": v})).await)["deactivateUser"]
            .clone();
    // Twice: refused, named.
    let resp = run(
        app,
        &admin,
        DEACTIVATE,
        json!({"id": u["id"], "v": off["version"]}),
    )
    .await;
    assert_eq!(code(&resp).0.as_deref(), Some("CONFLICT"));
    // The version read before the deactivation is stale.
    let resp = run(app, &admin, REACTIVATE, json!({"id": u["id"], "v": v})).await;
    assert_eq!(
        code(&resp),
        (Some("CONFLICT".into()), Some("version".into()))
    );
    let on = ok(&run(
        app,
        &admin,
        REACTIVATE,
        json!({"id": u["id"], "v": off["version"]}),
    )
    .await)["reactivateUser"]
        .clone();
    assert_eq!(on["active"], true);
    assert_eq!(on["version"], v + 2);
    let resp = run(
        app,
        &admin,
        REACTIVATE,
        json!({"id": u["id"], "v": on["version"]}),
    )
    .await;
    assert_eq!(code(&resp).0.as_deref(), Some("CONFLICT"));
    // The old session stays revoked; signing in again works.
    assert_eq!(
        authenticate(app, &session).await.unwrap_err(),
        "UNAUTHENTICATED"
    );
    let fresh = login(app, "company@t.fr", PASSWORD).await.unwrap();
    assert_eq!(
        authenticate(app, &fresh).await.unwrap().role,
        Some(Role::Company)
    );
}

async fn an_admin_cannot_switch_off_themself_or_the_last_admin(app: &TestApp) {
    let a1 = app.user("a1@t.fr", Role::Admin, None, &[]).await;
    let a2 = app.user("a2@t.fr", Role::Admin, None, &[]).await;
    let n1 = user_node(app, "a1@t.fr").await;
    let n2 = user_node(app, "a2@t.fr").await;
    let resp = run(
        app,
        &a1,
        DEACTIVATE,
        json!({"id": n1["id"], "v": n1["version"]}),
    )
    .await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("id".into()))
    );
    let w = app.world().await;
    let resp = run(app, &a1, UPDATE, json!({"i": {"userId": n1["id"], "version": n1["version"], "role": "FACILITATOR", "territoryIds": [w.territory]}})).await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("role".into()))
    );
    // a1 switches a2 off: a1 is then the last active admin, whom nobody (not even the system)
    // can switch off or demote.
    ok(&run(
        app,
        &a1,
        DEACTIVATE,
        json!({"id": n2["id"], "v": n2["version"]}),
    )
    .await);
    let resp = run(
        app,
        &admin_actor(),
        DEACTIVATE,
        json!({"id": n1["id"], "v": n1["version"]}),
    )
    .await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("id".into()))
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("dernier administrateur"),
        "{resp}"
    );
    let resp = run(app, &admin_actor(), UPDATE, json!({"i": {"userId": n1["id"], "version": n1["version"], "role": "FACILITATOR", "territoryIds": [w.territory]}})).await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("role".into()))
    );
    assert_eq!(
        app.count("app_user WHERE role = 'ADMIN' AND active = TRUE")
            .await,
        1
    );
    // With a second active admin again, the first can be demoted (by someone else).
    let n2 = user_node(app, "a2@t.fr").await;
    ok(&run(
        app,
        &a1,
        REACTIVATE,
        json!({"id": n2["id"], "v": n2["version"]}),
    )
    .await);
    let resp = run(app, &a2, UPDATE, json!({"i": {"userId": n1["id"], "version": n1["version"], "role": "FACILITATOR", "territoryIds": [w.territory]}})).await;
    assert_eq!(ok(&resp)["updateUser"]["role"], "FACILITATOR");
}

async fn change_password_needs_the_current_one(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let here = login(app, "company@t.fr", PASSWORD).await.unwrap();
    let elsewhere = login(app, "company@t.fr", PASSWORD).await.unwrap();
    let me = authenticate(app, &here).await.unwrap();
    let new = "a brand new passphrase";
    let resp = run(app, &me, CHANGE, json!({"c": "wrong password!!", "n": new})).await;
    assert_eq!(
        code(&resp),
        (
            Some("BAD_USER_INPUT".into()),
            Some("currentPassword".into())
        )
    );
    let resp = run(app, &me, CHANGE, json!({"c": PASSWORD, "n": "elevenchars"})).await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("newPassword".into()))
    );
    // Nothing changed: the old password still signs in, both sessions live.
    assert!(authenticate(app, &elsewhere).await.is_ok());
    login(app, "company@t.fr", PASSWORD).await.unwrap();
    // Twelve characters is enough.
    ok(&run(
        app,
        &me,
        CHANGE,
        json!({"c": PASSWORD, "n": "twelve chars"}),
    )
    .await);
    assert!(
        authenticate(app, &here).await.is_ok(),
        "the session that changed it stays"
    );
    assert_eq!(
        authenticate(app, &elsewhere).await.unwrap_err(),
        "UNAUTHENTICATED"
    );
    assert!(login(app, "company@t.fr", PASSWORD).await.is_err());
    login(app, "company@t.fr", "twelve chars").await.unwrap();
    // Anonymous: refused.
    let resp = app
        .run_as(None, CHANGE, json!({"c": "twelve chars", "n": new}))
        .await;
    assert_eq!(code(&resp).0.as_deref(), Some("UNAUTHENTICATED"));
}

async fn reset_link_is_mailed_over_smtp_and_works_once(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let old_session = login(app, "company@t.fr", PASSWORD).await.unwrap();
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let resp = app
        .run_as(None, REQUEST, json!({"e": "Company@T.fr"}))
        .await;
    assert_eq!(ok(&resp)["requestPasswordReset"], true);
    let link = mailed_link(&s, &smtp, "company@t.fr").await;
    assert!(
        link.starts_with(&format!("{APP_URL}/reinitialiser?jeton=")),
        "{link}"
    );
    let mails = smtp.to("company@t.fr");
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].subject().contains("mot de passe"),
        "{}",
        mails[0].subject()
    );
    // The HTML part carries it too (minijinja writes `/` as `&#x2f;`, which browsers read back).
    let html = mails[0].html().replace("&#x2f;", "/");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    // Sent once: another pass sends nothing more.
    s.send().await.map_err(|e| e.message()).unwrap();
    assert_eq!(smtp.mails().len(), 1);
    let token = token_of(&link);
    // The store keeps only the hash.
    let hash = passerelle::domain::auth::secret_hash(&token);
    assert_eq!(
        app.count(&format!("account_token WHERE token_hash = '{hash}'"))
            .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "account_token WHERE token_hash LIKE '%{}%'",
            &token[4..20]
        ))
        .await,
        0
    );
    let new = "the new passphrase";
    let resp = app.run_as(None, RESET, json!({"t": token, "p": new})).await;
    assert_eq!(ok(&resp)["resetPassword"], true);
    // Sessions revoked; the new password signs in, the old one not.
    assert_eq!(
        authenticate(app, &old_session).await.unwrap_err(),
        "UNAUTHENTICATED"
    );
    assert!(login(app, "company@t.fr", PASSWORD).await.is_err());
    login(app, "company@t.fr", new).await.unwrap();
    // Used: refused, with the reason, field token; the password stays the new one.
    let resp = app
        .run_as(
            None,
            RESET,
            json!({"t": token, "p": "yet another passphrase"}),
        )
        .await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("token".into()))
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("déjà servi"),
        "{resp}"
    );
    login(app, "company@t.fr", new).await.unwrap();
}

async fn unknown_address_gets_the_same_answer_and_no_mail(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let known = app
        .run_as(None, REQUEST, json!({"e": "company@t.fr"}))
        .await;
    let unknown = app
        .run_as(None, REQUEST, json!({"e": "personne@t.fr"}))
        .await;
    assert_eq!(known, unknown, "the same answer, to the byte");
    s.send().await.map_err(|e| e.message()).unwrap();
    assert_eq!(smtp.to("personne@t.fr").len(), 0);
    assert_eq!(smtp.to("company@t.fr").len(), 1);
    assert_eq!(smtp.mails().len(), 1);
    // A deactivated account: same answer, no mail.
    let u = user_node(app, "company@t.fr").await;
    ok(&run(
        app,
        &admin_actor(),
        DEACTIVATE,
        json!({"id": u["id"], "v": u["version"]}),
    )
    .await);
    let off = app
        .run_as(None, REQUEST, json!({"e": "company@t.fr"}))
        .await;
    assert_eq!(off, unknown);
    s.send().await.map_err(|e| e.message()).unwrap();
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(app.count("account_token").await, 1);
}

async fn reset_requests_are_throttled_alike_for_known_and_unknown(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let ask = |email: &str, address: &str| {
        let ctx = app.ctx.clone();
        let (email, address) = (email.to_string(), address.to_string());
        async move {
            passerelle::service::accounts::request_reset(&ctx, &email, &address)
                .await
                .map_err(|e| e.code().to_string())
        }
    };
    // Per address asked for: three in the window, the fourth refused, known or not.
    for email in ["company@t.fr", "personne@t.fr"] {
        for i in 0..3 {
            assert_eq!(
                ask(email, &format!("10.0.0.{i}")).await,
                Ok(()),
                "{email} #{i}"
            );
        }
        assert_eq!(ask(email, "10.0.0.9").await, Err("BUSY".into()), "{email}");
    }
    assert_eq!(app.count("account_token").await, 3);
    // The window passes: allowed again.
    app.clock.advance(Duration::minutes(15));
    assert_eq!(ask("company@t.fr", "10.0.0.9").await, Ok(()));
    // Per client: ten in the window, the eleventh refused.
    for i in 0..10 {
        assert_eq!(ask(&format!("x{i}@t.fr"), "10.9.9.9").await, Ok(()), "#{i}");
    }
    assert_eq!(ask("x10@t.fr", "10.9.9.9").await, Err("BUSY".into()));
    // Logins are counted apart: the account still signs in.
    login(app, "company@t.fr", PASSWORD).await.unwrap();
}

async fn request_token(app: &TestApp, s: &Scheduler, smtp: &SmtpServer, email: &str) -> String {
    ok(&app.run_as(None, REQUEST, json!({"e": email})).await);
    token_of(&mailed_link(s, smtp, email).await)
}

async fn reset_link_works_until_one_hour_and_not_after(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let late = request_token(app, &s, &smtp, "company@t.fr").await;
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    let resp = app
        .run_as(None, RESET, json!({"t": late, "p": "too late passphrase"}))
        .await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("token".into()))
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expiré"),
        "{resp}"
    );
    assert!(
        login(app, "company@t.fr", "too late passphrase")
            .await
            .is_err()
    );
    let just = request_token(app, &s, &smtp, "company@t.fr").await;
    app.clock.advance(Duration::hours(1) - Duration::seconds(1));
    ok(&app
        .run_as(None, RESET, json!({"t": just, "p": "just in time pass"}))
        .await);
    login(app, "company@t.fr", "just in time pass")
        .await
        .unwrap();
    // At the hour itself: expired.
    let third = request_token(app, &s, &smtp, "company@t.fr").await;
    app.clock.advance(Duration::hours(1));
    let resp = app
        .run_as(None, RESET, json!({"t": third, "p": "exactly one hour"}))
        .await;
    assert_eq!(code(&resp).1.as_deref(), Some("token"));
}

async fn a_wrong_or_foreign_token_is_refused(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let token = request_token(app, &s, &smtp, "company@t.fr").await;
    let mut altered = token.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for wrong in [altered.as_str(), "", "pal_nothing"] {
        let resp = app
            .run_as(None, RESET, json!({"t": wrong, "p": "some passphrase"}))
            .await;
        assert_eq!(
            code(&resp),
            (Some("BAD_USER_INPUT".into()), Some("token".into())),
            "{wrong}"
        );
        assert!(
            resp["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("invalide"),
            "{resp}"
        );
    }
    // A reset link does not accept an invitation.
    let resp = app
        .run_as(None, ACCEPT, json!({"t": token, "p": "some passphrase"}))
        .await;
    assert_eq!(code(&resp).1.as_deref(), Some("token"));
    // A short password is refused before the link is looked at, and the link stays usable.
    let resp = app
        .run_as(None, RESET, json!({"t": token, "p": "short"}))
        .await;
    assert_eq!(code(&resp).1.as_deref(), Some("newPassword"));
    ok(&app
        .run_as(
            None,
            RESET,
            json!({"t": token, "p": "finally a passphrase"}),
        )
        .await);
}

const CREATE: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { id email } }";

async fn invitation_sets_the_first_password_within_seven_days(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let company = &w.company;
    let invite = |email: &str| {
        let email = email.to_string();
        async move {
            ok(&app
                .run(
                    CREATE,
                    json!({"i": {"email": email, "role": "COMPANY", "organizationId": company}}),
                )
                .await)
            .clone()
        }
    };
    invite("early@t.fr").await;
    let early_link = mailed_link(&s, &smtp, "early@t.fr").await;
    assert!(
        early_link.starts_with(&format!("{APP_URL}/invitation?jeton=")),
        "{early_link}"
    );
    let mail = smtp.to("early@t.fr").pop().unwrap();
    assert!(mail.text().contains("sept jours"), "{}", mail.text());
    // No password yet: nothing signs in.
    assert!(login(app, "early@t.fr", "").await.is_err());
    assert!(
        login(app, "early@t.fr", passerelle::domain::auth::NO_PASSWORD)
            .await
            .is_err()
    );
    invite("late@t.fr").await;
    let late_link = mailed_link(&s, &smtp, "late@t.fr").await;
    // An invitation is not a reset link.
    let resp = app
        .run_as(
            None,
            RESET,
            json!({"t": token_of(&early_link), "p": "my own passphrase"}),
        )
        .await;
    assert_eq!(code(&resp).1.as_deref(), Some("token"));
    app.clock.advance(Duration::days(7) - Duration::seconds(1));
    let resp = app
        .run_as(
            None,
            ACCEPT,
            json!({"t": token_of(&early_link), "p": "my own passphrase"}),
        )
        .await;
    assert_eq!(ok(&resp)["acceptInvitation"], true);
    login(app, "early@t.fr", "my own passphrase").await.unwrap();
    let resp = app
        .run_as(
            None,
            ACCEPT,
            json!({"t": token_of(&early_link), "p": "another passphrase"}),
        )
        .await;
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("déjà servi"),
        "{resp}"
    );
    app.clock.advance(Duration::seconds(2));
    let resp = app
        .run_as(
            None,
            ACCEPT,
            json!({"t": token_of(&late_link), "p": "my own passphrase"}),
        )
        .await;
    assert_eq!(
        code(&resp),
        (Some("BAD_USER_INPUT".into()), Some("token".into()))
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expiré"),
        "{resp}"
    );
    // The way out of an expired invitation: a reset link.
    let token = request_token(app, &s, &smtp, "late@t.fr").await;
    ok(&app
        .run_as(None, RESET, json!({"t": token, "p": "set at last pass"}))
        .await);
    login(app, "late@t.fr", "set at last pass").await.unwrap();
    // The old path stays: an administrator may still give a password, and no mail goes out.
    let before = smtp.mails().len();
    app.ok(CREATE, json!({"i": {"email": "direct@t.fr", "password": PASSWORD, "role": "COMPANY", "organizationId": w.company}})).await;
    s.send().await.map_err(|e| e.message()).unwrap();
    assert_eq!(smtp.mails().len(), before);
    login(app, "direct@t.fr", PASSWORD).await.unwrap();
}

async fn one_token_used_at_once_succeeds_exactly_once(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let token = request_token(app, &s, &smtp, "company@t.fr").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..4 {
        let (ctx, token, barrier) = (app.ctx.clone(), token.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            passerelle::service::accounts::use_link(
                &ctx,
                passerelle::domain::auth::TokenPurpose::Reset,
                &token,
                &format!("concurrent passphrase {i}"),
                "newPassword",
            )
            .await
            .map(|()| i)
            .map_err(|e| e.message())
        });
    }
    let (won, refused) = one_wins(set).await;
    assert_eq!((won.len(), refused), (1, 3), "{won:?}");
    login(
        app,
        "company@t.fr",
        &format!("concurrent passphrase {}", won[0]),
    )
    .await
    .unwrap();
    assert_eq!(
        app.count("account_token WHERE used_at IS NOT NULL").await,
        1
    );
}

async fn two_admins_switching_each_other_off_at_once_leave_one(app: &TestApp) {
    let a1 = app.user("a1@t.fr", Role::Admin, None, &[]).await;
    let a2 = app.user("a2@t.fr", Role::Admin, None, &[]).await;
    let n1 = user_node(app, "a1@t.fr").await;
    let n2 = user_node(app, "a2@t.fr").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let mut set = tokio::task::JoinSet::new();
    for (who, target) in [(a1, n2), (a2, n1)] {
        let (ctx, barrier) = (app.ctx.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            passerelle::service::accounts::deactivate(
                &ctx,
                &who,
                &async_graphql::ID(target["id"].as_str().unwrap().to_string()),
                target["version"].as_i64().unwrap() as i32,
            )
            .await
            .map(|_| ())
            .map_err(|e| e.message())
        });
    }
    let mut ok_count = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(()) => ok_count += 1,
            Err(m) => assert!(m.contains("dernier administrateur"), "{m}"),
        }
    }
    assert_eq!(ok_count, 1);
    assert_eq!(
        app.count("app_user WHERE role = 'ADMIN' AND active = TRUE")
            .await,
        1
    );
}

async fn a_link_is_not_mailed_once_the_account_is_switched_off(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    ok(&app
        .run_as(None, REQUEST, json!({"e": "company@t.fr"}))
        .await);
    let u = user_node(app, "company@t.fr").await;
    ok(&run(
        app,
        &admin_actor(),
        DEACTIVATE,
        json!({"id": u["id"], "v": u["version"]}),
    )
    .await);
    let report = s.send().await.map_err(|e| e.message()).unwrap();
    assert_eq!((report.sent, report.dropped), (0, 1), "{report}");
    assert!(smtp.mails().is_empty());
    // The link was withdrawn with the deactivation.
    assert_eq!(app.count("account_token WHERE used_at IS NULL").await, 0);
}

async fn wrong_current_passwords_count_as_failed_logins(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let session = login(app, "company@t.fr", PASSWORD).await.unwrap();
    let me = authenticate(app, &session).await.unwrap();
    let change = |current: &str| {
        let (ctx, me, current) = (app.ctx.clone(), me.clone(), current.to_string());
        async move {
            passerelle::service::accounts::change_password(
                &ctx,
                &me,
                &current,
                "a brand new passphrase",
                "10.1.1.1",
            )
            .await
            .map_err(|e| e.message())
        }
    };
    // Five wrong guesses are checked (the account's limit of failed logins)...
    for i in 0..5 {
        let m = change("wrong guess nr").await.unwrap_err();
        assert!(m.contains("incorrect"), "#{i}: {m}");
    }
    // ...the sixth is refused unchecked, even the right password, and so is a login.
    let m = change(PASSWORD).await.unwrap_err();
    assert!(m.contains("trop de tentatives"), "{m}");
    assert!(
        login(app, "company@t.fr", PASSWORD)
            .await
            .unwrap_err()
            .contains("trop de tentatives")
    );
    // The window passes: the right one works.
    app.clock.advance(Duration::minutes(15));
    assert_eq!(change(PASSWORD).await, Ok(0));
    login(app, "company@t.fr", "a brand new passphrase")
        .await
        .unwrap();
}

// ------------------------------------------------------------------------------------------
// Links after a password was set (hostile review of issue 20).
// ------------------------------------------------------------------------------------------

/// Invites `email` (an account of `company`, without password); the invitation's token.
async fn invited(
    app: &TestApp,
    s: &Scheduler,
    smtp: &SmtpServer,
    company: &str,
    email: &str,
) -> String {
    ok(&app
        .run(
            CREATE,
            json!({"i": {"email": email, "role": "COMPANY", "organizationId": company}}),
        )
        .await);
    token_of(&mailed_link(s, smtp, email).await)
}

/// Asserts a "used link" refusal on `token`.
fn refused_as_used(resp: &Value) {
    assert_eq!(
        code(resp),
        (Some("BAD_USER_INPUT".into()), Some("token".into())),
        "{resp}"
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("déjà servi"),
        "{resp}"
    );
}

fn open_links_of(email: &str) -> String {
    format!(
        "account_token WHERE used_at IS NULL AND user_id IN (SELECT id FROM app_user WHERE email = '{email}')"
    )
}

/// A leaked invitation (seven days) must not overwrite a password set through a reset, and a
/// reset link asked for before the invitation was accepted dies with the acceptance.
async fn a_password_set_by_one_link_withdraws_the_other(app: &TestApp) {
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let w = app.world().await;
    // A reset sets the password: the open invitation is withdrawn.
    let invite = invited(app, &s, &smtp, &w.company, "new@t.fr").await;
    let reset = request_token(app, &s, &smtp, "new@t.fr").await;
    assert_eq!(app.count(&open_links_of("new@t.fr")).await, 2);
    ok(&app
        .run_as(
            None,
            RESET,
            json!({"t": reset, "p": "the owner's passphrase"}),
        )
        .await);
    assert_eq!(app.count(&open_links_of("new@t.fr")).await, 0);
    let resp = app
        .run_as(
            None,
            ACCEPT,
            json!({"t": invite, "p": "the attacker's passphrase"}),
        )
        .await;
    refused_as_used(&resp);
    assert!(
        login(app, "new@t.fr", "the attacker's passphrase")
            .await
            .is_err()
    );
    login(app, "new@t.fr", "the owner's passphrase")
        .await
        .unwrap();
    // The other way round: accepting the invitation withdraws a reset link asked for before.
    let invite = invited(app, &s, &smtp, &w.company, "other@t.fr").await;
    let reset = request_token(app, &s, &smtp, "other@t.fr").await;
    ok(&app
        .run_as(
            None,
            ACCEPT,
            json!({"t": invite, "p": "the owner's passphrase"}),
        )
        .await);
    assert_eq!(app.count(&open_links_of("other@t.fr")).await, 0);
    let resp = app
        .run_as(
            None,
            RESET,
            json!({"t": reset, "p": "the attacker's passphrase"}),
        )
        .await;
    refused_as_used(&resp);
    login(app, "other@t.fr", "the owner's passphrase")
        .await
        .unwrap();
}

/// An invitation still open while the account has a password (left open before this rule, or
/// the account given a password otherwise) is refused as used, and nothing is written.
async fn an_invitation_is_refused_once_the_account_has_a_password(app: &TestApp) {
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let w = app.world().await;
    let invite = invited(app, &s, &smtp, &w.company, "new@t.fr").await;
    let reset = request_token(app, &s, &smtp, "new@t.fr").await;
    ok(&app
        .run_as(
            None,
            RESET,
            json!({"t": reset, "p": "the owner's passphrase"}),
        )
        .await);
    // Reopen the invitation as the code before this fix left it.
    let reopened = sea_orm::ConnectionTrait::execute_unprepared(
        &app.ctx.db.conn,
        "UPDATE account_token SET used_at = NULL WHERE purpose = 'INVITE'",
    )
    .await
    .unwrap();
    assert_eq!(reopened.rows_affected(), 1);
    let resp = app
        .run_as(
            None,
            ACCEPT,
            json!({"t": invite, "p": "the attacker's passphrase"}),
        )
        .await;
    refused_as_used(&resp);
    assert!(
        login(app, "new@t.fr", "the attacker's passphrase")
            .await
            .is_err()
    );
    login(app, "new@t.fr", "the owner's passphrase")
        .await
        .unwrap();
    // Nothing written: no audit of an acceptance.
    assert_eq!(
        app.count("audit_event WHERE action = 'acceptInvitation'")
            .await,
        0
    );
}

/// changePassword withdraws the account's open links of both purposes.
async fn change_password_withdraws_every_open_link(app: &TestApp) {
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    // An invited account that was also given a password (as an administrator or the code
    // before this fix could leave it): both an invitation and a reset link open.
    let invite = invited(app, &s, &smtp, &w.company, "new@t.fr").await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.ctx.db.conn,
        "UPDATE app_user SET password_hash = (SELECT password_hash FROM app_user WHERE email = 'company@t.fr') WHERE email = 'new@t.fr'",
    )
    .await
    .unwrap();
    let reset = request_token(app, &s, &smtp, "new@t.fr").await;
    assert_eq!(app.count(&open_links_of("new@t.fr")).await, 2);
    let session = login(app, "new@t.fr", PASSWORD).await.unwrap();
    let me = authenticate(app, &session).await.unwrap();
    ok(&run(
        app,
        &me,
        CHANGE,
        json!({"c": PASSWORD, "n": "the owner's passphrase"}),
    )
    .await);
    assert_eq!(app.count(&open_links_of("new@t.fr")).await, 0);
    for (mutation, token) in [(RESET, &reset), (ACCEPT, &invite)] {
        let resp = app
            .run_as(
                None,
                mutation,
                json!({"t": token, "p": "the attacker's passphrase"}),
            )
            .await;
        refused_as_used(&resp);
    }
    login(app, "new@t.fr", "the owner's passphrase")
        .await
        .unwrap();
}

/// After a reset, API keys made by whoever had the account stop working; changePassword keeps
/// them (and the session that made the change).
async fn a_reset_revokes_api_keys_a_change_keeps_them(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let session = login(app, "company@t.fr", PASSWORD).await.unwrap();
    let me = authenticate(app, &session).await.unwrap();
    let key = passerelle::service::auth::create_api_key(&app.ctx, &me, "intrus", None)
        .await
        .map_err(|e| e.message())
        .unwrap()
        .secret;
    ok(&run(
        app,
        &me,
        CHANGE,
        json!({"c": PASSWORD, "n": "the changed passphrase"}),
    )
    .await);
    assert!(authenticate(app, &key).await.is_ok(), "a change keeps keys");
    assert!(authenticate(app, &session).await.is_ok());
    let token = request_token(app, &s, &smtp, "company@t.fr").await;
    ok(&app
        .run_as(
            None,
            RESET,
            json!({"t": token, "p": "the owner's passphrase"}),
        )
        .await);
    assert_eq!(
        authenticate(app, &key).await.unwrap_err(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        authenticate(app, &session).await.unwrap_err(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.count("credential WHERE revoked_at IS NULL AND kind = 'API_KEY'")
            .await,
        0
    );
    assert_eq!(
        app.count("credential WHERE revoked_at IS NOT NULL AND kind = 'API_KEY'")
            .await,
        1
    );
    // The owner signs in again and makes new keys.
    let fresh = login(app, "company@t.fr", "the owner's passphrase")
        .await
        .unwrap();
    let me = authenticate(app, &fresh).await.unwrap();
    let new_key = passerelle::service::auth::create_api_key(&app.ctx, &me, "paie", None)
        .await
        .map_err(|e| e.message())
        .unwrap()
        .secret;
    assert!(authenticate(app, &new_key).await.is_ok());
}

/// Only the latest reset link works; an earlier one not mailed yet is not mailed at all.
async fn a_new_reset_request_withdraws_the_earlier_links(app: &TestApp) {
    let w = app.world().await;
    app.user("company@t.fr", Role::Company, Some(&w.company), &[])
        .await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let first = request_token(app, &s, &smtp, "company@t.fr").await;
    assert_eq!(app.count(&open_links_of("company@t.fr")).await, 1);
    // Two more requests before the outbox passes: the second's mail is dropped.
    for _ in 0..2 {
        ok(&app
            .run_as(None, REQUEST, json!({"e": "company@t.fr"}))
            .await);
    }
    assert_eq!(app.count(&open_links_of("company@t.fr")).await, 1);
    let report = s.send().await.map_err(|e| e.message()).unwrap();
    assert_eq!((report.sent, report.dropped), (1, 1), "{report}");
    assert_eq!(smtp.to("company@t.fr").len(), 2);
    let last = token_of(&mailed_link(&s, &smtp, "company@t.fr").await);
    assert_ne!(first, last);
    let resp = app
        .run_as(None, RESET, json!({"t": first, "p": "from the first link"}))
        .await;
    refused_as_used(&resp);
    login(app, "company@t.fr", PASSWORD).await.unwrap();
    ok(&app
        .run_as(None, RESET, json!({"t": last, "p": "from the last link"}))
        .await);
    login(app, "company@t.fr", "from the last link")
        .await
        .unwrap();
}

/// An invitation and a reset link of one account used at once: one sets the password, the
/// other is refused as used (on PostgreSQL they wait for each other on the account's row).
async fn an_invitation_and_a_reset_used_at_once_set_one_password(app: &TestApp) {
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let w = app.world().await;
    // Several accounts, one pair each: a race lost by chance in one round shows in another.
    for round in 0..5 {
        let email = format!("new{round}@t.fr");
        race_invitation_and_reset(app, &s, &smtp, &w.company, &email).await;
    }
}

async fn race_invitation_and_reset(
    app: &TestApp,
    s: &Scheduler,
    smtp: &SmtpServer,
    company: &str,
    email: &str,
) {
    use passerelle::domain::auth::TokenPurpose;
    let invite = invited(app, s, smtp, company, email).await;
    let reset = request_token(app, s, smtp, email).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let mut set = tokio::task::JoinSet::new();
    for (purpose, token, field) in [
        (TokenPurpose::Invite, invite, "password"),
        (TokenPurpose::Reset, reset, "newPassword"),
    ] {
        let (ctx, barrier) = (app.ctx.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            let password = format!("passphrase by {}", purpose.as_str());
            passerelle::service::accounts::use_link(&ctx, purpose, &token, &password, field)
                .await
                .map(|()| password)
                .map_err(|e| e.message())
        });
    }
    let (won, refused) = one_wins(set).await;
    assert_eq!((won.len(), refused), (1, 1), "{email}: {won:?}");
    login(app, email, &won[0]).await.unwrap();
    assert_eq!(app.count(&open_links_of(email)).await, 0);
}

/// `User.territoryIds` is batched: a page of 2 accounts and a page of 7 take as many statements.
async fn a_page_of_users_reads_their_territories_at_once(app: &TestApp) {
    let t = app.territory("974-TEST").await;
    let admin = app
        .user("admin@passerelle.fr", Role::Admin, None, &[])
        .await;
    app.user("f0@ville.fr", Role::Facilitator, None, &[&t])
        .await;
    let q = "{ users(first: 50) { edges { node { email territoryIds } } } }";
    let (one, edges) = users_page(app, &admin, q).await;
    assert_eq!(edges.len(), 2);
    for i in 1..6 {
        app.user(&format!("f{i}@ville.fr"), Role::Facilitator, None, &[&t])
            .await;
    }
    let (six, edges) = users_page(app, &admin, q).await;
    assert_eq!(edges.len(), 7);
    assert_eq!(one, six, "statements at 2 users and at 7");
    for e in edges
        .iter()
        .filter(|e| e["node"]["email"] != "admin@passerelle.fr")
    {
        assert_eq!(e["node"]["territoryIds"], json!([t]), "{e}");
    }
}

async fn users_page(app: &TestApp, admin: &Actor, q: &str) -> (usize, Vec<Value>) {
    app.reset_statements();
    let r = app.run_as(Some(admin.clone()), q, json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    (
        app.statements(),
        r["data"]["users"]["edges"].as_array().unwrap().clone(),
    )
}

/// The uses of a link run at once: which succeeded, and how many were refused as used.
async fn one_wins<T: 'static>(mut set: tokio::task::JoinSet<Result<T, String>>) -> (Vec<T>, usize) {
    let mut won = Vec::new();
    let mut refused = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(v) => won.push(v),
            Err(m) => {
                assert!(m.contains("déjà servi"), "{m}");
                refused += 1;
            }
        }
    }
    (won, refused)
}
