import { ERROR_CODES } from './errors.js';

/** docs/errors.md: every error code with its HTTP status, whether it is retried, and what it means. */
export function errorsMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, { http, retriable, summary }]) => `| \`${code}\` | ${http} | ${retriable ? 'yes' : 'no'} | ${summary.replaceAll('|', '\\|')} |`,
  );
  return [
    '# Error codes',
    '',
    'Generated from `src/core/errors.ts` by `npm run schemas`; a test fails when this file is stale.',
    '',
    'Every error Sluice raises carries one of these codes. Over REST the code is `error.code` of the',
    'response body and the HTTP status is the one below; in logs it is the `code` field of the entry.',
    '"Retried" says whether sinks, sources and pipeline steps retry the failure under their retry policy.',
    '',
    '| code | HTTP | retried | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
