/** Options of the HTTP server that serves /metrics. */
import { defineOptions, hostPort, int, str } from './option.js';
import { parseWebAuth, type WebAuthConfig } from './web-auth.js';

export const webOptions = defineOptions({
  listen: {
    flag: 'listen',
    env: ['LARDER_LISTEN'],
    default: { host: '0.0.0.0', port: 9464 },
    help: 'host:port the HTTP server listens on',
    parse: hostPort(),
    show: (v: { host: string; port: number }) => `${v.host}:${v.port}`,
  },
  maxRequests: {
    flag: 'web.max-requests',
    env: ['LARDER_MAX_REQUESTS'],
    default: 40,
    help: 'most concurrent /metrics requests served; more get 503 (0 = no limit)',
    parse: int({ min: 0, max: 100000 }),
  },
  tlsCertFile: {
    flag: 'web.tls-cert-file',
    env: ['LARDER_TLS_CERT_FILE'],
    default: '',
    help: 'PEM certificate; with --web.tls-key-file the server speaks HTTPS',
    parse: str(),
  },
  tlsKeyFile: {
    flag: 'web.tls-key-file',
    env: ['LARDER_TLS_KEY_FILE'],
    default: '',
    help: 'PEM private key for --web.tls-cert-file',
    parse: str(),
  },
  bearerTokenFile: {
    flag: 'web.bearer-token-file',
    env: ['LARDER_BEARER_TOKEN_FILE'],
    default: '',
    help: 'file holding a token that requests must send as "Authorization: Bearer <token>"',
    parse: str(),
  },
  auth: {
    flag: 'web',
    default: { basicAuthUsers: {} } as WebAuthConfig,
    help: 'config file only: web.basic_auth_users (user: bcrypt hash), web.bearer_token',
    parse: parseWebAuth,
    show: () => 'none',
    fileOnly: true,
    secret: true,
  },
});
