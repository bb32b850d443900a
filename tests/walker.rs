//! The test that can fail (issue 18, point 6): a schema-driven walker.
//!
//! Two territories with the full cast are built (`common/world.rs`). Then, for every account of
//! each territory and for the administrator, the schema is introspected and every field reachable
//! from every root query, and from every object returned, is read: root queries with every
//! argument the world can feed them (both territories' IDs, so guessed IDs are tried; filters;
//! every report), every list paged to its end, every Node ID met anywhere opened with
//! `node(id:)`, every object met at any depth (even one `node` would not give) expanded again
//! through the path that reached it, until nothing new appears; then the trace tokens the
//! reports gave are replayed: each account its own (all those behind people facets, the largest
//! plain figures) and, of every other account's reports, two of each facet family. Everything
//! returned is judged against the table below, written here on purpose (not read from the
//! server's access table, or the test could not fail). A field answering FORBIDDEN is not a
//! leak; a leak is a value. Any other unexpected error (INTERNAL, a depth or complexity limit the
//! walk ran into) fails the test too: the walk would be incomplete.
//!
//! `WALKER_PROFILE=1` prints the time spent per root field.

mod common;
#[path = "common/world.rs"]
mod world;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Instant;

use common::*;
use passerelle::domain::auth::Role;
use passerelle::ids;
use serde_json::Value;
use uuid::Uuid;
use world::{Account, Person, Registry, marker};

db_tests!(every_field_at_every_depth_stays_in_scope);

// ---------------------------------------------------------------------------------------------
// The rules (the specification the walker enforces).
// ---------------------------------------------------------------------------------------------

/// Fields of a person's profile: for facilitators of the person's territory and the person's
/// employer only. Anyone else who meets the person (a host company, by reference) gets them
/// null or FORBIDDEN.
const PROFILE: &[&str] = &[
    "identity",
    "sex",
    "educationLevel",
    "unemployedSince",
    "qpvResident",
    "prescriber",
    "eligibilities",
    "passesIae",
];

/// Keys of a person's data that the audit trail must not copy for readers who may not identify
/// the person (camelCase and snake_case: the trail stores both).
const PERSONAL_KEYS: &[&str] = &[
    "firstName",
    "first_name",
    "lastName",
    "last_name",
    "birthDate",
    "birth_date",
    "publics",
    "sex",
    "educationLevel",
    "education_level",
    "unemployedSince",
    "unemployed_since",
    "qpvResident",
    "qpv_resident",
    "prescriberId",
    "prescriber_id",
    "searchText",
    "search_text",
    "derogation",
    "justification",
    "criterion",
    "criteria",
    "proofs",
];

/// Report lines whose trace singles out people (a public, a sex and age band, an education
/// level, unemployment, QPV residence, an exit): their entries are for those who may identify
/// the people behind them. (People lines are these bands; exit lines, exits by category.)
const PERSON_FACETS: &[&str] = &["PeopleLine", "ExitLine"];

/// Who may identify a person: facilitators of the person's territory, and the person's employer.
fn may_identify(who: &Account, p: &Person) -> bool {
    match who.role {
        Role::Facilitator => who.territory == Some(p.territory),
        Role::Company | Role::Siae => who.organization.is_some_and(|o| p.employers.contains(&o)),
        _ => false,
    }
}

/// Who may read a person's whole file (`participantFile`, RGPD art. 15): facilitators of the
/// person's territory only. The employer identifies its employees but gets no file; an
/// administrator gets none either.
fn may_read_file(who: &Account, p: &Person) -> bool {
    who.role == Role::Facilitator && who.territory == Some(p.territory)
}

/// Roles that never get a person at all.
fn never_meets_people(who: &Account) -> bool {
    matches!(who.role, Role::Admin | Role::Buyer | Role::Funder)
}

/// A user's e-mail: administrators, the user, and facilitators of the user's territory (an
/// administrator's, for any facilitator: staff to staff).
fn may_see_email(who: &Account, u: &world::UserRec) -> bool {
    who.role == Role::Admin
        || who.user == u.id
        || (who.role == Role::Facilitator && (u.admin || u.territory == who.territory))
}

/// An organization's address and e-mail: administrators, facilitators of its territory, its
/// own members.
fn may_see_contact(who: &Account, org: Uuid, o: &world::OrgRec) -> bool {
    who.role == Role::Admin
        || (who.role == Role::Facilitator && who.territory == Some(o.territory))
        || who.organization == Some(org)
}

/// Objects of another territory never reach an account bound to a territory (territories
/// themselves are public metadata); the administrator sees both.
fn foreign(who: &Account, t: Option<usize>) -> bool {
    matches!((who.territory, t), (Some(mine), Some(theirs)) if mine != theirs)
}

// ---------------------------------------------------------------------------------------------
// Findings.
// ---------------------------------------------------------------------------------------------

/// One distinct leak: who, where (`Type.field`), what kind of value.
type LeakKey = (String, String, String);

#[derive(Default)]
struct Findings {
    leaks: BTreeMap<LeakKey, (usize, String)>,
    /// Errors other than the expected refusals, by (code, message start).
    errors: BTreeMap<(String, String), (usize, String)>,
    /// Fields the walker could not fill the arguments of.
    skipped: BTreeSet<String>,
}

impl Findings {
    fn merge(&mut self, other: Findings) {
        for (k, (n, e)) in other.leaks {
            self.leaks.entry(k).or_insert((0, e)).0 += n;
        }
        for (k, (n, e)) in other.errors {
            self.errors.entry(k).or_insert((0, e)).0 += n;
        }
        self.skipped.extend(other.skipped);
    }

    fn leak(&mut self, who: &Account, at: &str, kind: &str, example: String) {
        let e = self
            .leaks
            .entry((who.label.clone(), at.to_string(), kind.to_string()))
            .or_insert((0, example));
        e.0 += 1;
    }
}

/// Judges what one account was given.
struct Judge<'a> {
    reg: &'a Registry,
    who: &'a Account,
    /// Substrings the account must never be given: (needle, kind, whose).
    needles: Vec<(String, &'static str, String)>,
    foreign_mark: Option<String>,
}

impl<'a> Judge<'a> {
    fn new(reg: &'a Registry, who: &'a Account) -> Self {
        let mut needles = Vec::new();
        for p in reg.persons.values() {
            if !may_identify(who, p) {
                needles.push((p.first_name.clone(), "a person's name", p.label.clone()));
                needles.push((p.last_name.clone(), "a person's name", p.label.clone()));
                needles.push((
                    p.birth_date.clone(),
                    "a person's birth date",
                    p.label.clone(),
                ));
            }
        }
        for u in &reg.users {
            if !may_see_email(who, u) {
                needles.push((u.email.clone(), "a user's e-mail", u.email.clone()));
            }
        }
        for (id, o) in &reg.orgs {
            if !may_see_contact(who, *id, o) {
                for v in [&o.address, &o.email].into_iter().flatten() {
                    needles.push((v.clone(), "an organization's contact", o.name.clone()));
                }
            }
        }
        Judge {
            reg,
            who,
            needles,
            foreign_mark: who.territory.map(|t| marker(1 - t)),
        }
    }

