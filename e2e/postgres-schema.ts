import type pg from 'pg';

/**
 * Rows of `sql` in one test schema of the real PostgreSQL: run on one pooled client with its search_path set, so the
 * unqualified table names of the controller's schema resolve there, and reset before the client goes back.
 */
export async function rowsInSchema<T>(pool: pg.Pool, schema: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = await pool.connect();
  try {
    await client.query(`SET search_path = ${schema}`);
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.query('RESET search_path').catch(() => undefined);
    client.release();
  }
}
