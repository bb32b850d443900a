//! What a request may cost before any of it runs, so a stranger with no token cannot buy
//! seconds of CPU with a few hundred bytes. Checked in `prepare_request`, before async-graphql's
//! own checks: those walk fragment spreads without memory, so a fragment that spreads the
//! previous one twice costs 2^n of their time however small the document is.
//!
//! - the text, before the parser: its tokens and how deeply `{`, `[`, `(` nest;
//! - the size of the document with every fragment expanded, computed with one size per fragment
//!   (so in the document's length, never in its expansion); a fragment cycle is refused;
//! - every argument value, literal or variable, through input objects and lists: strings within
//!   their length and free of NUL, lists within their count.
//!
//! Each refusal is `BAD_USER_INPUT` naming the field (`query` for the document itself).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{
    ErrorExtensions, Name, Pos, Positioned, Request, ServerError, ServerResult,
    Value as ConstValue, Variables,
};
use async_graphql_value::Value;

use crate::domain::Breach;
use crate::domain::text::MAX_LONG_TEXT_LEN;
use crate::error::AppError;
use crate::service::ledger::MAX_REVIEW_BATCH;

/// Nodes (fields, fragment spreads, arguments, directives, values, variable definitions) of a
/// document once every fragment is expanded. The largest query of the tests has 61, GraphiQL's
/// introspection query a few hundred; no query the complexity limit (5 000) accepts comes near.
pub const MAX_QUERY_NODES: usize = 5_000;
/// Tokens of the text (names, numbers, strings, punctuators), counted before parsing: the parser
/// is the costliest step left (about 15 µs a token unoptimised), so a megabyte of aliases is
/// refused before it. The largest query of the tests has about a hundred.
pub const MAX_QUERY_TOKENS: usize = 15_000;
/// Deepest nesting of braces, brackets and parentheses: far beyond `MAX_DEPTH`. The parser stops
/// deeper text on its own stack limit, but only once read, and its error quotes the whole line.
pub const MAX_NESTING: usize = 64;
/// Deepest selection (fields with sub-selections, fragments), counted like async-graphql's
/// `limit_recursive_depth`, which is given the same value.
pub const MAX_RECURSIVE_DEPTH: usize = 32;
/// Longest string of any input without an exception below: names and titles (the rules allow
/// 300 characters), identifiers, cursors, searches, hours.
pub const MAX_TEXT_CHARS: usize = 1_000;
/// Most items of any list input without an exception below.
pub const MAX_LIST_ITEMS: usize = 100;

/// How long a string may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Chars(usize),
    /// E-mail addresses (RFC 5321: 254) and passwords are bounded in bytes.
    Bytes(usize),
}

/// Strings that may be longer (or must be shorter) than `MAX_TEXT_CHARS`, by the name of the
/// argument or input field that carries them.
pub const STRING_LIMITS: &[(&str, Length)] = &[
    ("email", Length::Bytes(254)),
    ("ownerEmail", Length::Bytes(254)),
    // The same bound as the password rule (domain::auth), checked before any hashing.
    ("password", Length::Bytes(1_024)),
    // Free text of commissions and of the fiche évaluation (the rules' own limit).
    ("agenda", Length::Chars(MAX_LONG_TEXT_LEN)),
    ("minutes", Length::Chars(MAX_LONG_TEXT_LEN)),
    ("outcome", Length::Chars(MAX_LONG_TEXT_LEN)),
    ("coordination", Length::Chars(MAX_LONG_TEXT_LEN)),
    ("objectives", Length::Chars(MAX_LONG_TEXT_LEN)),
    ("economicPartners", Length::Chars(MAX_LONG_TEXT_LEN)),
    ("qualitativeNotes", Length::Chars(MAX_LONG_TEXT_LEN)),
    // A trace token carries a report's recipe (subject, window, facets).
    ("trace", Length::Chars(4_000)),
];

