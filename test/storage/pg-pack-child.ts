/**
 * Child process of pg-pack.test.ts: opens the PostgreSQL store in schema argv[2] and packs
 * the chunk named argv[3], printing "filled" once the packed rows are written inside the
 * packing transaction and then waiting there; the parent SIGKILLs it at that point.
 * With argv[4] = 'run' it packs without waiting and prints "packed".
 */
import { openPgStore } from '../../storage/pg-store.js';
import { PG } from '../helpers/peers.js';

const [schema, name, mode] = process.argv.slice(2);
const store = await openPgStore({ ...PG, schema: schema!, now: () => Date.UTC(2026, 0, 20) });
const chunk = (await store.listChunks('samples')).find((c) => c.name === name);
if (chunk === undefined) throw new Error(`no chunk ${String(name)}`);
if (mode === 'run') {
  await store.packChunk(chunk);
  process.stdout.write('packed\n');
  await store.close();
} else {
  await store.packChunk(chunk, async () => {
    process.stdout.write('filled\n');
    await new Promise(() => undefined); // killed here, inside the transaction
  });
}
