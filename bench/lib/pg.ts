/** The PostgreSQL the benchmarks write into, and the clean-up of a bench's schema. */
import pg from 'pg';

/** The local test database (trust auth). */
export const PG_CONN = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' } as const;

/** Drops a bench's schema and everything in it. */
export async function dropPgSchema(schema: string): Promise<void> {
  const c = new pg.Client(PG_CONN);
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}
