#!/usr/bin/env node
// An independent check of golden-push's Sigstore bundles with sigstore-js (@sigstore/verify,
// pinned in package-lock.json): `node verify.js PUBLIC_KEY.pem BUNDLE.json...`.
// Offline: the trust material holds only the given public key (no TUF fetch), and the
// transparency-log, SCT and timestamp thresholds are 0, as for any key-based bundle without a log.
// Prints one line per bundle; exit 0 when every bundle verifies, 1 when one does not, 2 on a
// usage error or a missing package.
'use strict';

const fs = require('fs');
const crypto = require('crypto');

let bundleLib;
let verifyLib;
try {
  bundleLib = require('@sigstore/bundle');
  verifyLib = require('@sigstore/verify');
} catch (e) {
  console.error(`sigstore-js is not installed (${e.message}): run scripts/setup.sh (npm ci in tests/sigstore-js)`);
  process.exit(2);
}

const [keyPath, ...bundles] = process.argv.slice(2);
if (!keyPath || bundles.length === 0) {
  console.error('usage: node verify.js PUBLIC_KEY.pem BUNDLE.json...');
  process.exit(2);
}

const publicKey = crypto.createPublicKey(fs.readFileSync(keyPath));
const trust = verifyLib.toTrustMaterial(
  { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] },
  () => ({ publicKey, validFor: () => true }),
);
const verifier = new verifyLib.Verifier(trust, {
  tlogThreshold: 0,
  ctlogThreshold: 0,
  timestampThreshold: 0,
});

let failed = 0;
for (const path of bundles) {
  try {
    const json = JSON.parse(fs.readFileSync(path, 'utf8'));
    const bundle = bundleLib.bundleFromJSON(json);
    verifier.verify(verifyLib.toSignedEntity(bundle));
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
    console.log(`ok ${path} ${statement.predicateType} ${statement.subject.map((s) => `${s.name}@sha256:${s.digest.sha256}`).join(' ')}`);
  } catch (e) {
    failed += 1;
    console.log(`FAILED ${path}: ${e.code || ''} ${e.message}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
