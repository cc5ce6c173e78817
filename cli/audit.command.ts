import { listAuditEvents, verifyWithAnchors, writeAnchor } from '../audit/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';

/** How a listed event names an action done through a token an admin made for someone (`issuedBy`, `onBehalfOf` in its detail). */
function onBehalf(detail: Record<string, unknown> | null): string {
  return typeof detail?.issuedBy === 'string' && typeof detail.onBehalfOf === 'string' ? ` (token issued by ${detail.issuedBy} on behalf of ${detail.onBehalfOf})` : '';
}

/** `arkiva audit verify|anchor|list`: verify checks the chain against every anchor and exits 1 naming the first broken event. */
export async function runAuditCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { after: { type: 'string' }, actor: { type: 'string' }, action: { type: 'string' }, limit: { type: 'string' } });
  const sub = positionals[0];
  if (!['verify', 'anchor', 'list'].includes(sub ?? '')) throw new UsageError('a subcommand is required: verify, anchor or list');
  const limit = values.limit ? Number(values.limit) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1..1000');
  const after = values.after ? Number(values.after) : 0;
  if (!Number.isInteger(after) || after < 0) throw new UsageError('--after must be a sequence number');
  const deps = await ctx.open({ subcommand: sub });
  try {
    if (sub === 'verify') {
      const r = await verifyWithAnchors(deps);
      if (ctx.json) ctx.out(JSON.stringify(r));
      else if (r.ok) ctx.out(`audit chain intact: ${r.checked} events, head ${r.head?.seq ?? 0}${r.anchor ? `; matches every anchor in object storage (${r.anchors}), the newest of event ${r.anchor.seq} (${r.anchor.at})` : '; no anchor in object storage yet'}`);
      else ctx.out(`audit chain BROKEN at event ${r.broken!.seq}: ${r.broken!.reason}`);
      return r.ok ? 0 : 1;
    }
    if (sub === 'anchor') {
      const a = await writeAnchor(deps);
      ctx.out(ctx.json ? JSON.stringify({ anchor: a ?? null }) : a ? `anchored event ${a.seq} at ${a.key}` : 'nothing to anchor (empty trail, or the head is already anchored)');
      return 0;
    }
    const events = await listAuditEvents(deps.db, { afterSeq: after, limit, ...(values.actor ? { actor: values.actor } : {}), ...(values.action ? { action: values.action } : {}) });
    if (ctx.json) ctx.out(JSON.stringify({ events }));
    else for (const e of events) ctx.out(`${e.seq} ${e.at} ${e.actor}${onBehalf(e.detail)} ${e.action} ${e.targetType ?? ''}${e.targetId ? ` ${e.targetId}` : ''} ${e.outcome}${e.purpose ? ` purpose: ${e.purpose}` : ''}`);
    return 0;
  } finally {
    await deps.close();
  }
}
