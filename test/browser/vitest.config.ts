import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const lib = (name: string): string => resolve(process.cwd(), 'libs', name, 'src', 'index.ts');

// The browser tests, run by `npm run test:browser` (test/browser/run.mjs) and not by `npm test`:
// their files end in `.browser.ts`, which the default suite's `*.test.ts` pattern does not match.
export default defineConfig({
  resolve: {
    alias: {
      '@concord/privacy': lib('privacy'),
      '@concord/crypto': lib('crypto'),
      '@concord/ml': lib('ml'),
      '@concord/protocol': lib('protocol'),
    },
  },
  test: {
    include: ['test/browser/**/*.browser.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
