//! Sign-in under attack: throttling that parallel attempts cannot outrun (each attempt takes its
//! slot before the password is checked), password hashing under a bounded semaphore (memory of
//! the real process under 200 simultaneous logins), API keys that expire, and the nightly purge.

mod common;

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use common::{PASSWORD, TestApp};
use passerelle::clock::Clock;
use passerelle::domain::auth::Role;
use passerelle::service::Ctx;
use passerelle::service::passwords::Passwords;
use serde_json::json;
use tokio::task::JoinSet;

db_tests!(
    sixty_parallel_guesses_on_one_account_stop_at_five,
    a_right_password_in_a_burst_of_wrong_ones_gets_no_extra_guesses,
    account_limit_at_four_five_and_the_window_edge,
    address_limit_at_nineteen_twenty_twenty_one,
    parallel_guesses_from_one_address_stop_at_twenty,
    hashing_runs_under_the_semaphore,
    a_full_hashing_queue_refuses_at_once_and_writes_nothing,
    api_keys_expire_at_their_second,
    the_nightly_purge_keeps_what_can_still_count,
);

/// How a batch of login attempts was answered.
#[derive(Debug, Default)]
struct Outcomes {
    signed_in: usize,
    wrong: usize,
    throttled: usize,
    /// Refused at once: the hashing queue was full.
    busy: usize,
    other: Vec<String>,
}

const WRONG: &str = "e-mail ou mot de passe incorrect";
const THROTTLED: &str = "trop de tentatives";

impl Outcomes {
    fn add(&mut self, result: Result<(), String>) {
        match result {
            Ok(()) => self.signed_in += 1,
            Err(m) if m.contains(WRONG) => self.wrong += 1,
            Err(m) if m.contains(THROTTLED) => self.throttled += 1,
            Err(m) => self.other.push(m),
        }
    }

    /// Attempts whose password was checked.
    fn evaluated(&self) -> usize {
        self.signed_in + self.wrong
    }
}

async fn login(ctx: &Ctx, email: &str, password: &str, address: &str) -> Result<(), String> {
    passerelle::service::auth::login(ctx, email, password, address)
        .await
        .map(|_| ())
        .map_err(|e| e.message())
}

/// Runs every attempt `(email, password, address)` at once, on the runtime's worker threads.
async fn burst(app: &TestApp, attempts: Vec<(String, String, String)>) -> Outcomes {
    let mut set = JoinSet::new();
    for (email, password, address) in attempts {
        let ctx = app.ctx.clone();
        set.spawn(async move { login(&ctx, &email, &password, &address).await });
    }
    let mut out = Outcomes::default();
    while let Some(r) = set.join_next().await {
        out.add(r.expect("login task"));
    }
    out
}

async fn account(app: &TestApp, email: &str) {
    app.user(email, Role::Admin, None, &[]).await;
}

async fn sixty_parallel_guesses_on_one_account_stop_at_five(app: &TestApp) {
    account(app, "cible@t.fr").await;
    // Each guess from its own address: only the account's limit applies.
    let attempts = (0..60)
        .map(|i| {
            (
                "cible@t.fr".to_string(),
                format!("wrong guess {i}"),
                format!("10.0.0.{i}"),
            )
        })
        .collect();
    let runs = app.ctx.passwords.runs();
    let out = burst(app, attempts).await;
    eprintln!("60 parallel wrong guesses: {out:?}");
    // One argon2 check per evaluated attempt, none for a refused one.
    assert_eq!(app.ctx.passwords.runs() - runs, 5);
    assert!(out.other.is_empty(), "{out:?}");
    assert_eq!(out.signed_in, 0);
    assert_eq!(out.wrong, 5, "exactly the limit is evaluated: {out:?}");
    assert_eq!(out.throttled, 55, "{out:?}");
    // What was recorded is what was evaluated: the next attempt, right password included, waits.
    assert_eq!(app.count("login_failure").await, 5);
    let after = login(&app.ctx, "cible@t.fr", PASSWORD, "10.0.1.1").await;
    assert!(after.unwrap_err().contains(THROTTLED));
}

