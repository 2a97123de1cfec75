//! SPDX 2.3 JSON SBOM (`sbom.spdx.json`): the image as the described package, the OS and every
//! package as packages with their purl (`externalRefs`), sha1 (Java archives) and location
//! (`sourceInfo`), tied together by relationships: the document DESCRIBES the image, the image
//! CONTAINS the OS and each package, an archive CONTAINS the archives nested in it.
//!
//! License strings from package databases are not always SPDX expressions (Debian copyright
//! files say `GPL-2+`): they go into `licenseComments`, `licenseDeclared` is `NOASSERTION`.

use std::collections::HashMap;

use golden_contracts::scan::ScanReport;
use serde_json::{Value, json};

const NOASSERTION: &str = "NOASSERTION";

/// A string usable in an SPDX identifier (`[A-Za-z0-9.-]+`).
fn id_part(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(64);
    out
}

fn package(id: &str, name: &str, version: &str, purpose: &str) -> Value {
    let mut p = json!({
        "SPDXID": id,
        "name": name,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "primaryPackagePurpose": purpose,
    });
    if !version.is_empty() {
        p["versionInfo"] = json!(version);
    }
    p
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({ "spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to })
}

pub fn render(report: &ScanReport) -> Value {
    let image_id = "SPDXRef-Image";
    let mut image = package(
        image_id,
        &report.image.reference,
        report.image.id.as_deref().unwrap_or_default(),
        "CONTAINER",
    );
    if let Some(d) = &report.image.digest {
        image["checksums"] = json!([{
            "algorithm": "SHA256",
            "checksumValue": d.trim_start_matches("sha256:"),
        }]);
    }
    let mut packages = vec![image];
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", image_id)];
    if let Some(os) = &report.os {
        let id = format!("SPDXRef-OperatingSystem-{}", id_part(&os.id));
        let mut p = package(&id, &os.id, &os.version_id, "OPERATING-SYSTEM");
        if !os.pretty_name.is_empty() {
            p["description"] = json!(os.pretty_name);
        }
        packages.push(p);
        relationships.push(relationship(image_id, "CONTAINS", &id));
    }
    // Archive path → its package's id, for the nested archives' relationships.
    let mut by_path: HashMap<&str, String> = HashMap::new();
    let mut ids = Vec::with_capacity(report.packages.len());
    for (n, p) in report.packages.iter().enumerate() {
        let id = format!(
            "SPDXRef-Package-{}-{}-{}",
            id_part(&p.kind),
            id_part(&p.name),
            n + 1
        );
        let mut s = package(&id, &p.name, &p.version, "LIBRARY");
        if let Some(purl) = &p.purl {
            s["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }]);
        }
        if let Some(h) = &p.sha1 {
            s["checksums"] = json!([{ "algorithm": "SHA1", "checksumValue": h }]);
        }
        if let Some(l) = &p.license {
            s["licenseComments"] = json!(format!("as the package declares it: {l}"));
        }
        if let Some(g) = super::cyclonedx::maven_group(p.purl.as_deref()) {
            s["supplier"] = json!(NOASSERTION);
            s["comment"] = json!(format!("Maven group {g}"));
        }
        let mut info = Vec::new();
        if let Some(path) = &p.path {
            info.push(format!("found at {path}"));
        }
        if let Some(layer) = &p.layer {
            info.push(format!("in layer {layer}"));
        }
        if info.is_empty() {
            info.push(format!("from the {} database", p.kind));
        }
        s["sourceInfo"] = json!(info.join(" "));
        if let (Some(path), Some(_)) = (&p.path, &p.sha1) {
            by_path.entry(path.as_str()).or_insert_with(|| id.clone());
        }
        packages.push(s);
        ids.push(id);
    }
    for (p, id) in report.packages.iter().zip(&ids) {
        // `/a.jar!/BOOT-INF/lib/b.jar` is inside `/a.jar`.
        let parent = p
            .path
            .as_deref()
            .and_then(|path| path.rsplit_once("!/"))
            .and_then(|(outer, _)| by_path.get(outer))
            .filter(|parent| *parent != id);
        match parent {
            Some(parent) => relationships.push(relationship(parent, "CONTAINS", id)),
            None => relationships.push(relationship(image_id, "CONTAINS", id)),
        }
    }
    let name = if report.image.reference.is_empty() {
        "image".to_string()
    } else {
        report.image.reference.clone()
    };
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!(
            "https://golden-images.invalid/spdx/{}-{}",
            id_part(&name),
            uuid::Uuid::new_v4()
        ),
        "creationInfo": {
            "created": report.scanned_at,
            "creators": [format!("Tool: {}-{}", report.tool.name, report.tool.version)],
        },
        "packages": packages,
        "relationships": relationships,
    })
}
