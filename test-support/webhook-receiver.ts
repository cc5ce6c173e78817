/**
 * A webhook receiver as another state system would run it: a plain Node HTTP server on loopback
 * that checks each delivery's HMAC signature with the shared secret, and can be told to fail the
 * first tries of every event, or to hold a request without answering (to kill the sender meanwhile).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../events/index.ts';

/** One request as the receiver got it. */
export interface ReceivedDelivery {
  id: string | undefined;
  type: string | undefined;
  attempt: number;
  signatureValid: boolean;
  body: Record<string, unknown>;
  /** The HTTP status answered (0 while held). */
  answered: number;
}

/** A running receiver. */
export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order. */
  requests: ReceivedDelivery[];
  /** Ids acknowledged with 2xx, with how many times each was acknowledged. */
  acknowledged: Map<string, number>;
  /** Resolves at the next request that is held without an answer. */
  nextHeld(): Promise<ReceivedDelivery>;
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1. `failFirst`: answer 503 to the first that many requests for each
 * event id; `holdFirst`: hold that many requests in all without answering (the connection stays
 * open until the sender goes away); a request with a bad signature gets 401 and is not acknowledged.
 */
export async function startWebhookReceiver(secret: string, opts: { failFirst?: number; holdFirst?: number } = {}): Promise<WebhookReceiver> {
  const requests: ReceivedDelivery[] = [];
  const acknowledged = new Map<string, number>();
  const triesById = new Map<string, number>();
  let held = 0;
  let heldWaiters: ((r: ReceivedDelivery) => void)[] = [];
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = (n: string) => {
        const v = req.headers[n.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      };
      const signatureValid = verifySignature(secret, { timestamp: header('X-Arkiva-Timestamp'), signature: header('X-Arkiva-Signature') }, raw);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const id = header('X-Arkiva-Event-Id');
      const r: ReceivedDelivery = { id, type: header('X-Arkiva-Event-Type'), attempt: Number(header('X-Arkiva-Delivery-Attempt') ?? 0), signatureValid, body, answered: 0 };
      requests.push(r);
      if (held < (opts.holdFirst ?? 0)) {
        held++;
        open.add(res);
        res.on('close', () => open.delete(res));
        const waiters = heldWaiters;
        heldWaiters = [];
        for (const w of waiters) w(r);
        return;
      }
      const answer = (status: number) => {
        r.answered = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      };
      if (!signatureValid || !id || body.id !== id) return answer(401);
      const tries = (triesById.get(id) ?? 0) + 1;
      triesById.set(id, tries);
      if (tries <= (opts.failFirst ?? 0)) return answer(503);
      acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
      answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/arkiva`,
    requests,
    acknowledged,
    nextHeld: () => new Promise((resolve) => heldWaiters.push(resolve)),
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
