//! The `passerelle` binary itself: subcommands, the request log line, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_passerelle");

#[test]
fn help_documents_every_setting() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for env in [
        "DATABASE_URL",
        "BIND",
        "LOG_LEVEL",
        "MAX_BODY_BYTES",
        "GRAPHIQL",
        "DB_MAX_CONNECTIONS",
        "SMTP_URL",
        "MAIL_FROM",
        "OUTBOX_DIR",
        "PLAN_CRON",
        "DIGEST_CRON",
        "REMINDER_MAX_ATTEMPTS",
        "PASSWORD_HASH_CONCURRENCY",
        "PASSWORD_HASH_QUEUE",
    ] {
        assert!(help.contains(env), "--help does not mention {env}");
    }
    for cmd in ["serve", "migrate", "print-schema", "demo", "scheduler"] {
        assert!(help.contains(cmd), "--help does not list {cmd}");
    }
}

#[test]
fn print_schema_check_and_migrate() {
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let ok = Command::new(BIN)
        .args(["print-schema", "--check", schema])
        .status()
        .unwrap();
    assert!(ok.success());
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.graphql");
    std::fs::write(&stale, "type Query { old: Int }").unwrap();
    let bad = Command::new(BIN)
        .args(["print-schema", "--check"])
        .arg(&stale)
        .status()
        .unwrap();
    assert!(!bad.success(), "a stale schema file must fail the check");

    let db = dir.path().join("m.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    for _ in 0..2 {
        let st = Command::new(BIN)
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .status()
            .unwrap();
        assert!(
            st.success(),
            "migrate must succeed, also when nothing is pending"
        );
    }
    assert!(std::fs::metadata(&db).unwrap().len() > 0);
}

#[tokio::test]
async fn demo_serves_logs_each_request_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["demo", "--bind", "127.0.0.1:0", "--file"])
        .arg(dir.path().join("demo.db"))
        .env("LOG_LEVEL", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next = |pat: &str| -> String {
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no line with {pat}"));
            if line.contains(pat) {
                return line;
            }
        }
    };
    let listening = next("listening on http://");
    let url = listening
        .split("http://")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let url = url.trim_end_matches(|c: char| c.is_whitespace());
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("http://{url}"))
        .json(&serde_json::json!({"query": "mutation { login(email: \"facilitatrice@demo.passerelle.fr\", password: \"passerelle-demo\") { token } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["login"]["token"]
        .as_str()
        .expect("demo facilitator signs in")
        .to_string();
    let resp: serde_json::Value = client
        .post(format!("http://{url}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"operationName": "DemoMarkets", "query": "query DemoMarkets { markets { edges { node { reference hoursDelivered } } } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        resp["data"]["markets"]["edges"].as_array().unwrap().len(),
        6
    );
    let log = next("DemoMarkets");
    assert!(
        log.contains("duration_ms") && log.contains("status=200"),
        "{log}"
    );

    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    next("stopped");
    let status = child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status}");
}

#[test]
fn create_admin_bootstraps_the_first_account() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
    let run = |password: &str| {
        Command::new(BIN)
            .args(["create-admin", "--email", "Admin@Ville.fr"])
            .env("DATABASE_URL", &url)
            .env("ADMIN_PASSWORD", password)
            .output()
            .unwrap()
    };
    let short = run("court");
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("password"),
        "names the field"
    );
    assert!(run("une phrase de passe longue").status.success());
    let again = run("une phrase de passe longue");
    assert!(!again.status.success(), "the same e-mail twice is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("admin@ville.fr"),
        "e-mails are stored in lower case"
    );
}

#[test]
fn scheduler_runs_one_pass_and_refuses_a_bad_cron() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    let out = Command::new(BIN)
        .args(["scheduler", "--once"])
        .env("DATABASE_URL", &url)
        .env("OUTBOX_DIR", dir.path().join("outbox"))
        .env_remove("SMTP_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.starts_with("planned 0, digests 0"), "{said}");
    let bad = Command::new(BIN)
        .args(["scheduler", "--once"])
        .env("DATABASE_URL", &url)
        .env("PLAN_CRON", "*/5 * * * *")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("PLAN_CRON"), "{err}");
}
