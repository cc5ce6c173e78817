/**
 * Accessibility checks for browser tests (issue 22): injects axe-core into a playwright-core page
 * and reports the serious and critical violations, each with its rule, impact and the elements it
 * hit. Use `expectAccessible(page, 'search (sq)')` after a screen has settled; `axeViolations` when
 * a test wants the list itself.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** One serious or critical finding, reduced to what a reader needs to find and fix it. */
export interface AxeViolation {
  id: string;
  impact: 'serious' | 'critical';
  help: string;
  helpUrl: string;
  /** CSS selectors of the offending elements (axe's `target`), at most a few per rule. */
  targets: string[];
}

/** Options of a check: where to look and which rules a screen may knowingly skip. */
export interface AxeOptions {
  /** Restricts the check to this selector (default: the whole document). */
  include?: string;
  /** Rule ids not to run, e.g. a third-party widget's; say why at the call site. */
  disableRules?: string[];
}

let source: string | undefined;

function axeSource(): string {
  // Read once: axe.min.js is ~550 KB and every screen of every browser test injects it.
  source ??= fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return source;
}

interface RawResult {
  id: string;
  impact?: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[] }[];
}

/** Runs axe-core on the page and returns its serious and critical violations. */
export async function axeViolations(page: Page, options: AxeOptions = {}): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the app's Content-Security-Policy (helmet) does not
  // block it as it would an injected <script>; re-injected after every navigation that drops it.
  const present = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!present) await page.evaluate(axeSource());
  const raw = await page.evaluate(
    async ({ include, disableRules }) => {
      const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: RawResult[] }> } }).axe;
      const rules = Object.fromEntries((disableRules ?? []).map((id) => [id, { enabled: false }]));
      const result = await axe.run(include ? { include: [include] } : document, { resultTypes: ['violations'], rules });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.map((n) => ({ target: n.target })) }));
    },
    { include: options.include, disableRules: options.disableRules },
  );
  return raw
    .filter((v): v is RawResult & { impact: 'serious' | 'critical' } => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, targets: v.nodes.slice(0, 5).map((n) => n.target.map(String).join(' ')) }));
}

/** A readable report of violations, one rule a line with its elements, for an assertion message. */
export function formatViolations(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} [${v.targets.join(' | ')}] (${v.helpUrl})`).join('\n');
}

/**
 * Fails (throws) when the page has a serious or critical violation; the message names the screen,
 * each rule, its impact and the elements, so the failure can be fixed without re-running.
 */
export async function expectAccessible(page: Page, screen: string, options: AxeOptions = {}): Promise<void> {
  const violations = await axeViolations(page, options);
  if (violations.length > 0) {
    throw new Error(`accessibility (axe-core) on ${screen}: ${violations.length} serious/critical violation(s)\n${formatViolations(violations)}`);
  }
}
