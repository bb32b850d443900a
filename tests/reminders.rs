//! Reminders by e-mail, end to end: deadlines → outbox → a real SMTP server on loopback, with
//! the injected clock. Every test runs on SQLite and on PostgreSQL.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestApp;
use common::smtp::{SmtpServer, dead_port};
use mail_parser::MimeHeaders;
use passerelle::config::MailConfig;
use passerelle::db::Db;
use passerelle::domain::auth::Role;
use passerelle::service::Ctx;
use passerelle::service::reminders::mailer::Mailer;
use passerelle::service::reminders::outbox;
use passerelle::service::reminders::scheduler::Scheduler;
use serde_json::{Value, json};

db_tests!(
    commission_reminders_go_out_on_their_day_at_local_office_hours,
    replanning_moves_reminders_and_updates_the_invitation_cancelling_ends_them,
    smtp_down_then_up_loses_nothing_and_sends_once,
    dead_after_its_attempts_then_resent,
    three_schedulers_racing_send_each_reminder_once,
    a_killed_scheduler_s_claims_are_taken_back_after_its_lease,
    digests_replace_single_mails_for_those_who_choose_them,
    muted_rules_and_parameters_replan_what_is_pending,
    without_smtp_mails_are_eml_files,
    the_api_is_scoped_and_refuses_bad_input,
    the_planner_reads_only_lagging_deadlines_through_its_partial_index,
);

const PLAN: &str = "mutation($i: PlanCommissionInput!) { planCommission(input: $i) { id } }";
const MOVE: &str = "mutation($i: TransitionInput!) { transition(input: $i) { state } }";
const REMINDERS: &str = "query($f: ReminderFilter) { reminders(filter: $f, first: 100) { edges { node { id kind status attempts lastError recipientEmail offsetDays dueOn sendAt localSendAt sentAt viaDigest messageId } } } }";

/// A local hour in La Réunion (UTC+4, the test territory).
fn reunion(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(4)
}

fn config(smtp: Option<String>) -> MailConfig {
    MailConfig {
        smtp_url: smtp,
        ..MailConfig::default()
    }
}

fn scheduler_on(ctx: Ctx, smtp: Option<String>) -> Scheduler {
    Scheduler::new(ctx, &config(smtp)).expect("valid settings")
}

fn scheduler(app: &TestApp, smtp: &SmtpServer) -> Scheduler {
    scheduler_on(app.ctx.clone(), Some(smtp.url()))
}

