//! Validation of one OpenVEX v0.2.0 document. Every error names the file and the JSON pointer
//! of the offending value (`vex.json: /statements/2/status: unknown status "fixd" ...`).

use chrono::{DateTime, Utc};
use golden_contracts::scan::{VexJustification, VexStatus};
use serde_json::{Map, Value};

use super::{Product, Statement, VexError, VexVulnerability};

/// `@context` values read (the versioned v0.2.0 one, and the unversioned alias of the latest).
pub const CONTEXTS: [&str; 2] = ["https://openvex.dev/ns/v0.2.0", "https://openvex.dev/ns"];

/// Where a value is: the file and its JSON pointer.
#[derive(Clone)]
struct At<'a> {
    file: &'a str,
    pointer: String,
}

impl<'a> At<'a> {
    fn key(&self, k: &str) -> At<'a> {
        At {
            file: self.file,
            pointer: format!(
                "{}/{}",
                self.pointer,
                k.replace('~', "~0").replace('/', "~1")
            ),
        }
    }

    fn index(&self, i: usize) -> At<'a> {
        At {
            file: self.file,
            pointer: format!("{}/{i}", self.pointer),
        }
    }

    fn err<T>(&self, message: impl Into<String>, hint: Option<&str>) -> Result<T, VexError> {
        Err(VexError::Invalid {
            file: self.file.to_string(),
            pointer: if self.pointer.is_empty() {
                "/".into()
            } else {
                self.pointer.clone()
            },
            message: message.into(),
            hint: hint.map(str::to_string),
        })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object<'v>(v: &'v Value, at: &At<'_>) -> Result<&'v Map<String, Value>, VexError> {
    match v {
        Value::Object(m) => Ok(m),
        other => at.err(format!("expected an object, found {}", kind(other)), None),
    }
}

fn array<'v>(v: &'v Value, at: &At<'_>) -> Result<&'v Vec<Value>, VexError> {
    match v {
        Value::Array(a) => Ok(a),
        other => at.err(format!("expected an array, found {}", kind(other)), None),
    }
}

/// A non-empty string (trimmed).
fn string(v: &Value, at: &At<'_>) -> Result<String, VexError> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::String(_) => at.err("is empty", None),
        other => at.err(format!("expected a string, found {}", kind(other)), None),
    }
}

fn required<'v>(m: &'v Map<String, Value>, key: &str, at: &At<'_>) -> Result<&'v Value, VexError> {
    match m.get(key) {
        Some(v) => Ok(v),
        None => at.key(key).err(
            format!("`{key}` is missing (OpenVEX v0.2.0 requires it)"),
            None,
        ),
    }
}

fn optional_string(
    m: &Map<String, Value>,
    key: &str,
    at: &At<'_>,
) -> Result<Option<String>, VexError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => string(v, &at.key(key)).map(Some),
    }
}

fn timestamp(v: &Value, at: &At<'_>) -> Result<(DateTime<Utc>, String), VexError> {
    let s = string(v, at)?;
    match DateTime::parse_from_rfc3339(&s) {
        Ok(t) => Ok((t.with_timezone(&Utc), s)),
        Err(e) => at.err(
            format!("timestamp \"{s}\" is not RFC 3339 ({e})"),
            Some("write it like 2026-01-31T12:00:00Z"),
        ),
    }
}

/// The statements of one document; `order` is the number of statements read before it.
pub fn document(bytes: &[u8], file: &str, order: usize) -> Result<Vec<Statement>, VexError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| VexError::Json {
        file: file.to_string(),
        detail: format!("{e}"),
    })?;
    let at = At {
        file,
        pointer: String::new(),
    };
    let m = object(&root, &at)?;
    let context = string(required(m, "@context", &at)?, &at.key("@context"))?;
    if !CONTEXTS.contains(&context.as_str()) {
        return at.key("@context").err(
            format!("unsupported context \"{context}\""),
            Some("this golden-scan reads OpenVEX v0.2.0 (`\"@context\": \"https://openvex.dev/ns/v0.2.0\"`)"),
        );
    }
    string(required(m, "@id", &at)?, &at.key("@id"))?;
    string(required(m, "author", &at)?, &at.key("author"))?;
    let doc_time = timestamp(required(m, "timestamp", &at)?, &at.key("timestamp"))?;
    match required(m, "version", &at)? {
        Value::Number(n) if n.as_u64().is_some_and(|n| n >= 1) => {}
        other => {
            return at.key("version").err(
                format!("expected an integer of 1 or more, found {other}"),
                None,
            );
        }
    }
    let sat = at.key("statements");
    let list = array(required(m, "statements", &at)?, &sat)?;
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        out.push(statement(s, &sat.index(i), &doc_time, order + i)?);
    }
    Ok(out)
}

