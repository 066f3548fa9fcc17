// Same-origin proxy from the workbench to the API: plain HTTP and WebSocket upgrades.
import http from "node:http";

// Headers that belong to one connection, not to the request (RFC 9110 section 7.6.1).
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "proxy-connection",
]);

/**
 * Paths the browser reaches the API through: everything under /api/ and /ws/, and the
 * API's /health (the pipeline screen shows the gold version and dependencies).
 */
export function isProxied(url) {
  return url.startsWith("/api/") || url.startsWith("/ws/") || url === "/health" || url.startsWith("/health?");
}

/** Request headers for the API: end-to-end ones only, plus who the client was. */
export function forwardHeaders(req, upstream, { upgrade = false } = {}) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = value;
  }
  // HTTP goes to the API under its own name. A WebSocket handshake keeps the page's Host:
  // the API accepts a session-cookie socket only when its Origin names the Host it was
  // opened on (its cross-site check), and this proxy checked exactly that already.
  headers.host = upgrade && req.headers.host ? req.headers.host : upstream.host;
  const client = req.socket.remoteAddress ?? "";
  const prior = req.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = prior ? `${prior}, ${client}` : client;
  headers["x-forwarded-proto"] = req.socket.encrypted ? "https" : "http";
  headers["x-forwarded-host"] = req.headers.host ?? "";
  if (upgrade) {
    headers.connection = "Upgrade";
    headers.upgrade = req.headers.upgrade ?? "websocket";
  }
  return headers;
}

function problem(res, status, title, detail) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "application/problem+json" });
  res.end(JSON.stringify({ type: "about:blank", title, status, detail }));
}

export function proxyHttp(req, res, upstream) {
  const target = new URL(req.url ?? "/", upstream);
  const out = http.request(
    target,
    { method: req.method, headers: forwardHeaders(req, upstream) },
    (up) => {
      const headers = {};
      for (const [name, value] of Object.entries(up.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);
      up.pipe(res);
    },
  );
  out.on("error", () => problem(res, 502, "Bad Gateway", "the API cannot be reached"));
  req.pipe(out);
}

/** A browser page on another site may open a WebSocket with our cookies: refuse it. */
export function sameOrigin(req) {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser (a browser always sends Origin on a WebSocket)
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function proxyUpgrade(req, socket, head, upstream) {
  if (!sameOrigin(req)) {
    socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  const target = new URL(req.url ?? "/", upstream);
  const out = http.request(target, { method: "GET", headers: forwardHeaders(req, upstream, { upgrade: true }) });
  out.on("upgrade", (up, upSocket, upHead) => {
    const lines = [`HTTP/1.1 ${up.statusCode} ${up.statusMessage ?? "Switching Protocols"}`];
    for (let i = 0; i < up.rawHeaders.length; i += 2) lines.push(`${up.rawHeaders[i]}: ${up.rawHeaders[i + 1]}`);
    socket.write(lines.join("\r\n") + "\r\n\r\n");
    if (upHead.length) socket.write(upHead);
    if (head.length) upSocket.write(head);
    upSocket.pipe(socket).pipe(upSocket);
    const close = () => { socket.destroy(); upSocket.destroy(); };
    upSocket.on("error", close);
    socket.on("error", close);
    upSocket.on("close", close);
    socket.on("close", close);
  });
  out.on("response", (up) => {
    // The API refused the handshake with a plain HTTP answer: pass it on and close.
    socket.end(`HTTP/1.1 ${up.statusCode} ${up.statusMessage}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    up.resume();
  });
  out.on("error", () => socket.end("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
  socket.on("error", () => out.destroy());
  out.end();
}
