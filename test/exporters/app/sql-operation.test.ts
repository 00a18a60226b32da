import t from 'tap';
import { sqlOperation } from '../../../exporters/db/sql-operation.js';

t.test('the SQL verb, never the text', async (t) => {
  const cases: [unknown, string][] = [
    ['SELECT 1', 'SELECT'],
    ['  select * from recipes where id = $1', 'SELECT'],
    ['insert into t values (1)', 'INSERT'],
    ['UPDATE t SET a = 1', 'UPDATE'],
    ['delete from t', 'DELETE'],
    ['-- a comment\nINSERT INTO t VALUES (1)', 'INSERT'],
    ['/* outer /* nested */ still comment */ DELETE FROM t', 'DELETE'],
    ['(SELECT 1) UNION (SELECT 2)', 'SELECT'],
    ['WITH a AS (SELECT 1) SELECT * FROM a', 'SELECT'],
    ['with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) select * from r', 'SELECT'],
    ["WITH moved AS (DELETE FROM a WHERE x = ')' RETURNING *) INSERT INTO b SELECT * FROM moved", 'INSERT'],
    ['WITH a AS MATERIALIZED (SELECT $$ ) $$), b AS NOT MATERIALIZED (SELECT 2) UPDATE t SET x = 1', 'UPDATE'],
    ['WITH "Quoted" AS (SELECT 1) DELETE FROM t', 'DELETE'],
    ['WITH a AS (SELECT 1) -- trailing comment (\n SELECT 2', 'SELECT'],
    ['begin', 'BEGIN'],
    ['COMMIT', 'COMMIT'],
    ['create table x (a int)', 'CREATE'],
    ['TRUNCATE x', 'TRUNCATE'],
    ['frobnicate everything', 'OTHER'],
    ['', 'OTHER'],
    ['WITH broken', 'OTHER'],
    [undefined, 'OTHER'],
    [42, 'OTHER'],
  ];
  for (const [sql, verb] of cases) t.equal(sqlOperation(sql), verb, JSON.stringify(sql));
});
