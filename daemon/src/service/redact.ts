/**
 * Strips secrets from a filesystem config before it is shown (DaemonInfo.backend_collection): every key whose name
 * contains auth, token, password or secret is removed, at any depth. A config that is not JSON is not shown at all.
 */
const SECRET_KEY = /auth|token|password|secret/i;

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (!SECRET_KEY.test(key)) out[key] = strip(inner);
    }
    return out;
  }
  return value;
}

export function redactConfig(config: string): string {
  if (config.trim() === '') return '';
  try {
    return JSON.stringify(strip(JSON.parse(config)));
  } catch {
    return '<not JSON: hidden>';
  }
}