/// Lists that may hold more than `MAX_LIST_ITEMS`.
pub const LIST_LIMITS: &[(&str, usize)] = &[("entryIds", MAX_REVIEW_BATCH)];

pub fn string_limit(field: &str) -> Length {
    STRING_LIMITS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(Length::Chars(MAX_TEXT_CHARS), |(_, l)| *l)
}

pub fn list_limit(field: &str) -> usize {
    LIST_LIMITS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(MAX_LIST_ITEMS, |(_, l)| *l)
}

/// The extension; registered first in `build_schema_with`.
pub struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Limits)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Limits {
    /// Parses the document here (async-graphql then reuses it) so that it is measured before the
    /// library's own depth and directive checks, which expand fragments.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        scan(&request.query).map_err(|e| refusal(e, None))?;
        let doc = async_graphql::parser::parse_query(&request.query)?;
        let nodes = expanded_size(&doc).map_err(|r| refusal(r.0, r.1))?;
        if nodes > MAX_QUERY_NODES {
            return Err(refusal(too_big(nodes), None));
        }
        check_inputs(&doc, &request.variables).map_err(|r| refusal(r.0, r.1))?;
        request.set_parsed_query(doc);
        next.run(ctx, request).await
    }
}

fn refusal(e: AppError, pos: Option<Pos>) -> ServerError {
    let err = e.extend();
    let mut server = ServerError::new(err.message, pos);
    server.extensions = err.extensions;
    server
}

fn breach(
    field: &str,
    rule: &'static str,
    limit: usize,
    value: usize,
    message: String,
) -> AppError {
    AppError::BadInput {
        field: field.to_string(),
        message,
        breach: Some(Breach {
            rule,
            limit: limit.to_string(),
            value: value.to_string(),
        }),
    }
}

fn too_big(nodes: usize) -> AppError {
    breach(
        "query",
        "MAX_QUERY_NODES",
        MAX_QUERY_NODES,
        nodes,
        format!(
            "query : requête trop grosse une fois les fragments développés, {nodes} éléments pour {MAX_QUERY_NODES} au plus (query too large)"
        ),
    )
}

/// Refuses a text with too many tokens or nested too deeply, before the parser reads it.
pub fn scan(query: &str) -> Result<(), AppError> {
    let tokens = tokens(query)?;
    if tokens > MAX_QUERY_TOKENS {
        return Err(breach(
            "query",
            "MAX_QUERY_TOKENS",
            MAX_QUERY_TOKENS,
            tokens,
            format!("query : {tokens} lexèmes pour {MAX_QUERY_TOKENS} au plus (query too long)"),
        ));
    }
    Ok(())
}

/// Counts the tokens of a text, outside comments, and refuses `{`, `[` and `(` nested deeper
/// than `MAX_NESTING`.
pub fn tokens(query: &str) -> Result<usize, AppError> {
    let b = query.as_bytes();
    let (mut i, mut depth, mut tokens, mut in_word) = (0, 0usize, 0usize, false);
    while i < b.len() {
        // Names and numbers (`1.5` counts twice: an overcount only).
        let word = b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-' | b'+');
        if word && !in_word {
            tokens += 1;
        }
        in_word = word;
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                // Block string: only `\"""` escapes its end.
                tokens += 1;
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                tokens += 1;
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'.' if b[i..].starts_with(b"...") => {
                tokens += 1;
                i += 2;
            }
            b'{' | b'[' | b'(' => {
                tokens += 1;
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(breach(
                        "query",
                        "MAX_NESTING",
                        MAX_NESTING,
                        depth,
                        format!(
                            "query : plus de {MAX_NESTING} niveaux d'accolades, de crochets ou de parenthèses (nested too deeply)"
                        ),
                    ));
                }
            }
            b'}' | b']' | b')' => {
                tokens += 1;
                depth = depth.saturating_sub(1);
            }
            b'!' | b'$' | b'&' | b':' | b'=' | b'@' | b'|' => tokens += 1,
            _ => {}
        }
        i += 1;
    }
    Ok(tokens)
}

