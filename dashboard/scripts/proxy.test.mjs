// The proxy against real sockets: an upstream HTTP server that answers plain requests and
// WebSocket-style upgrades (it echoes bytes after the 101), and the proxy in front of it.
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forwardHeaders, isProxied, proxyHttp, proxyUpgrade, sameOrigin } from "./proxy.mjs";

let upstream;
let front;
let frontPort;

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      res.writeHead(req.url === "/api/v1/missing" ? 404 : 200, { "content-type": "application/json", "set-cookie": "nova_session=s; HttpOnly; Path=/" });
      res.end(JSON.stringify({ url: req.url, method: req.method, body, headers: req.headers }));
    });
  });
  upstream.on("upgrade", (req, socket) => {
    if (!req.headers.cookie?.includes("nova_session=")) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Url: ${req.url}\r\n\r\n`);
    socket.on("data", (chunk) => socket.write(chunk));
  });
  const upstreamPort = await listen(upstream);
  const target = new URL(`http://127.0.0.1:${upstreamPort}`);
  front = http.createServer((req, res) => proxyHttp(req, res, target));
  front.on("upgrade", (req, socket, head) => proxyUpgrade(req, socket, head, target));
  frontPort = await listen(front);
});

afterAll(() => {
  front.closeAllConnections();
  upstream.closeAllConnections();
  front.close();
  upstream.close();
});

function rawExchange(request, { until = "\r\n\r\n", then } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(frontPort, "127.0.0.1", () => socket.write(request));
    let received = "";
    let sentFollowUp = false;
    socket.on("data", (chunk) => {
      received += chunk;
      if (then && !sentFollowUp && received.includes(until)) {
        sentFollowUp = true;
        socket.write(then);
      } else if (!then || (sentFollowUp && received.endsWith(then))) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on("end", () => resolve(received));
    socket.on("error", reject);
  });
}

describe("which paths go to the API", () => {
  it("proxies /api/, /ws/ and /health, nothing else", () => {
    expect(["/api/v1/actions", "/ws/alerts?since=A", "/health"].every(isProxied)).toBe(true);
    expect(["/", "/work", "/apix", "/_next/static/x.js", "/healthz"].some(isProxied)).toBe(false);
  });
});

describe("HTTP", () => {
  it("forwards method, path, body and cookies, and returns status and Set-Cookie", async () => {
    const response = await fetch(`http://127.0.0.1:${frontPort}/api/v1/orders?x=1`, {
      method: "POST", body: '{"lines":[]}', headers: { cookie: "nova_session=abc", "x-csrf-token": "t" },
    });
    const echoed = await response.json();
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toContain("nova_session=s");
    expect(echoed).toMatchObject({ url: "/api/v1/orders?x=1", method: "POST", body: '{"lines":[]}' });
    expect(echoed.headers).toMatchObject({ cookie: "nova_session=abc", "x-csrf-token": "t", "x-forwarded-proto": "http" });
    expect(echoed.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });
  it("passes the API's errors through", async () => {
    const response = await fetch(`http://127.0.0.1:${frontPort}/api/v1/missing`);
    expect(response.status).toBe(404);
  });
});

describe("WebSocket upgrades", () => {
  const handshake = (origin, cookie = "nova_session=abc") =>
    `GET /ws/alerts?since=A7 HTTP/1.1\r\nHost: 127.0.0.1:${frontPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: ${origin}\r\nCookie: ${cookie}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

  it("switches protocols with the cookie and pipes bytes both ways", async () => {
    const received = await rawExchange(handshake(`http://127.0.0.1:${frontPort}`), { then: "ping-frame" });
    expect(received).toMatch(/^HTTP\/1.1 101/);
    expect(received).toContain("X-Seen-Url: /ws/alerts?since=A7");
    expect(received.endsWith("ping-frame")).toBe(true);
  });
  it("passes a refusal on", async () => {
    const received = await rawExchange(handshake(`http://127.0.0.1:${frontPort}`, "other=1"));
    expect(received).toMatch(/^HTTP\/1.1 403/);
  });
  it("refuses a page from another site (cross-site WebSocket hijacking)", async () => {
    const received = await rawExchange(handshake("https://evil.example"));
    expect(received).toMatch(/^HTTP\/1.1 403/);
  });
  it("keeps the page's Host on a handshake (the API compares it with the Origin) and names the API otherwise", () => {
    const req = { headers: { host: "dash:3000", origin: "http://dash:3000", cookie: "nova_session=s" }, socket: { remoteAddress: "10.0.0.9" } };
    const api = new URL("http://api:8000");
    expect(forwardHeaders(req, api, { upgrade: true })).toMatchObject({ host: "dash:3000", origin: "http://dash:3000", cookie: "nova_session=s", "x-forwarded-host": "dash:3000" });
    expect(forwardHeaders(req, api)).toMatchObject({ host: "api:8000", "x-forwarded-host": "dash:3000", "x-forwarded-for": "10.0.0.9" });
  });
  it("judges the origin against the host", () => {
    expect(sameOrigin({ headers: { host: "a:1", origin: "http://a:1" } })).toBe(true);
    expect(sameOrigin({ headers: { host: "a:1", origin: "http://b:1" } })).toBe(false);
    expect(sameOrigin({ headers: { host: "a:1", origin: "not a url" } })).toBe(false);
  });
});
