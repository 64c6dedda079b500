// Bundles the console into dist/: app.js (one minified ES module: Preact, the generated client
// and the pages), app.css and index.html. Fails if the JavaScript a first load fetches is over
// its budget, gzip-compressed (what API Gateway and the local server send is uncompressed, so
// the budget is the issue's own measure of what a CDN or browser cache would hold).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 200 * 1024;

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
await build({
  entryPoints: ["src/main.tsx"],
  outfile: "dist/app.js",
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync("index.html", "dist/index.html");
copyFileSync("src/styles.css", "dist/app.css");

const js = readFileSync("dist/app.js");
const gzipped = gzipSync(js, { level: 9 }).length;
const report = { js_bytes: js.length, js_gzip_bytes: gzipped, budget_gzip_bytes: BUDGET_BYTES };
writeFileSync("dist/size.json", `${JSON.stringify(report)}\n`);
console.log(`console: app.js ${js.length} bytes, ${gzipped} gzipped (budget ${BUDGET_BYTES})`);
if (gzipped > BUDGET_BYTES) {
  console.error("console: the first load's JavaScript is over its budget");
  process.exit(1);
}