/// A recruitment jury on 10 December 2026 at 14:00 local (a Thursday) with `members`.
async fn jury(app: &TestApp, market: &str, members: Value) -> String {
    app.ok(
        PLAN,
        json!({"i": {"kind": "RECRUITMENT_JURY", "title": "Jury de recrutement", "marketId": market,
            "startsAt": "2026-12-10T14:00:00", "place": "Mairie du Port", "agenda": "Candidats & horaires <à voir>",
            "members": members}}),
    )
    .await["planCommission"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn two_members() -> Value {
    json!([{"name": "Jeanne Grondin", "email": "j.grondin@leport.example"},
           {"name": "Paul Hoarau", "email": "p.hoarau@btp.example"}])
}

async fn reminders(app: &TestApp, filter: Value) -> Vec<Value> {
    app.ok(REMINDERS, json!({"f": filter})).await["reminders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn with_status<'a>(rows: &'a [Value], status: &str) -> Vec<&'a Value> {
    rows.iter().filter(|r| r["status"] == status).collect()
}

async fn commission_reminders_go_out_on_their_day_at_local_office_hours(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let c = jury(app, &w.market, two_members()).await;
    // Sunday: planned (14 and 2 days before, for each member), nothing sent.
    let r = s.tick().await.unwrap();
    assert_eq!((r.planned, r.sent), (4, 0), "{r}");
    let rows = reminders(app, json!({})).await;
    let mut local: Vec<&str> = rows
        .iter()
        .map(|r| r["localSendAt"].as_str().unwrap())
        .collect();
    local.sort();
    local.dedup();
    assert_eq!(
        local,
        ["2026-11-26T09:00:00+04:00", "2026-12-08T09:00:00+04:00"]
    );
    // Planning again adds nothing.
    assert_eq!(s.plan().await.unwrap(), 0);
    // The day of the first reminder, one minute before 09:00 local: nothing.
    app.clock.set(reunion(2026, 11, 26, 8, 59));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    assert_eq!(s.tick().await.unwrap().sent, 2);
    let mails = smtp.to("j.grondin@leport.example");
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.from, "rappels@passerelle.localhost");
    assert!(
        m.subject().starts_with("Rappel : Commission"),
        "{}",
        m.subject()
    );
    assert!(
        m.subject().contains("pour le 10/12/2026"),
        "{}",
        m.subject()
    );
    assert_eq!(m.date(), reunion(2026, 11, 26, 9, 0));
    let text = m.text();
    assert!(text.contains("Bonjour Jeanne Grondin"), "{text}");
    assert!(
        text.contains("dans 14 jours, le jeudi 10 décembre 2026"),
        "{text}"
    );
    assert!(
        text.contains("jeudi 10 décembre 2026 à 14 h 00, Mairie du Port"),
        "{text}"
    );
    assert!(text.contains("membre de la commission"), "{text}");
    assert!(text.contains(&format!("/commission/{c}")), "{text}");
    // HTML is escaped; text is not.
    assert!(
        m.html().contains("Candidats &amp; horaires &lt;à voir&gt;"),
        "{}",
        m.html()
    );
    assert!(text.contains("Candidats & horaires <à voir>"));
    let ics = m.ics().expect("an invitation");
    for line in [
        "METHOD:REQUEST",
        "SEQUENCE:0",
        &format!("UID:commission-{}@passerelle", uuid_of(&c)),
        "DTSTART:20261210T100000Z",
        "LOCATION:Mairie du Port",
        "ATTENDEE;CN=Jeanne Grondin",
    ] {
        assert!(ics.contains(line), "{line} missing from {ics}");
    }
    assert_eq!(smtp.mails().len(), 2);
    // Sent once: a later pass sends nothing, and the API shows each state.
    app.clock.set(reunion(2026, 11, 26, 11, 0));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    let rows = reminders(app, json!({})).await;
    let sent = with_status(&rows, "SENT");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["offsetDays"], 14);
    assert_eq!(sent[0]["attempts"], 1);
    assert_eq!(sent[0]["sentAt"], "2026-11-26T05:00:00+00:00");
    let id = &sent[0]["messageId"];
    assert!(
        smtp.mails()
            .iter()
            .any(|m| json!(format!("<{}>", m.message_id())) == *id)
    );
    // Two days before, Tuesday 8 December at 09:00: the other two.
    app.clock.set(reunion(2026, 12, 8, 8, 0));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    app.clock.set(reunion(2026, 12, 8, 9, 0));
    assert_eq!(s.tick().await.unwrap().sent, 2);
    // Late, never at night: a mail due at 09:00 that could not go out waits for the office.
    jury_on(app, &w.market, "2026-12-23T10:00:00").await;
    s.plan().await.unwrap();
    // Its 14-day reminder is due Wednesday 9 December 09:00; the scheduler comes back at 20:00.
    app.clock.set(reunion(2026, 12, 9, 20, 0));
    assert_eq!(s.tick().await.unwrap().sent, 0, "19:00 is closing time");
    app.clock.set(reunion(2026, 12, 10, 3, 0));
    assert_eq!(s.tick().await.unwrap().sent, 0, "never at 3 a.m. local");
    app.clock.set(reunion(2026, 12, 10, 6, 59));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    app.clock.set(reunion(2026, 12, 10, 7, 0));
    assert_eq!(s.tick().await.unwrap().sent, 2, "at opening time");
    assert_eq!(smtp.mails().len(), 6);
}

async fn jury_on(app: &TestApp, market: &str, at: &str) -> String {
    app.ok(
        PLAN,
        json!({"i": {"kind": "RECRUITMENT_JURY", "title": "Second jury", "marketId": market,
            "startsAt": at, "place": "Salle B", "members": two_members()}}),
    )
    .await["planCommission"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn uuid_of(id: &str) -> uuid::Uuid {
    passerelle::ids::parse(id).unwrap().1
}

async fn replanning_moves_reminders_and_updates_the_invitation_cancelling_ends_them(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let c = jury(app, &w.market, two_members()).await;
    s.tick().await.unwrap();
    // Monday 23 November, 10:00 local: moved a week later.
    app.clock.set(reunion(2026, 11, 23, 10, 0));
    app.ok(
        "mutation($i: ReplanCommissionInput!) { replanCommission(input: $i) { sequence } }",
        json!({"i": {"commissionId": c, "startsAt": "2026-12-17T14:00:00", "reason": "Salle indisponible"}}),
    )
    .await;
    let r = s.tick().await.unwrap();
    assert_eq!(r.sent, 2, "a notice to each member at once: {r}");
    let notice = &smtp.to("p.hoarau@btp.example")[0];
    assert!(
        notice.subject().starts_with("Nouvelle date"),
        "{}",
        notice.subject()
    );
    assert!(
        notice.text().contains("jeudi 17 décembre 2026 à 14 h 00"),
        "{}",
        notice.text()
    );
    assert!(
        notice.text().contains(
            "Motif : reprogrammée du 10/12/2026 14:00 au 17/12/2026 14:00 : Salle indisponible"
        ),
        "{}",
        notice.text()
    );
    let ics = notice.ics().unwrap();
    assert!(
        ics.contains("METHOD:REQUEST") && ics.contains("SEQUENCE:1"),
        "{ics}"
    );
    assert!(ics.contains("DTSTART:20261217T100000Z"), "{ics}");
    // The old day's reminders are cancelled; nothing goes out on 26 November.
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    let rows = reminders(app, json!({})).await;
    let cancelled: Vec<&Value> = with_status(&rows, "CANCELLED");
    assert_eq!(cancelled.len(), 4);
    assert!(cancelled.iter().all(|r| r["dueOn"] == "2026-12-10"));
    // The new day's: 14 days before 17 December is Thursday 3 December.
    app.clock.set(reunion(2026, 12, 3, 9, 0));
    assert_eq!(s.tick().await.unwrap().sent, 2);
    let reminder = smtp
        .to("p.hoarau@btp.example")
        .into_iter()
        .find(|m| m.subject().starts_with("Rappel"))
        .unwrap();
    assert!(reminder.ics().unwrap().contains("SEQUENCE:1"));
    // Cancelled: a withdrawal of the invitation, then nothing more.
    app.ok(
        MOVE,
        json!({"i": {"id": c, "to": "CANCELLED", "reason": "Ordre du jour vide"}}),
    )
    .await;
    assert_eq!(s.tick().await.unwrap().sent, 2);
    let last = smtp.to("j.grondin@leport.example").pop().unwrap();
    assert!(last.subject().starts_with("Annulée"), "{}", last.subject());
    let ics = last.ics().unwrap();
    assert!(
        ics.contains("METHOD:CANCEL") && ics.contains("STATUS:CANCELLED"),
        "{ics}"
    );
    assert!(ics.contains("SEQUENCE:2"), "{ics}");
    app.clock.set(reunion(2026, 12, 15, 9, 0));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    assert_eq!(
        smtp.mails().len(),
        6,
        "2 notices, 2 reminders, 2 withdrawals"
    );
}

async fn smtp_down_then_up_loses_nothing_and_sends_once(app: &TestApp) {
    let w = app.world().await;
    let port = dead_port();
    let s = scheduler_on(app.ctx.clone(), Some(format!("smtp://127.0.0.1:{port}")));
    jury(app, &w.market, two_members()).await;
    s.plan().await.unwrap();
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    let r = s.tick().await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 1), "{r}");
    let rows = reminders(app, json!({"status": "FAILED"})).await;
    assert_eq!(rows.len(), 2, "the second waits its turn behind the first");
    assert!(
        rows.iter()
            .any(|r| r["attempts"] == 1 && r["lastError"].as_str().unwrap().contains("SMTP"))
    );
    assert!(
        rows.iter()
            .any(|r| r["attempts"] == 0 && r["lastError"].as_str().unwrap().contains("non tenté"))
    );
    // Back-off: 60 s after the first failure, not before.
    app.clock.advance(Duration::seconds(59));
    let r = s.tick().await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 0), "{r}");
    let smtp = SmtpServer::start_on(port);
    app.clock.advance(Duration::seconds(1));
    let r = s.tick().await.unwrap();
    assert_eq!(r.sent, 2, "{r}");
    app.clock.advance(Duration::minutes(10));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    assert_eq!(smtp.mails().len(), 2);
    assert_eq!(
        with_status(&reminders(app, json!({})).await, "SENT").len(),
        2
    );
}

