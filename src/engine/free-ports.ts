/**
 * Loopback ports that are free now, for a server or kernel that binds them a
 * moment later. The OS may hand a port just closed out again, so ports chosen
 * together are chosen while all are held open (never the same one twice), and
 * this process remembers those it handed out until they are given back.
 */
import { createServer, type AddressInfo, type Server } from "node:net";

/**
 * Ports handed out by this process and not yet given back. A port is free when
 * chosen, but its server binds it a while later (seconds, on a loaded machine), and a
 * port just closed may be chosen again meanwhile: thirty kernels starting at once were
 * seen given the same port, one of them then failing to bind it and started again;
 * a hub's own port and its proxy's, chosen one after the other, were seen the same.
 */
const portsHeld = new Set<number>();

const listening = (): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });

/** `count` different free loopback ports, none held by this process nor among `besides` (ports promised elsewhere). */
export async function freePorts(count: number, besides: readonly number[] = []): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      // each kept listening until all are chosen, so that none is chosen twice
      const server = await listening();
      servers.push(server);
      const port = (server.address() as AddressInfo).port;
      if (portsHeld.has(port) || besides.includes(port)) continue;
      portsHeld.add(port); // before the server closes: a concurrent call must not take it then
      ports.push(port);
    }
  } catch (error) {
    givePortsBack(ports);
    throw error;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
  return ports;
}

/** Whether this process holds `port` (for tests). */
export const portIsHeld = (port: number): boolean => portsHeld.has(port);

/** Ports no longer needed (their server stopped, or never started). */
export function givePortsBack(ports: readonly number[]): void {
  for (const port of ports) portsHeld.delete(port);
}

/** One free loopback port, as `freePorts` chooses them. */
export async function freePort(besides: readonly number[] = []): Promise<number> {
  const [port] = await freePorts(1, besides);
  return port as number;
}
