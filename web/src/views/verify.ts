import { api, ApiError, get, session } from '../api.ts';
import { field, h, replace, when } from '../dom.ts';
import { currentLang, t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { confirmAction, notice, typeLabel } from '../widgets.ts';

/** What GET /verify/{serial} says: public facts only. */
interface Verification {
  serial: string;
  issued: boolean;
  issuedAt?: string;
  type?: string;
  issuingOffice?: string;
  status?: 'valid' | 'revoked' | 'superseded';
  revokedAt?: string | null;
  revokeReason?: string | null;
  supersededBy?: string | null;
  sha256?: string;
}

/** What POST /verify says of a PDF. */
interface PdfVerification {
  authentic: boolean;
  sha256: string;
  extract: Verification | null;
  signature: { signed: boolean; intact: boolean; coversWholeFile: boolean };
}

/** A row of the register, as GET /extracts lists it. */
interface ExtractRow {
  serial: string;
  type: string;
  status: 'valid' | 'revoked' | 'superseded';
  entryId: string;
  requestReference: string;
  issuedBy: string;
  issuedAt: string;
  issuingOffice: string;
  revokeReason: string | null;
  supersededBy: string | null;
  pdfSha256: string;
  verifyUrl: string;
  pdfHref: string;
}

function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge xs-${status}`, 'data-testid': 'verify-status' }, tx('xs_', status));
}

function facts(v: Verification): HTMLElement {
  if (!v.issued) return h('p', { class: 'notice fail', role: 'alert', 'data-testid': 'verify-status' }, t('vfNotIssued'));
  const row = (label: string, value: HTMLElement | string) => [h('dt', null, label), h('dd', null, value)];
  return h('dl', { class: 'facts', 'data-testid': 'verify-facts' },
    row(t('vfSerial'), h('code', null, v.serial)),
    row(t('vfStatus'), statusBadge(v.status!)),
    v.revokeReason ? row(t('vfReason'), v.revokeReason) : null,
    v.supersededBy ? row(t('vfSupersededBy'), h('a', { href: `#/verify/${v.supersededBy}` }, v.supersededBy)) : null,
    row(t('vfIssuedAt'), when(v.issuedAt, currentLang())),
    row(t('vfType'), typeLabel(v.type!)),
    row(t('vfOffice'), v.issuingOffice!),
    row(t('vfSha'), h('code', { class: 'hash' }, v.sha256!)));
}

/**
 * The public verification page (no sign-in): the address in an extract's QR code leads here. By
 * serial, it shows whether the extract was issued, when, by which office, its status and hash; a
 * PDF chosen here is sent to the archive, which says whether it is the issued file, unaltered.
 */
export async function verifyView({ el, params }: ViewContext): Promise<void> {
  const serial = h('input', { name: 'serial', type: 'text', maxlength: '40', required: true, autocomplete: 'off', placeholder: '2026-7K3QX-M9PAD', value: params.serial ?? '' });
  const file = h('input', { name: 'pdf', type: 'file', accept: 'application/pdf,.pdf' });
  const result = h('section', { 'aria-live': 'polite', 'data-testid': 'verify-result' });
  const msg = notice();
  replace(el, h('h1', null, t('vfTitle')),
    h('form', { class: 'card', onsubmit: (e: Event) => { e.preventDefault(); if (serial.value.trim()) go(`/verify/${encodeURIComponent(serial.value.trim())}`); } },
      h('div', { class: 'row grow' }, field(t('vfSerial'), serial), h('button', { type: 'submit' }, t('vfCheck')))),
    h('form', { class: 'card', onsubmit: (e: Event) => e.preventDefault() },
      field(t('vfFile'), file),
      h('button', {
        type: 'button', class: 'secondary',
        onclick: async () => {
          const f = file.files?.[0];
          if (!f) return;
          msg.clear();
          try {
            const headers: Record<string, string> = { 'content-type': 'application/pdf', accept: 'application/json' };
            // Signed in, the access check wants the CSRF token on every POST, public or not.
            if (session.csrf) headers['x-csrf-token'] = session.csrf;
            const res = await fetch('/verify', { method: 'POST', headers, body: f, credentials: 'same-origin' });
            const body = (await res.json()) as PdfVerification & { error?: { code?: string; message: string } };
            if (!res.ok) throw new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
            replace(result, h('p', { class: `notice ${body.authentic ? 'ok' : 'fail'}`, 'data-testid': 'verify-file' }, body.authentic ? t('vfAuthentic') : t('vfNotAuthentic')),
              body.extract ? facts(body.extract) : null);
          } catch (e) {
            msg.fail(e);
          }
        },
      }, t('vfCheck'))),
    msg, result);
  if (!params.serial) return serial.focus();
  replace(result, facts(await get<Verification>(`/verify/${encodeURIComponent(params.serial)}`)));
}