async fn a_right_password_in_a_burst_of_wrong_ones_gets_no_extra_guesses(app: &TestApp) {
    account(app, "cible@t.fr").await;
    let mut attempts: Vec<(String, String, String)> = (0..59)
        .map(|i| {
            (
                "cible@t.fr".to_string(),
                format!("wrong guess {i}"),
                format!("10.0.0.{i}"),
            )
        })
        .collect();
    // The right one in the middle of the burst.
    attempts.insert(
        30,
        ("cible@t.fr".into(), PASSWORD.into(), "10.0.0.200".into()),
    );
    let runs = app.ctx.passwords.runs();
    let out = burst(app, attempts).await;
    eprintln!("59 wrong + 1 right in parallel: {out:?}");
    assert_eq!(
        app.ctx.passwords.runs() - runs,
        out.evaluated() as u64,
        "{out:?}"
    );
    assert!(out.other.is_empty(), "{out:?}");
    // The burst is answered as the same attempts one after the other would be: never more than
    // 5 wrong guesses evaluated; the right one signs in only if it came among the first five
    // (a success frees its own slot, as it does in sequence, so 5 wrong + 1 right at most).
    assert!(out.wrong <= 5, "{out:?}");
    assert!(out.signed_in <= 1, "{out:?}");
    assert!(out.evaluated() <= 6, "{out:?}");
    if out.signed_in == 0 {
        assert_eq!(out.wrong, 5, "{out:?}");
    } else {
        assert!(out.wrong >= 4, "{out:?}");
    }
    assert_eq!(out.throttled, 60 - out.evaluated(), "{out:?}");
    assert_eq!(app.count("login_failure").await, out.wrong as i64);
}

async fn account_limit_at_four_five_and_the_window_edge(app: &TestApp) {
    account(app, "quatre@t.fr").await;
    account(app, "cinq@t.fr").await;
    let fail = |email: &'static str, n: usize| async move {
        for i in 0..n {
            let r = login(
                &app.ctx,
                email,
                "not the password",
                &format!("10.1.{n}.{i}"),
            )
            .await;
            assert!(r.unwrap_err().contains(WRONG));
        }
    };
    // 4 failures: the fifth attempt is still evaluated and signs in.
    fail("quatre@t.fr", 4).await;
    login(&app.ctx, "quatre@t.fr", PASSWORD, "10.2.0.1")
        .await
        .unwrap();
    // A success does not wipe the failures: one more and the account is at its limit.
    fail("quatre@t.fr", 1).await;
    let r = login(&app.ctx, "quatre@t.fr", PASSWORD, "10.2.0.2").await;
    assert!(r.unwrap_err().contains(THROTTLED));
    // 5 failures: the right password is refused, until the first failure leaves the window.
    fail("cinq@t.fr", 5).await;
    let r = login(&app.ctx, "cinq@t.fr", PASSWORD, "10.2.0.3").await;
    assert!(r.unwrap_err().contains(THROTTLED));
    app.clock
        .advance(chrono::Duration::minutes(15) - chrono::Duration::seconds(1));
    let r = login(&app.ctx, "cinq@t.fr", PASSWORD, "10.2.0.4").await;
    assert!(r.unwrap_err().contains(THROTTLED), "one second early");
    app.clock.advance(chrono::Duration::seconds(1));
    login(&app.ctx, "cinq@t.fr", PASSWORD, "10.2.0.5")
        .await
        .unwrap();
}

async fn address_limit_at_nineteen_twenty_twenty_one(app: &TestApp) {
    account(app, "bureau@t.fr").await;
    let fail = |address: &'static str, n: usize| async move {
        for i in 0..n {
            let r = login(&app.ctx, &format!("inconnu{i}@t.fr"), "nope", address).await;
            assert!(r.unwrap_err().contains(WRONG));
        }
    };
    // 19 failures from one address: the 20th attempt is evaluated.
    fail("192.0.2.19", 19).await;
    login(&app.ctx, "bureau@t.fr", PASSWORD, "192.0.2.19")
        .await
        .unwrap();
    // 20 failures: the 21st is refused, whatever the account, and only from that address.
    fail("192.0.2.20", 20).await;
    let r = login(&app.ctx, "bureau@t.fr", PASSWORD, "192.0.2.20").await;
    assert!(r.unwrap_err().contains(THROTTLED));
    let r = login(&app.ctx, "inconnu99@t.fr", "nope", "192.0.2.20").await;
    assert!(r.unwrap_err().contains(THROTTLED));
    login(&app.ctx, "bureau@t.fr", PASSWORD, "192.0.2.21")
        .await
        .unwrap();
}

