/**
 * The attackers of auth-flood.test.ts, in a process of their own (as real ones would
 * be), so their work does not delay the scraper the test measures. Usage:
 * `flood-client.ts <url> <connections> <seconds>`; prints `{"codes":{"401":n,...}}`.
 */
import { connection, get } from './http-client.js';

const [url, connections, seconds] = process.argv.slice(2);
if (!url || !connections || !seconds) throw new Error('usage: flood-client.ts <url> <connections> <seconds>');
const until = Date.now() + Number(seconds) * 1000;
const codes: Record<string, number> = {};
let n = 0;
await Promise.all(
  Array.from({ length: Number(connections) }, async (_, a) => {
    const agent = connection();
    while (Date.now() < until) {
      // a new wrong password each time, so no answer can come from the cache
      const auth = `Basic ${Buffer.from(`prometheus:guess-${a}-${n++}`).toString('base64')}`;
      const r = await get(url, { agent, headers: { Authorization: auth } });
      codes[r.status] = (codes[r.status] ?? 0) + 1;
    }
    agent.destroy();
  }),
);
process.stdout.write(`${JSON.stringify({ codes })}\n`);
