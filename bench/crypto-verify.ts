/**
 * Ed25519 verification throughput: tweetnacl (pure JS) vs @concord/crypto's `verify`
 * (node:crypto / OpenSSL, cached KeyObjects). Workload: 64 distinct signers (fewer than the key
 * cache holds, as for a batch's participants), each signing a 32-byte message, verified round-robin.
 *
 *   npx tsx bench/crypto-verify.ts
 *
 * Prints one JSON line: {"tweetnacl_verify_per_s":…,"node_verify_per_s":…,"ratio":…}
 */
import nacl from 'tweetnacl';
import { verify } from '../libs/crypto/src/index';

const SIGNERS = 64;
const MIN_DURATION_MS = 2_000;

const samples = Array.from({ length: SIGNERS }, () => {
  const keyPair = nacl.sign.keyPair();
  const message = nacl.randomBytes(32);
  return { publicKey: keyPair.publicKey, message, signature: nacl.sign.detached(message, keyPair.secretKey) };
});

function perSecond(check: (index: number) => boolean): number {
  // Warm up (JIT, key cache), then run whole rounds until the minimum duration has passed.
  for (let i = 0; i < SIGNERS * 2; i++) if (!check(i % SIGNERS)) throw new Error('verification failed');
  let count = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < MIN_DURATION_MS) {
    for (let i = 0; i < SIGNERS; i++) if (!check(i)) throw new Error('verification failed');
    count += SIGNERS;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (count / elapsedMs) * 1000;
}

const tweetnaclPerSecond = perSecond((i) => nacl.sign.detached.verify(samples[i].message, samples[i].signature, samples[i].publicKey));
const nodePerSecond = perSecond((i) => verify(samples[i].message, samples[i].signature, samples[i].publicKey));

console.log(
  JSON.stringify({
    tweetnacl_verify_per_s: Math.round(tweetnaclPerSecond),
    node_verify_per_s: Math.round(nodePerSecond),
    ratio: Math.round((nodePerSecond / tweetnaclPerSecond) * 100) / 100,
  }),
);
