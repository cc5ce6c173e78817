import fs from 'node:fs';
import { AppError } from '../common/index.ts';
import { appendAuditEvent } from '../audit/index.ts';
import { delegationDetail } from '../auth/index.ts';
import {
  extractPdf, issueExtract, listExtracts, openExtractSigner, revokeExtract, verifyBySerial, verifyPdf, type ExtractRow,
} from '../extracts/index.ts';
import { EXTRACT_STATUSES, type ExtractStatus } from '../common/vocabulary.ts';
import { actorOf } from './attribution.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describe(e: ExtractRow): string {
  const state = e.status === 'revoked' ? `revoked ${e.revokedAt?.toISOString()} by ${e.revokedBy}: ${e.revokeReason}` : e.status === 'superseded' ? `superseded by ${e.supersededBy}` : 'valid';
  return `${e.serial} ${e.type} issued ${e.issuedAt.toISOString()} by ${e.issuedBy} (${e.issuingOffice}), request ${e.requestReference}, entry ${e.entryId}, sha256 ${e.pdfSha256}: ${state}`;
}

/**
 * `arkiva extract issue <entry-id> --request REF [--out FILE]`: issues and signs an extract (clerks;
 * a closed book needs --purpose); `revoke <serial> --reason TEXT` (records managers);
 * `list [--entry ID] [--status S] [--limit N]` (records managers, auditors); `verify <serial>|<file.pdf>`:
 * the public verification, no sign-in.
 */
export async function runExtractCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, {
    request: { type: 'string' }, out: { type: 'string' }, reason: { type: 'string' }, entry: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' },
  });
  const [sub, arg] = positionals;
  if (sub !== 'issue' && sub !== 'revoke' && sub !== 'verify' && sub !== 'list') throw new UsageError('a subcommand is required: issue, revoke, list or verify');
  if (sub !== 'list' && !arg) throw new UsageError(sub === 'issue' ? 'issue needs the entry id' : `${sub} needs a serial${sub === 'verify' ? ' or a PDF file' : ''}`);

  if (sub === 'verify') {
    const deps = await ctx.open({ subcommand: sub });
    try {
      const isFile = arg!.toLowerCase().endsWith('.pdf') || fs.existsSync(arg!);
      const r = isFile ? await verifyPdf(deps.db, fs.readFileSync(arg!)) : await verifyBySerial(deps.db, arg!);
      if (ctx.json) ctx.out(JSON.stringify(r));
      else if ('authentic' in r) {
        ctx.out(r.authentic ? `AUTHENTIC: extract ${r.extract!.serial}, unaltered (signature intact over the whole file)` : 'NOT an issued extract as issued (unknown SHA-256 or signature not intact)');
        ctx.out(`  sha256 ${r.sha256}; signature: ${r.signature.signed ? `${r.signature.intact ? 'intact' : 'BROKEN'}${r.signature.coversWholeFile ? '' : ', does not cover the whole file'}, ${r.signature.subFilter}, ${r.signature.signerSubject ?? 'unknown signer'}` : 'none'}`);
        if (r.extract) ctx.out(`  status ${r.extract.status}${r.extract.revokeReason ? ` (${r.extract.revokeReason})` : ''}${r.extract.supersededBy ? ` by ${r.extract.supersededBy}` : ''}`);
      } else if (!r.issued) ctx.out(`${r.serial}: no extract with this serial was issued`);
      else ctx.out(`${r.serial}: ${r.type} extract issued ${r.issuedAt} by ${r.issuingOffice}; status ${r.status}${r.revokeReason ? ` (${r.revokeReason})` : ''}${r.supersededBy ? ` by ${r.supersededBy}` : ''}; sha256 ${r.sha256}`);
      // Exit 1 when it does not verify, for scripts.
      return ('authentic' in r ? r.authentic && r.extract?.status === 'valid' : r.issued && r.status === 'valid') ? 0 : 1;
    } finally {
      await deps.close();
    }
  }

  if (sub === 'list') {
    if (values.entry !== undefined && !UUID_RE.test(values.entry)) throw new UsageError('--entry must be an entry id');
    if (values.status !== undefined && !(EXTRACT_STATUSES as readonly string[]).includes(values.status)) throw new UsageError(`--status must be one of ${EXTRACT_STATUSES.join(', ')}`);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new UsageError('--limit must be 1..200');
    const deps = await ctx.open({ subcommand: sub, target: { type: 'extracts' } });
    try {
      const r = await listExtracts(deps.db, { ...(values.entry ? { entryId: values.entry } : {}), ...(values.status ? { status: values.status as ExtractStatus } : {}), limit });
      if (ctx.json) ctx.out(JSON.stringify(r.extracts.map(({ pdfKey: _k, ...e }) => e)));
      else for (const e of r.extracts) ctx.out(describe(e));
      return 0;
    } finally {
      await deps.close();
    }
  }

  if (sub === 'revoke') {
    if (!values.reason?.trim()) throw new UsageError('revoke needs --reason TEXT (shown by the public verification)');
    const deps = await ctx.open({ subcommand: sub, target: { type: 'extract', id: arg } });
    try {
      const row = await revokeExtract(deps, arg!, values.reason, { user: actorOf(deps), from: 'cli' });
      ctx.out(ctx.json ? JSON.stringify(row) : describe(row));
      return 0;
    } finally {
      await deps.close();
    }
  }

  if (!UUID_RE.test(arg!)) throw new UsageError('issue needs an entry id (uuid)');
  if (!values.request?.trim()) throw new UsageError('issue needs --request REF (the request the extract answers)');
  const deps = await ctx.open({ subcommand: sub, target: { type: 'entry', id: arg } });
  try {
    const user = actorOf(deps);
    const signer = await openExtractSigner(deps.config, deps.log);
    let row: ExtractRow;
    try {
      row = await issueExtract({ ...deps, signer }, { entryId: arg!, requestReference: values.request, purpose: deps.purpose }, { user, from: 'cli', purposeGoes: '--purpose TEXT or ARKIVA_PURPOSE' });
    } catch (e) {
      // As the API records a refused read of a closed book.
      if (e instanceof AppError && e.code === 'ERR_FORBIDDEN') {
        await appendAuditEvent(deps.db, {
          actorId: user.id, actor: user.username, action: 'access.denied', targetType: 'entry', targetId: arg!, from: 'cli', purpose: deps.purpose ?? null,
          outcome: 'denied', detail: { command: 'extract', subcommand: 'issue', restricted: true, ...delegationDetail(user) },
        });
      }
      throw e;
    }
    if (values.out) {
      const { pdf } = await extractPdf(deps, row.serial, { user, from: 'cli', purpose: deps.purpose });
      fs.writeFileSync(values.out, pdf);
    }
    ctx.out(ctx.json ? JSON.stringify({ ...row, pdfKey: undefined, verifyUrl: `${deps.config.extracts.publicBaseUrl}/verify/${row.serial}` }) : `${describe(row)}${values.out ? `\n  written to ${values.out}` : ''}`);
    return 0;
  } finally {
    await deps.close();
  }
}