async fn dead_after_its_attempts_then_resent(app: &TestApp) {
    let w = app.world().await;
    let port = dead_port();
    let mut s = scheduler_on(app.ctx.clone(), Some(format!("smtp://127.0.0.1:{port}")));
    s.settings.max_attempts = 2;
    jury(
        app,
        &w.market,
        json!([{"name": "A", "email": "a@ok.example"}]),
    )
    .await;
    s.plan().await.unwrap();
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    assert_eq!(s.tick().await.unwrap().failed, 1);
    app.clock.advance(Duration::seconds(60));
    let r = s.tick().await.unwrap();
    assert_eq!((r.failed, r.dead), (0, 1), "{r}");
    let health = "{ outboxHealth { planned due late failed dead sentLastDay } }";
    let h = app.ok(health, json!({})).await["outboxHealth"].clone();
    assert_eq!(h["dead"], 1);
    assert_eq!(h["planned"], 1, "the 2-day reminder is still to come: {h}");
    let dead = reminders(app, json!({"status": "DEAD"})).await;
    let id = dead[0]["id"].as_str().unwrap().to_string();
    assert_eq!(dead[0]["attempts"], 2);
    // A dead one is not retried by itself.
    app.clock.advance(Duration::hours(5));
    assert_eq!(s.tick().await.unwrap(), Default::default());
    // Resent once the server is back.
    let smtp = SmtpServer::start_on(port);
    let resend = "mutation($id: ID!) { resendReminder(id: $id) { status attempts } }";
    let back = app.ok(resend, json!({"id": id})).await;
    assert_eq!(
        back["resendReminder"],
        json!({"status": "PLANNED", "attempts": 0})
    );
    assert_eq!(s.tick().await.unwrap().sent, 1);
    assert_eq!(smtp.mails().len(), 1);
    // Only a dead or failed one can be resent.
    assert_eq!(app.err(resend, json!({"id": id})).await.0, "CONFLICT");
    let h = app.ok(health, json!({})).await["outboxHealth"].clone();
    assert_eq!(
        (h["dead"].clone(), h["sentLastDay"].clone()),
        (json!(0), json!(1))
    );
    // A mailbox the server refuses for good: dead at once, not retried.
    jury_on_with(
        app,
        &w.market,
        "2026-12-22T10:00:00",
        json!([{"name": "X", "email": "inconnu@btp.example"}]),
    )
    .await;
    s.plan().await.unwrap();
    app.clock.set(reunion(2026, 12, 8, 9, 0));
    let r = s.tick().await.unwrap();
    assert_eq!(r.dead, 1, "{r}");
    let dead = reminders(app, json!({"status": "DEAD"})).await;
    assert_eq!(dead[0]["attempts"], 1);
    assert!(
        dead[0]["lastError"].as_str().unwrap().contains("550"),
        "{}",
        dead[0]
    );
}

