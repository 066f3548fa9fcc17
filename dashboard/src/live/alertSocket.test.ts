import { describe, expect, it } from "vitest";
import type { LiveAlert } from "@/api/adapters";
import { AlertFeed, defaultBackoff, socketUrl, type FeedState, type SocketLike } from "./alertSocket";

class FakeSocket {
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  closedWith: number | undefined;
  constructor(readonly url: string) {}
  close(code?: number) {
    this.closedWith = code;
  }
  open() {
    this.onopen?.call(this as unknown as WebSocket, new Event("open"));
  }
  send(message: object) {
    this.onmessage?.call(this as unknown as WebSocket, { data: JSON.stringify(message) } as MessageEvent);
  }
  drop(code = 1006) {
    this.onclose?.call(this as unknown as WebSocket, { code } as CloseEvent);
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const alerts: LiveAlert[] = [];
  const states: FeedState[] = [];
  const feed = new AlertFeed({
    url: (since) => socketUrl({ protocol: "http:", host: "dash" }, "/ws/alerts", since),
    connect: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket as unknown as SocketLike;
    },
    onAlert: (alert) => alerts.push(alert),
    onState: (state) => states.push(state),
    setTimer: (fn, ms) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (handle) => {
      if (handle) (handle as { cleared: boolean }).cleared = true;
    },
  });
  const runRetry = () => {
    const retry = timers.filter((t) => !t.cleared && t.ms !== 45_000).pop();
    if (!retry) throw new Error("no retry scheduled");
    retry.cleared = true;
    retry.fn();
  };
  return { feed, sockets, timers, alerts, states, runRetry };
}

const alert = (id: string, severity = "critical") => ({ type: "alert", data: { alert_id: id, item_id: "I", depot_id: "D", severity } });

describe("AlertFeed", () => {
  it("connects on the page's origin and passes alerts on, ignoring heartbeats", () => {
    const h = harness();
    h.feed.start();
    expect(h.sockets[0]?.url).toBe("ws://dash/ws/alerts");
    h.sockets[0]?.open();
    h.sockets[0]?.send({ type: "subscribed" });
    h.sockets[0]?.send({ type: "heartbeat", ts: 1 });
    h.sockets[0]?.send(alert("A1"));
    expect(h.alerts.map((a) => a.alertId)).toEqual(["A1"]);
    expect(h.states.at(-1)).toEqual({ kind: "open" });
  });

  it("reconnects after a drop and resumes after the last alert it saw", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]?.open();
    h.sockets[0]?.send(alert("A1"));
    h.sockets[0]?.send(alert("A2"));
    h.sockets[0]?.drop();
    expect(h.states.at(-1)).toEqual({ kind: "reconnecting", attempt: 1 });
    h.runRetry();
    expect(h.sockets[1]?.url).toBe("ws://dash/ws/alerts?since=A2");
    h.sockets[1]?.open();
    h.sockets[1]?.send(alert("A2")); // the API may repeat the one we resumed from
    h.sockets[1]?.send(alert("A3"));
    expect(h.alerts.map((a) => a.alertId)).toEqual(["A1", "A2", "A3"]);
  });

  it("shows an alert again when it worsens under the same id", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]?.open();
    h.sockets[0]?.send(alert("A1", "warning"));
    h.sockets[0]?.send(alert("A1", "critical"));
    expect(h.alerts.map((a) => a.severity)).toEqual(["warning", "critical"]);
  });

  it("backs off, doubling to a cap, and resets once connected", () => {
    expect([1, 2, 3, 10].map(defaultBackoff)).toEqual([500, 1000, 2000, 15_000]);
    const h = harness();
    h.feed.start();
    h.sockets[0]?.drop();
    h.runRetry();
    h.sockets[1]?.drop();
    expect(h.states.at(-1)).toEqual({ kind: "reconnecting", attempt: 2 });
    h.runRetry();
    h.sockets[2]?.open();
    h.sockets[2]?.drop();
    expect(h.states.at(-1)).toEqual({ kind: "reconnecting", attempt: 1 });
  });

  it("closes a silent socket so that it reconnects", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]?.open();
    const silence = h.timers.filter((t) => t.ms === 45_000 && !t.cleared).pop();
    silence?.fn();
    expect(h.sockets[0]?.closedWith).toBe(4000);
  });

  it("stops for good when the API refuses the session, or when stopped", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]?.drop(1008);
    expect(h.states.at(-1)).toEqual({ kind: "closed" });
    expect(h.sockets).toHaveLength(1);
    const g = harness();
    g.feed.start();
    g.sockets[0]?.open();
    g.feed.stop();
    g.sockets[0]?.drop(1000);
    expect(g.sockets).toHaveLength(1);
    expect(g.sockets[0]?.closedWith).toBe(1000);
  });

  it("uses wss on an https page", () => {
    expect(socketUrl({ protocol: "https:", host: "h" }, "/ws/alerts", "a b")).toBe("wss://h/ws/alerts?since=a%20b");
  });
});