fn statement(
    v: &Value,
    at: &At<'_>,
    doc_time: &(DateTime<Utc>, String),
    order: usize,
) -> Result<Statement, VexError> {
    let m = object(v, at)?;
    let vulnerability = vulnerability(required(m, "vulnerability", at)?, &at.key("vulnerability"))?;
    // The schema does not require products; a statement without any applies to no image.
    let pat = at.key("products");
    let products = match m.get("products").filter(|p| !p.is_null()) {
        None => Vec::new(),
        Some(p) => array(p, &pat)?
            .iter()
            .enumerate()
            .map(|(i, p)| product(p, &pat.index(i)))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let status = status(required(m, "status", at)?, &at.key("status"))?;
    let justification = match m.get("justification") {
        None | Some(Value::Null) => None,
        Some(j) => Some(justification(j, &at.key("justification"))?),
    };
    let impact_statement = optional_string(m, "impact_statement", at)?;
    let action_statement = optional_string(m, "action_statement", at)?;
    if status == VexStatus::NotAffected && justification.is_none() && impact_statement.is_none() {
        return at.key("justification").err(
            "a not_affected statement needs a `justification` or an `impact_statement`",
            Some(&format!("justifications: {}", justification_list())),
        );
    }
    if status == VexStatus::Affected && action_statement.is_none() {
        return at.key("action_statement").err(
            "an affected statement needs an `action_statement` (what users should do)",
            None,
        );
    }
    let (timestamp, timestamp_text) = match m.get("timestamp") {
        None | Some(Value::Null) => doc_time.clone(),
        Some(t) => self::timestamp(t, &at.key("timestamp"))?,
    };
    Ok(Statement {
        source: format!("{}#{}", at.file, at.pointer),
        order,
        vulnerability,
        products,
        status,
        justification,
        impact_statement,
        action_statement,
        timestamp,
        timestamp_text,
    })
}

fn vulnerability(v: &Value, at: &At<'_>) -> Result<VexVulnerability, VexError> {
    let m = match v {
        // v0.0.x wrote the id as a plain string.
        Value::String(_) => {
            return at.err(
                "expected an object with `name` (OpenVEX v0.2.0), found a string",
                Some("write `\"vulnerability\": {\"name\": \"CVE-2024-1234\"}`"),
            );
        }
        other => object(other, at)?,
    };
    let name = string(required(m, "name", at)?, &at.key("name"))?;
    let id = optional_string(m, "@id", at)?;
    let mut aliases = Vec::new();
    if let Some(a) = m.get("aliases").filter(|a| !a.is_null()) {
        let aat = at.key("aliases");
        for (i, x) in array(a, &aat)?.iter().enumerate() {
            aliases.push(string(x, &aat.index(i))?);
        }
    }
    Ok(VexVulnerability { name, id, aliases })
}

/// `@id` or `identifiers.purl` of a product or subcomponent (at least one is required).
fn component(
    m: &Map<String, Value>,
    at: &At<'_>,
) -> Result<(Option<String>, Option<String>), VexError> {
    let id = optional_string(m, "@id", at)?;
    let mut purl = None;
    if let Some(ids) = m.get("identifiers").filter(|v| !v.is_null()) {
        let iat = at.key("identifiers");
        purl = optional_string(object(ids, &iat)?, "purl", &iat)?;
    }
    if let Some(p) = &purl
        && super::purl::Purl::parse(p).is_none()
    {
        return at.key("identifiers").key("purl").err(
            format!("\"{p}\" is not a package URL"),
            Some("write `pkg:TYPE/NAMESPACE/NAME@VERSION`"),
        );
    }
    if id.is_none() && purl.is_none() {
        return at.err(
            "has neither `@id` nor `identifiers.purl`",
            Some("identify it by purl, e.g. `pkg:deb/debian/openssl`"),
        );
    }
    Ok((id, purl))
}

fn product(v: &Value, at: &At<'_>) -> Result<Product, VexError> {
    let m = object(v, at)?;
    let (id, purl) = component(m, at)?;
    let mut subcomponents = Vec::new();
    if let Some(s) = m.get("subcomponents").filter(|v| !v.is_null()) {
        let sat = at.key("subcomponents");
        for (i, c) in array(s, &sat)?.iter().enumerate() {
            let cat = sat.index(i);
            let (cid, cpurl) = component(object(c, &cat)?, &cat)?;
            subcomponents.extend(cpurl.or(cid));
        }
    }
    Ok(Product {
        id,
        purl,
        subcomponents,
    })
}

fn status(v: &Value, at: &At<'_>) -> Result<VexStatus, VexError> {
    let s = string(v, at)?;
    match VexStatus::ALL.iter().find(|x| x.as_str() == s) {
        Some(x) => Ok(*x),
        None => at.err(
            format!(
                "unknown status \"{s}\" (expected {})",
                VexStatus::ALL.map(|x| x.as_str()).join(", ")
            ),
            None,
        ),
    }
}

fn justification_list() -> String {
    VexJustification::ALL.map(|x| x.as_str()).join(", ")
}

fn justification(v: &Value, at: &At<'_>) -> Result<VexJustification, VexError> {
    let s = string(v, at)?;
    match VexJustification::ALL.iter().find(|x| x.as_str() == s) {
        Some(x) => Ok(*x),
        None => at.err(
            format!(
                "unknown justification \"{s}\" (expected {})",
                justification_list()
            ),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.invalid/vex/1",
            "author": "Platform team",
            "timestamp": "2026-01-10T10:00:00Z",
            "version": 1,
            "statements": [
                {
                    "vulnerability": { "name": "CVE-2024-0001", "aliases": ["GHSA-aaaa-bbbb-cccc"] },
                    "products": [{ "@id": "pkg:oci/nginx", "subcomponents": [{ "@id": "pkg:deb/debian/libssl3" }] }],
                    "status": "not_affected",
                    "justification": "vulnerable_code_not_in_execute_path"
                },
                {
                    "vulnerability": { "name": "CVE-2024-0002" },
                    "products": [{ "identifiers": { "purl": "pkg:oci/nginx" } }],
                    "status": "affected",
                    "action_statement": "upgrade to 1.28",
                    "timestamp": "2026-02-01T00:00:00+01:00"
                }
            ]
        })
    }

    fn parse(v: &Value) -> Result<Vec<Statement>, VexError> {
        document(v.to_string().as_bytes(), "vex.json", 0)
    }

    /// Set (or with `None`, remove) the value at a JSON pointer of a valid document; the error.
    fn error_with(pointer: &str, value: Option<Value>) -> String {
        let mut doc = valid();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = doc.pointer_mut(parent).unwrap();
        match (target, value) {
            (Value::Object(m), Some(v)) => {
                m.insert(key.to_string(), v);
            }
            (Value::Object(m), None) => {
                m.remove(key);
            }
            (Value::Array(a), Some(v)) => a[key.parse::<usize>().unwrap()] = v,
            _ => panic!("bad pointer {pointer}"),
        }
        parse(&doc).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_document_gives_its_statements() {
        let s = parse(&valid()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].status, VexStatus::NotAffected);
        assert_eq!(
            s[0].justification,
            Some(VexJustification::VulnerableCodeNotInExecutePath)
        );
        assert_eq!(s[0].source, "vex.json#/statements/0");
        assert_eq!(
            s[0].products[0].subcomponents,
            vec!["pkg:deb/debian/libssl3"]
        );
        // The document's timestamp unless the statement has its own.
        assert_eq!(s[0].timestamp_text, "2026-01-10T10:00:00Z");
        assert_eq!(s[1].timestamp.to_rfc3339(), "2026-01-31T23:00:00+00:00");
        assert_eq!(s[1].products[0].purl.as_deref(), Some("pkg:oci/nginx"));
        assert_eq!(s[1].action_statement.as_deref(), Some("upgrade to 1.28"));
        assert_eq!((s[0].order, s[1].order), (0, 1));
    }

    #[test]
    fn the_example_error_of_the_issue() {
        assert_eq!(
            error_with("/statements/1/status", Some(json!("fixd"))),
            "vex.json: /statements/1/status: unknown status \"fixd\" (expected not_affected, affected, fixed, under_investigation)"
        );
    }

    #[test]
    fn every_error_names_the_file_and_the_json_pointer() {
        let cases: Vec<(&str, Option<Value>, &str, &str)> = vec![
            ("/@context", None, "/@context", "missing"),
            (
                "/@context",
                Some(json!("https://openvex.dev/ns/v0.0.1")),
                "/@context",
                "unsupported context",
            ),
            (
                "/@id",
                Some(json!(7)),
                "/@id",
                "expected a string, found a number",
            ),
            ("/author", Some(json!("  ")), "/author", "is empty"),
            (
                "/timestamp",
                Some(json!("yesterday")),
                "/timestamp",
                "not RFC 3339",
            ),
            ("/version", Some(json!("1")), "/version", "integer"),
            (
                "/statements",
                Some(json!({})),
                "/statements",
                "expected an array, found an object",
            ),
            (
                "/statements/0",
                Some(json!([])),
                "/statements/0",
                "expected an object, found an array",
            ),
            (
                "/statements/0/vulnerability",
                Some(json!("CVE-1")),
                "/statements/0/vulnerability",
                "found a string",
            ),
            (
                "/statements/0/vulnerability/name",
                None,
                "/statements/0/vulnerability/name",
                "missing",
            ),
            (
                "/statements/0/vulnerability/aliases",
                Some(json!(["x", 3])),
                "/statements/0/vulnerability/aliases/1",
                "expected a string",
            ),
            (
                "/statements/0/products",
                Some(json!("pkg:oci/nginx")),
                "/statements/0/products",
                "expected an array, found a string",
            ),
            (
                "/statements/0/products/0",
                Some(json!({"subcomponents": []})),
                "/statements/0/products/0",
                "neither `@id` nor `identifiers.purl`",
            ),
            (
                "/statements/0/products/0",
                Some(json!({"identifiers": {"purl": "nginx"}})),
                "/statements/0/products/0/identifiers/purl",
                "not a package URL",
            ),
            (
                "/statements/0/products/0",
                Some(json!({"@id": "pkg:oci/x", "subcomponents": [{"@id": 1}]})),
                "/statements/0/products/0/subcomponents/0/@id",
                "expected a string",
            ),
            (
                "/statements/0/products/0",
                Some(json!({"@id": "pkg:oci/x", "subcomponents": {}})),
                "/statements/0/products/0/subcomponents",
                "expected an array",
            ),
            (
                "/statements/0/status",
                None,
                "/statements/0/status",
                "missing",
            ),
            (
                "/statements/0/justification",
                Some(json!("because")),
                "/statements/0/justification",
                "unknown justification \"because\" (expected component_not_present,",
            ),
            (
                "/statements/0/justification",
                None,
                "/statements/0/justification",
                "needs a `justification` or an `impact_statement`",
            ),
            (
                "/statements/1/action_statement",
                None,
                "/statements/1/action_statement",
                "needs an `action_statement`",
            ),
            (
                "/statements/1/timestamp",
                Some(json!("2026-13-01T00:00:00Z")),
                "/statements/1/timestamp",
                "not RFC 3339",
            ),
            (
                "/statements/1/impact_statement",
                Some(json!(false)),
                "/statements/1/impact_statement",
                "found a boolean",
            ),
        ];
        for (at, value, pointer, says) in cases {
            let e = error_with(at, value);
            assert!(
                e.starts_with(&format!("vex.json: {pointer}: ")) && e.contains(says),
                "{at}: {e}"
            );
        }
    }

    #[test]
    fn not_json_and_not_an_object_are_errors_naming_the_file() {
        let e = document(b"{\"@context\":", "dir/v.json", 0)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("dir/v.json: not a JSON document: "), "{e}");
        let e = document(b"[]", "v.json", 0).unwrap_err().to_string();
        assert_eq!(e, "v.json: /: expected an object, found an array");
    }

    #[test]
    fn impact_statement_alone_justifies_not_affected() {
        let mut doc = valid();
        let s = doc
            .pointer_mut("/statements/0")
            .unwrap()
            .as_object_mut()
            .unwrap();
        s.remove("justification");
        s.insert("impact_statement".into(), json!("the CLI is never run"));
        let st = parse(&doc).unwrap();
        assert_eq!(st[0].justification, None);
        assert_eq!(
            st[0].impact_statement.as_deref(),
            Some("the CLI is never run")
        );
    }
}
