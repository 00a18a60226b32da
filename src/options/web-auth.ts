/** The config file's `web:` section, shaped like Prometheus' exporter web config. */

/** Credentials accepted by the HTTP server. */
export interface WebAuthConfig {
  /** user → bcrypt hash (`$2a$`, `$2b$` or `$2y$`). */
  readonly basicAuthUsers: Readonly<Record<string, string>>;
  /** A literal bearer token; prefer --web.bearer-token-file. */
  readonly bearerToken?: string;
}

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** Validates the `web:` section of the config file. */
export function parseWebAuth(raw: unknown): WebAuthConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('expected a mapping with basic_auth_users and/or bearer_token');
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'basic_auth_users' && key !== 'bearer_token') throw new Error(`unknown key "${key}" (allowed: basic_auth_users, bearer_token)`);
  }
  const users: Record<string, string> = {};
  const rawUsers = obj['basic_auth_users'] ?? {};
  if (rawUsers === null || typeof rawUsers !== 'object' || Array.isArray(rawUsers)) throw new Error('basic_auth_users: expected a mapping of user name to bcrypt hash');
  for (const [user, hash] of Object.entries(rawUsers as Record<string, unknown>)) {
    if (user === '' || user.includes(':')) throw new Error(`basic_auth_users: user name "${user}" must be non-empty and have no ':'`);
    if (typeof hash !== 'string' || !BCRYPT.test(hash)) throw new Error(`basic_auth_users.${user}: expected a bcrypt hash ($2y$10$...), as made by "htpasswd -nBC 10 ${user}"`);
    users[user] = hash;
  }
  const token = obj['bearer_token'];
  if (token !== undefined && (typeof token !== 'string' || token.length < 8)) throw new Error('bearer_token: expected a string of at least 8 characters');
  return token === undefined ? { basicAuthUsers: users } : { basicAuthUsers: users, bearerToken: token };
}
