//! Alpine's `/lib/apk/db/installed`: records of `X:value` lines separated by blank lines.

use crate::limits::CappedWarnings;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApkPackage {
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    pub license: Option<String>,
    /// `o:` origin (the source package).
    pub origin: Option<String>,
}

pub fn parse(text: &str, file: &str, warnings: &mut Vec<String>) -> Vec<ApkPackage> {
    // A hostile database can hold millions of bad lines: warnings are capped per file.
    let mut capped = CappedWarnings::default();
    let out = parse_capped(text, file, &mut capped);
    warnings.extend(capped.finish(&format!("`{file}`")));
    out
}

fn parse_capped(text: &str, file: &str, warnings: &mut CappedWarnings) -> Vec<ApkPackage> {
    let mut out = Vec::new();
    let mut cur = ApkPackage::default();
    let mut start = 1usize;
    let mut any = false;
    let mut flush =
        |cur: &mut ApkPackage, start: usize, any: &mut bool, warnings: &mut CappedWarnings| {
            if !*any {
                return;
            }
            let p = std::mem::take(cur);
            *any = false;
            if p.name.is_empty() {
                warnings.push(format!(
                    "{file}:{start}: record without `P:` (package name); skipped"
                ));
                return;
            }
            if p.version.is_empty() {
                warnings.push(format!(
                    "{file}:{start}: package `{}` has no `V:` (version); listed without one",
                    p.name
                ));
            }
            out.push(p);
        };
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            flush(&mut cur, start, &mut any, warnings);
            start = i + 2;
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            warnings.push(format!(
                "{file}:{}: malformed line (expected `X:value`); skipped",
                i + 1
            ));
            continue;
        };
        any = true;
        let value = value.trim();
        match key {
            "P" => cur.name = value.to_string(),
            "V" => cur.version = value.to_string(),
            "A" => cur.arch = Some(value.to_string()).filter(|v| !v.is_empty()),
            "L" => cur.license = Some(value.to_string()).filter(|v| !v.is_empty()),
            "o" => cur.origin = Some(value.to_string()).filter(|v| !v.is_empty()),
            _ => {}
        }
    }
    flush(&mut cur, start, &mut any, warnings);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_record_without_trailing_newline() {
        let mut w = Vec::new();
        let p = parse(
            "P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\nm:Tim Kräutler <t@x>",
            "installed",
            &mut w,
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].license.as_deref(), Some("MIT"));
        assert!(w.is_empty());
    }

    #[test]
    fn broken_records_warn() {
        let mut w = Vec::new();
        let p = parse("V:1\n\nP:x\nnot a field\n", "db", &mut w);
        assert_eq!(p.len(), 1);
        assert_eq!(w.len(), 3, "{w:?}");
    }
}
