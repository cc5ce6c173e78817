import {
  BOOK_OCR_PROFILES, BOOK_STATUSES, DISPOSAL_BATCH_STATUSES, DISPOSITION_ACTIONS, FIXITY_OUTCOMES, PAGE_STATUSES, REGISTER_TYPES, RETENTION_TRIGGERS,
  REVIEW_REASONS, RULE_KINDS,
} from '../../common/vocabulary.ts';

/** Languages of the interface. */
export type Lang = 'sq' | 'en';

/** A label in English and Albanian. */
type Label = readonly [string, string];

/**
 * The labels of every value of one of the archive's lists, each under `prefix + value`: the labels
 * are keyed by the list, so a value without a label (or a label without a value) does not compile.
 */
function labelsOf<const P extends string, const V extends string>(prefix: P, values: readonly V[], labels: { readonly [K in NoInfer<V>]: Label }): Record<`${P}${V}`, Label> {
  return Object.fromEntries(values.map((v) => [`${prefix}${v}`, labels[v]])) as Record<`${P}${V}`, Label>;
}

// Each label in English and Albanian. Keys are English-ish so a missing one still reads.
const L = {
  appName: ['Arkiva', 'Arkiva'],
  tagline: ['Civil registers archive', 'Arkivi i regjistrave civilë'],
  skip: ['Skip to content', 'Kalo te përmbajtja'],
  language: ['Language', 'Gjuha'],
  signIn: ['Sign in', 'Hyr'],
  signOut: ['Sign out', 'Dil'],
  username: ['Username', 'Përdoruesi'],
  password: ['Password', 'Fjalëkalimi'],
  loginFailed: ['Wrong username or password.', 'Përdorues ose fjalëkalim i gabuar.'],
  authMissing: ['Sign-in is not available on this server yet.', 'Hyrja nuk është ende e disponueshme në këtë server.'],
  signedInAs: ['Signed in as', 'Hyrë si'],
  purpose: ['Purpose of access', 'Qëllimi i qasjes'],
  purposeHint: ['Sent with every read of restricted records (e.g. a request number).', 'Dërgohet me çdo lexim të dokumenteve të kufizuara (p.sh. numri i kërkesës).'],
  nav: ['Main navigation', 'Navigimi kryesor'],
  books: ['Books', 'Librat'],
  upload: ['Upload', 'Ngarko'],
  search: ['Search', 'Kërko'],
  records: ['Registry records', 'Regjistrimet'],
  retention: ['Retention', 'Ruajtja'],
  audit: ['Audit trail', 'Gjurma e auditimit'],
  loading: ['Loading…', 'Duke u ngarkuar…'],
  error: ['Error', 'Gabim'],
  notFound: ['Page not found.', 'Faqja nuk u gjet.'],
  noScreens: ['Your roles have no screens in the web interface; users and roles are managed with the arkiva user command.', 'Rolet tuaja nuk kanë ekrane në ndërfaqen web; përdoruesit dhe rolet menaxhohen me komandën arkiva user.'],
  forbidden: ['Your roles do not allow this.', 'Rolet tuaja nuk e lejojnë këtë.'],
  save: ['Save', 'Ruaj'],
  cancel: ['Cancel', 'Anulo'],
  close: ['Close', 'Mbyll'],
  none: ['None.', 'Asnjë.'],
  // books
  uploadBook: ['Upload a book', 'Ngarko një libër'],
  dropHere: ['Drop a TIFF, PDF, ZIP or page image here, or choose a file', 'Lëshoni këtu një TIFF, PDF, ZIP ose imazh faqeje, ose zgjidhni një skedar'],
  chooseFile: ['Choose file', 'Zgjidh skedarin'],
  file: ['File', 'Skedari'],
  registerType: ['Register type', 'Lloji i regjistrit'],
  municipality: ['Municipality', 'Komuna'],
  year: ['Year or years', 'Viti ose vitet'],
  yearHint: ['yyyy or yyyy-yyyy', 'vvvv ose vvvv-vvvv'],
  volume: ['Volume', 'Vëllimi'],
  languages: ['OCR languages', 'Gjuhët e OCR'],
  ocrProfile: ['OCR page type', 'Lloji i faqeve për OCR'],
  ...labelsOf('op_', BOOK_OCR_PROFILES, {
    printed: ['Printed form', 'Formular i shtypur'],
    typewriter: ['Typewriter', 'Makinë shkrimi'],
    mixed: ['Mixed Latin/Cyrillic', 'Latinisht/cirilisht e përzier'],
    handwritten: ['Handwritten (keyed by staff)', 'Dorëshkrim (futet nga stafi)'],
  }),
  ...labelsOf('', REGISTER_TYPES, {
    birth: ['Birth', 'Lindje'],
    marriage: ['Marriage', 'Martesë'],
    death: ['Death', 'Vdekje'],
    other: ['Other', 'Tjetër'],
  }),
  any: ['Any', 'Çdo'],
  uploading: ['Uploading', 'Duke ngarkuar'],
  uploaded: ['Uploaded. Processing pages…', 'U ngarkua. Faqet po përpunohen…'],
  duplicate: ['These bytes were archived before: showing the existing book.', 'Këto bajte janë arkivuar më parë: po shfaqet libri ekzistues.'],
  noFile: ['Choose a file first.', 'Zgjidhni fillimisht një skedar.'],
  status: ['Status', 'Gjendja'],
  pages: ['Pages', 'Faqet'],
  page: ['Page', 'Faqja'],
  entry: ['Entry', 'Regjistrimi'],
  book: ['Book', 'Libri'],
  bookId: ['Book id', 'ID e librit'],
  failures: ['Failures', 'Dështimet'],
  created: ['Created', 'Krijuar'],
  open: ['Open', 'Hap'],
  allStatuses: ['All statuses', 'Të gjitha gjendjet'],
  // book and page statuses share the prefix (both have processing and failed)
  // why a page is in the OCR review queue (GET /api/review)
  ...labelsOf('rr_', REVIEW_REASONS, {
    timeout: ['OCR ran out of time', 'OCR-ja mbaroi kohën'],
    blank: ['blank page, to confirm', 'faqe e zbrazët, për t’u konfirmuar'],
    'no-text': ['no text read', 'nuk u lexua asnjë tekst'],
    'low-confidence': ['low OCR confidence', 'besueshmëri e ulët e OCR-së'],
  }),
  ...labelsOf('s_', [...BOOK_STATUSES, ...PAGE_STATUSES], {
    received: ['received', 'pranuar'],
    splitting: ['splitting', 'duke u ndarë'],
    processing: ['processing', 'në përpunim'],
    complete: ['complete', 'përfunduar'],
    complete_with_failures: ['complete with failures', 'përfunduar me dështime'],
    failed: ['failed', 'dështuar'],
    pending: ['pending', 'në pritje'],
    done: ['done', 'gati'],
  }),
  s_split: ['splitting', 'ndarja'],
  s_master: ['master image', 'imazhi master'],
  s_ocr: ['OCR', 'OCR'],
  s_index: ['indexing', 'indeksimi'],
  stage: ['Stage', 'Faza'],
  reason: ['Reason', 'Arsyeja'],
  retry: ['Retry', 'Riprovo'],
  retryFailed: ['Retry failed pages', 'Riprovo faqet e dështuara'],
  replace: ['Replace image', 'Zëvendëso imazhin'],
  replaced: ['Page replaced; it goes through the stages again.', 'Faqja u zëvendësua; kalon sërish nëpër faza.'],
  retried: ['Sent again', 'U dërgua sërish'],
  failedPages: ['Failed pages', 'Faqet e dështuara'],
  thumbnails: ['Pages', 'Faqet'],
  progress: ['Progress', 'Përparimi'],
  ocrConfidence: ['OCR confidence', 'Besueshmëria e OCR'],
  completeness: ['Completeness', 'Plotësia'],
  checkCompleteness: ['Check printed page numbers', 'Kontrollo numrat e faqeve të shtypur'],
  completenessHint: ['Reads the page number printed on each page (OCR) and flags gaps and duplicates.', 'Lexon numrin e faqes të shtypur në çdo faqe (OCR) dhe shënon mungesat dhe dublikatat.'],
  gap: ['Missing page numbers', 'Numra faqesh që mungojnë'],
  dupes: ['Duplicate page numbers', 'Numra faqesh të përsëritur'],
  unread: ['Page number not read on', 'Numri i faqes nuk u lexua në'],
  complete: ['No gaps or duplicates.', 'Pa mungesa apo dublikata.'],
  events: ['Processing events', 'Ngjarjet e përpunimit'],
  // search
  query: ['Words to find', 'Fjalët për të gjetur'],
  mode: ['Match', 'Përputhja'],
  m_words: ['all words', 'të gjitha fjalët'],
  m_phrase: ['exact phrase', 'frazë e saktë'],
  m_prefix: ['word beginnings', 'fillimet e fjalëve'],
  fuzzy: ['Tolerate OCR errors', 'Toleroj gabimet e OCR'],
  yearFrom: ['From year', 'Nga viti'],
  yearTo: ['To year', 'Deri në vitin'],
  results: ['Results', 'Rezultatet'],
  noResults: ['Nothing found.', 'Asgjë nuk u gjet.'],
  more: ['More results', 'Më shumë rezultate'],
  score: ['Match', 'Përputhja'],
  // viewer
  viewer: ['Page viewer', 'Shikuesi i faqes'],
  zoomIn: ['Zoom in', 'Zmadho'],
  zoomOut: ['Zoom out', 'Zvogëlo'],
  fit: ['Fit', 'Përshtat'],
  prev: ['Previous page', 'Faqja e mëparshme'],
  next: ['Next page', 'Faqja tjetër'],
  viewerHelp: ['Drag to pan, wheel or +/− to zoom, arrow keys to move.', 'Tërhiqni për ta lëvizur, rrota ose +/− për zmadhim, shigjetat për lëvizje.'],
  drawEntry: ['Draw an entry', 'Vizato një regjistrim'],
  drawing: ['Drag a box around the entry on the page.', 'Tërhiqni një kuadrat rreth regjistrimit në faqe.'],
  entries: ['Entries', 'Regjistrimet në faqe'],
  newEntry: ['New entry', 'Regjistrim i ri'],
  eventType: ['Event', 'Ngjarja'],
  entryNumber: ['Entry number', 'Numri i regjistrimit'],
  eventDate: ['Date', 'Data'],
  place: ['Place', 'Vendi'],
  subjectName: ['Name of the person', 'Emri i personit'],
  createEntry: ['Create entry', 'Krijo regjistrimin'],
  entryCreated: ['Entry created.', 'Regjistrimi u krijua.'],
  linkToRecord: ['Link to a registry record', 'Lidh me një regjistrim'],
  linkPage: ['Link this page to a record', 'Lidh këtë faqe me një regjistrim'],
  findRecord: ['Find record by name or id', 'Gjej regjistrimin me emër ose numër'],
  linkType: ['Link type', 'Lloji i lidhjes'],
  link: ['Link', 'Lidh'],
  linked: ['Linked.', 'U lidh.'],
  links: ['Linked records', 'Regjistrimet e lidhura'],
  matches: ['Matched words', 'Fjalët e gjetura'],
  // records
  recordId: ['Record id', 'Numri i regjistrimit'],
  system: ['System', 'Sistemi'],
  names: ['Names', 'Emrat'],
  linkedItems: ['Linked archive items', 'Dokumentet e lidhura të arkivit'],
  name: ['Name', 'Emri'],
  // retention
  rules: ['Rules', 'Rregullat'],
  holds: ['Legal holds', 'Bllokimet ligjore'],
  due: ['Due for disposal', 'Për asgjësim'],
  disposal: ['Disposal batches', 'Grupet e asgjësimit'],
  fixity: ['Fixity', 'Integriteti'],
  newRule: ['New rule', 'Rregull i ri'],
  edit: ['Edit', 'Ndrysho'],
  ruleKey: ['Rule key', 'Çelësi i rregullit'],
  kind: ['Kind', 'Lloji'],
  period: ['Period', 'Periudha'],
  periodYears: ['Years', 'Vite'],
  periodMonths: ['Months', 'Muaj'],
  oneYear: ['year', 'vit'],
  nYears: ['years', 'vjet'],
  oneMonth: ['month', 'muaj'],
  nMonths: ['months', 'muaj'],
  permanent: ['Permanent', 'E përhershme'],
  trigger: ['Starts at', 'Fillon nga'],
  ...labelsOf('t_', RETENTION_TRIGGERS, {
    creation: ['archiving', 'arkivimi'],
    'closing-year': ['end of the last year', 'fundi i vitit të fundit'],
    'registry-event': ['registry event', 'ngjarja e regjistrit'],
  }),
  triggerEvent: ['Registry record type', 'Lloji i regjistrimit'],
  action: ['Action', 'Veprimi'],
  ...labelsOf('a_', DISPOSITION_ACTIONS, {
    review: ['review', 'rishqyrtim'],
    transfer: ['transfer', 'transferim'],
    destroy: ['destroy', 'asgjësim'],
  }),
  ...labelsOf('k_', RULE_KINDS, {
    retention: ['retention', 'ruajtje'],
    closure: ['closure', 'mbyllje'],
  }),
  version: ['Version', 'Versioni'],
  versions: ['Version history', 'Historiku i versioneve'],
  changeReason: ['Reason for the change', 'Arsyeja e ndryshimit'],
  changedBy: ['Changed by', 'Ndryshuar nga'],
  ruleSaved: ['Rule saved; covered books recomputed:', 'Rregulli u ruajt; librat e mbuluar u rillogaritën:'],
  placeHold: ['Place a legal hold', 'Vendos një bllokim ligjor'],
  authority: ['Authority', 'Autoriteti'],
  bookIds: ['Book ids (one a line)', 'ID-të e librave (një për rresht)'],
  release: ['Release', 'Liro'],
  releaseReason: ['Reason for release', 'Arsyeja e lirimit'],
  retainUntil: ['Retain until', 'Ruhet deri'],
  blockedBy: ['Blocked by', 'Bllokuar nga'],
  propose: ['Propose disposal', 'Propozo asgjësimin'],
  note: ['Note', 'Shënim'],
  proposedBy: ['Proposed by', 'Propozuar nga'],
  decidedBy: ['Decided by', 'Vendosur nga'],
  approve: ['Approve', 'Mirato'],
  reject: ['Reject', 'Refuzo'],
  execute: ['Execute', 'Ekzekuto'],
  fourEyes: ['A second records manager must approve what you proposed.', 'Një menaxher tjetër i dokumenteve duhet të miratojë atë që propozuat.'],
  certificate: ['Certificate', 'Certifikata'],
  items: ['Items', 'Elementet'],
  ...labelsOf('b_', DISPOSAL_BATCH_STATUSES, {
    proposed: ['proposed', 'propozuar'],
    approved: ['approved', 'miratuar'],
    rejected: ['rejected', 'refuzuar'],
    executing: ['executing', 'në ekzekutim'],
    executed: ['executed', 'ekzekutuar'],
  }),
  batchProposed: ['Batch proposed.', 'Grupi u propozua.'],
  runFixity: ['Check all objects now', 'Kontrollo tani të gjitha objektet'],
  runFixityBook: ['Check one book', 'Kontrollo një libër'],
  checked: ['Checked', 'Kontrolluar'],
  ok: ['OK', 'Në rregull'],
  problems: ['Problems', 'Probleme'],
  started: ['Started', 'Filluar'],
  ...labelsOf('fx_', FIXITY_OUTCOMES, {
    ok: ['intact', 'i paprekur'],
    mismatch: ['damaged (checksum differs)', 'i dëmtuar (shuma e kontrollit ndryshon)'],
    missing: ['missing', 'mungon'],
    error: ['unreadable', 'i palexueshëm'],
    intruded: ['intrusion: written above by someone else', 'ndërhyrje: shkruar sipër nga dikush tjetër'],
  }),
  foreignVersion: ['foreign version', 'version i huaj'],
  deleteMarker: ['delete marker', 'shënues fshirjeje'],
  bytes: ['bytes', 'bajte'],
  writtenAt: ['written', 'shkruar më'],
  keptAsEvidence: ['kept in the store as evidence', 'ruhet në depo si provë'],
  // audit
  auditUnavailable: ['The audit trail is not available on this server.', 'Gjurma e auditimit nuk është e disponueshme në këtë server.'],
  chain: ['Chain verification', 'Verifikimi i zinxhirit'],
  chainOk: ['The chain is intact', 'Zinxhiri është i paprekur'],
  chainBroken: ['The chain is broken', 'Zinxhiri është i prishur'],
  actor: ['User', 'Përdoruesi'],
  eventKind: ['Event type', 'Lloji i ngjarjes'],
  from: ['From', 'Nga'],
  to: ['To', 'Deri'],
  filter: ['Filter', 'Filtro'],
  time: ['Time', 'Koha'],
  target: ['Item', 'Elementi'],
} as const satisfies Record<string, Label>;

/** A label key. */
export type Key = keyof typeof L;

let lang: Lang = (localStorage.getItem('arkiva.lang') as Lang | null) ?? (navigator.language.startsWith('en') ? 'en' : 'sq');

/** The interface language now. */
export function currentLang(): Lang {
  return lang;
}

/** Switches the language (kept in the browser). */
export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem('arkiva.lang', l);
  document.documentElement.lang = l;
}

/** The label in the current language. */
export function t(key: Key): string {
  return L[key][lang === 'en' ? 0 : 1];
}

/** A label looked up by a key built at run time (statuses, kinds), or the raw value when unknown. */
export function tx(prefix: string, value: string): string {
  const k = `${prefix}${value}` as Key;
  return k in L ? t(k) : value;
}
