import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as crypto from './index';

describe('@concord/crypto public API', () => {
  it('exports every module', () => {
    for (const name of [
      'abytes',
      'CryptoInputError',
      'base64ToBytes',
      'base64urlToBytes',
      'hexToBytes',
      'canonicalJson',
      'sign',
      'verify',
      'generateIdentity',
      'serializeIdentity',
      'parseIdentity',
      'publicKeyFingerprint',
      'shortFingerprint',
      'writeKeyFile',
      'readKeyFile',
      'loadOrCreateSigningKey',
      'sealAndSign',
      'openEnvelope',
      'GENESIS_HASH',
      'hashEntry',
      'signEntryHash',
      'verifyEntrySignature',
      'verifyChain',
      'groupDigest',
      'signGroupDigest',
      'verifyGroupSignature',
      'verifyGroups',
      'canonicalRequest',
      'signRequest',
      'verifyRequestSignature',
    ]) {
      expect(crypto, name).toHaveProperty(name);
    }
  });

  it('imports nothing but tweetnacl, node: built-ins and its own files', () => {
    const dir = __dirname;
    let imports = 0;
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const match of source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)) {
        imports++;
        expect(match[1], `${file} imports ${match[1]}`).toMatch(/^(?:tweetnacl|node:[a-z/_]+|\.\/[a-z-]+)$/);
      }
    }
    expect(imports).toBeGreaterThan(10); // the pattern does find imports
  });

  it('never logs', () => {
    const dir = __dirname;
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/\bconsole\./);
    }
  });
});