/** The issue form of an entry (clerks): a request reference, then the serial, the PDF and the verification page. */
export function issueExtractForm(entryId: string): HTMLElement {
  const ref = h('input', { name: 'requestReference', type: 'text', maxlength: '200', required: true });
  const out = h('div', { 'aria-live': 'polite' });
  const msg = notice();
  return h('form', {
    class: 'issue-extract', 'data-testid': 'issue-extract',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      try {
        const { extract } = await api<{ extract: ExtractRow }>('POST', '/extracts', { entryId, requestReference: ref.value.trim(), ...(session.purpose ? { purpose: session.purpose } : {}) });
        replace(out, h('p', { class: 'notice ok', 'data-testid': 'extract-issued' }, `${t('exIssued')}: `, h('strong', { 'data-testid': 'extract-serial' }, extract.serial), ' · ',
          h('a', { href: extract.pdfHref, download: `extract-${extract.serial}.pdf` }, t('exPdf')), ' · ',
          h('a', { href: extract.verifyUrl, 'data-testid': 'extract-verify-url' }, t('exVerifyPage'))));
      } catch (err) {
        msg.fail(err);
      }
    },
  }, h('div', { class: 'row grow' }, field(t('exRequest'), ref, t('exRequestHint')), h('button', { type: 'submit' }, t('exIssue'))), msg, out);
}

/** The register of extracts (records managers, auditors); records managers revoke with a reason. */
export async function extractsView({ el, query }: ViewContext): Promise<void> {
  const msg = notice();
  const serial = h('input', { name: 'serial', type: 'search', maxlength: '40', value: query.get('serial') ?? '' });
  const list = h('section', { 'aria-live': 'polite' });
  replace(el, h('h1', null, t('exTitle')),
    h('form', { class: 'card', role: 'search', onsubmit: (e: Event) => { e.preventDefault(); go(`/extracts${serial.value.trim() ? `?${new URLSearchParams({ serial: serial.value.trim() })}` : ''}`); } },
      h('div', { class: 'row grow' }, field(t('vfSerial'), serial), h('button', { type: 'submit' }, t('search')))),
    msg, list);
  const q = query.get('serial');
  const { extracts } = await get<{ extracts: ExtractRow[] }>('/extracts', q ? { serial: q } : {});
  const mayRevoke = session.user?.roles.includes('records_manager') ?? false;
  if (extracts.length === 0) return replace(list, h('p', null, t('noResults')));
  replace(list, h('table', { class: 'data', 'data-testid': 'extracts' },
    h('thead', null, h('tr', null, [t('vfSerial'), t('vfStatus'), t('vfIssuedAt'), t('exRequest'), t('vfType'), h('span', { class: 'visually-hidden' }, t('exRevoke'))].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, extracts.map((x) => {
      const reason = h('input', { name: 'reason', type: 'text', maxlength: '1000', required: true, 'aria-label': t('exReason'), placeholder: t('exReason') });
      const revoke = mayRevoke && x.status === 'valid'
        ? h('form', {
          class: 'row', 'data-testid': 'revoke-extract',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            const ok = await confirmAction({
              title: t('confirmRevoke'), confirm: t('exRevoke'),
              body: [h('p', null, h('strong', null, x.serial), ` · ${typeLabel(x.type)} · ${t('exRequest')}: ${x.requestReference} · ${when(x.issuedAt, currentLang())}`),
                h('p', null, `${t('vfReason')}: ${reason.value.trim()}`), h('p', { class: 'warn' }, t('revokeWarn'))],
            });
            if (!ok) return;
            try {
              await api('POST', `/extracts/${x.serial}/revoke`, { reason: reason.value.trim() });
              msg.ok(`${t('exRevoked')}: ${x.serial}`);
              go(`/extracts?${new URLSearchParams({ serial: x.serial })}`);
            } catch (err) {
              msg.fail(err);
            }
          },
        }, reason, h('button', { type: 'submit', class: 'danger small' }, t('exRevoke')))
        : null;
      return h('tr', null,
        h('td', null, h('a', { href: `#/verify/${x.serial}` }, x.serial)),
        h('td', null, statusBadge(x.status), x.revokeReason ? h('small', null, ` ${x.revokeReason}`) : null),
        h('td', null, when(x.issuedAt, currentLang()), h('small', null, ` · ${x.issuedBy}`)),
        h('td', null, x.requestReference),
        h('td', null, typeLabel(x.type)),
        h('td', null, revoke));
    }))));
}
