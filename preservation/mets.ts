import { xmlEscape as x } from './xml.ts';

/** A file the METS document describes, with the PREMIS object facts about it. */
export interface MetsFile {
  /** XML ID, unique in the document (letters, digits, '-', '_', starting with a letter). */
  id: string;
  /** Location relative to the METS file. */
  href: string;
  /** METS fileGrp USE: 'original', 'master', 'derivative', 'ocr', 'alto', 'pdf', ... */
  use: string;
  mimeType: string;
  size: number;
  sha256: string;
  /** The page it belongs to (1-based); none for book-level files. */
  page?: number;
  created?: Date;
  /** The archive's stored_objects id, so events can point at it. */
  objectId?: string;
}

/** A PREMIS event as the METS document records it. */
export interface MetsEvent {
  id: string;
  type: string;
  at: Date;
  agent: string;
  outcome: string;
  detail?: string | null;
  /** METS file IDs the event concerns. */
  fileIds: string[];
}

/** Everything the METS document of a book says. */
export interface MetsInput {
  bookId: string;
  title: string;
  createdAt: Date;
  creatorAgent: string;
  dc: { title: string; type: string; coverage: string; date: string; identifier: string; description?: string };
  /** Pages in order, each with its label. */
  pages: { sequence: number; label: string }[];
  files: MetsFile[];
  events: MetsEvent[];
}

const PREMIS_NS = 'http://www.loc.gov/premis/v3';

/**
 * A METS 1.12 document for a book: Dublin Core description, one PREMIS object (fixity, size,
 * format) per file and one PREMIS event per processing event, a fileSec grouped by use, and a
 * physical structMap listing the pages in order with their files.
 */