/// A refusal and where in the document (boxed: `AppError` is large and this travels far).
pub type Refused = Box<(AppError, Option<Pos>)>;

fn at(e: AppError, pos: Option<Pos>) -> Refused {
    Box::new((e, pos))
}

/// Nodes of a selection set and how many levels it adds below itself.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    nodes: usize,
    height: usize,
}

/// The expanded size of every operation and every fragment definition (validation visits
/// both), each fragment measured once.
pub fn expanded_size(doc: &ExecutableDocument) -> Result<usize, Refused> {
    let mut cost = Cost {
        doc,
        fragments: HashMap::new(),
    };
    let mut total = 0usize;
    for (_, op) in operations(doc) {
        total = total.saturating_add(cost.operation(&op.node)?);
    }
    for (name, f) in &doc.fragments {
        let m = cost.fragment(name, f.pos, 1)?;
        total = total
            .saturating_add(m.nodes)
            .saturating_add(directives(&f.node.directives));
    }
    Ok(total)
}

fn operations(
    doc: &ExecutableDocument,
) -> Box<dyn Iterator<Item = (Option<&Name>, &Positioned<OperationDefinition>)> + '_> {
    match &doc.operations {
        DocumentOperations::Single(op) => Box::new(std::iter::once((None, op))),
        DocumentOperations::Multiple(map) => Box::new(map.iter().map(|(n, op)| (Some(n), op))),
    }
}

struct Cost<'a> {
    doc: &'a ExecutableDocument,
    /// `None` while the fragment is being measured: meeting it again is a cycle.
    fragments: HashMap<&'a str, Option<Measure>>,
}

impl<'a> Cost<'a> {
    fn operation(&mut self, op: &'a OperationDefinition) -> Result<usize, Refused> {
        let vars = op.variable_definitions.iter().fold(0usize, |n, v| {
            n.saturating_add(1).saturating_add(
                v.node
                    .default_value
                    .as_ref()
                    .map_or(0, |d| const_nodes(&d.node)),
            )
        });
        let set = self.set(&op.selection_set, 0)?;
        Ok(set
            .nodes
            .saturating_add(vars)
            .saturating_add(directives(&op.directives)))
    }

    /// Mirrors async-graphql's recursive depth check: a selection set at `depth`, its fields'
    /// sets, fragments and inline fragments one deeper.
    fn set(&mut self, set: &'a Positioned<SelectionSet>, depth: usize) -> Result<Measure, Refused> {
        if depth > MAX_RECURSIVE_DEPTH {
            return Err(at(too_deep(), Some(set.pos)));
        }
        let mut m = Measure::default();
        for sel in &set.node.items {
            let (own, below) = match &sel.node {
                Selection::Field(f) => {
                    let args = f.node.arguments.iter().fold(0usize, |n, (_, v)| {
                        n.saturating_add(1).saturating_add(value_nodes(&v.node))
                    });
                    let below = if f.node.selection_set.node.items.is_empty() {
                        None
                    } else {
                        Some(self.set(&f.node.selection_set, depth + 1)?)
                    };
                    (
                        1usize
                            .saturating_add(args)
                            .saturating_add(directives(&f.node.directives)),
                        below,
                    )
                }
                Selection::InlineFragment(f) => (
                    1usize.saturating_add(directives(&f.node.directives)),
                    Some(self.set(&f.node.selection_set, depth + 1)?),
                ),
                Selection::FragmentSpread(s) => {
                    let name = &s.node.fragment_name.node;
                    (
                        1usize.saturating_add(directives(&s.node.directives)),
                        Some(self.fragment(name, s.pos, depth + 1)?),
                    )
                }
            };
            m.nodes = m.nodes.saturating_add(own);
            if let Some(b) = below {
                m.nodes = m.nodes.saturating_add(b.nodes);
                m.height = m.height.max(b.height + 1);
            }
        }
        Ok(m)
    }

