const SECRET_KEY = /pass(word)?|secret|token|api_?key|access_?key|private_?key|credential|connection_?string|sas|account_?key/i;

/** Whether a config field holds a secret by its name (password, token, connection_string...). */
export function isSecretField(name: string): boolean {
  return SECRET_KEY.test(name);
}

/**
 * A config safe to show: secret fields removed (at any depth) and passwords stripped from URLs.
 * Returns the names of what was removed so a client knows they are set.
 */
export function publicConfig(config: Record<string, unknown>): { config: Record<string, unknown>; secretFields: string[] } {
  const secretFields: string[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        const at = path ? `${path}.${key}` : key;
        if (isSecretField(key)) secretFields.push(at);
        else out[key] = walk(v, at);
      }
      return out;
    }
    if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s]+@/i.test(value)) {
      secretFields.push(`${path} (password)`);
      return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^@\s]+@/i, '$1@');
    }
    return value;
  };
  return { config: walk(config, '') as Record<string, unknown>, secretFields };
}
