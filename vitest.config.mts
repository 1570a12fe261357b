import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const lib = (name: string): string => resolve(process.cwd(), 'libs', name, 'src', 'index.ts');

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
    include: ['apps/**/*.test.ts', 'libs/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
