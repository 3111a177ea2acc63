// Evaluates FHIRPath expressions with the HL7 reference implementation (npm
// "fhirpath", R4 model) for oracle_test.go. Input on stdin:
//   {"resources": [<resource>, …], "cases": [{"r": <index>, "e": "<expression>"}, …]}
// Output on stdout: one JSON array with, per case, {"v": [values…]} or {"err": "message"}.
'use strict';
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const { resources, cases } = JSON.parse(input);
  const compiled = new Map();
  const out = [];
  for (const c of cases) {
    try {
      let fn = compiled.get(c.e);
      if (!fn) {
        fn = fhirpath.compile(c.e, r4, { async: true });
        compiled.set(c.e, fn);
      }
      let v = fn(resources[c.r]);
      if (v instanceof Promise) v = await v;
      out.push({ v });
    } catch (err) {
      out.push({ err: String(err && err.message ? err.message : err).slice(0, 200) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