async fn parallel_guesses_from_one_address_stop_at_twenty(app: &TestApp) {
    // Distinct unknown accounts: only the address's limit applies.
    let attempts = (0..40)
        .map(|i| {
            (
                format!("inconnu{i}@t.fr"),
                "nope".to_string(),
                "198.51.100.7".to_string(),
            )
        })
        .collect();
    let out = burst(app, attempts).await;
    eprintln!("40 parallel guesses from one address: {out:?}");
    assert!(out.other.is_empty(), "{out:?}");
    assert_eq!(out.wrong, 20, "{out:?}");
    assert_eq!(out.throttled, 20, "{out:?}");
}

async fn hashing_runs_under_the_semaphore(app: &TestApp) {
    for concurrency in [1u32, 2] {
        let ctx = Ctx {
            passwords: Passwords::new(concurrency, 100),
            ..app.ctx.clone()
        };
        let mut set = JoinSet::new();
        for i in 0..24 {
            let ctx = ctx.clone();
            set.spawn(async move {
                login(
                    &ctx,
                    &format!("inconnu{i}@t.fr"),
                    "nope",
                    &format!("10.{concurrency}.0.{i}"),
                )
                .await
            });
        }
        let mut out = Outcomes::default();
        while let Some(r) = set.join_next().await {
            out.add(r.unwrap());
        }
        assert_eq!(out.wrong, 24, "{out:?}");
        assert_eq!(ctx.passwords.runs(), 24);
        let peak = ctx.passwords.peak();
        eprintln!("24 logins at once, {concurrency} permit(s): at most {peak} hashes together");
        assert!(
            (1..=concurrency as usize).contains(&peak),
            "{peak} hashes at once"
        );
    }
}

