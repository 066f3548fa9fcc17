// The live alert feed: one WebSocket to /ws/alerts on our own origin (the proxy forwards it
// with the session cookie), reconnecting with backoff and resuming after the last alert
// seen (`since=<alert id>`), so a drop loses nothing the API still remembers.
import { toLiveAlert, type LiveAlert } from "@/api/adapters";

export type FeedState = { kind: "connecting" } | { kind: "open" } | { kind: "reconnecting"; attempt: number } | { kind: "closed" };

/** The part of the browser's WebSocket this feed uses (so tests can pass a fake). */
export type SocketLike = Pick<WebSocket, "onopen" | "onmessage" | "onclose" | "onerror" | "close">;

export interface FeedOptions {
  url: (since: string | null) => string;
  connect: (url: string) => SocketLike;
  onAlert: (alert: LiveAlert) => void;
  onState: (state: FeedState) => void;
  /** Delay before reconnect attempt n (1-based): doubling from 0.5 s, capped at 15 s. */
  backoffMs?: (attempt: number) => number;
  /** Reconnect when nothing (not even a heartbeat) arrived for this long. */
  silenceMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export function defaultBackoff(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** Math.max(0, attempt - 1));
}

/** Codes after which trying again cannot help: the API refused who we are. */
const FINAL_CLOSE_CODES = new Set([1008, 4401, 4403]);

export class AlertFeed {
  private socket: SocketLike | null = null;
  private lastAlertId: string | null = null;
  private attempt = 0;
  private stopped = false;
  private retryTimer: unknown = null;
  private silenceTimer: unknown = null;
  private readonly seen = new Set<string>();
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: FeedOptions) {
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  get resumeFrom(): string | null {
    return this.lastAlertId;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer(this.retryTimer);
    this.clearTimer(this.silenceTimer);
    this.socket?.close(1000);
    this.socket = null;
    this.options.onState({ kind: "closed" });
  }

  private open(): void {
    this.options.onState(this.attempt === 0 ? { kind: "connecting" } : { kind: "reconnecting", attempt: this.attempt });
    const socket = this.options.connect(this.options.url(this.lastAlertId));
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.options.onState({ kind: "open" });
      this.armSilence();
    };
    socket.onmessage = (event) => {
      this.armSilence();
      this.receive(event.data);
    };
    socket.onerror = () => {
      // the close event follows and decides
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimer(this.silenceTimer);
      if (this.stopped || FINAL_CLOSE_CODES.has(event.code)) {
        this.options.onState({ kind: "closed" });
        return;
      }
      this.attempt += 1;
      this.options.onState({ kind: "reconnecting", attempt: this.attempt });
      this.retryTimer = this.setTimer(() => this.open(), (this.options.backoffMs ?? defaultBackoff)(this.attempt));
    };
  }

  private armSilence(): void {
    this.clearTimer(this.silenceTimer);
    const silence = this.options.silenceMs ?? 45_000;
    this.silenceTimer = this.setTimer(() => this.socket?.close(4000), silence);
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let message: { type?: unknown; data?: unknown };
    try {
      message = JSON.parse(data) as { type?: unknown; data?: unknown };
    } catch {
      return;
    }
    if (message.type !== "alert") return; // `subscribed` and `heartbeat` only keep us alive
    const alert = toLiveAlert(message.data);
    this.lastAlertId = alert.alertId;
    // A resumed stream may repeat what we saw; an alert that worsens keeps its id (an
    // episode) and must show again, so the severity is part of what counts as seen.
    const key = `${alert.alertId}|${alert.severity ?? ""}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.options.onAlert(alert);
  }
}

/** ws://host/ws/alerts?since=... on the page's own origin. */
export function socketUrl(location: { protocol: string; host: string }, path: string, since: string | null): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = since ? `?since=${encodeURIComponent(since)}` : "";
  return `${scheme}//${location.host}${path}${query}`;
}
