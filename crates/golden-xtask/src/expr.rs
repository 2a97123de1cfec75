//! GitHub Actions expressions (`${{ ... }}`), the subset composite actions use: literals,
//! context lookups (`inputs.x`, `steps.id.outputs.k`, `github.action_path`, `runner.temp`,
//! `env.X`), `!`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, parentheses, indexing, and the
//! functions `contains`, `startsWith`, `endsWith`, `format`, `join`, `toJSON`, `fromJSON` and
//! the status functions `success`, `failure`, `always`, `cancelled`.
//!
//! Semantics follow GitHub's documentation: loose equality with coercion to numbers when the
//! types differ, case-insensitive string comparison, `&&`/`||` returning an operand, and the
//! falsy values `false`, `0`, `-0`, `""`, `null` and `NaN`.

use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExprError {
    #[error("expression `{expr}`: {message}")]
    Syntax { expr: String, message: String },
    #[error("expression `{expr}`: {message}")]
    Eval { expr: String, message: String },
    #[error("unclosed `${{{{` in `{0}`")]
    Unclosed(String),
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

impl From<&Json> for Value {
    fn from(j: &Json) -> Self {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(a) => Value::Array(a.iter().map(Value::from).collect()),
            Json::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), Value::from(v))).collect())
            }
        }
    }
}

impl Value {
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Array(_) | Value::Object(_) => true,
        }
    }

    fn to_number(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::String(s) => {
                let t = s.trim();
                if t.is_empty() {
                    0.0
                } else if let Some(h) = t.strip_prefix("0x") {
                    i64::from_str_radix(h, 16)
                        .map(|v| v as f64)
                        .unwrap_or(f64::NAN)
                } else {
                    t.parse::<f64>().unwrap_or(f64::NAN)
                }
            }
            Value::Array(_) | Value::Object(_) => f64::NAN,
        }
    }

    /// The string GitHub substitutes for `${{ value }}`.
    pub fn to_display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => format_number(*n),
            Value::String(s) => s.clone(),
            Value::Array(_) | Value::Object(_) => {
                serde_json::to_string_pretty(&self.to_json()).unwrap_or_default()
            }
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    Json::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n)
                        .map(Json::Number)
                        .unwrap_or(Json::Null)
                }
            }
            Value::String(s) => Json::String(s.clone()),
            Value::Array(a) => Json::Array(a.iter().map(Value::to_json).collect()),
            Value::Object(o) => {
                Json::Object(o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    fn get(&self, key: &str) -> Value {
        match self {
            Value::Object(o) => o
                .get(key)
                .or_else(|| {
                    o.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| v)
                })
                .cloned()
                .unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }
}

fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x.to_lowercase() == y.to_lowercase(),
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => a == b,
        _ => {
            let (x, y) = (a.to_number(), b.to_number());
            x == y
        }
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        _ => a.to_number().partial_cmp(&b.to_number()),
    }
}

