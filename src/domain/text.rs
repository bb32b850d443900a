//! Checks on free text typed by people.

use super::{RuleResult, RuleViolation};

/// Longest name or title accepted; longer input is a paste gone wrong.
pub const MAX_TEXT_LEN: usize = 300;

/// Trims a required text and refuses it when blank or too long.
pub fn required(field: &'static str, value: &str) -> RuleResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(RuleViolation::new(
            field,
            format!("{field} : ce champ est obligatoire (field is required)"),
        ));
    }
    if trimmed.chars().count() > MAX_TEXT_LEN {
        return Err(RuleViolation::new(
            field,
            format!("{field} : {MAX_TEXT_LEN} caractères au plus (too long)"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Trims an optional text; blank becomes `None`.
pub fn optional(field: &'static str, value: Option<&str>) -> RuleResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required(field, v).map(Some),
    }
}

/// Longest free text (an agenda, minutes).
pub const MAX_LONG_TEXT_LEN: usize = 20_000;

/// Trims a long optional text (agenda, minutes); blank becomes `None`.
pub fn long(field: &'static str, value: Option<&str>) -> RuleResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > MAX_LONG_TEXT_LEN => Err(RuleViolation::new(
            field,
            format!("{field} : {MAX_LONG_TEXT_LEN} caractères au plus (too long)"),
        )),
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// A minimal e-mail shape check: one `@`, something on both sides, a dot in the domain.
pub fn email(field: &'static str, value: Option<&str>) -> RuleResult<Option<String>> {
    let Some(v) = optional(field, value)? else {
        return Ok(None);
    };
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(Some(v))
    } else {
        Err(RuleViolation::new(
            field,
            format!("{field} : adresse e-mail invalide « {v} » (invalid e-mail)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_refused_and_text_is_trimmed() {
        assert_eq!(required("name", "  ").unwrap_err().field, "name");
        assert_eq!(required("name", " Ville ").unwrap(), "Ville");
        assert_eq!(optional("x", Some("   ")).unwrap(), None);
    }

    #[test]
    fn length_boundary() {
        assert!(required("name", &"a".repeat(MAX_TEXT_LEN)).is_ok());
        assert!(required("name", &"a".repeat(MAX_TEXT_LEN + 1)).is_err());
    }

    #[test]
    fn email_shapes() {
        assert!(email("email", Some("a@b.fr")).unwrap().is_some());
        for bad in ["a", "a@b", "@b.fr", "a@.fr", "a b@c.fr", "a@b.fr."] {
            assert!(email("email", Some(bad)).is_err(), "{bad}");
        }
    }
}

/// Folds text for search: lower case, French accents and ligatures removed, spaces collapsed.
/// Stored beside searchable fields so both stores match "ecole" with "École" the same way.
pub fn search_key(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        for c in part.chars().flat_map(char::to_lowercase) {
            match c {
                'à' | 'â' | 'ä' | 'á' | 'ã' => out.push('a'),
                'ç' => out.push('c'),
                'é' | 'è' | 'ê' | 'ë' => out.push('e'),
                'î' | 'ï' | 'í' | 'ì' => out.push('i'),
                'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
                'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
                'ÿ' => out.push('y'),
                'ñ' => out.push('n'),
                'œ' => out.push_str("oe"),
                'æ' => out.push_str("ae"),
                '\u{2019}' => out.push('\''),
                c => out.push(c),
            }
        }
        out.push(' ');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod search_tests {
    use super::search_key;

    #[test]
    fn folds_case_accents_and_ligatures() {
        assert_eq!(
            search_key(&["Réhabilitation  ÉCOLE", "Cœur"]),
            "rehabilitation ecole coeur"
        );
        assert_eq!(search_key(&["M’Gombani"]), "m'gombani");
    }
}
