// The workbench's production server: Next.js plus a same-origin proxy to the API.
//
// Why a custom server: `next start` can rewrite HTTP requests to another origin, but it
// cannot forward WebSocket upgrades, and the live alerts need `/ws/alerts` on the page's
// own origin (so the httpOnly session cookie goes with the handshake and no secret is put
// in a URL). One small Node server owns both proxies and the upstream address; everything
// else is Next's own request handler, in production mode after `next build`.
import http from "node:http";
import next from "next";
import { isProxied, proxyHttp, proxyUpgrade } from "./scripts/proxy.mjs";

// Flags win over the environment: node server.mjs [--dev] [--port=N] [--host=H] [--api=URL]
const flag = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const dev = process.argv.includes("--dev");
const port = Number(flag("port") ?? process.env.PORT ?? 3000);
const hostname = flag("host") ?? process.env.HOSTNAME ?? "127.0.0.1";
const upstream = new URL(flag("api") ?? process.env.NOVA_API_URL ?? "http://127.0.0.1:8000");

const app = next({ dev, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    // The container's healthcheck: this server answers, and so does the API behind it.
    const probe = http.get(new URL("/livez", upstream), (up) => {
      up.resume();
      const ok = up.statusCode === 200;
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ dashboard: "ok", api: ok ? "ok" : `status ${up.statusCode}` }));
    });
    probe.on("error", () => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ dashboard: "ok", api: "unreachable" }));
    });
    return;
  }
  if (isProxied(req.url ?? "")) {
    proxyHttp(req, res, upstream);
    return;
  }
  void handle(req, res);
});

const nextUpgrade = dev ? app.getUpgradeHandler() : null;
server.on("upgrade", (req, socket, head) => {
  if (isProxied(req.url ?? "")) {
    proxyUpgrade(req, socket, head, upstream);
  } else if (nextUpgrade) {
    void nextUpgrade(req, socket, head); // hot reload in development
  } else {
    socket.destroy();
  }
});

server.listen(port, hostname, () => {
  console.log(`dashboard on http://${hostname}:${port} (API ${upstream.origin})`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    void app.close?.();
    process.exit(0);
  });
}
