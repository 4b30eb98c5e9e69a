// A small static server to try the app without Docker (`npm start`): it
// serves dist/, answers the app's routes (/callback, /signed-out) with
// index.html, and /config.json from the ISSUER and CLIENT_ID variables.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const port = Number(process.env.PORT || 5173);
const issuer = process.env.ISSUER || "http://localhost:8080";
const clientId = process.env.CLIENT_ID;
if (!clientId) {
  console.error("Set CLIENT_ID to the SPA's client id (and ISSUER, default " + issuer + ").");
  process.exit(1);
}
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".map": "application/json" };
const routes = new Set(["/", "/callback", "/signed-out"]);
const csp = `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ${issuer}; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;

createServer(async (req, res) => {
  const path = new URL(req.url, "http://localhost").pathname;
  res.setHeader("Content-Security-Policy", csp);
  res.setHeader("Referrer-Policy", "no-referrer");
  if (path === "/config.json") {
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.end(JSON.stringify({ issuer, client_id: clientId }));
    return;
  }
  // URL parsing already resolved "..": the file stays inside dist/.
  const file = routes.has(path) ? "index.html" : normalize(path).replace(/^[/\\]+/, "");
  try {
    const body = await readFile(join("dist", file));
    res.setHeader("Content-Type", types[extname(file)] || "application/octet-stream");
    res.end(body);
  } catch {
    res.statusCode = 404;
    res.end("not found\n");
  }
}).listen(port, "127.0.0.1", () => console.log(`Example SPA on http://localhost:${port} (issuer ${issuer})`));
