/**
 * Accessibility checks for browser tests (issue 22): injects axe-core into a playwright-core page
 * and reports its violations at or above an impact (by default those the browser tests enforce,
 * `ENFORCED_IMPACT`), each with its rule, impact and the elements it hit. Use
 * `expectAccessible(page, 'search (sq)')` after a screen has settled; `axeViolations` when a test
 * wants the list itself. With `ARKIVA_AXE_SURVEY=<file>` set, every check also appends the screen's
 * findings of any impact to that file (one JSON object a line), to survey what is left below the bar.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** axe-core's impacts, least first. */
export const IMPACTS = ['minor', 'moderate', 'serious', 'critical'] as const;
export type AxeImpact = (typeof IMPACTS)[number];

/**
 * The lowest impact the browser tests fail on: moderate since every screen of every role was
 * surveyed clean at it (landmarks, one h1 a screen, named table headers), in English and Albanian.
 */
export const ENFORCED_IMPACT: AxeImpact = 'moderate';

/** One finding, reduced to what a reader needs to find and fix it. */
export interface AxeViolation {
  id: string;
  impact: AxeImpact;
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
  /** The lowest impact reported (default `ENFORCED_IMPACT`). */
  minImpact?: AxeImpact;
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

/** Runs axe-core on the page and returns its violations of `options.minImpact` (default `ENFORCED_IMPACT`) and above. */
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
  const floor = IMPACTS.indexOf(options.minImpact ?? ENFORCED_IMPACT);
  return raw
    .filter((v): v is RawResult & { impact: AxeImpact } => IMPACTS.indexOf(v.impact as AxeImpact) >= floor)
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, targets: v.nodes.slice(0, 5).map((n) => n.target.map(String).join(' ')) }));
}

/** A readable report of violations, one rule a line with its elements, for an assertion message. */
export function formatViolations(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} [${v.targets.join(' | ')}] (${v.helpUrl})`).join('\n');
}

/**
 * Fails (throws) when the page has a violation of `options.minImpact` (default `ENFORCED_IMPACT`) or
 * above; the message names the screen, each rule, its impact and the elements, so the failure can
 * be fixed without re-running. Under `ARKIVA_AXE_SURVEY`, the screen's findings of every impact are
 * appended to that file first.
 */
export async function expectAccessible(page: Page, screen: string, options: AxeOptions = {}): Promise<void> {
  const floor = options.minImpact ?? ENFORCED_IMPACT;
  const all = await axeViolations(page, { ...options, minImpact: process.env.ARKIVA_AXE_SURVEY ? 'minor' : floor });
  if (process.env.ARKIVA_AXE_SURVEY && all.length > 0) {
    await fs.promises.appendFile(process.env.ARKIVA_AXE_SURVEY, all.map((v) => JSON.stringify({ screen, id: v.id, impact: v.impact, targets: v.targets })).join('\n') + '\n');
  }
  const violations = all.filter((v) => IMPACTS.indexOf(v.impact) >= IMPACTS.indexOf(floor));
  if (violations.length > 0) {
    throw new Error(`accessibility (axe-core) on ${screen}: ${violations.length} violation(s) of impact ${floor} or above\n${formatViolations(violations)}`);
  }
}