    /// A fragment's selection set, measured once; `depth` is where it is spread.
    fn fragment(&mut self, name: &'a str, pos: Pos, depth: usize) -> Result<Measure, Refused> {
        match self.fragments.get(name) {
            Some(Some(m)) if depth + m.height > MAX_RECURSIVE_DEPTH => {
                Err(at(too_deep(), Some(pos)))
            }
            Some(Some(m)) => Ok(*m),
            Some(None) => Err(at(
                AppError::bad_input(
                    "query",
                    format!("query : le fragment « {name} » se contient lui-même (fragment cycle)"),
                ),
                Some(pos),
            )),
            // Unknown: validation names it; it adds nothing here.
            None => match self.doc.fragments.get(name) {
                None => Ok(Measure::default()),
                Some(def) => {
                    self.fragments.insert(name, None);
                    let m = self.set(&def.node.selection_set, depth)?;
                    self.fragments.insert(name, Some(m));
                    Ok(m)
                }
            },
        }
    }
}

fn too_deep() -> AppError {
    AppError::bad_input(
        "query",
        format!(
            "query : plus de {MAX_RECURSIVE_DEPTH} niveaux de sélections et de fragments (query nested too deeply)"
        ),
    )
}

fn directives(list: &[Positioned<Directive>]) -> usize {
    list.iter().fold(0usize, |n, d| {
        n.saturating_add(1)
            .saturating_add(d.node.arguments.iter().fold(0usize, |n, (_, v)| {
                n.saturating_add(1).saturating_add(value_nodes(&v.node))
            }))
    })
}

fn value_nodes(v: &Value) -> usize {
    match v {
        Value::List(items) => items
            .iter()
            .fold(1usize, |n, i| n.saturating_add(value_nodes(i))),
        Value::Object(fields) => fields.values().fold(1usize, |n, i| {
            n.saturating_add(1).saturating_add(value_nodes(i))
        }),
        _ => 1,
    }
}

fn const_nodes(v: &ConstValue) -> usize {
    match v {
        ConstValue::List(items) => items
            .iter()
            .fold(1usize, |n, i| n.saturating_add(const_nodes(i))),
        ConstValue::Object(fields) => fields.values().fold(1usize, |n, i| {
            n.saturating_add(1).saturating_add(const_nodes(i))
        }),
        _ => 1,
    }
}

/// Walks every argument of the document (each definition once) and every variable it uses,
/// each variable once per argument name.
pub fn check_inputs(doc: &ExecutableDocument, variables: &Variables) -> Result<(), Refused> {
    let mut defaults: HashMap<&str, Vec<&ConstValue>> = HashMap::new();
    for (_, op) in operations(doc) {
        for v in &op.node.variable_definitions {
            if let Some(d) = &v.node.default_value {
                defaults
                    .entry(v.node.name.node.as_str())
                    .or_default()
                    .push(&d.node);
            }
        }
    }
    let mut walker = Inputs {
        variables,
        defaults,
        seen: HashSet::new(),
    };
    for (_, op) in operations(doc) {
        walker.directives(&op.node.directives)?;
        walker.set(&op.node.selection_set)?;
    }
    for f in doc.fragments.values() {
        walker.directives(&f.node.directives)?;
        walker.set(&f.node.selection_set)?;
    }
    Ok(())
}

struct Inputs<'a> {
    variables: &'a Variables,
    defaults: HashMap<&'a str, Vec<&'a ConstValue>>,
    /// `(variable, argument)` pairs already walked.
    seen: HashSet<(&'a str, &'a str)>,
}

impl<'a> Inputs<'a> {
    fn set(&mut self, set: &'a Positioned<SelectionSet>) -> Result<(), Refused> {
        for sel in &set.node.items {
            match &sel.node {
                Selection::Field(f) => {
                    for (name, value) in &f.node.arguments {
                        self.value(&name.node, &value.node, value.pos)?;
                    }
                    self.directives(&f.node.directives)?;
                    self.set(&f.node.selection_set)?;
                }
                Selection::InlineFragment(f) => {
                    self.directives(&f.node.directives)?;
                    self.set(&f.node.selection_set)?;
                }
                // Fragments are walked from their definitions, once.
                Selection::FragmentSpread(s) => self.directives(&s.node.directives)?,
            }
        }
        Ok(())
    }

