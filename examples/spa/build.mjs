// Builds the app into dist/: src/main.js bundled with esbuild (with
// oidc-client-ts), and the files of public/ copied beside it.
import { build } from "esbuild";
import { cpSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: ["src/main.js"],
  outfile: "dist/app.js",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
});
cpSync("public", "dist", { recursive: true });
