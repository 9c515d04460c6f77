#!/usr/bin/env node
// The `sluice` command. Sources are TypeScript run through tsx, so no build step is needed and
// topologies written in TypeScript load as they are.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