async fn a_full_hashing_queue_refuses_at_once_and_writes_nothing(app: &TestApp) {
    // One computing and two waiting: three places.
    let ctx = Ctx {
        passwords: Passwords::new(1, 2),
        ..app.ctx.clone()
    };
    let held: Vec<_> = (0..2).map(|_| ctx.passwords.admit().unwrap()).collect();
    // The third place is free: this attempt is evaluated.
    let r = login(&ctx, "inconnu@t.fr", "nope", "10.9.0.1").await;
    assert!(r.unwrap_err().contains(WRONG));
    let third = ctx.passwords.admit().unwrap();
    let refused = passerelle::service::auth::login(&ctx, "inconnu@t.fr", "nope", "10.9.0.2")
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(refused.code(), "BUSY");
    assert!(
        refused.message().contains("réessayer"),
        "{}",
        refused.message()
    );
    // Refused before anything was written, and not counted as a failure.
    assert_eq!(app.count("login_failure").await, 1);
    assert_eq!(ctx.passwords.runs(), 1);
    // So is a new account's hash.
    let created = passerelle::service::auth::create_user(
        &ctx,
        &passerelle::domain::auth::Actor::system(),
        passerelle::service::auth::CreateUserInput {
            email: "nouveau@t.fr".into(),
            password: Some(PASSWORD.into()),
            role: Role::Admin,
            organization_id: None,
            territory_ids: vec![],
        },
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_eq!(created.code(), "BUSY");
    // A place freed, the next one goes through.
    drop(third);
    let r = login(&ctx, "inconnu@t.fr", "nope", "10.9.0.3").await;
    assert!(r.unwrap_err().contains(WRONG));
    drop(held);
}

const CREATE_KEY: &str = "mutation($e: DateTime) { createApiKey(label: \"paie\", expiresAt: $e) { secret key { expiresAt } } }";

async fn api_keys_expire_at_their_second(app: &TestApp) {
    let owner = app.user("paie@t.fr", Role::Admin, None, &[]).await;
    let now = app.clock.now();
    let create = |at: DateTime<Utc>| {
        let owner = owner.clone();
        async move {
            app.run_as(Some(owner), CREATE_KEY, json!({"e": at.to_rfc3339()}))
                .await
        }
    };
    let keys_before = app.count("credential").await;
    // In the past, now itself, or more than a year ahead: refused, naming the field.
    for at in [
        now - Duration::seconds(1),
        now,
        now + Duration::days(365) + Duration::seconds(1),
    ] {
        let resp = create(at).await;
        let ext = &resp["errors"][0]["extensions"];
        assert_eq!(ext["code"], "BAD_USER_INPUT", "{at}: {resp}");
        assert_eq!(ext["field"], "expiresAt", "{at}: {resp}");
    }
    assert_eq!(
        app.count("credential").await,
        keys_before,
        "nothing written"
    );
    // A year ahead exactly is the longest allowed.
    let resp = create(now + Duration::days(365)).await;
    assert!(resp.get("errors").is_none(), "{resp}");
    // A key for one day, and one without an end.
    let resp = create(now + Duration::days(1)).await;
    let secret = resp["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let ends = resp["data"]["createApiKey"]["key"]["expiresAt"]
        .as_str()
        .unwrap()
        .parse::<DateTime<Utc>>()
        .unwrap();
    assert_eq!(ends, now + Duration::days(1));
    let forever = app
        .run_as(
            Some(owner.clone()),
            "mutation { createApiKey(label: \"sans fin\") { secret } }",
            json!({}),
        )
        .await;
    let forever = forever["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = app
        .run_as(
            Some(owner.clone()),
            "{ apiKeys { label expiresAt } }",
            json!({}),
        )
        .await;
    let listed: Vec<(String, Option<String>)> = listed["data"]["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["label"].as_str().unwrap().to_string(),
                k["expiresAt"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[2], ("sans fin".to_string(), None));
    assert!(listed[1].1.is_some());

    // Over HTTP: one second before its end the key works; at its end it is a 401, like an
    // expired session.
    let router = passerelle::app(app.ctx.clone(), &passerelle::config::Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(passerelle::http::serve(
        listener,
        router,
        async {
            let _ = stopped.await;
        },
        std::time::Duration::from_secs(5),
    ));
    let me = |secret: String| {
        let base = base.clone();
        async move {
            let resp = reqwest::Client::new()
                .post(format!("{base}/graphql"))
                .bearer_auth(secret)
                .json(&json!({"query": "{ me { email } }"}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap();
            (status, body)
        }
    };
    app.clock.advance(Duration::days(1) - Duration::seconds(1));
    let (status, body) = me(secret.clone()).await;
    assert_eq!(
        (status, body["data"]["me"]["email"].as_str()),
        (200, Some("paie@t.fr")),
        "{body}"
    );
    app.clock.advance(Duration::seconds(1));
    let (status, body) = me(secret.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    app.clock.advance(Duration::days(400));
    let (status, _) = me(forever).await;
    assert_eq!(status, 200, "a key without an end still works");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

async fn the_nightly_purge_keeps_what_can_still_count(app: &TestApp) {
    let owner = app.user("nuit@t.fr", Role::Admin, None, &[]).await;
    let t0 = app.clock.now();
    // Two sessions: one ends at t0 + 12 h, the other a second later.
    login(&app.ctx, "nuit@t.fr", PASSWORD, "10.5.0.1")
        .await
        .unwrap();
    app.clock.advance(Duration::seconds(1));
    let (later, _) = passerelle::service::auth::login(&app.ctx, "nuit@t.fr", PASSWORD, "10.5.0.1")
        .await
        .map_err(|e| e.message())
        .unwrap();
    // An API key that will be expired by then: kept, for its owner and the audit trail.
    let key = app
        .run_as(
            Some(owner),
            CREATE_KEY,
            json!({"e": (t0 + Duration::hours(1)).to_rfc3339()}),
        )
        .await;
    assert!(key.get("errors").is_none(), "{key}");
    let purge_at = t0 + Duration::hours(12);
    let window = Duration::minutes(15);
    // Three failures just out of the window at purge time (the last exactly at its edge), one
    // just inside.
    for (i, at) in [
        purge_at - window - Duration::seconds(2),
        purge_at - window - Duration::seconds(1),
        purge_at - window,
        purge_at - window + Duration::seconds(1),
    ]
    .into_iter()
    .enumerate()
    {
        app.clock.set(at);
        let r = login(&app.ctx, &format!("inconnu{i}@t.fr"), "nope", "10.5.0.2").await;
        assert!(r.unwrap_err().contains(WRONG));
    }
    app.clock.set(purge_at);
    // Batches of two: the three old failures take two statements.
    let purged = passerelle::service::auth::purge(&app.ctx, 2)
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert_eq!(purged.sessions, 1, "{purged:?}");
    assert_eq!(purged.login_failures, 3, "{purged:?}");
    assert_eq!(app.count("credential WHERE kind = 'SESSION'").await, 1);
    assert_eq!(app.count("credential WHERE kind = 'API_KEY'").await, 1);
    assert_eq!(app.count("login_failure").await, 1);
    // What stayed still counts: the later session works for one more second.
    passerelle::service::auth::authenticate(&app.ctx, &later.secret)
        .await
        .map_err(|e| e.message())
        .unwrap();
    // Nothing left to purge: a second pass deletes nothing.
    let again = passerelle::service::auth::purge(&app.ctx, 2)
        .await
        .map_err(|e| e.message())
        .unwrap();
    assert_eq!(again, Default::default());
}

// ---------------------------------------------------------------------------------------------
// The real process under 200 simultaneous logins.

const BIN: &str = env!("CARGO_BIN_EXE_passerelle");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// 200 logins at once against `passerelle serve` on a SQLite file, each from its own loopback
/// address (127.0.1.x) so that neither throttle applies. The figure is the child's own peak
/// resident memory (VmHWM): the other tests of this binary run in the test process, not in the
/// server, so they do not count (CPU they share, which only slows the run down).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_simultaneous_logins_stay_under_200_mib() {
    // A queue long enough for all 200: every one is hashed, the semaphore alone bounds memory.
    let (peak, out) = two_hundred_logins(&[("PASSWORD_HASH_QUEUE", "200")]).await;
    assert_eq!(
        out.wrong, 200,
        "every login reached the password check: {out:?}"
    );
    assert!(peak < 200.0, "peak resident memory {peak:.1} MiB");
    // The defaults (2 at once, 64 waiting): what does not fit is refused at once as BUSY.
    let (peak, out) = two_hundred_logins(&[]).await;
    assert!(out.wrong >= 66, "the first 2 + 64 find a place: {out:?}");
    assert_eq!(out.wrong + out.busy, 200, "{out:?}");
    assert!(peak < 200.0, "peak resident memory {peak:.1} MiB");
}

/// A fresh SQLite file with one account, a server on it with `envs`, 200 logins at once; the
/// server's peak memory in MiB and the answers.
async fn two_hundred_logins(envs: &[(&str, &str)]) -> (f64, Outcomes) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("logins.db").display()
    );
    let admin = std::process::Command::new(BIN)
        .args(["create-admin", "--email", "admin@memoire.fr"])
        .env("DATABASE_URL", &url)
        .env("ADMIN_PASSWORD", PASSWORD)
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    let envs: Vec<(&str, String)> = envs.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let server =
        passerelle::bench::load::Server::start(std::path::Path::new(BIN), &url, free_port(), &envs)
            .await
            .unwrap();
    let before = server.peak_rss_mb().unwrap();
    let started = std::time::Instant::now();
    let mut set = JoinSet::new();
    for i in 0..200u8 {
        let client = reqwest::Client::builder()
            .local_address(IpAddr::from([127, 0, 1, i + 1]))
            .build()
            .unwrap();
        let url = server.url.clone();
        // 5 wrong passwords for the real account (its limit), the rest for unknown accounts.
        let email = if i < 5 {
            "admin@memoire.fr".to_string()
        } else {
            format!("inconnu{i}@memoire.fr")
        };
        set.spawn(async move {
            let v: serde_json::Value = client
                .post(format!("{url}/graphql"))
                .json(&json!({
                    "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                    "variables": {"e": email, "p": "not the password"},
                }))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let e = &v["errors"][0];
            Ok::<_, String>((
                e["extensions"]["code"].as_str().unwrap_or("").to_string(),
                e["message"].as_str().unwrap_or("").to_string(),
            ))
        });
    }
    let mut out = Outcomes::default();
    while let Some(r) = set.join_next().await {
        match r.unwrap().unwrap() {
            (code, _) if code == "BUSY" => out.busy += 1,
            (_, message) => out.add(Err(message)),
        }
    }
    let peak = server.peak_rss_mb().unwrap();
    eprintln!(
        "200 simultaneous logins {envs:?}: peak RSS {before:.1} MiB before, {peak:.1} MiB after, \
         answered in {:.1} s; {out:?}",
        started.elapsed().as_secs_f64()
    );
    (peak, out)
}