    fn directives(&mut self, list: &'a [Positioned<Directive>]) -> Result<(), Refused> {
        for d in list {
            for (name, value) in &d.node.arguments {
                self.value(&name.node, &value.node, value.pos)?;
            }
        }
        Ok(())
    }

    /// A literal value of the document under `field`, the innermost name above it.
    fn value(&mut self, field: &'a str, v: &'a Value, pos: Pos) -> Result<(), Refused> {
        match v {
            Value::Variable(var) => {
                if !self.seen.insert((var.as_str(), field)) {
                    return Ok(());
                }
                let values = match self.variables.get(var) {
                    Some(v) => vec![v],
                    None => self.defaults.get(var.as_str()).cloned().unwrap_or_default(),
                };
                for v in values {
                    check_const(field, v).map_err(|e| at(e, Some(pos)))?;
                }
                Ok(())
            }
            Value::String(s) => check_string(field, s).map_err(|e| at(e, Some(pos))),
            Value::List(items) => {
                check_count(field, items.len()).map_err(|e| at(e, Some(pos)))?;
                items.iter().try_for_each(|i| self.value(field, i, pos))
            }
            Value::Object(fields) => fields
                .iter()
                .try_for_each(|(k, v)| self.value(k.as_str(), v, pos)),
            _ => Ok(()),
        }
    }
}

/// A variable's value (or a default) under `field`.
fn check_const(field: &str, v: &ConstValue) -> Result<(), AppError> {
    match v {
        ConstValue::String(s) => check_string(field, s),
        ConstValue::List(items) => {
            check_count(field, items.len())?;
            items.iter().try_for_each(|i| check_const(field, i))
        }
        ConstValue::Object(fields) => fields
            .iter()
            .try_for_each(|(k, v)| check_const(k.as_str(), v)),
        _ => Ok(()),
    }
}

pub fn check_string(field: &str, s: &str) -> Result<(), AppError> {
    if s.contains('\0') {
        return Err(AppError::bad_input(
            field,
            format!(
                "{field} : le caractère nul (U+0000) n'est pas accepté (NUL character refused)"
            ),
        ));
    }
    // Characters are counted only past the limit in bytes: a string has no more characters than bytes.
    let (max, n, unit) = match string_limit(field) {
        Length::Bytes(max) => (max, s.len(), "octets"),
        Length::Chars(max) if s.len() > max => (max, s.chars().count(), "caractères"),
        Length::Chars(max) => (max, 0, "caractères"),
    };
    if n > max {
        return Err(breach(
            field,
            "MAX_LENGTH",
            max,
            n,
            format!("{field} : {max} {unit} au plus, reçu {n} (too long)"),
        ));
    }
    Ok(())
}

