/**
 * A TCP proxy on 127.0.0.1 in front of a database, for fault tests: it forwards bytes both ways
 * until it is told to go silent, like a firewall or NAT that drops a flow without a reset. After
 * that, nothing passes in either direction and no side sees the other close: the client's bytes
 * are swallowed, the server's answers never arrive.
 */
import net from 'node:net';

export interface SilentProxy {
  readonly port: number;
  /** Stop forwarding in both directions (no FIN, no RST reaches either side). */
  goSilent(): void;
  /** Resolves when the proxy went silent (by `goSilent` or by the trigger). */
  readonly silenced: Promise<void>;
  /** Client connections made to the proxy and not yet closed by the client (what it left open). */
  openClients(): number;
  /** Client connections made to the proxy so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Go silent right after forwarding a client message that contains this text. */
  readonly silenceAfterClientSends?: string;
}

export async function startSilentProxy(target: { host: string; port: number }, options: ProxyOptions = {}): Promise<SilentProxy> {
  let silent = false;
  let markSilenced!: () => void;
  const silenced = new Promise<void>((r) => (markSilenced = r));
  const goSilent = () => {
    if (silent) return;
    silent = true;
    markSilenced();
  };
  const sockets = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    accepted++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    sockets.add(client);
    sockets.add(upstream);
    // Errors and closes are not forwarded once silent: each side must find out on its own.
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('data', (chunk) => {
      if (silent) return;
      upstream.write(chunk);
      if (options.silenceAfterClientSends && chunk.toString('latin1').includes(options.silenceAfterClientSends)) goSilent();
    });
    upstream.on('data', (chunk) => {
      if (!silent) client.write(chunk);
    });
    client.on('close', () => {
      if (!silent) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!silent) client.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    goSilent,
    silenced,
    openClients: () => clients.size,
    get accepted() {
      return accepted;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
