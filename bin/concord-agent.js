#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const main = join(__dirname, '..', 'dist', 'apps', 'agent', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('concord-agent is not built yet: run `npm run build` in the Concord directory first\n');
  process.exit(1);
}
const { buildProgram } = require(main);
buildProgram()
  .parseAsync(process.argv)
  .catch((err) => {
    process.stderr.write(`concord-agent: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