export function buildMets(m: MetsInput): string {
  const o: string[] = [];
  o.push('<?xml version="1.0" encoding="UTF-8"?>');
  o.push(`<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:premis="${PREMIS_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/" OBJID="urn:uuid:${x(m.bookId)}" LABEL="${x(m.title)}" TYPE="civil register" xsi:schemaLocation="http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/mets.xsd ${PREMIS_NS} http://www.loc.gov/standards/premis/premis.xsd">`);
  o.push(`  <mets:metsHdr CREATEDATE="${m.createdAt.toISOString()}"><mets:agent ROLE="CREATOR" TYPE="OTHER" OTHERTYPE="SOFTWARE"><mets:name>${x(m.creatorAgent)}</mets:name></mets:agent></mets:metsHdr>`);
  o.push('  <mets:dmdSec ID="DMD_BOOK"><mets:mdWrap MDTYPE="DC"><mets:xmlData>');
  o.push(`    <dc:title>${x(m.dc.title)}</dc:title><dc:type>${x(m.dc.type)}</dc:type><dc:coverage>${x(m.dc.coverage)}</dc:coverage><dc:date>${x(m.dc.date)}</dc:date><dc:identifier>${x(m.dc.identifier)}</dc:identifier>`);
  if (m.dc.description) o.push(`    <dc:description>${x(m.dc.description)}</dc:description>`);
  o.push('  </mets:xmlData></mets:mdWrap></mets:dmdSec>');

  o.push('  <mets:amdSec ID="AMD_BOOK">');
  for (const f of m.files) {
    o.push(`    <mets:techMD ID="TECH_${f.id}"><mets:mdWrap MDTYPE="PREMIS:OBJECT"><mets:xmlData>`);
    o.push(`      <premis:object xsi:type="premis:file" version="3.0"><premis:objectIdentifier><premis:objectIdentifierType>local</premis:objectIdentifierType><premis:objectIdentifierValue>${x(f.objectId ?? f.href)}</premis:objectIdentifierValue></premis:objectIdentifier>`);
    o.push('        <premis:objectCharacteristics><premis:compositionLevel>0</premis:compositionLevel>');
    o.push(`          <premis:fixity><premis:messageDigestAlgorithm>SHA-256</premis:messageDigestAlgorithm><premis:messageDigest>${f.sha256}</premis:messageDigest></premis:fixity>`);
    o.push(`          <premis:size>${f.size}</premis:size>`);
    o.push(`          <premis:format><premis:formatDesignation><premis:formatName>${x(f.mimeType)}</premis:formatName></premis:formatDesignation></premis:format>`);
    o.push('        </premis:objectCharacteristics>');
    o.push(`        <premis:originalName>${x(f.href)}</premis:originalName>`);
    o.push('      </premis:object>');
    o.push('    </mets:xmlData></mets:mdWrap></mets:techMD>');
  }
  for (const e of m.events) {
    o.push(`    <mets:digiprovMD ID="${e.id}"><mets:mdWrap MDTYPE="PREMIS:EVENT"><mets:xmlData>`);
    o.push(`      <premis:event version="3.0"><premis:eventIdentifier><premis:eventIdentifierType>local</premis:eventIdentifierType><premis:eventIdentifierValue>${e.id}</premis:eventIdentifierValue></premis:eventIdentifier>`);
    o.push(`        <premis:eventType>${x(e.type)}</premis:eventType><premis:eventDateTime>${e.at.toISOString()}</premis:eventDateTime>`);
    if (e.detail) o.push(`        <premis:eventDetailInformation><premis:eventDetail>${x(e.detail)}</premis:eventDetail></premis:eventDetailInformation>`);
    o.push(`        <premis:eventOutcomeInformation><premis:eventOutcome>${x(e.outcome)}</premis:eventOutcome></premis:eventOutcomeInformation>`);
    o.push(`        <premis:linkingAgentIdentifier><premis:linkingAgentIdentifierType>software</premis:linkingAgentIdentifierType><premis:linkingAgentIdentifierValue>${x(e.agent)}</premis:linkingAgentIdentifierValue></premis:linkingAgentIdentifier>`);
    for (const f of e.fileIds) o.push(`        <premis:linkingObjectIdentifier><premis:linkingObjectIdentifierType>METS file</premis:linkingObjectIdentifierType><premis:linkingObjectIdentifierValue>${f}</premis:linkingObjectIdentifierValue></premis:linkingObjectIdentifier>`);
    o.push('      </premis:event>');
    o.push('    </mets:xmlData></mets:mdWrap></mets:digiprovMD>');
  }
  o.push('  </mets:amdSec>');

  const eventsOf = new Map<string, string[]>();
  for (const e of m.events) for (const f of e.fileIds) eventsOf.set(f, [...(eventsOf.get(f) ?? []), e.id]);
  o.push('  <mets:fileSec>');
  const uses = [...new Set(m.files.map((f) => f.use))];
  for (const use of uses) {
    o.push(`    <mets:fileGrp USE="${x(use)}">`);
    for (const f of m.files.filter((g) => g.use === use)) {
      const admid = [`TECH_${f.id}`, ...(eventsOf.get(f.id) ?? [])].join(' ');
      o.push(`      <mets:file ID="${f.id}" MIMETYPE="${x(f.mimeType)}" SIZE="${f.size}" CHECKSUM="${f.sha256}" CHECKSUMTYPE="SHA-256" ADMID="${admid}"${f.created ? ` CREATED="${f.created.toISOString()}"` : ''}>`);
      o.push(`        <mets:FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="${x(f.href)}"/>`);
      o.push('      </mets:file>');
    }
    o.push('    </mets:fileGrp>');
  }
  o.push('  </mets:fileSec>');

  o.push('  <mets:structMap TYPE="PHYSICAL">');
  o.push(`    <mets:div TYPE="book" LABEL="${x(m.title)}" DMDID="DMD_BOOK" ADMID="AMD_BOOK">`);
  for (const f of m.files.filter((g) => g.page === undefined)) o.push(`      <mets:fptr FILEID="${f.id}"/>`);
  const pages = [...m.pages].sort((a, b) => a.sequence - b.sequence);
  for (const p of pages) {
    o.push(`      <mets:div ID="PAGE_${p.sequence}" TYPE="page" ORDER="${p.sequence}" ORDERLABEL="${p.sequence}" LABEL="${x(p.label)}">`);
    for (const f of m.files.filter((g) => g.page === p.sequence)) o.push(`        <mets:fptr FILEID="${f.id}"/>`);
    o.push('      </mets:div>');
  }
  o.push('    </mets:div>');
  o.push('  </mets:structMap>');
  o.push('</mets:mets>');
  return `${o.join('\n')}\n`;
}
