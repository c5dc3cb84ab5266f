/**
 * Talking to a running hub as a program does: its REST API with a token, and a
 * kernel on a learner's server over Jupyter's WebSocket channels (the protocol a
 * browser speaks). Used by the security tests and the class bench. Node 20 has no
 * global WebSocket, so this uses the `ws` package.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

export interface HubApi {
  /** Calls `hub/api/<route>`; resolves with the status and the parsed body (or undefined). */
  call(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

/** The REST API of the hub at `url`, as the holder of `token`. */
export function hubApi(url: string, token: string): HubApi {
  return {
    async call(method, route, body) {
      const response = await fetch(new URL(`hub/api/${route}`, url), {
        method,
        headers: { Authorization: `token ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed };
    },
  };
}

/** Starts a learner's server and waits until the hub says it is ready. */
export async function startServer(api: HubApi, user: string, timeoutMs = 120_000): Promise<void> {
  const started = await api.call("POST", `users/${user}/server`);
  if (started.status !== 201 && started.status !== 202 && started.status !== 400) {
    throw new Error(`starting ${user}'s server: HTTP ${started.status} ${JSON.stringify(started.body)}`);
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const model = (await api.call("GET", `users/${user}`)).body as { servers?: Record<string, { ready?: boolean }> } | undefined;
    if (model?.servers?.[""]?.ready) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${user}'s server was not ready within ${timeoutMs / 1000} s`);
}

/** What one cell gave: how it ended and its text (streams, results, error). */
export interface CellRun {
  readonly status: "ok" | "error" | "aborted";
  readonly text: string;
  readonly ms: number;
}

export interface RemoteKernel {
  /** Runs `code`; rejects when the reply and the kernel's "idle" have not both come within `timeoutMs`, or the channels close. */
  execute(code: string, timeoutMs?: number): Promise<CellRun>;
  close(): Promise<void>;
}

interface WireMessage {
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
  channel?: string;
}

/**
 * Starts a kernel (`tslab`) on the server at `serverUrl` (e.g. `http://host/user/rc-ada/`)
 * and opens its channels, all as the holder of `token`.
 */
export async function openKernel(serverUrl: string, token: string, kernelName = "tslab"): Promise<RemoteKernel> {
  const headers = { Authorization: `token ${token}` };
  const created = await fetch(new URL("api/kernels", serverUrl), { method: "POST", headers, body: JSON.stringify({ name: kernelName }) });
  if (created.status !== 201) throw new Error(`starting a kernel at ${serverUrl}: HTTP ${created.status}`);
  const { id } = (await created.json()) as { id: string };
  const session = randomUUID();
  const wsUrl = new URL(`api/kernels/${id}/channels?session_id=${session}`, serverUrl);
  wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(wsUrl, { headers });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const waiting = new Map<
    string,
    { reply?: WireMessage; idle: boolean; text: string[]; done: (m: WireMessage) => void; fail: (why: string) => void }
  >();
  socket.on("close", () => {
    for (const entry of waiting.values()) entry.fail(`the channels of ${serverUrl} closed`);
  });
  socket.on("message", (data: WebSocket.RawData) => {
    const message = JSON.parse(data.toString()) as WireMessage;
    const entry = waiting.get(message.parent_header.msg_id ?? "");
    if (!entry) return;
    const c = message.content;
    const type = message.header.msg_type;
    if (type === "stream") entry.text.push(String(c["text"]));
    else if (type === "execute_result" || type === "display_data")
      entry.text.push(String((c["data"] as Record<string, unknown>)["text/plain"] ?? ""));
    else if (type === "error") entry.text.push(`${String(c["ename"])}: ${String(c["evalue"])}`);
    else if (type === "status" && c["execution_state"] === "idle") entry.idle = true;
    else if (type === "execute_reply") entry.reply = message;
    if (entry.idle && entry.reply) entry.done(entry.reply);
  });
  return {
    execute(code, timeoutMs = 120_000) {
      const msgId = randomUUID();
      const began = performance.now();
      return new Promise((resolve, reject) => {
        const text: string[] = [];
        const fail = (why: string): void => {
          clearTimeout(timer);
          waiting.delete(msgId);
          reject(new Error(why));
        };
        const timer = setTimeout(() => {
          const entry = waiting.get(msgId);
          const missing = [entry?.reply ? "" : "no reply", entry?.idle ? "" : 'no "idle"'].filter(Boolean).join(", ");
          fail(`a cell on ${serverUrl} did not finish within ${timeoutMs / 1000} s (${missing} from the kernel)`);
        }, timeoutMs);
        waiting.set(msgId, {
          idle: false,
          text,
          fail,
          done: (reply) => {
            clearTimeout(timer);
            waiting.delete(msgId);
            const status = reply.content["status"];
            resolve({
              status: status === "ok" ? "ok" : status === "aborted" ? "aborted" : "error",
              text: text.join(""),
              ms: performance.now() - began,
            });
          },
        });
        const request = {
          header: {
            msg_id: msgId,
            username: "rollcall",
            session,
            msg_type: "execute_request",
            version: "5.3",
            date: new Date().toISOString(),
          },
          parent_header: {},
          metadata: {},
          content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false },
          channel: "shell",
          buffers: [],
        };
        socket.send(JSON.stringify(request), (error) => error && fail(error.message));
      });
    },
    async close() {
      socket.close();
      await fetch(new URL(`api/kernels/${id}`, serverUrl), { method: "DELETE", headers }).catch(() => undefined);
    },
  };
}