fn check_count(field: &str, n: usize) -> Result<(), AppError> {
    let max = list_limit(field);
    if n > max {
        return Err(breach(
            field,
            "MAX_ITEMS",
            max,
            n,
            format!("{field} : {max} éléments au plus, reçu {n} (too many items)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(q: &str) -> Result<usize, String> {
        let doc = async_graphql::parser::parse_query(q).unwrap();
        expanded_size(&doc).map_err(|r| r.0.message())
    }

    #[test]
    fn fragments_are_measured_once_and_multiplied() {
        // `me`, its selection `id`: 2; a spread is a node too.
        assert_eq!(size("{ me { id } }"), Ok(2));
        assert_eq!(
            size("query { me { ...F } } fragment F on User { id email }"),
            Ok(2 + 2 + 2)
        );
        // F1 spreads F0 twice: 2 spreads + 2 × 2 fields = 6 each time it is used.
        let q = "{ me { ...F1 } } fragment F0 on User { id email } \
                 fragment F1 on User { ...F0 ...F0 }";
        assert_eq!(size(q), Ok((1 + 1 + 6) + 6 + 2));
    }

    #[test]
    fn cycles_and_depth_are_refused() {
        let e = size("{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }")
            .unwrap_err();
        assert!(e.contains("fragment cycle"), "{e}");
        let deep = format!("{{ {}id{} }}", "a { ".repeat(33), " }".repeat(33));
        assert!(size(&deep).unwrap_err().contains("too deeply"));
        let ok = format!("{{ {}id{} }}", "a { ".repeat(32), " }".repeat(32));
        assert!(size(&ok).is_ok());
    }

    #[test]
    fn tokens_are_counted_outside_comments() {
        assert_eq!(tokens("{ me { id } }").unwrap(), 6);
        // `query`, `(`, `$`, `s`, `:`, `String`, `!`, `)`, `{`, `a`, `(`, `s`, `:`, `$`, `s`,
        // `)`, `{`, `...`, `F`, `}`, `}`; the comment is none.
        let q = "query($s: String!) { a(s: $s) { ...F } } # a comment { [ (\n";
        assert_eq!(tokens(q).unwrap(), 21);
        // A string, whatever it holds, is one; `-1.5` is counted as two (an overcount).
        assert_eq!(tokens("{ a(s: \"x y { z\", n: -1.5) }").unwrap(), 12);
        let at = format!("{{{}}}", " a".repeat(MAX_QUERY_TOKENS - 2));
        assert!(scan(&at).is_ok());
        let over = format!("{{{}}}", " a".repeat(MAX_QUERY_TOKENS - 1));
        assert!(scan(&over).unwrap_err().message().contains("too long"));
    }

    #[test]
    fn nesting_ignores_strings_and_comments() {
        let deep = "[".repeat(MAX_NESTING);
        assert!(scan(&deep).is_ok());
        assert!(scan(&format!("{deep}[")).is_err());
        let quoted = format!(
            "{{ a(s: \"{x}\", b: \"\"\"{x}\\\"\"\"{x}\"\"\") # {x}\n }}",
            x = "(".repeat(200)
        );
        assert!(scan(&quoted).is_ok(), "{quoted}");
        // An escaped quote does not end a string.
        assert!(scan(&format!("{{ a(s: \"\\\"{}\") }}", "[".repeat(100))).is_ok());
    }

    #[test]
    fn string_limits_at_their_boundary() {
        assert!(check_string("email", &"a".repeat(254)).is_ok());
        assert!(check_string("email", &"a".repeat(255)).is_err());
        // Bytes for e-mails: 127 two-byte characters are 254 bytes, 128 are over.
        assert!(check_string("email", &"é".repeat(127)).is_ok());
        assert!(check_string("email", &"é".repeat(128)).is_err());
        // Characters elsewhere: 1 000 accented characters (2 000 bytes) pass.
        assert!(check_string("name", &"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(check_string("name", &"é".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(check_string("agenda", &"a".repeat(MAX_LONG_TEXT_LEN)).is_ok());
        assert!(check_string("agenda", &"a".repeat(MAX_LONG_TEXT_LEN + 1)).is_err());
        assert!(check_string("password", &"a".repeat(1_024)).is_ok());
        assert!(check_string("password", &"a".repeat(1_025)).is_err());
        assert!(check_string("trace", &"a".repeat(4_000)).is_ok());
        assert!(check_string("trace", &"a".repeat(4_001)).is_err());
        assert!(check_string("name", "a\0b").is_err());
        assert!(check_count("entryIds", MAX_REVIEW_BATCH).is_ok());
        assert!(check_count("entryIds", MAX_REVIEW_BATCH + 1).is_err());
        assert!(check_count("lots", MAX_LIST_ITEMS).is_ok());
        assert!(check_count("lots", MAX_LIST_ITEMS + 1).is_err());
    }
}