    fn person(&self, id: &Value) -> Option<&'a Person> {
        let (_, uuid) = ids::parse(id.as_str()?)?;
        self.reg.persons.get(self.reg.person_of.get(&uuid)?)
    }

    fn hidden_person(&self, id: &Value) -> Option<&'a Person> {
        self.person(id).filter(|p| !may_identify(self.who, p))
    }

    /// Judges a returned value; `ty.field` is where it sits, `trace` the facet of the trace
    /// token it was listed by, if any.
    fn visit(
        &self,
        f: &mut Findings,
        v: &Value,
        ty: &str,
        field: &str,
        path: &str,
        trace: Option<&str>,
    ) {
        match v {
            Value::Object(map) => {
                let t = map
                    .get("__typename")
                    .and_then(Value::as_str)
                    .unwrap_or(ty)
                    .to_string();
                self.object(f, &t, v, path, trace);
                for (k, child) in map {
                    if k == "__typename" {
                        continue;
                    }
                    let name = k.split("__").next().unwrap_or(k);
                    self.visit(f, child, &t, name, &format!("{path}.{k}"), trace);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.visit(f, item, ty, field, &format!("{path}[{i}]"), trace);
                }
            }
            Value::String(s) => self.string(f, s, &format!("{ty}.{field}"), path),
            _ => {}
        }
    }

    fn string(&self, f: &mut Findings, s: &str, at: &str, path: &str) {
        let mut uuids = uuids_in(s);
        if let Some((_, u)) = ids::parse(s) {
            uuids.push(u);
        }
        if at.ends_with("ursor")
            && let Ok(u) = ids::parse_cursor(s)
        {
            uuids.push(u);
        }
        for u in uuids {
            if let Some(t) = self.reg.territory_of.get(&u)
                && foreign(self.who, *t)
            {
                f.leak(
                    self.who,
                    at,
                    "another territory's object",
                    format!("{path} = {s}"),
                );
            }
        }
        if let Some(m) = &self.foreign_mark
            && s.contains(m.as_str())
        {
            f.leak(
                self.who,
                at,
                "another territory's text",
                format!("{path} = {s}"),
            );
        }
        for (needle, kind, whose) in &self.needles {
            if contains_word(s, needle) {
                f.leak(self.who, at, kind, format!("{path}: {whose} in {s:?}"));
            }
        }
    }

    fn object(&self, f: &mut Findings, t: &str, v: &Value, path: &str, trace: Option<&str>) {
        let present = |k: &str| match &v[k] {
            Value::Null => false,
            Value::Array(a) => !a.is_empty(),
            _ => true,
        };
        match t {
            "Participant" => {
                if never_meets_people(self.who) {
                    f.leak(
                        self.who,
                        "Participant",
                        "a person (Participant object)",
                        path.into(),
                    );
                }
                if let Some(p) = self.hidden_person(&v["id"]) {
                    for k in PROFILE {
                        if present(k) {
                            f.leak(
                                self.who,
                                &format!("Participant.{k}"),
                                "a profile field of a person it may not identify",
                                format!("{path}.{k} of {} = {}", p.label, v[*k]),
                            );
                        }
                    }
                }
            }
            "Placement" => {
                if let Some(p) = self.hidden_person(&v["id"]) {
                    if present("derogation") {
                        f.leak(
                            self.who,
                            "Placement.derogation",
                            "the derogation of a person it may not identify",
                            format!("{path} of {} = {}", p.label, v["derogation"]),
                        );
                    }
                    if present("immersions") {
                        f.leak(
                            self.who,
                            "Placement.immersions",
                            "the immersions of a person it may not identify",
                            format!("{path} of {}", p.label),
                        );
                    }
                    if !v["exit"]["justification"].is_null() {
                        f.leak(
                            self.who,
                            "ExitRecord.justification",
                            "the exit justification of a person it may not identify",
                            format!("{path}.exit of {}", p.label),
                        );
                    }
                }
            }
            "ParticipantFile" => match self.person(&v["participantId"]) {
                Some(p) if may_read_file(self.who, p) => {}
                Some(p) => f.leak(
                    self.who,
                    "QueryRoot.participantFile",
                    "a person's whole file to someone other than a facilitator of the person's territory",
                    format!("{path} of {}", p.label),
                ),
                None => f.leak(
                    self.who,
                    "QueryRoot.participantFile",
                    "a file of no known person",
                    format!("{path}: {}", v["participantId"]),
                ),
            },
            "Eligibility" | "PassIae" | "Immersion" => {
                if let Some(p) = self.hidden_person(&v["id"]) {
                    f.leak(
                        self.who,
                        t,
                        "the path of a person it may not identify",
                        format!("{path} of {}", p.label),
                    );
                }
            }
            "AuditEvent" => {
                if let Some(p) = self.hidden_person(&v["objectId"]) {
                    for side in ["before", "after"] {
                        let Some(json) = v[side].as_str() else {
                            continue;
                        };
                        let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(json) else {
                            continue;
                        };
                        for k in PERSONAL_KEYS {
                            let copied = match doc.get(*k) {
                                None | Some(Value::Null) => false,
                                Some(Value::String(s)) => !s.is_empty(),
                                Some(Value::Array(a)) => !a.is_empty(),
                                Some(_) => true,
                            };
                            if copied {
                                f.leak(
                                    self.who,
                                    &format!("AuditEvent.{side}"),
                                    &format!("a copy of `{k}` of a person it may not identify"),
                                    format!("{path} ({} of {}): {json}", v["action"], p.label),
                                );
                            }
                        }
                    }
                }
            }
            "TraceEntry" => {
                if let Some(facet) = trace
                    && let Some(p) = self.hidden_person(&v["id"])
                {
                    f.leak(
                        self.who,
                        "QueryRoot.traceEntries",
                        &format!(
                            "the entries behind a {facet} figure (people it may not identify)"
                        ),
                        format!("{path} of {}", p.label),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Whether `needle` occurs in `hay` as a whole word (`host@x` is not in `immersion-host@x`).
fn contains_word(hay: &str, needle: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || "-_.+@".contains(c);
    hay.match_indices(needle).any(|(i, _)| {
        !hay[..i].chars().next_back().is_some_and(word)
            && !hay[i + needle.len()..].chars().next().is_some_and(word)
    })
}

/// UUIDs written out in a string (the audit trail's JSON holds raw ones).
fn uuids_in(s: &str) -> Vec<Uuid> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    if b.len() < 36 {
        return out;
    }
    let mut i = 0;
    while i + 36 <= b.len() {
        let w = &b[i..i + 36];
        if w[8] == b'-'
            && w[13] == b'-'
            && w[18] == b'-'
            && w[23] == b'-'
            && let Ok(u) = Uuid::parse_str(&s[i..i + 36])
        {
            out.push(u);
            i += 36;
            continue;
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The schema, as introspection gives it.
// ---------------------------------------------------------------------------------------------

const INTROSPECTION: &str = "query { __schema { queryType { name } types { kind name \
    possibleTypes { name } enumValues { name } \
    fields { name args { name type { ...T } } type { ...T } } \
    inputFields { name type { ...T } } } } } \
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

#[derive(Clone, Debug)]
struct Ty {
    kind: String,
    name: Option<String>,
    of: Option<Box<Ty>>,
}

impl Ty {
    fn parse(v: &Value) -> Ty {
        Ty {
            kind: v["kind"].as_str().unwrap_or_default().to_string(),
            name: v["name"].as_str().map(String::from),
            of: v
                .get("ofType")
                .filter(|o| !o.is_null())
                .map(|o| Box::new(Ty::parse(o))),
        }
    }
    fn named(&self) -> &str {
        match &self.of {
            Some(o) => o.named(),
            None => self.name.as_deref().unwrap_or_default(),
        }
    }
    fn is_list(&self) -> bool {
        self.kind == "LIST" || self.of.as_ref().is_some_and(|o| o.is_list())
    }
    fn required(&self) -> bool {
        self.kind == "NON_NULL"
    }
}

struct Arg {
    name: String,
    ty: Ty,
}

struct Field {
    name: String,
    args: Vec<Arg>,
    ty: Ty,
}

struct TypeDef {
    kind: String,
    fields: Vec<Field>,
    inputs: Vec<Arg>,
    possible: Vec<String>,
    enums: Vec<String>,
}

struct Schema {
    query: String,
    types: HashMap<String, TypeDef>,
}

fn args_of(v: &Value) -> Vec<Arg> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| Arg {
                    name: x["name"].as_str().unwrap().to_string(),
                    ty: Ty::parse(&x["type"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Schema {
    fn parse(data: &Value) -> Schema {
        let s = &data["__schema"];
        let mut types = HashMap::new();
        for t in s["types"].as_array().unwrap() {
            let names = |k: &str| -> Vec<String> {
                t[k].as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| x["name"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let fields = t["fields"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|f| Field {
                            name: f["name"].as_str().unwrap().to_string(),
                            args: args_of(&f["args"]),
                            ty: Ty::parse(&f["type"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
            types.insert(
                t["name"].as_str().unwrap().to_string(),
                TypeDef {
                    kind: t["kind"].as_str().unwrap().to_string(),
                    fields,
                    inputs: args_of(&t["inputFields"]),
                    possible: names("possibleTypes"),
                    enums: names("enumValues"),
                },
            );
        }
        Schema {
            query: s["queryType"]["name"].as_str().unwrap().to_string(),
            types,
        }
    }

    fn def(&self, name: &str) -> &TypeDef {
        &self.types[name]
    }
    fn field(&self, ty: &str, name: &str) -> Option<&Field> {
        self.types.get(ty)?.fields.iter().find(|f| f.name == name)
    }
    fn is_leaf(&self, name: &str) -> bool {
        matches!(self.def(name).kind.as_str(), "SCALAR" | "ENUM")
    }
    fn is_abstract(&self, name: &str) -> bool {
        matches!(self.def(name).kind.as_str(), "INTERFACE" | "UNION")
    }
    fn has_id(&self, name: &str) -> bool {
        self.field(name, "id").is_some()
    }
    fn is_connection(&self, name: &str) -> bool {
        self.field(name, "edges").is_some() && self.field(name, "pageInfo").is_some()
    }
    /// Objects expanded on their own (through the path that reached them) rather than inline:
    /// abstract types, and objects with an ID that lead to other such objects or to lists.
    fn is_boundary(&self, name: &str) -> bool {
        if self.is_abstract(name) {
            return true;
        }
        self.has_id(name)
            && self.def(name).fields.iter().any(|f| {
                let n = f.ty.named();
                !self.is_leaf(n) && (self.has_id(n) || self.is_connection(n))
            })
    }
    fn node_types(&self) -> BTreeSet<String> {
        self.types
            .get("Node")
            .map(|t| t.possible.iter().cloned().collect())
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// The walk.
// ---------------------------------------------------------------------------------------------

/// Page size: a page of fully expanded objects must stay under the complexity limit.
const PAGE: usize = 50;
/// Inline value objects (report lines, figures) nest at most this deep.
const VALUE_DEPTH: usize = 6;

/// One field on the way to an object.
#[derive(Clone, Debug)]
struct Step {
    field: String,
    args: Vec<String>,
    /// The concrete type, when the field's type is abstract (`node`, `subject`, `object`).
    on: Option<String>,
    /// A connection: the object is at `edges.node`.
    conn: bool,
    /// Which element, when an intermediate step is a list.
    index: Option<usize>,
}

impl Step {
    fn plain(field: &str, args: Vec<String>) -> Step {
        Step {
            field: field.into(),
            args,
            on: None,
            conn: false,
            index: None,
        }
    }
    fn head(&self) -> String {
        if self.args.is_empty() {
            self.field.clone()
        } else {
            format!("{}({})", self.field, self.args.join(", "))
        }
    }
    /// Segments this step adds to a response path (field, then `edges`, index, `node`, or the
    /// list index).
    fn segments(&self, list: bool) -> usize {
        1 + if self.conn { 3 } else { usize::from(list) }
    }
}

enum Job {
    /// Expand the object(s) at the end of `path` (of type `ty`); `preds` are the cursors before
    /// each element when the last step is a connection page.
    Expand {
        path: Vec<Step>,
        ty: String,
        preds: Vec<Option<String>>,
    },
    /// List one page of a connection field.
    Page(PageJob),
}

/// One page of the connection `field(args)` of the object at `path` (the root when empty),
/// of `node_ty` objects; `trace` is the facet of the token it replays, if any.
struct PageJob {
    path: Vec<Step>,
    field: String,
    args: Vec<String>,
    node_ty: String,
    after: Option<String>,
    trace: Option<String>,
}

fn render(path: &[Step], leaf: &str) -> String {
    let mut body = leaf.to_string();
    for st in path.iter().rev() {
        let obj = match &st.on {
            Some(t) => format!("__typename ... on {t} {{ {body} }}"),
            None => body,
        };
        let sel = if st.conn {
            format!("{} {{ edges {{ cursor node {{ {obj} }} }} }}", st.head())
        } else {
            format!("{} {{ {obj} }}", st.head())
        };
        body = format!("__typename {sel}");
    }
    format!("query {{ {body} }}")
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

struct Walker<'a> {
    gql: passerelle::graphql::AppSchema,
    ctx: passerelle::service::Ctx,
    schema: &'a Schema,
    reg: &'a Registry,
    who: &'a Account,
    judge: Judge<'a>,
    queue: VecDeque<Job>,
    /// Boundary objects (type, id) already expanded or queued.
    seen: HashSet<(String, String)>,
    /// Connections of an object already listed: (type, id, field).
    listed: HashSet<(String, String, String)>,
    /// Node IDs already asked of `node`.
    tried: HashSet<String>,
    /// Expansions already queued (by their query), so one list is read once.
    jobs: HashSet<String>,
    /// Node IDs `node(id:)` answered with an object.
    opened: HashSet<String>,
    /// `Type.field`s that answered a value, for the coverage summary.
    covered: BTreeSet<String>,
    /// Node objects met anywhere: ID → (type, `Type.field` where, path).
    met: BTreeMap<String, (String, String, String)>,
    node_types: BTreeSet<String>,
    /// Trace tokens this account was given.
    tokens: Tokens,
    /// The people whose whole file (`participantFile`) this account was given.
    files: BTreeSet<String>,
    queries: usize,
    profile: BTreeMap<String, (usize, std::time::Duration)>,
}

impl<'a> Walker<'a> {
    async fn run(&mut self, f: &mut Findings, query: &str) -> Value {
        self.queries += 1;
        let t0 = Instant::now();
        let req = passerelle::graphql::prepare(
            async_graphql::Request::new(query),
            &self.ctx,
            Some(self.who.actor.clone()),
        );
        let resp = serde_json::to_value(self.gql.execute(req).await).unwrap();
        if std::env::var_os("WALKER_PROFILE").is_some() {
            let root: String = query
                .trim_start_matches("query { __typename ")
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            let e = self.profile.entry(root).or_default();
            e.0 += 1;
            e.1 += t0.elapsed();
        }
        for e in resp["errors"].as_array().into_iter().flatten() {
            let code = e["extensions"]["code"].as_str().unwrap_or("<none>");
            // Refusals are the expected answers of a walk that tries everything.
            if matches!(code, "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT") {
                continue;
            }
            let msg: String = e["message"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(70)
                .collect();
            f.errors
                .entry((code.to_string(), msg))
                .or_insert((0, format!("{} — {query}", self.who.label)))
                .0 += 1;
        }
        resp
    }

    fn ids_of(&self, kinds: &[&str]) -> Vec<String> {
        kinds
            .iter()
            .flat_map(|k| self.reg.ids.get(k).cloned().unwrap_or_default())
            .collect()
    }

    /// The kinds of object an argument named `name` takes.
    fn kinds_for(&self, name: &str) -> Vec<String> {
        if matches!(name, "id" | "objectId" | "subjectId") {
            return self.node_types.iter().cloned().collect();
        }
        let Some(stem) = name.strip_suffix("Id") else {
            return Vec::new();
        };
        let kind = match stem {
            "actor" | "user" => "User".to_string(),
            "buyer" | "owner" | "carrier" | "employer" | "funder" | "organization" | "attester"
            | "host" | "prescriber" | "awardee" => "Organization".to_string(),
            s => {
                let mut c = s.chars();
                c.next()
                    .map(|h| h.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        };
        if self.reg.ids.contains_key(kind.as_str()) {
            vec![kind]
        } else {
            Vec::new()
        }
    }

    /// A few IDs of each kind from each territory, for optional filters (one of each kind when
    /// the filter takes any kind).
    fn sample_ids(&self, kinds: &[String]) -> Vec<String> {
        let each = if kinds.len() > 1 { 1 } else { 2 };
        let mut out = Vec::new();
        for k in kinds {
            let mut per: HashMap<Option<usize>, usize> = HashMap::new();
            for id in self.reg.ids.get(k.as_str()).into_iter().flatten() {
                let t = ids::parse(id)
                    .and_then(|(_, u)| self.reg.territory_of.get(&u).copied().flatten());
                let n = per.entry(t).or_default();
                if *n < each {
                    *n += 1;
                    out.push(id.clone());
                }
            }
        }
        out
    }

    /// Argument sets for a root field: required arguments filled from the world (every ID of
    /// the right kind, both territories), optional filters tried one value at a time.
    fn root_args(&self, f: &mut Findings, field: &Field) -> Vec<Vec<String>> {
        let mut sets: Vec<Vec<String>> = vec![Vec::new()];
        for a in &field.args {
            if matches!(a.name.as_str(), "first" | "after") {
                continue;
            }
            let named = a.ty.named();
            let values: Vec<String> = if a.ty.required() {
                match (named, self.schema.def(named).kind.as_str()) {
                    ("ID", _) => {
                        let kinds = self.kinds_for(&a.name);
                        let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
                        self.ids_of(&kinds).iter().map(|i| quote(i)).collect()
                    }
                    ("Int", _) => vec![match a.name.as_str() {
                        "amountCents" => "100000000".to_string(),
                        "labourShareBp" => "5000".to_string(),
                        _ => "1".to_string(),
                    }],
                    (_, "INPUT_OBJECT") => self.input_variants(named, true),
                    _ => {
                        f.skipped
                            .insert(format!("{}.{}({})", self.schema.query, field.name, a.name));
                        return Vec::new();
                    }
                }
            } else {
                let mut v = vec![String::new()];
                match (named, self.schema.def(named).kind.as_str()) {
                    ("ID", _) => v.extend(
                        self.sample_ids(&self.kinds_for(&a.name))
                            .iter()
                            .map(|i| quote(i)),
                    ),
                    (_, "INPUT_OBJECT") => v.extend(self.input_variants(named, false)),
                    ("Int", _) if a.name == "retentionYears" => v.push("1".into()),
                    _ => {}
                }
                v
            };
            let mut next = Vec::new();
            for set in &sets {
                for val in &values {
                    let mut s = set.clone();
                    if !val.is_empty() {
                        s.push(format!("{}: {val}", a.name));
                    }
                    next.push(s);
                }
            }
            // Optional arguments are tried one at a time, not in every combination.
            if a.ty.required() {
                sets = next;
            } else {
                let mut one = sets.clone();
                for s in next {
                    if !one.contains(&s) && s.len() <= 1 + sets[0].len() {
                        one.push(s);
                    }
                }
                sets = one;
            }
        }
        sets
    }

    /// Values of an input object: each optional field alone (IDs of both territories, every
    /// enum value, a wide window), with the required ones filled.
    fn input_variants(&self, name: &str, required: bool) -> Vec<String> {
        let def = self.schema.def(name);
        let mut base = Vec::new();
        for i in &def.inputs {
            if i.ty.required() {
                let n = i.ty.named();
                base.push(match n {
                    "NaiveDate" if i.name == "from" => format!("{}: \"2024-01-01\"", i.name),
                    "NaiveDate" => format!("{}: \"2028-12-31\"", i.name),
                    "Int" => format!("{}: 1", i.name),
                    "String" => format!("{}: \"x\"", i.name),
                    _ => return Vec::new(),
                });
            }
        }
        let mut out = Vec::new();
        if !required {
            out.push(format!("{{{}}}", base.join(", ")));
        }
        for i in &def.inputs {
            if i.ty.required() {
                continue;
            }
            let n = i.ty.named();
            let values: Vec<String> = match (n, self.schema.def(n).kind.as_str()) {
                ("ID", _) => {
                    let kinds = self.kinds_for(&i.name);
                    if required {
                        let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
                        self.ids_of(&kinds).iter().map(|x| quote(x)).collect()
                    } else {
                        self.sample_ids(&kinds).iter().map(|x| quote(x)).collect()
                    }
                }
                // A status widens what a list shows (met, cancelled deadlines…); other enums
                // only narrow it.
                (_, "ENUM") if i.name == "status" => self.schema.def(n).enums.clone(),
                ("Int", _) if i.name == "dueWithinDays" => vec!["3650".into()],
                ("Boolean", _) => vec!["true".into()],
                _ => Vec::new(),
            };
            for v in values {
                let mut parts = base.clone();
                parts.push(format!("{}: {v}", i.name));
                out.push(format!("{{{}}}", parts.join(", ")));
            }
        }
        out
    }

    /// Argument sets of a nested field (`budget(year:)`), as aliases; `None` when a required
    /// argument cannot be filled.
    fn field_args(
        &self,
        f: &mut Findings,
        ty: &str,
        field: &Field,
    ) -> Option<Vec<(String, Vec<String>)>> {
        let required: Vec<&Arg> = field.args.iter().filter(|a| a.ty.required()).collect();
        if required.is_empty() {
            return Some(vec![(String::new(), Vec::new())]);
        }
        if required.len() == 1 && required[0].name == "year" {
            return Some(
                (2025..=2027)
                    .map(|y| (format!("y{y}"), vec![format!("year: {y}")]))
                    .collect(),
            );
        }
        f.skipped.insert(format!("{ty}.{}", field.name));
        None
    }

    /// Every field of `ty` except connections: scalars, value objects inline, boundary objects
    /// by reference (`__typename id`).
    fn select(&self, f: &mut Findings, ty: &str, depth: usize, only: Option<&str>) -> String {
        let mut out = vec!["__typename".to_string()];
        if only.is_some() && self.schema.has_id(ty) {
            out.push("id".into());
        }
        for field in &self.schema.def(ty).fields {
            if only.is_some_and(|o| o != field.name) {
                continue;
            }
            let named = field.ty.named();
            if self.schema.is_connection(named) {
                continue;
            }
            let Some(variants) = self.field_args(f, ty, field) else {
                continue;
            };
            for (alias, args) in variants {
                let head = if alias.is_empty() {
                    field.name.clone()
                } else {
                    format!("{}__{alias}: {}", field.name, field.name)
                };
                let head = if args.is_empty() {
                    head
                } else {
                    format!("{head}({})", args.join(", "))
                };
                if self.schema.is_leaf(named) {
                    out.push(head);
                } else if self.schema.is_boundary(named) {
                    out.push(format!("{head} {{ __typename id }}"));
                } else if depth < VALUE_DEPTH {
                    out.push(format!(
                        "{head} {{ {} }}",
                        self.select(f, named, depth + 1, None)
                    ));
                }
            }
        }
        out.join(" ")
    }

    /// The objects at the end of `path` in a response, each with a path that names it: list
    /// elements by index, page elements alone (the page of one after their predecessor).
    fn leaves<'v>(
        &self,
        data: &'v Value,
        path: &[Step],
        preds: &[Option<String>],
    ) -> Vec<(&'v Value, Vec<Step>)> {
        let mut cur: Vec<(&Value, Vec<Step>)> = vec![(data, Vec::new())];
        for (i, st) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            let mut next = Vec::new();
            for (v, so_far) in cur {
                let fv = &v[st.field.as_str()];
                let items: Vec<&Value> = if st.conn {
                    fv["edges"]
                        .as_array()
                        .map(|a| a.iter().map(|e| &e["node"]).collect())
                        .unwrap_or_default()
                } else if let Some(a) = fv.as_array() {
                    a.iter().collect()
                } else {
                    vec![fv]
                };
                let list = st.conn || fv.is_array();
                for (ix, item) in items.into_iter().enumerate() {
                    if item.is_null() || st.index.is_some_and(|want| want != ix) {
                        continue;
                    }
                    let mut p = so_far.clone();
                    let mut step = st.clone();
                    if last && st.conn && st.index.is_none() {
                        // Reach this element alone: the page of one after its predecessor.
                        step.args
                            .retain(|a| !a.starts_with("first:") && !a.starts_with("after:"));
                        step.args.push("first: 1".into());
                        if let Some(Some(c)) = preds.get(ix) {
                            step.args.push(format!("after: {}", quote(c)));
                        }
                        step.index = Some(0);
                    } else if list {
                        step.index = Some(ix);
                    }
                    p.push(step);
                    next.push((item, p));
                }
            }
            cur = next;
        }
        cur
    }

    /// A path that reaches every element of its plain lists at once: the response holds them
    /// all anyway (a list cannot be sliced), so one query serves the whole list.
    fn all_of_lists(path: &[Step]) -> Vec<Step> {
        path.iter()
            .map(|st| {
                let mut st = st.clone();
                if !st.conn {
                    st.index = None;
                }
                st
            })
            .collect()
    }

    /// Judges a response's objects at `path`, and queues what they lead to.
    fn absorb(
        &mut self,
        f: &mut Findings,
        resp: &Value,
        path: &[Step],
        preds: &[Option<String>],
        trace: Option<&str>,
    ) {
        let data = &resp["data"];
        if data.is_null() {
            return;
        }
        for (leaf, leaf_path) in self.leaves(data, path, preds) {
            let ty = leaf["__typename"].as_str().unwrap_or_default().to_string();
            let label = leaf_path
                .iter()
                .map(Step::head)
                .collect::<Vec<_>>()
                .join(".");
            self.judge.visit(f, leaf, "", "", &label, trace);
            cover(leaf, &mut self.covered);
            if ty == "ParticipantFile"
                && let Some(id) = leaf["participantId"].as_str()
            {
                self.files.insert(id.to_string());
            }
            if let [only] = path
                && only.field == "node"
                && let Some(id) = leaf["id"].as_str()
            {
                self.opened.insert(id.to_string());
            }
            let at = match path {
                [before @ .., last] => format!("{}.{}", self.type_after(before), last.field),
                [] => String::new(),
            };
            self.meet(leaf, &at, &label);
            let source = leaf_path.first().map(Step::head).unwrap_or_default();
            tokens_in(leaf, &source, &mut self.tokens);
            if ty.is_empty() {
                continue;
            }
            if self.schema.is_boundary(&ty)
                && let Some(id) = leaf["id"].as_str()
            {
                self.seen.insert((ty.clone(), id.to_string()));
                self.connections(&ty, id, &leaf_path);
            }
            self.discover(leaf, &ty, &leaf_path);
        }
    }

    /// Notes every Node object in a response, with where it sits.
    fn meet(&mut self, v: &Value, at: &str, path: &str) {
        match v {
            Value::Object(m) => {
                let t = m
                    .get("__typename")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if self.node_types.contains(t)
                    && let Some(Value::String(id)) = m.get("id")
                {
                    self.met
                        .entry(id.clone())
                        .or_insert_with(|| (t.to_string(), at.to_string(), path.to_string()));
                }
                for (k, child) in m {
                    let name = k.split("__").next().unwrap_or(k);
                    if k != "__typename" {
                        self.meet(child, &format!("{t}.{name}"), &format!("{path}.{k}"));
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.meet(x, at, path)),
            _ => {}
        }
    }

    /// Every object the API returns, at any depth, is one `node(id:)` gives the caller: one
    /// scope everywhere. (Territories are public metadata: `node` gives them all.)
    fn scope_check(&self, f: &mut Findings) {
        for (id, (t, at, path)) in &self.met {
            if !self.opened.contains(id) {
                f.leak(
                    self.who,
                    at,
                    &format!("a {t} that node(id:) does not give it (loaded outside its scope)"),
                    format!("{path} = {t} {id}"),
                );
            }
        }
    }

    /// Queues the listing of every connection of a boundary object.
    fn connections(&mut self, ty: &str, id: &str, path: &[Step]) {
        let conns: Vec<(String, String)> = self
            .schema
            .def(ty)
            .fields
            .iter()
            .filter(|fd| self.schema.is_connection(fd.ty.named()))
            .map(|fd| {
                let node = self
                    .schema
                    .field(fd.ty.named(), "edges")
                    .unwrap()
                    .ty
                    .named()
                    .to_string();
                let node = self
                    .schema
                    .field(&node, "node")
                    .unwrap()
                    .ty
                    .named()
                    .to_string();
                (fd.name.clone(), node)
            })
            .collect();
        for (field, node_ty) in conns {
            if self
                .listed
                .insert((ty.to_string(), id.to_string(), field.clone()))
            {
                self.queue.push_back(Job::Page(PageJob {
                    path: path.to_vec(),
                    field,
                    args: Vec::new(),
                    node_ty,
                    after: None,
                    trace: None,
                }));
            }
        }
    }

    /// Walks an object's fields: boundary children are queued for their own expansion (through
    /// this path), value children are walked through, and every Node ID met is tried.
    fn discover(&mut self, v: &Value, ty: &str, path: &[Step]) {
        let Some(map) = v.as_object() else { return };
        for (key, child) in map {
            if key == "__typename" {
                continue;
            }
            let (name, alias) = match key.split_once("__") {
                Some((n, a)) => (n, Some(a)),
                None => (key.as_str(), None),
            };
            self.note_ids(child);
            let Some(field) = self.schema.field(ty, name) else {
                continue;
            };
            let named = field.ty.named().to_string();
            if self.schema.is_leaf(&named) {
                continue;
            }
            let args: Vec<String> = alias
                .and_then(|a| a.strip_prefix('y'))
                .map(|y| vec![format!("year: {y}")])
                .unwrap_or_default();
            let items: Vec<(usize, &Value)> = match child {
                Value::Array(a) => a.iter().enumerate().collect(),
                Value::Null => Vec::new(),
                o => vec![(0, o)],
            };
            if self.schema.is_boundary(&named) {
                // One job per concrete type for the elements not seen yet.
                let mut fresh: BTreeSet<String> = BTreeSet::new();
                for (_, item) in &items {
                    let (Some(t), Some(id)) = (item["__typename"].as_str(), item["id"].as_str())
                    else {
                        continue;
                    };
                    if self.seen.insert((t.to_string(), id.to_string())) {
                        fresh.insert(t.to_string());
                    }
                }
                for t in fresh {
                    let mut p = Self::all_of_lists(path);
                    let mut step = Step::plain(name, args.clone());
                    if self.schema.is_abstract(&named) {
                        step.on = Some(t.clone());
                    }
                    p.push(step);
                    if self.jobs.insert(format!("{t} {}", render(&p, ""))) {
                        self.queue.push_back(Job::Expand {
                            path: p,
                            ty: t,
                            preds: Vec::new(),
                        });
                    }
                }
            } else {
                for (ix, item) in items {
                    let mut p = path.to_vec();
                    let mut step = Step::plain(name, args.clone());
                    if child.is_array() {
                        step.index = Some(ix);
                    }
                    p.push(step);
                    let t = item["__typename"].as_str().unwrap_or(&named).to_string();
                    self.discover(item, &t, &p);
                }
            }
        }
    }

    /// Every Node ID met anywhere is asked of `node` (guessing, as a hostile client would).
    fn note_ids(&mut self, v: &Value) {
        match v {
            Value::String(s) => {
                if let Some((kind, _)) = ids::parse(s)
                    && self.node_types.contains(kind.name())
                {
                    self.try_node(kind.name(), s);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.note_ids(x)),
            Value::Object(m) => m.values().for_each(|x| self.note_ids(x)),
            _ => {}
        }
    }

    fn try_node(&mut self, kind: &str, id: &str) {
        if self.seen.contains(&(kind.to_string(), id.to_string()))
            || !self.tried.insert(id.to_string())
        {
            return;
        }
        let mut step = Step::plain("node", vec![format!("id: {}", quote(id))]);
        step.on = Some(kind.to_string());
        self.queue.push_back(Job::Expand {
            path: vec![step],
            ty: kind.to_string(),
            preds: Vec::new(),
        });
    }

    /// The type of the objects at the end of `path`.
    fn type_after(&self, path: &[Step]) -> String {
        let mut ty = self.schema.query.clone();
        for st in path {
            let fd = self.schema.field(&ty, &st.field);
            ty = st
                .on
                .clone()
                .or_else(|| fd.map(|f| f.ty.named().to_string()))
                .unwrap_or_default();
            if st.conn {
                let edges = self
                    .schema
                    .field(&ty, "edges")
                    .map(|f| f.ty.named().to_string());
                ty = edges
                    .and_then(|e| {
                        self.schema
                            .field(&e, "node")
                            .map(|f| f.ty.named().to_string())
                    })
                    .unwrap_or_default();
            }
        }
        ty
    }

    /// Whether some error below the objects at the end of `path` wiped out more than its own
    /// field (a refused non-null field nulls its object).
    fn inner_errors(&self, resp: &Value, path: &[Step]) -> bool {
        let mut depth = 0;
        for (i, st) in path.iter().enumerate() {
            let list = self
                .schema
                .field(&self.type_after(&path[..i]), &st.field)
                .is_some_and(|f| f.ty.is_list());
            depth += st.segments(list);
        }
        // A refused nullable field is only itself null: its object is still there, nothing else
        // was lost. A refused non-null one nulls its object (or more): read again.
        let wiped = |p: &[Value]| {
            let mut v = &resp["data"];
            for seg in &p[..p.len() - 1] {
                v = match seg {
                    Value::String(k) => &v[k.as_str()],
                    Value::Number(n) => &v[n.as_u64().unwrap_or(u64::MAX) as usize],
                    _ => &Value::Null,
                };
            }
            !v.is_object()
        };
        resp["errors"].as_array().into_iter().flatten().any(|e| {
            e["path"]
                .as_array()
                .is_some_and(|p| p.len() > depth && wiped(p))
        })
    }

    async fn expand(
        &mut self,
        f: &mut Findings,
        path: Vec<Step>,
        ty: String,
        preds: Vec<Option<String>>,
    ) {
        let sel = self.select(f, &ty, 0, None);
        let resp = self.run(f, &render(&path, &sel)).await;
        self.absorb(f, &resp, &path, &preds, None);
        if !self.inner_errors(&resp, &path) {
            return;
        }
        // A refused non-null field nulls its object: read each field alone.
        let fields: Vec<String> = self
            .schema
            .def(&ty)
            .fields
            .iter()
            .filter(|fd| !self.schema.is_connection(fd.ty.named()))
            .map(|fd| fd.name.clone())
            .collect();
        for name in fields {
            let sel = self.select(f, &ty, 0, Some(&name));
            let resp = self.run(f, &render(&path, &sel)).await;
            self.absorb(f, &resp, &path, &preds, None);
            if self.inner_errors(&resp, &path) && preds.len() > 1 {
                // And, on a page, each element alone.
                for pred in &preds {
                    let mut p = path.clone();
                    let last = p.last_mut().unwrap();
                    last.args
                        .retain(|a| !a.starts_with("first:") && !a.starts_with("after:"));
                    last.args.push("first: 1".into());
                    if let Some(c) = pred {
                        last.args.push(format!("after: {}", quote(c)));
                    }
                    let resp = self.run(f, &render(&p, &sel)).await;
                    self.absorb(f, &resp, &p, std::slice::from_ref(pred), None);
                }
            }
        }
    }

    async fn page(&mut self, f: &mut Findings, job: PageJob) {
        let PageJob {
            path,
            field,
            args,
            node_ty,
            after,
            trace,
        } = job;
        let mut page_args = args.clone();
        page_args.push(format!("first: {PAGE}"));
        if let Some(a) = &after {
            page_args.push(format!("after: {}", quote(a)));
        }
        let boundary = self.schema.is_boundary(&node_ty);
        let node_sel = if boundary {
            "__typename id".to_string()
        } else {
            self.select(f, &node_ty, 0, None)
        };
        let step = Step::plain(&field, page_args.clone());
        let sel = format!(
            "__typename {} {{ __typename pageInfo {{ __typename hasNextPage hasPreviousPage startCursor endCursor }} edges {{ __typename cursor node {{ {node_sel} }} }} nodes {{ {node_sel} }} }}",
            step.head()
        );
        let resp = self.run(f, &render(&path, &sel)).await;
        let data = &resp["data"];
        let parents = if path.is_empty() {
            vec![(data, Vec::new())]
        } else {
            self.leaves(data, &path, &[])
        };
        for (parent, parent_path) in parents {
            let conn = &parent[field.as_str()];
            if conn.is_null() {
                continue;
            }
            let label = format!(
                "{}{}{}",
                parent_path
                    .iter()
                    .map(Step::head)
                    .collect::<Vec<_>>()
                    .join("."),
                if parent_path.is_empty() { "" } else { "." },
                step.head()
            );
            let parent_ty = parent["__typename"]
                .as_str()
                .unwrap_or(&self.schema.query)
                .to_string();
            self.judge
                .visit(f, conn, &parent_ty, &field, &label, trace.as_deref());
            self.covered.insert(format!("{parent_ty}.{field}"));
            cover(conn, &mut self.covered);
            for e in conn["edges"].as_array().into_iter().flatten() {
                self.meet(&e["node"], &format!("{parent_ty}.{field}"), &label);
            }
            tokens_in(conn, &step.head(), &mut self.tokens);
            self.note_ids(conn);
            let edges = conn["edges"].as_array().cloned().unwrap_or_default();
            let mut preds = Vec::new();
            let mut prev = after.clone();
            let mut fresh = false;
            for e in &edges {
                preds.push(prev.clone());
                prev = e["cursor"].as_str().map(String::from);
                let node = &e["node"];
                if let (Some(t), Some(id)) = (node["__typename"].as_str(), node["id"].as_str())
                    && boundary
                    && self.seen.insert((t.to_string(), id.to_string()))
                {
                    fresh = true;
                }
            }
            if fresh {
                let mut p = parent_path.clone();
                let mut st = Step::plain(&field, page_args.clone());
                st.conn = true;
                p.push(st);
                self.queue.push_back(Job::Expand {
                    path: p,
                    ty: node_ty.clone(),
                    preds,
                });
            }
            if conn["pageInfo"]["hasNextPage"] == true
                && let Some(end) = conn["pageInfo"]["endCursor"].as_str()
            {
                self.queue.push_back(Job::Page(PageJob {
                    path: parent_path,
                    field: field.clone(),
                    args: args.clone(),
                    node_ty: node_ty.clone(),
                    after: Some(end.to_string()),
                    trace: trace.clone(),
                }));
            }
        }
    }

    async fn drain(&mut self, f: &mut Findings) {
        while let Some(job) = self.queue.pop_front() {
            match job {
                Job::Expand { path, ty, preds } => self.expand(f, path, ty, preds).await,
                Job::Page(job) => self.page(f, job).await,
            }
        }
    }

    /// Phase 1: every Node ID of the world through `node`, every root query with every
    /// argument, every object and list they lead to.
    async fn walk(&mut self, f: &mut Findings) {
        let seeds: Vec<(String, String)> = self
            .node_types
            .iter()
            .flat_map(|k| {
                self.reg
                    .ids
                    .get(k.as_str())
                    .into_iter()
                    .flatten()
                    .map(move |id| (k.clone(), id.clone()))
            })
            .collect();
        for (k, id) in seeds {
            self.try_node(&k, &id);
        }
        // What `node` opens is expanded first, so objects are reached by the shortest path.
        self.drain(f).await;
        let roots: Vec<&Field> = self.schema.def(&self.schema.query).fields.iter().collect();
        for field in roots {
            if field.name == "node" || field.args.iter().any(|a| a.name == "trace") {
                continue;
            }
            let named = field.ty.named().to_string();
            for args in self.root_args(f, field) {
                if self.schema.is_connection(&named) {
                    let node = self
                        .schema
                        .field(&named, "edges")
                        .unwrap()
                        .ty
                        .named()
                        .to_string();
                    let node = self
                        .schema
                        .field(&node, "node")
                        .unwrap()
                        .ty
                        .named()
                        .to_string();
                    self.queue.push_back(Job::Page(PageJob {
                        path: Vec::new(),
                        field: field.name.clone(),
                        args,
                        node_ty: node,
                        after: None,
                        trace: None,
                    }));
                } else if self.schema.is_leaf(&named) {
                    let q = format!("query {{ {} }}", Step::plain(&field.name, args).head());
                    let resp = self.run(f, &q).await;
                    self.judge.visit(
                        f,
                        &resp["data"],
                        &self.schema.query,
                        &field.name,
                        &field.name,
                        None,
                    );
                } else {
                    // `workflow(id:)` of an object whose workflow was already expanded.
                    let already = args.iter().any(|a| {
                        a.strip_prefix("id: ").is_some_and(|id| {
                            self.seen
                                .contains(&(named.clone(), id.trim_matches('"').to_string()))
                        })
                    });
                    if already {
                        continue;
                    }
                    self.queue.push_back(Job::Expand {
                        path: vec![Step::plain(&field.name, args)],
                        ty: named.clone(),
                        preds: Vec::new(),
                    });
                }
            }
        }
        self.drain(f).await;
        self.scope_check(f);
    }

    /// Phase 2: the trace tokens any account was given, replayed by this account.
    async fn traces(&mut self, f: &mut Findings, pool: &Tokens) {
        let Some(field) = self
            .schema
            .def(&self.schema.query)
            .fields
            .iter()
            .find(|fd| fd.args.iter().any(|a| a.name == "trace"))
        else {
            return;
        };
        let named = field.ty.named().to_string();
        let node = self
            .schema
            .field(&named, "edges")
            .unwrap()
            .ty
            .named()
            .to_string();
        let node = self
            .schema
            .field(&node, "node")
            .unwrap()
            .ty
            .named()
            .to_string();
        for (token, facet) in replayed(pool, &self.tokens) {
            self.queue.push_back(Job::Page(PageJob {
                path: Vec::new(),
                field: field.name.clone(),
                args: vec![format!("trace: {}", quote(&token))],
                node_ty: node.clone(),
                after: None,
                trace: facet,
            }));
        }
        self.drain(f).await;
    }
}

/// Notes the `Type.field`s of a response that hold a value.
fn cover(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            let t = m
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or_default();
            for (k, child) in m {
                if !child.is_null() && k != "__typename" {
                    out.insert(format!("{t}.{}", k.split("__").next().unwrap_or(k)));
                }
                cover(child, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| cover(x, out)),
        _ => {}
    }
}

/// Fields of the types reachable from the query root that no account was ever given a value
/// of (what the world does not exercise).
fn uncovered(schema: &Schema, covered: &BTreeSet<String>) -> Vec<String> {
    let mut reach = BTreeSet::new();
    let mut todo = vec![schema.query.clone()];
    while let Some(t) = todo.pop() {
        if !reach.insert(t.clone()) {
            continue;
        }
        let def = schema.def(&t);
        todo.extend(def.possible.iter().cloned());
        for f in &def.fields {
            let n = f.ty.named();
            if !schema.is_leaf(n) {
                todo.push(n.to_string());
            }
        }
    }
    reach
        .iter()
        .filter(|t| !t.starts_with("__") && **t != schema.query && schema.def(t).kind == "OBJECT")
        .flat_map(|t| {
            schema
                .def(t)
                .fields
                .iter()
                .map(move |f| format!("{t}.{}", f.name))
        })
        .filter(|tf| !covered.contains(tf))
        .collect()
}

/// A trace token: the facet of the line it came from (`None`: a figure that singles out no
/// one), the report it came from, and how many entries its figure counts.
#[derive(Clone)]
struct TokenInfo {
    facet: Option<String>,
    source: String,
    entries: i64,
}

type Tokens = BTreeMap<String, TokenInfo>;

/// Collects the trace tokens of a response.
fn tokens_in(v: &Value, source: &str, out: &mut Tokens) {
    match v {
        Value::Object(m) => {
            let t = m
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(Value::String(tok)) = m.get("trace") {
                // By family (`PUBLIC:*`, `AGE:*`, `EXIT:*`…); the line of everyone (`ALL`) singles
                // out no one.
                let facet = match (t, m.get("band").and_then(Value::as_str)) {
                    ("PeopleLine", Some("ALL")) => None,
                    ("PeopleLine", Some(band)) => {
                        Some(format!("{}:*", band.split(':').next().unwrap_or(band)))
                    }
                    (t, _) if PERSON_FACETS.contains(&t) => Some("EXIT:*".to_string()),
                    _ => None,
                };
                out.entry(tok.clone()).or_insert_with(|| TokenInfo {
                    facet,
                    source: source.to_string(),
                    entries: m.get("entries").and_then(Value::as_i64).unwrap_or(0),
                });
            }
            m.values().for_each(|x| tokens_in(x, source, out));
        }
        Value::Array(a) => a.iter().for_each(|x| tokens_in(x, source, out)),
        _ => {}
    }
}

/// The tokens an account replays: every one it was given behind a people facet (each band can
/// differ: its own employees or others); of its plain figures, the two largest of each report
/// (a report's figures are slices of its largest ones); of other accounts' reports, two of each
/// facet family per report, the largest first (a token names its report's subject and facets,
/// which decide who may trace it).
fn replayed(pool: &Tokens, own: &Tokens) -> Vec<(String, Option<String>)> {
    let mut by_size: Vec<(&String, &TokenInfo)> = pool.iter().collect();
    by_size.sort_by_key(|(_, i)| std::cmp::Reverse(i.entries));
    let mut per_family: HashMap<(bool, &str, Option<&str>), usize> = HashMap::new();
    by_size
        .into_iter()
        .filter(|(tok, i)| {
            let mine = own.contains_key(*tok);
            (mine && i.facet.is_some()) || {
                let n = per_family
                    .entry((mine, i.source.as_str(), i.facet.as_deref()))
                    .or_default();
                *n += 1;
                *n <= 2
            }
        })
        .map(|(tok, i)| (tok.clone(), i.facet.clone()))
        .collect()
}

async fn every_field_at_every_depth_stays_in_scope(app: &TestApp) {
    let started = Instant::now();
    // Leaked so that each account walks on its own task (two worker threads).
    let cast: &'static world::Cast = Box::leak(Box::new(world::build(app).await));
    let built = started.elapsed();
    let mut walkers = Vec::new();
    for who in cast.all() {
        // Each account introspects the schema it is served.
        let resp = app
            .run_as(
                Some(who.actor.clone()),
                INTROSPECTION,
                serde_json::json!({}),
            )
            .await;
        assert!(resp.get("errors").is_none(), "introspection: {resp:#}");
        let schema: &'static Schema = Box::leak(Box::new(Schema::parse(&resp["data"])));
        walkers.push(Walker {
            gql: app.schema.clone(),
            ctx: app.ctx.clone(),
            schema,
            reg: &cast.registry,
            who,
            judge: Judge::new(&cast.registry, who),
            queue: VecDeque::new(),
            seen: HashSet::new(),
            listed: HashSet::new(),
            tried: HashSet::new(),
            jobs: HashSet::new(),
            opened: HashSet::new(),
            covered: BTreeSet::new(),
            met: BTreeMap::new(),
            node_types: schema.node_types(),
            tokens: BTreeMap::new(),
            files: BTreeSet::new(),
            queries: 0,
            profile: BTreeMap::new(),
        });
    }
    let mut findings = Findings::default();
    let phase = |walkers: Vec<Walker<'static>>, pool: Option<std::sync::Arc<Tokens>>| {
        walkers
            .into_iter()
            .map(|mut w| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut f = Findings::default();
                    let t0 = Instant::now();
                    match pool {
                        None => w.walk(&mut f).await,
                        Some(pool) => w.traces(&mut f, &pool).await,
                    }
                    (w, f, t0.elapsed())
                })
            })
            .collect::<Vec<_>>()
    };
    let mut stats: Vec<(String, usize, usize, usize, std::time::Duration)> = Vec::new();
    let mut walked = Vec::new();
    for t in phase(walkers, None) {
        let (w, f, took) = t.await.expect("a walk");
        stats.push((
            w.who.label.clone(),
            w.queries,
            w.seen.len(),
            w.tokens.len(),
            took,
        ));
        findings.merge(f);
        walked.push(w);
    }
    let walk_done = started.elapsed();
    let mut pool = Tokens::new();
    for w in &walked {
        for (k, v) in &w.tokens {
            pool.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let facets = pool.values().filter(|i| i.facet.is_some()).count();
    let pool_len = pool.len();
    let mut done = Vec::new();
    for (t, s) in phase(walked, Some(std::sync::Arc::new(pool)))
        .into_iter()
        .zip(stats.iter_mut())
    {
        let (w, f, took) = t.await.expect("a replay");
        s.1 = w.queries;
        s.4 += took;
        findings.merge(f);
        done.push(w);
    }
    let sizes: Vec<String> = cast
        .registry
        .ids
        .iter()
        .map(|(k, v)| format!("{} {k}", v.len()))
        .collect();
    println!("world: {}", sizes.join(", "));
    println!("deadlines: {:?}", cast.registry.deadline_rules);
    println!(
        "world built in {built:.1?}; walked in {:.1?}; {pool_len} trace tokens ({facets} single out people) replayed in {:.1?}",
        walk_done - built,
        started.elapsed() - walk_done
    );
    let mut profile: BTreeMap<String, (usize, std::time::Duration)> = BTreeMap::new();
    for w in &done {
        for (k, (n, d)) in &w.profile {
            let e = profile.entry(k.clone()).or_default();
            e.0 += n;
            e.1 += *d;
        }
    }
    let mut profile: Vec<_> = profile.into_iter().collect();
    profile.sort_by_key(|(_, (_, d))| std::cmp::Reverse(*d));
    for (k, (n, d)) in profile.iter().take(25) {
        println!("  {k:>30}: {n:>6} queries {d:.1?}");
    }
    for (who, q, seen, tokens, took) in &stats {
        println!("{who:>20}: {q:>6} queries, {seen:>4} objects, {tokens:>4} tokens, {took:.1?}");
    }
    let covered: BTreeSet<String> = done
        .iter()
        .flat_map(|w| w.covered.iter().cloned())
        .collect();
    let gaps = uncovered(done[0].schema, &covered);
    println!(
        "{} Type.fields answered a value; never answered by anyone: {gaps:?}",
        covered.len()
    );
    report(&findings);
    // The walk reached every file it may: each facilitator the file of every person of its
    // territory (through `participantFile` with every ID of the world), nobody else any.
    for w in &done {
        let theirs: BTreeSet<String> = cast
            .registry
            .persons
            .iter()
            .filter(|(_, p)| may_read_file(w.who, p))
            .map(|(id, _)| ids::encode(ids::Kind::Participant, *id).to_string())
            .collect();
        assert_eq!(
            w.files, theirs,
            "{}: the people whose file it was given",
            w.who.label
        );
        if w.who.role == Role::Facilitator {
            assert_eq!(
                theirs.len(),
                8,
                "{}: the people of its territory",
                w.who.label
            );
        }
    }
    assert!(
        findings.errors.is_empty(),
        "{} unexpected errors: the walk is incomplete",
        findings.errors.len()
    );
    assert!(
        findings.leaks.is_empty(),
        "{} distinct leaks",
        findings.leaks.len()
    );
}

fn report(f: &Findings) {
    if !f.skipped.is_empty() {
        println!(
            "fields not walked (arguments not fillable): {:?}",
            f.skipped
        );
    }
    for ((code, msg), (n, example)) in &f.errors {
        println!("unexpected error {code} ×{n}: {msg}\n    e.g. {example}");
    }
    let mut by_field: BTreeMap<&str, Vec<(&str, &str, usize, &str)>> = BTreeMap::new();
    for ((who, at, kind), (n, example)) in &f.leaks {
        by_field.entry(at.as_str()).or_default().push((
            who.as_str(),
            kind.as_str(),
            *n,
            example.as_str(),
        ));
    }
    println!(
        "{} distinct leaks (account, Type.field, what):",
        f.leaks.len()
    );
    for (at, rows) in by_field {
        println!("  {at}");
        for (who, kind, n, example) in rows {
            let example: String = example.chars().take(220).collect();
            println!("    {who:<18} {kind} (×{n})  e.g. {example}");
        }
    }
}
