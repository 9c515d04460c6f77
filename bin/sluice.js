#!/usr/bin/env node
// The `sluice` command. Sources are TypeScript run through tsx, so no build step is needed and
// topologies written in TypeScript load as they are.
import { register } from 'tsx/esm/api';

register();
// One-shot commands talk to the user through progress and a summary; their logs stay at warn
// unless SLUICE_LOG_LEVEL says otherwise. Long-running ones (serve) log at info.
if (!process.env.SLUICE_LOG_LEVEL && ['run', 'validate', 'deploy'].includes(process.argv[2])) process.env.SLUICE_LOG_LEVEL = 'warn';
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