/// What an expression can see.
#[derive(Debug, Clone, Default)]
pub struct Contexts {
    /// Top-level contexts by name (`inputs`, `github`, `runner`, `env`, `steps`, `job`, ...).
    pub values: BTreeMap<String, Value>,
    /// Whether every earlier step succeeded (what `success()` answers).
    pub job_ok: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Not,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Str(String),
    Num(f64),
    Ident(String),
    Star,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '[' => {
                out.push(Tok::LBracket);
                i += 1
            }
            ']' => {
                out.push(Tok::RBracket);
                i += 1
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit())
                || out
                    .last()
                    .is_some_and(|t| matches!(t, Tok::Ident(_) | Tok::RParen | Tok::RBracket)) =>
            {
                out.push(Tok::Dot);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '*' => {
                out.push(Tok::Star);
                i += 1
            }
            '!' if next == Some('=') => {
                out.push(Tok::Ne);
                i += 2
            }
            '!' => {
                out.push(Tok::Not);
                i += 1
            }
            '=' if next == Some('=') => {
                out.push(Tok::Eq);
                i += 2
            }
            '<' if next == Some('=') => {
                out.push(Tok::Le);
                i += 2
            }
            '<' => {
                out.push(Tok::Lt);
                i += 1
            }
            '>' if next == Some('=') => {
                out.push(Tok::Ge);
                i += 2
            }
            '>' => {
                out.push(Tok::Gt);
                i += 1
            }
            '&' if next == Some('&') => {
                out.push(Tok::And);
                i += 2
            }
            '|' if next == Some('|') => {
                out.push(Tok::Or);
                i += 2
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if b.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = i;
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == '.'
                        || ((b[i] == '-' || b[i] == '+') && matches!(b[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let text: String = b[start..i].iter().collect();
                let n = if let Some(h) = text.strip_prefix("0x") {
                    i64::from_str_radix(h, 16)
                        .map(|v| v as f64)
                        .map_err(|_| format!("bad number `{text}`"))?
                } else {
                    text.parse::<f64>()
                        .map_err(|_| format!("bad number `{text}`"))?
                };
                out.push(Tok::Num(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == '-') {
                    i += 1;
                }
                out.push(Tok::Ident(b[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character `{other}`")),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Node {
    Lit(Value),
    Context(String),
    Prop(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    Call(String, Vec<Node>),
    Not(Box<Node>),
    Bin(Tok, Box<Node>, Box<Node>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.bump() {
            Some(x) if x == t => Ok(()),
            other => Err(format!("expected {t:?}, found {other:?}")),
        }
    }
    fn or(&mut self) -> Result<Node, String> {
        let mut l = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.bump();
            let r = self.and()?;
            l = Node::Bin(Tok::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Node, String> {
        let mut l = self.eq()?;
        while self.peek() == Some(&Tok::And) {
            self.bump();
            let r = self.eq()?;
            l = Node::Bin(Tok::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn eq(&mut self) -> Result<Node, String> {
        let mut l = self.cmp()?;
        while let Some(t @ (Tok::Eq | Tok::Ne)) = self.peek().cloned() {
            self.bump();
            let r = self.cmp()?;
            l = Node::Bin(t, Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn cmp(&mut self) -> Result<Node, String> {
        let mut l = self.unary()?;
        while let Some(t @ (Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge)) = self.peek().cloned() {
            self.bump();
            let r = self.unary()?;
            l = Node::Bin(t, Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Node, String> {
        if self.peek() == Some(&Tok::Not) {
            self.bump();
            return Ok(Node::Not(Box::new(self.unary()?)));
        }
        self.postfix()
    }
    fn postfix(&mut self) -> Result<Node, String> {
        let mut n = self.primary()?;
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.bump();
                    match self.bump() {
                        Some(Tok::Ident(name)) => n = Node::Prop(Box::new(n), name),
                        Some(Tok::Star) => {
                            return Err(
                                "object filters (`.*`) are not supported by the harness".into()
                            );
                        }
                        other => {
                            return Err(format!(
                                "expected a property name after `.`, found {other:?}"
                            ));
                        }
                    }
                }
                Some(Tok::LBracket) => {
                    self.bump();
                    let i = self.or()?;
                    self.expect(Tok::RBracket)?;
                    n = Node::Index(Box::new(n), Box::new(i));
                }
                _ => return Ok(n),
            }
        }
    }
    fn primary(&mut self) -> Result<Node, String> {
        match self.bump() {
            Some(Tok::LParen) => {
                let n = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(n)
            }
            Some(Tok::Str(s)) => Ok(Node::Lit(Value::String(s))),
            Some(Tok::Num(n)) => Ok(Node::Lit(Value::Number(n))),
            Some(Tok::Ident(id)) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.bump();
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        loop {
                            args.push(self.or()?);
                            match self.bump() {
                                Some(Tok::Comma) => continue,
                                Some(Tok::RParen) => break,
                                other => {
                                    return Err(format!("expected `,` or `)`, found {other:?}"));
                                }
                            }
                        }
                    } else {
                        self.bump();
                    }
                    return Ok(Node::Call(id, args));
                }
                Ok(match id.as_str() {
                    "true" => Node::Lit(Value::Bool(true)),
                    "false" => Node::Lit(Value::Bool(false)),
                    "null" => Node::Lit(Value::Null),
                    "NaN" => Node::Lit(Value::Number(f64::NAN)),
                    "Infinity" => Node::Lit(Value::Number(f64::INFINITY)),
                    _ => Node::Context(id),
                })
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

fn parse(expr: &str) -> Result<Node, ExprError> {
    let syntax = |message: String| ExprError::Syntax {
        expr: expr.to_string(),
        message,
    };
    let toks = lex(expr).map_err(syntax)?;
    if toks.is_empty() {
        return Err(syntax("empty expression".into()));
    }
    let mut p = Parser { toks, pos: 0 };
    let n = p.or().map_err(syntax)?;
    if p.pos < p.toks.len() {
        return Err(syntax(format!("unexpected {:?}", p.toks[p.pos])));
    }
    Ok(n)
}

fn uses_status_function(n: &Node) -> bool {
    match n {
        Node::Call(name, args) => {
            matches!(
                name.to_ascii_lowercase().as_str(),
                "success" | "failure" | "always" | "cancelled"
            ) || args.iter().any(uses_status_function)
        }
        Node::Prop(a, _) | Node::Not(a) => uses_status_function(a),
        Node::Index(a, b) | Node::Bin(_, a, b) => {
            uses_status_function(a) || uses_status_function(b)
        }
        Node::Lit(_) | Node::Context(_) => false,
    }
}

fn eval(n: &Node, cx: &Contexts) -> Result<Value, String> {
    Ok(match n {
        Node::Lit(v) => v.clone(),
        Node::Context(name) => {
            let key = name.to_ascii_lowercase();
            match cx.values.get(&key) {
                Some(v) => v.clone(),
                None => return Err(format!("unknown context `{name}`")),
            }
        }
        Node::Prop(base, name) => eval(base, cx)?.get(name),
        Node::Index(base, idx) => {
            let b = eval(base, cx)?;
            let i = eval(idx, cx)?;
            match (&b, &i) {
                (Value::Array(a), _) => {
                    let k = i.to_number();
                    if k.is_nan() || k < 0.0 {
                        Value::Null
                    } else {
                        a.get(k as usize).cloned().unwrap_or(Value::Null)
                    }
                }
                (Value::Object(_), Value::String(s)) => b.get(s),
                _ => Value::Null,
            }
        }
        Node::Not(a) => Value::Bool(!eval(a, cx)?.truthy()),
        Node::Bin(op, a, b) => {
            let l = eval(a, cx)?;
            match op {
                Tok::And => {
                    if !l.truthy() {
                        l
                    } else {
                        eval(b, cx)?
                    }
                }
                Tok::Or => {
                    if l.truthy() {
                        l
                    } else {
                        eval(b, cx)?
                    }
                }
                _ => {
                    let r = eval(b, cx)?;
                    use std::cmp::Ordering::*;
                    Value::Bool(match op {
                        Tok::Eq => loose_eq(&l, &r),
                        Tok::Ne => !loose_eq(&l, &r),
                        Tok::Lt => compare(&l, &r) == Some(Less),
                        Tok::Le => matches!(compare(&l, &r), Some(Less | Equal)),
                        Tok::Gt => compare(&l, &r) == Some(Greater),
                        Tok::Ge => matches!(compare(&l, &r), Some(Greater | Equal)),
                        _ => return Err(format!("bad operator {op:?}")),
                    })
                }
            }
        }
        Node::Call(name, args) => call(name, args, cx)?,
    })
}

fn call(name: &str, args: &[Node], cx: &Contexts) -> Result<Value, String> {
    let vals = args
        .iter()
        .map(|a| eval(a, cx))
        .collect::<Result<Vec<_>, _>>()?;
    let arity = |lo: usize, hi: usize| -> Result<(), String> {
        if vals.len() < lo || vals.len() > hi {
            Err(format!(
                "{name}() takes {lo}..={hi} arguments, got {}",
                vals.len()
            ))
        } else {
            Ok(())
        }
    };
    let s = |v: &Value| v.to_display().to_lowercase();
    Ok(match name.to_ascii_lowercase().as_str() {
        "success" => {
            arity(0, 0)?;
            Value::Bool(cx.job_ok)
        }
        "failure" => {
            arity(0, 0)?;
            Value::Bool(!cx.job_ok)
        }
        "always" => {
            arity(0, 0)?;
            Value::Bool(true)
        }
        "cancelled" => {
            arity(0, 0)?;
            Value::Bool(false)
        }
        "contains" => {
            arity(2, 2)?;
            match &vals[0] {
                Value::Array(a) => Value::Bool(a.iter().any(|x| loose_eq(x, &vals[1]))),
                other => Value::Bool(s(other).contains(&s(&vals[1]))),
            }
        }
        "startswith" => {
            arity(2, 2)?;
            Value::Bool(s(&vals[0]).starts_with(&s(&vals[1])))
        }
        "endswith" => {
            arity(2, 2)?;
            Value::Bool(s(&vals[0]).ends_with(&s(&vals[1])))
        }
        "format" => {
            arity(1, usize::MAX)?;
            Value::String(format_fn(&vals[0].to_display(), &vals[1..])?)
        }
        "join" => {
            arity(1, 2)?;
            let sep = vals
                .get(1)
                .map(Value::to_display)
                .unwrap_or_else(|| ",".into());
            match &vals[0] {
                Value::Array(a) => Value::String(
                    a.iter()
                        .map(Value::to_display)
                        .collect::<Vec<_>>()
                        .join(&sep),
                ),
                other => Value::String(other.to_display()),
            }
        }
        "tojson" => {
            arity(1, 1)?;
            Value::String(serde_json::to_string_pretty(&vals[0].to_json()).unwrap_or_default())
        }
        "fromjson" => {
            arity(1, 1)?;
            let text = vals[0].to_display();
            let j: Json = serde_json::from_str(&text).map_err(|e| format!("fromJSON: {e}"))?;
            Value::from(&j)
        }
        "hashfiles" => return Err("hashFiles() is not supported by the harness".into()),
        other => return Err(format!("unknown function `{other}`")),
    })
}

fn format_fn(fmt: &str, args: &[Value]) -> Result<String, String> {
    let c: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '{' if c.get(i + 1) == Some(&'{') => {
                out.push('{');
                i += 2;
            }
            '}' if c.get(i + 1) == Some(&'}') => {
                out.push('}');
                i += 2;
            }
            '{' => {
                let end = c[i..]
                    .iter()
                    .position(|&x| x == '}')
                    .ok_or("format(): unclosed `{`")?
                    + i;
                let idx: usize = c[i + 1..end]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .map_err(|_| "format(): bad placeholder".to_string())?;
                out.push_str(
                    &args
                        .get(idx)
                        .ok_or("format(): missing argument")?
                        .to_display(),
                );
                i = end + 1;
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Evaluate one expression (without the `${{ }}`).
pub fn evaluate(expr: &str, cx: &Contexts) -> Result<Value, ExprError> {
    let n = parse(expr)?;
    eval(&n, cx).map_err(|message| ExprError::Eval {
        expr: expr.to_string(),
        message,
    })
}

/// Split a string into literal text and `${{ expr }}` parts.
fn segments(text: &str) -> Result<Vec<(bool, String)>, ExprError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        if start > 0 {
            out.push((false, rest[..start].to_string()));
        }
        let body = &rest[start + 3..];
        // Find the closing `}}` outside string literals.
        let chars: Vec<(usize, char)> = body.char_indices().collect();
        let mut in_str = false;
        let mut end = None;
        let mut k = 0;
        while k < chars.len() {
            let (pos, ch) = chars[k];
            if ch == '\'' {
                in_str = !in_str;
            } else if !in_str && ch == '}' && chars.get(k + 1).map(|c| c.1) == Some('}') {
                end = Some(pos);
                break;
            }
            k += 1;
        }
        let end = end.ok_or_else(|| ExprError::Unclosed(text.to_string()))?;
        out.push((true, body[..end].trim().to_string()));
        rest = &body[end + 2..];
    }
    if !rest.is_empty() {
        out.push((false, rest.to_string()));
    }
    Ok(out)
}

/// Substitute every `${{ expr }}` in `text`.
pub fn interpolate(text: &str, cx: &Contexts) -> Result<String, ExprError> {
    let mut out = String::new();
    for (is_expr, part) in segments(text)? {
        if is_expr {
            out.push_str(&evaluate(&part, cx)?.to_display());
        } else {
            out.push_str(&part);
        }
    }
    Ok(out)
}

/// The expressions inside every `${{ }}` of `text`.
pub fn expressions(text: &str) -> Result<Vec<String>, ExprError> {
    Ok(segments(text)?
        .into_iter()
        .filter(|(e, _)| *e)
        .map(|(_, s)| s)
        .collect())
}

/// Check that `expr` (without `${{ }}`) is a well-formed expression; contexts are not resolved.
pub fn check_syntax(expr: &str) -> Result<(), ExprError> {
    parse(expr).map(|_| ())
}

/// True when `text` holds an expression.
pub fn has_expression(text: &str) -> bool {
    text.contains("${{")
}

/// Evaluate a step's `if:` as the runner does: with or without `${{ }}`, and wrapped in
/// `success() && (...)` unless it calls a status function itself.
pub fn condition(text: Option<&str>, cx: &Contexts) -> Result<bool, ExprError> {
    let raw = text.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return Ok(cx.job_ok);
    }
    let expr = match segments(raw)?.as_slice() {
        [(true, e)] => e.clone(),
        parts if parts.iter().all(|(e, _)| !e) => raw.to_string(),
        _ => {
            // Mixed text: the runner evaluates the interpolated string's truthiness.
            let s = interpolate(raw, cx)?;
            return Ok(cx.job_ok && !s.is_empty());
        }
    };
    let n = parse(&expr)?;
    let v = eval(&n, cx).map_err(|message| ExprError::Eval {
        expr: expr.clone(),
        message,
    })?;
    if uses_status_function(&n) {
        Ok(v.truthy())
    } else {
        Ok(cx.job_ok && v.truthy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> Contexts {
        let j = serde_json::json!({
            "inputs": {"push": "true", "empty": "", "list": "a\nb", "n": "3"},
            "steps": {"plan": {"outputs": {"has-bases": "false", "bases": "{\"include\":[{\"id\":\"x\"}]}"}, "outcome": "success"}},
            "runner": {"temp": "/tmp/r", "os": "Linux"},
            "github": {"action_path": "/a/b"},
        });
        let mut c = Contexts {
            job_ok: true,
            ..Contexts::default()
        };
        if let Json::Object(o) = j {
            for (k, v) in o {
                c.values.insert(k, Value::from(&v));
            }
        }
        c
    }

    fn ev(e: &str) -> Value {
        evaluate(e, &cx()).unwrap()
    }

    #[test]
    fn lookups_and_operators() {
        assert_eq!(ev("inputs.push == 'true'"), Value::Bool(true));
        assert_eq!(
            ev("inputs.push == 'TRUE'"),
            Value::Bool(true),
            "string equality ignores case"
        );
        assert_eq!(ev("inputs.empty || 'dflt'"), Value::String("dflt".into()));
        assert_eq!(ev("inputs.push && 'yes'"), Value::String("yes".into()));
        assert_eq!(
            ev("steps.plan.outputs.has-bases"),
            Value::String("false".into())
        );
        assert_eq!(
            ev("steps.plan.outputs.has-bases == 'true'"),
            Value::Bool(false)
        );
        assert_eq!(ev("!inputs.empty"), Value::Bool(true));
        assert_eq!(ev("inputs.n == 3"), Value::Bool(true), "coerced to number");
        assert_eq!(ev("inputs.n > 2 && inputs.n <= 3"), Value::Bool(true));
        assert_eq!(ev("inputs['push']"), Value::String("true".into()));
        assert_eq!(ev("inputs.missing"), Value::Null);
        assert_eq!(
            ev("fromJSON(steps.plan.outputs.bases).include[0].id"),
            Value::String("x".into())
        );
        assert_eq!(
            ev("format('{0}/x-{1}{{}}', runner.temp, 2)"),
            Value::String("/tmp/r/x-2{}".into())
        );
        assert_eq!(ev("contains(inputs.list, 'B')"), Value::Bool(true));
        assert_eq!(
            ev("startsWith(github.action_path, '/A')"),
            Value::Bool(true)
        );
        assert_eq!(ev("null == 0"), Value::Bool(true));
        assert_eq!(ev("'' == 0"), Value::Bool(true));
        assert_eq!(ev("'abc' == 0"), Value::Bool(false));
        assert_eq!(ev("(1 == 1) && !(2 < 1)"), Value::Bool(true));
        assert_eq!(ev("-1.5e1 < 0"), Value::Bool(true));
    }

    #[test]
    fn interpolation_and_conditions() {
        let c = cx();
        assert_eq!(
            interpolate("${{ runner.temp }}/golden ${{ inputs.push }}", &c).unwrap(),
            "/tmp/r/golden true"
        );
        assert_eq!(interpolate("a ${{ 'x}}y' }} b", &c).unwrap(), "a x}}y b");
        assert!(matches!(
            interpolate("${{ inputs.push", &c),
            Err(ExprError::Unclosed(_))
        ));
        assert!(condition(Some("inputs.push == 'true'"), &c).unwrap());
        assert!(condition(Some("${{ inputs.push == 'true' }}"), &c).unwrap());
        assert!(!condition(Some("inputs.empty"), &c).unwrap());
        let mut failed = c.clone();
        failed.job_ok = false;
        assert!(
            !condition(Some("inputs.push == 'true'"), &failed).unwrap(),
            "implicit success()"
        );
        assert!(condition(Some("always() && inputs.push == 'true'"), &failed).unwrap());
        assert!(condition(Some("failure()"), &failed).unwrap());
        assert!(!condition(None, &failed).unwrap());
        assert!(condition(None, &c).unwrap());
    }

    #[test]
    fn errors_name_the_expression() {
        let c = cx();
        let e = evaluate("nope.x", &c).unwrap_err();
        assert!(e.to_string().contains("unknown context `nope`"), "{e}");
        let e = evaluate("inputs.x ==", &c).unwrap_err();
        assert!(e.to_string().contains("inputs.x =="), "{e}");
        assert!(evaluate("hashFiles('x')", &c).is_err());
    }
}