async fn jury_on_with(app: &TestApp, market: &str, at: &str, members: Value) -> String {
    app.ok(
        PLAN,
        json!({"i": {"kind": "RECRUITMENT_JURY", "title": "Jury", "marketId": market,
            "startsAt": at, "place": "Salle C", "members": members}}),
    )
    .await["planCommission"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn many_members(n: usize) -> Value {
    json!((0..n)
        .map(|i| json!({"name": format!("Membre {i}"), "email": format!("membre{i}@jury.example")}))
        .collect::<Vec<_>>())
}

/// Another process's view of the same store: its own pool, its own instance name.
async fn another_instance(app: &TestApp, smtp: &SmtpServer) -> Scheduler {
    let db = Db::connect_with(&app.url, 3, app.pg_schema.as_deref())
        .await
        .unwrap();
    let ctx = Ctx {
        db,
        clock: app.clock.clone(),
        ..app.ctx.clone()
    };
    let mut s = scheduler_on(ctx, Some(smtp.url()));
    s.settings.batch = 7;
    s
}

async fn three_schedulers_racing_send_each_reminder_once(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    jury(app, &w.market, many_members(40)).await;
    let (a, b, c) = (
        another_instance(app, &smtp).await,
        another_instance(app, &smtp).await,
        another_instance(app, &smtp).await,
    );
    // Planning races too: the unique key keeps one row per reminder.
    let (pa, pb, pc) = tokio::join!(a.plan(), b.plan(), c.plan());
    assert_eq!(pa.unwrap() + pb.unwrap() + pc.unwrap(), 80);
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    let (ra, rb, rc) = tokio::join!(a.tick(), b.tick(), c.tick());
    let sent: Vec<usize> = [ra, rb, rc].into_iter().map(|r| r.unwrap().sent).collect();
    assert_eq!(sent.iter().sum::<usize>(), 40, "{sent:?}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 40);
    let mut ids: Vec<String> = mails.iter().map(|m| m.message_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "a Message-ID twice");
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 40);
    if app.is_postgres() {
        // On PostgreSQL the instances really shared the work (SKIP LOCKED); on SQLite the
        // single writer may let one instance take it all.
        assert!(sent.iter().filter(|n| **n > 0).count() >= 2, "{sent:?}");
    }
}

async fn a_killed_scheduler_s_claims_are_taken_back_after_its_lease(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    jury(app, &w.market, many_members(10)).await;
    let mut doomed = another_instance(app, &smtp).await;
    // Leases are judged by the database's clock: a short one, waited for in real time.
    doomed.settings.lease = Duration::seconds(5);
    let survivor = another_instance(app, &smtp).await;
    doomed.plan().await.unwrap();
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    // The doomed instance claims a batch of 7, sends 3, and dies before the rest.
    let open = vec![uuid_of(&w.territory)];
    let claimed_at = tokio::time::Instant::now();
    let claimed = outbox::claim(&doomed.ctx, &doomed.settings, &open)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 7);
    for row in &claimed[..3] {
        let passerelle::service::reminders::compose::Composed::Mail(m) =
            passerelle::service::reminders::compose::compose(&doomed.ctx, &doomed.settings, row)
                .await
                .unwrap()
        else {
            panic!("a mail")
        };
        doomed.mailer.send(&row.id.to_string(), &m).await.unwrap();
        assert!(
            outbox::settle(&doomed.ctx, &doomed.settings, row, outbox::Outcome::Sent)
                .await
                .unwrap()
                .is_some()
        );
    }
    let (doomed_ctx, doomed_settings) = (doomed.ctx.clone(), doomed.settings.clone());
    drop(doomed);
    // The survivor sends what was never claimed, and leaves the dead one's claims alone.
    let r = survivor.tick().await.unwrap();
    assert_eq!(r.sent, 3, "{r}");
    let sending = reminders(app, json!({"status": "SENDING"})).await;
    assert_eq!(sending.len(), 4);
    // The injected clock moving on does not end a lease; the database's does.
    app.clock.advance(Duration::hours(1));
    assert_eq!(
        survivor.tick().await.unwrap().sent,
        0,
        "the lease still runs"
    );
    tokio::time::sleep_until(claimed_at + std::time::Duration::from_millis(5200)).await;
    let r = survivor.tick().await.unwrap();
    assert_eq!((r.released, r.sent), (4, 4), "{r}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 10);
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 10, "each member exactly once");
    // Had the doomed instance only stalled, its late settle is refused: the claim is lost.
    let late = &claimed[5];
    let settled = outbox::settle(&doomed_ctx, &doomed_settings, late, outbox::Outcome::Sent)
        .await
        .unwrap();
    assert_eq!(settled, None);
}

async fn digests_replace_single_mails_for_those_who_choose_them(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    // People of a structure with nothing else to be reminded of.
    let daily = app
        .user(
            "quotidien@passerelle.example",
            Role::Siae,
            Some(&w.etti),
            &[],
        )
        .await;
    let weekly = app
        .user("hebdo@passerelle.example", Role::Siae, Some(&w.etti), &[])
        .await;
    let set = "mutation($i: ReminderPreferencesInput!) { setReminderPreferences(input: $i) { delivery muted } }";
    let got = app
        .run_as(
            Some(daily.clone()),
            set,
            json!({"i": {"delivery": "DAILY"}}),
        )
        .await;
    assert_eq!(
        got["data"]["setReminderPreferences"]["delivery"], "DAILY",
        "{got}"
    );
    app.run_as(
        Some(weekly.clone()),
        set,
        json!({"i": {"delivery": "WEEKLY"}}),
    )
    .await;
    jury(
        app,
        &w.market,
        json!([
        {"name": "Quotidien", "email": "quotidien@passerelle.example"},
        {"name": "Hebdo", "email": "hebdo@passerelle.example"},
        {"name": "Seul", "email": "seul@btp.example"}]),
    )
    .await;
    s.plan().await.unwrap();
    let rows = reminders(app, json!({})).await;
    assert_eq!(rows.iter().filter(|r| r["viaDigest"] == true).count(), 4);
    // Monday 23 November, 07:30 local: the weekly digest holds Thursday's reminder.
    app.clock.set(reunion(2026, 11, 23, 7, 29));
    assert_eq!(s.tick().await.unwrap().digests, 0);
    app.clock.set(reunion(2026, 11, 23, 7, 30));
    let r = s.tick().await.unwrap();
    assert_eq!((r.digests, r.sent), (1, 1), "{r}");
    let digest = &smtp.to("hebdo@passerelle.example")[0];
    assert!(
        digest
            .subject()
            .starts_with("Vos rappels de la semaine du lundi 23 novembre 2026 (1)"),
        "{}",
        digest.subject()
    );
    assert!(digest.text().contains("Commission"), "{}", digest.text());
    // Thursday 26, 07:30: the daily digest; 09:00: the single mail of the third member only.
    app.clock.set(reunion(2026, 11, 26, 7, 30));
    let r = s.tick().await.unwrap();
    assert_eq!((r.digests, r.sent), (1, 1), "{r}");
    assert!(
        smtp.to("quotidien@passerelle.example")[0]
            .subject()
            .starts_with("Vos rappels du jeudi 26 novembre 2026")
    );
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    assert_eq!(s.tick().await.unwrap().sent, 1);
    assert_eq!(smtp.to("seul@btp.example").len(), 1);
    assert_eq!(smtp.to("hebdo@passerelle.example").len(), 1);
    assert_eq!(smtp.to("quotidien@passerelle.example").len(), 1);
    let digested = with_status(&reminders(app, json!({})).await, "DIGESTED").len();
    assert_eq!(digested, 2);
    // Each user reads their own choices.
    let mine = app
        .run_as(
            Some(weekly),
            "{ myReminderPreferences { delivery muted } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["data"]["myReminderPreferences"]["delivery"], "WEEKLY");
}

async fn muted_rules_and_parameters_replan_what_is_pending(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let member = app
        .user("membre@passerelle.example", Role::Siae, Some(&w.etti), &[])
        .await;
    jury(
        app,
        &w.market,
        json!([{"name": "M", "email": "membre@passerelle.example"}]),
    )
    .await;
    s.plan().await.unwrap();
    assert_eq!(
        with_status(&reminders(app, json!({})).await, "PLANNED").len(),
        2
    );
    let set =
        "mutation($i: ReminderPreferencesInput!) { setReminderPreferences(input: $i) { muted } }";
    app.run_as(
        Some(member.clone()),
        set,
        json!({"i": {"delivery": "SINGLE", "muted": ["COMMISSION"]}}),
    )
    .await;
    s.plan().await.unwrap();
    let rows = reminders(app, json!({})).await;
    assert_eq!(with_status(&rows, "CANCELLED").len(), 2, "{rows:?}");
    assert_eq!(with_status(&rows, "PLANNED").len(), 0);
    app.run_as(
        Some(member),
        set,
        json!({"i": {"delivery": "SINGLE", "muted": []}}),
    )
    .await;
    s.plan().await.unwrap();
    let rows = reminders(app, json!({})).await;
    assert_eq!(
        with_status(&rows, "PLANNED").len(),
        2,
        "back to planned: {rows:?}"
    );
    // The territory sends at 10:00 from now on: pending reminders move.
    app.ok(
        "mutation($i: SetParameterInput!) { setParameter(input: $i) { id } }",
        json!({"i": {"key": "REMINDER_SEND_TIME", "value": "10:00", "territoryId": w.territory, "reason": "Après la réunion d'équipe"}}),
    )
    .await;
    // The territory is planned again by the scheduler's reflow, not by the request.
    assert_eq!(s.reflow().await.unwrap().unwrap().len(), 1);
    s.plan().await.unwrap();
    let rows = reminders(app, json!({"status": "PLANNED"})).await;
    assert!(
        rows.iter().all(|r| r["localSendAt"]
            .as_str()
            .unwrap()
            .ends_with("T10:00:00+04:00")),
        "{rows:?}"
    );
    app.clock.set(reunion(2026, 11, 26, 9, 30));
    assert_eq!(s.tick().await.unwrap().sent, 0);
    app.clock.set(reunion(2026, 11, 26, 10, 0));
    assert_eq!(s.tick().await.unwrap().sent, 1);
}

async fn without_smtp_mails_are_eml_files(app: &TestApp) {
    let w = app.world().await;
    let dir = tempfile::tempdir().unwrap();
    let s = Scheduler::new(
        app.ctx.clone(),
        &MailConfig {
            outbox_dir: dir.path().join("outbox"),
            ..MailConfig::default()
        },
    )
    .unwrap();
    assert!(matches!(s.mailer, Mailer::Files(_)));
    jury(app, &w.market, two_members()).await;
    s.plan().await.unwrap();
    app.clock.set(reunion(2026, 11, 26, 9, 0));
    assert_eq!(s.tick().await.unwrap().sent, 2);
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.extension().unwrap() == "eml"));
    let raw = std::fs::read(&files[0]).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert!(msg.subject().unwrap().starts_with("Rappel : Commission"));
    assert!(
        msg.attachments()
            .any(|a| a.attachment_name() == Some("invitation.ics"))
    );
}

