// jsforce's own `bulk2.query`, with its defaults (API version, poll interval and timeout,
// no maxRecords), against the sandbox; tests/sandbox_jsforce.rs runs it and checks the rows.
//
// argv: instance URL, access token, JSON list of {"soql": "...", "scanAll": bool}.
// stdout: JSON list, one entry per query: {"version": jsforce's API version,
// "columns": the first record's keys in order, "records": [...]}, or {"error": {"name",
// "errorCode", "message"}} when jsforce's query rejects. Anything else that fails exits
// non-zero with the error on stderr.
'use strict';

const jsforce = require('jsforce');

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const records = [];
    stream.on('record', (r) => records.push(r));
    stream.on('error', reject);
    stream.on('end', () => resolve(records));
  });
}

async function main() {
  const [instanceUrl, accessToken, jobs] = process.argv.slice(2);
  // An access token alone: no login call, so nothing leaves 127.0.0.1.
  const conn = new jsforce.Connection({ instanceUrl, accessToken });
  const out = [];
  for (const job of JSON.parse(jobs)) {
    try {
      const stream = await conn.bulk2.query(job.soql, { scanAll: job.scanAll });
      const records = await readAll(stream);
      // JSON objects keep insertion order here; the Rust side's maps do not.
      const columns = records.length ? Object.keys(records[0]) : [];
      out.push({ version: conn.version, columns, records });
    } catch (e) {
      // What jsforce makes of an error answer: the test checks it is Salesforce's.
      out.push({ error: { name: e.name, errorCode: e.errorCode, message: e.message } });
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(`${(e && e.stack) || e}\n`);
  process.exit(1);
});
