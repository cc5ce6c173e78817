import { OUTBOX_EVENT_TYPES } from '../common/vocabulary.ts';
import { createSubscription, listDeliveries, listEvents, listSubscriptions, replayDeadLetters, replayEvent, unsubscribe } from '../events/index.ts';
import { actorOf } from './attribution.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidOption(v: string | undefined, name: string): string | undefined {
  if (v !== undefined && !UUID_RE.test(v)) throw new UsageError(`${name} must be an id`);
  return v;
}

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw new UsageError(`${name} must be a whole number from 1`);
  return Number(v);
}

const iso = (d: Date | null) => (d ? d.toISOString() : '-');

/**
 * `arkiva events list [--type T] [--book ID] [--before SEQ] [--limit N] | list --dead | list --subscriptions`,
 * `arkiva events replay <event-id> [--subscription ID] | replay --dead [--subscription ID]`,
 * `arkiva events subscribe --name N --url URL --type T [--type T]... [--secret S] [--grant-purpose TEXT]`,
 * `arkiva events unsubscribe <subscription-id>`.
 */
export async function runEventsCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, {
    type: { type: 'string', multiple: true }, book: { type: 'string' }, before: { type: 'string' }, limit: { type: 'string' }, dead: { type: 'boolean' },
    subscriptions: { type: 'boolean' }, subscription: { type: 'string' }, name: { type: 'string' }, url: { type: 'string' }, secret: { type: 'string' },
    'grant-purpose': { type: 'string' },
  });
  const [sub, arg] = positionals;
  if (sub !== 'list' && sub !== 'replay' && sub !== 'subscribe' && sub !== 'unsubscribe') throw new UsageError('a subcommand is required: list, replay, subscribe or unsubscribe');
  for (const t of values.type ?? []) if (!(OUTBOX_EVENT_TYPES as readonly string[]).includes(t)) throw new UsageError(`--type must be one of ${OUTBOX_EVENT_TYPES.join(', ')}`);
  const book = uuidOption(values.book, '--book');
  const subscription = uuidOption(values.subscription, '--subscription');
  const limit = intOption(values.limit, '--limit');
  const before = intOption(values.before, '--before');

  if (sub === 'list') {
    if ((values.type?.length ?? 0) > 1) throw new UsageError('list takes one --type');
    const deps = await ctx.open({ subcommand: sub, detail: { dead: values.dead ?? false, subscriptions: values.subscriptions ?? false } });
    try {
      if (values.subscriptions) {
        const subs = await listSubscriptions(deps.db);
        if (ctx.json) ctx.out(JSON.stringify({ subscriptions: subs }));
        else for (const s of subs) ctx.out(`${s.id} ${s.active ? 'active  ' : 'inactive'} ${s.name} ${s.url} [${s.eventTypes.join(', ')}]${s.purpose ? ` purpose: ${s.purpose}` : ''}`);
        return 0;
      }
      if (values.dead) {
        const dead = await listDeliveries(deps.db, { status: 'dead', ...(subscription ? { subscriptionId: subscription } : {}), ...(limit ? { limit } : {}) });
        if (ctx.json) ctx.out(JSON.stringify({ deliveries: dead }));
        else for (const d of dead) ctx.out(`${d.eventId} ${d.eventType} -> ${d.subscriptionName} (${d.subscriptionId}): ${d.attempts} tries, last ${d.lastError ?? '-'}, dead since ${iso(d.deadLetteredAt)}`);
        return 0;
      }
      const events = await listEvents(deps.db, { ...(values.type?.[0] ? { type: values.type[0] } : {}), ...(book ? { bookId: book } : {}), ...(before ? { beforeSeq: before } : {}), ...(limit ? { limit } : {}) });
      if (ctx.json) ctx.out(JSON.stringify({ events }));
      else {
        for (const e of events) {
          const subjects = Object.entries(e.subjects).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(' ');
          ctx.out(`${String(e.seq).padStart(6)} ${e.id} ${e.occurredAt.toISOString()} ${e.type.padEnd(15)} ${subjects}${e.fannedOutAt ? '' : ' (not sent yet)'}`);
        }
      }
      return 0;
    } finally {
      await deps.close();
    }
  }

  if (sub === 'replay') {
    if (values.dead ? arg !== undefined : !arg) throw new UsageError('replay needs an event id, or --dead');
    const eventId = values.dead ? undefined : uuidOption(arg, 'the event id');
    const deps = await ctx.open({ subcommand: sub, ...(eventId ? { target: { type: 'event', id: eventId } } : {}), detail: { dead: values.dead ?? false, ...(subscription ? { subscriptionId: subscription } : {}) } });
    try {
      const opts = subscription ? { subscriptionId: subscription } : {};
      const queued = eventId ? await replayEvent(deps.db, eventId, opts) : await replayDeadLetters(deps.db, opts);
      ctx.out(ctx.json ? JSON.stringify({ queued }) : `${queued} deliveries queued again; the next delivery run (within seconds) sends them`);
      return 0;
    } finally {
      await deps.close();
    }
  }

  if (sub === 'subscribe') {
    if (!values.name || !values.url || !values.type?.length) throw new UsageError('subscribe needs --name, --url and at least one --type');
    const purpose = values['grant-purpose'];
    const deps = await ctx.open({ subcommand: sub, detail: { name: values.name, url: values.url, eventTypes: values.type, purpose: purpose ?? null } });
    try {
      const made = await createSubscription(deps.db, {
        name: values.name, url: values.url, eventTypes: values.type, ...(values.secret ? { secret: values.secret } : {}), ...(purpose ? { purpose } : {}),
      }, { user: actorOf(deps).username });
      if (ctx.json) ctx.out(JSON.stringify(made));
      else {
        ctx.out(`subscription ${made.subscription.id} (${made.subscription.name}) to ${made.subscription.eventTypes.join(', ')}`);
        ctx.out(`secret (shown this once; the receiver checks X-Arkiva-Signature with it): ${made.secret}`);
      }
      return 0;
    } finally {
      await deps.close();
    }
  }

  const id = uuidOption(arg, 'the subscription id');
  if (!id) throw new UsageError('unsubscribe needs a subscription id');
  const deps = await ctx.open({ subcommand: sub, target: { type: 'event-subscription', id } });
  try {
    const s = await unsubscribe(deps.db, id, { user: actorOf(deps).username });
    ctx.out(ctx.json ? JSON.stringify({ subscription: s }) : `subscription ${s.id} (${s.name}) is inactive: no more deliveries`);
    return 0;
  } finally {
    await deps.close();
  }
}
