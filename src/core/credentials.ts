/**
 * Credentials inside string values: the password of a URL (as the WHATWG URL parser reads it),
 * query parameters and `Key=Value;` connection-string entries named like a credential
 * (`sslpassword`, `sig`, `AccountKey`, `SharedAccessKey`, `Password`...).
 */
export interface MaskedCredentials {
  /** The text without its credentials; undefined when it must be withheld whole (unparseable). */
  text: string | undefined;
  /** What was removed, e.g. `password`, `query sig`, `AccountKey`, `unparsed URL`. */
  labels: string[];
  /** The removed values as written and percent-decoded, for redaction; never to be shown. */
  values: string[];
}

const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;
const CREDENTIAL_NAME = /pass|pwd|secret|token|credential|signature|^sig$|key$/i;

/** Whether a query parameter or connection-string key names a credential. */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name.trim());
}

/** Removes the credentials of a URL or a connection string; other text comes back unchanged. */
export function maskCredentials(text: string): MaskedCredentials {
  if (URL_START.test(text.trim())) return maskUrl(text.trim()) ?? unchanged(text);
  return maskConnectionString(text) ?? unchanged(text);
}

function unchanged(text: string): MaskedCredentials {
  return { text, labels: [], values: [] };
}

function maskUrl(text: string): MaskedCredentials | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return unparsedUrl(text);
  }
  // An `@` only after the authority may end a password holding a raw `/`, `?` or `#`
  // (`u:12/x@host` reads as host u, port 12): the parser's reading cannot be trusted.
  if (!authorityOf(text).includes('@') && afterScheme(text).includes('@')) return unparsedUrl(text);
  const labels: string[] = [];
  const values: string[] = [];
  if (url.password) {
    labels.push('password');
    values.push(...spellings(writtenPassword(text)), ...spellings(url.password));
    url.password = '';
  }
  if (url.search) {
    const query = maskQuery(url.search.slice(1));
    labels.push(...query.labels);
    values.push(...query.values);
    url.search = query.text;
  }
  return labels.length > 0 ? { text: url.href, labels, values } : undefined;
}

/**
 * A URL the parser refuses (several hosts, a bad port) or cannot be trusted to read is withheld
 * whole when it holds an `@` or a credential query parameter. Its password, taken up to the last
 * `@`, is still redacted wherever else it appears.
 */
function unparsedUrl(text: string): MaskedCredentials | undefined {
  const rest = afterScheme(text);
  const at = rest.lastIndexOf('@');
  const queryStart = rest.indexOf('?');
  const query = queryStart < 0 ? undefined : maskQuery(rest.slice(queryStart + 1).split('#', 1)[0]);
  if (at < 0 && !query?.labels.length) return undefined;
  return {
    text: undefined,
    labels: ['unparsed URL'],
    values: [...spellings(passwordOf(rest.slice(0, Math.max(0, at)))), ...(query?.values ?? [])],
  };
}

function afterScheme(url: string): string {
  return url.slice(url.indexOf('://') + 3);
}

/** The authority: up to the first `/`, `?` or `#` (or `\`, which ends it for http-like schemes only: counting it always errs on withholding). */
function authorityOf(url: string): string {
  return afterScheme(url).split(/[/\\?#]/, 1)[0];
}

/** The password as the text spells it: the userinfo ends at the authority's last `@`. */
function writtenPassword(url: string): string {
  const authority = authorityOf(url);
  return passwordOf(authority.slice(0, Math.max(0, authority.lastIndexOf('@'))));
}

function passwordOf(userinfo: string): string {
  return userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : '';
}

function maskQuery(query: string): { text: string; labels: string[]; values: string[] } {
  const labels: string[] = [];
  const values: string[] = [];
  const kept = query.split('&').filter((pair) => {
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (!isCredentialName(name)) return true;
    labels.push(`query ${name}`);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    values.push(...spellings(value), ...spellings(value.replace(/\+/g, ' ')));
    return false;
  });
  return { text: kept.join('&'), labels, values };
}

interface Entry {
  key: string;
  /** The entry as written, `;` excluded. */
  raw: string;
  value: string;
}

/**
 * Removes credential entries of a `Key=Value;` connection string (Azure storage and Service Bus,
 * ADO.NET, ODBC). Values may be quoted with `"`, `'` or `{}` to hold a `;`. Returns undefined
 * for text that is not such a string (fewer than two entries, or an entry without a key).
 */
function maskConnectionString(text: string): MaskedCredentials | undefined {
  const entries = connectionEntries(text);
  if (!entries || entries.length < 2) return undefined;
  const labels: string[] = [];
  const values: string[] = [];
  const kept: string[] = [];
  for (const entry of entries) {
    if (isCredentialName(entry.key)) {
      labels.push(entry.key);
      values.push(entry.value);
      continue;
    }
    // An endpoint value may itself be a URL with credentials.
    const inner = URL_START.test(entry.value.trim()) ? maskUrl(entry.value.trim()) : undefined;
    if (inner) {
      labels.push(...inner.labels.map((l) => `${entry.key} ${l}`));
      values.push(...inner.values);
      if (inner.text === undefined) continue;
      kept.push(`${entry.raw.slice(0, entry.raw.indexOf('=') + 1)}${inner.text}`);
    } else {
      kept.push(entry.raw);
    }
  }
  if (labels.length === 0) return undefined;
  return { text: kept.join(';') + (text.trimEnd().endsWith(';') ? ';' : ''), labels, values };
}

const CLOSING: Record<string, string> = { '"': '"', "'": "'", '{': '}' };

function connectionEntries(text: string): Entry[] | undefined {
  const entries: Entry[] = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    const eq = text.indexOf('=', i);
    if (eq < 0) return text.slice(i).trim() === '' ? entries : undefined;
    const key = text.slice(i, eq).trim();
    if (!/^[A-Za-z][A-Za-z0-9 _.-]*$/.test(key)) return undefined;
    i = eq + 1;
    while (text[i] === ' ') i++;
    const close = CLOSING[text[i]];
    if (close) {
      // Quoted: runs to the closing character; a doubled one stands for itself.
      let j = i + 1;
      while (j < text.length && !(text[j] === close && text[j + 1] !== close)) j += text[j] === close ? 2 : 1;
      i = j + 1;
    }
    const end = text.indexOf(';', i);
    i = end < 0 ? text.length : end;
    const raw = text.slice(start, i);
    entries.push({ key, raw, value: raw.slice(raw.indexOf('=') + 1).trim() });
    i++;
  }
  return entries;
}

/** A value as written and percent-decoded (logs may show either). */
function spellings(value: string): string[] {
  if (!value) return [];
  const decoded = decode(value);
  return decoded === value ? [value] : [value, decoded];
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