async fn the_api_is_scoped_and_refuses_bad_input(app: &TestApp) {
    let w = app.world().await;
    let smtp = SmtpServer::start();
    let s = scheduler(app, &smtp);
    let company_user = app
        .user("contact@btp.example", Role::Company, Some(&w.company), &[])
        .await;
    let other = app
        .user("autre@etti.example", Role::Siae, Some(&w.etti), &[])
        .await;
    jury(
        app,
        &w.market,
        json!([{"name": "Contact", "email": "contact@btp.example"},
                                {"name": "Externe", "email": "externe@ailleurs.example"}]),
    )
    .await;
    s.plan().await.unwrap();
    let mine = app
        .run_as(Some(company_user.clone()), REMINDERS, json!({}))
        .await;
    // The company's user: the jury's reminders and the awardee's (statements, contract ends).
    let edges = mine["data"]["reminders"]["edges"].as_array().unwrap();
    assert!(edges.len() > 2, "{mine}");
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["recipientEmail"] == "contact@btp.example")
    );
    let mut offsets: Vec<i64> = edges
        .iter()
        .map(|e| e["node"]["offsetDays"].as_i64().unwrap())
        .collect();
    offsets.sort();
    offsets.dedup();
    assert_eq!(
        offsets,
        [-3, 0, 2, 3, 7, 14, 30],
        "every offset of their deadlines"
    );
    let theirs = app.run_as(Some(other.clone()), REMINDERS, json!({})).await;
    assert_eq!(
        theirs["data"]["reminders"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Per deadline, through the deadline itself.
    let d = app
        .ok("{ deadlines(filter: {rule: COMMISSION}) { edges { node { reminders { status recipientEmail } } } } }", json!({}))
        .await;
    assert_eq!(
        d["deadlines"]["edges"][0]["node"]["reminders"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // Refusals: health is for administrators, resending for facilitators; bad IDs name the field.
    let health = app
        .run_as(
            Some(company_user.clone()),
            "{ outboxHealth { dead } }",
            json!({}),
        )
        .await;
    assert_eq!(health["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let id = reminders(app, json!({})).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resend = "mutation($id: ID!) { resendReminder(id: $id) { status } }";
    let r = app
        .run_as(Some(company_user), resend, json!({"id": id}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let (code, field) = app.err(resend, json!({"id": "pas-un-id"})).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("id"))
    );
    let (code, _) = app.err(resend, json!({"id": id})).await;
    assert_eq!(code, "CONFLICT", "a planned reminder is not resent");
    let (code, field) = app
        .err(REMINDERS, json!({"f": {"deadlineId": w.market}}))
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("filter.deadlineId"))
    );
    // Signed out: nothing.
    let anon = app
        .run_as(None, "{ myReminderPreferences { delivery } }", json!({}))
        .await;
    assert_eq!(anon["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

/// The planner's pass must cost what changed, not the whole deadline table: its filter has to
/// stay the predicate of `ix_deadline_to_plan` (a reworded filter would silently scan again).
async fn the_planner_reads_only_lagging_deadlines_through_its_partial_index(app: &TestApp) {
    use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, TransactionTrait};
    let w = app.world().await;
    jury(app, &w.market, two_members()).await;
    let lagging = || passerelle::service::reminders::plan::lagging();
    let before = lagging().all(&app.ctx.db.conn).await.unwrap();
    assert!(!before.is_empty(), "a new commission's deadlines lag");
    scheduler_on(app.ctx.clone(), None).plan().await.unwrap();
    assert!(lagging().all(&app.ctx.db.conn).await.unwrap().is_empty());
    // One deadline changes (revision bumped): it alone lags again.
    let one = &before[0];
    entity::deadline::Entity::update_many()
        .col_expr(
            entity::deadline::Column::Revision,
            sea_orm::sea_query::Expr::value(one.revision + 1),
        )
        .filter(sea_orm::ColumnTrait::eq(
            &entity::deadline::Column::Id,
            one.id,
        ))
        .exec(&app.ctx.db.conn)
        .await
        .unwrap();
    let again: Vec<_> = lagging()
        .all(&app.ctx.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(again, vec![one.id]);

    let backend = app.ctx.db.conn.get_database_backend();
    let select = lagging().build(backend);
    let txn = app.ctx.db.conn.begin().await.unwrap();
    let explain = if app.is_postgres() {
        // On a handful of rows a sequential scan is cheaper; forbid it to see which index fits.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .unwrap();
        format!("EXPLAIN {}", select.sql)
    } else {
        format!("EXPLAIN QUERY PLAN {}", select.sql)
    };
    let rows = txn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            explain,
            select.values.map(|v| v.0).unwrap_or_default(),
        ))
        .await
        .unwrap();
    let plan: Vec<String> = rows
        .iter()
        .map(|r| {
            r.try_get_by_index::<String>(if app.is_postgres() { 0 } else { 3 })
                .unwrap()
        })
        .collect();
    txn.rollback().await.unwrap();
    assert!(
        plan.iter().any(|l| l.contains("ix_deadline_to_plan")),
        "the planner's scan ignores its partial index: {plan:?}"
    );
}
