import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { PDFDocument } from 'pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import { loadSigningIdentity, makeTestIdentityP12, PadesSigner, TEST_P12_PASSWORD, verifyPdfSignature } from './signing.ts';
import type { TimestampAuthority } from './timestamp.ts';

const made = makeTestIdentityP12('Agjencia e Regjistrimit Civil – Pejë');

async function signedPdf(signer: PadesSigner): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]).drawText('extract', { x: 20, y: 100 });
  pdflibAddPlaceholder({ pdfDoc: doc, reason: 'test', contactInfo: '', name: 'test', location: 'test', subFilter: SUBFILTER_ETSI_CADES_DETACHED, signatureLength: 16384 });
  return new SignPdf().sign(Buffer.from(await doc.save({ useObjectStreams: false })), signer);
}

/** The CMS SignedData of a PDF's signature. */
function cmsOf(pdf: Buffer): pkijs.SignedData {
  const t = pdf.toString('latin1');
  const m = /\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)/.exec(t)!;
  const hex = t.slice(Number(m[1]) + 1, Number(m[2]) - 1);
  const info = pkijs.ContentInfo.fromBER(Buffer.from(hex, 'hex'));
  return new pkijs.SignedData({ schema: info.content });
}

describe('PAdES signing', () => {
  it('reads the PKCS#12, keeping UTF-8 in the subject; refuses a wrong password and a certificate not valid now', async () => {
    const id = await loadSigningIdentity(made.p12, TEST_P12_PASSWORD);
    expect(id.subject).toBe('CN=Arkiva TEST extract signing - NOT TRUSTED, O=Agjencia e Regjistrimit Civil – Pejë');
    expect(id.chain).toHaveLength(1);
    await expect(loadSigningIdentity(made.p12, 'wrong')).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    await expect(loadSigningIdentity(Buffer.from('not a p12'), '')).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    await expect(loadSigningIdentity(made.p12, TEST_P12_PASSWORD, { now: new Date(Date.now() + 4 * 365 * 86400_000) })).rejects.toThrow(/not now/);
  });

  it('signs B-B: content-type, message-digest and signing-certificate-v2 of the signer, no signing-time; verifies, and not once altered', async () => {
    const id = await loadSigningIdentity(made.p12, TEST_P12_PASSWORD);
    const pdf = await signedPdf(new PadesSigner(id));
    const cms = cmsOf(pdf);
    const attrs = cms.signerInfos[0]!.signedAttrs!.attributes;
    expect(attrs.map((a) => a.type).sort()).toEqual(['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4'].sort());
    // signing-certificate-v2 holds the SHA-256 of the signing certificate.
    const v2 = attrs.find((a) => a.type === '1.2.840.113549.1.9.16.2.47')!.values[0] as asn1js.Sequence;
    const certHash = ((v2.valueBlock.value[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.OctetString;
    expect(Buffer.from(certHash.valueBlock.valueHexView).toString('hex')).toBe(createHash('sha256').update(id.certificateDer).digest('hex'));
    expect(cms.signerInfos[0]!.unsignedAttrs).toBeUndefined();

    const ok = await verifyPdfSignature(pdf);
    expect(ok).toMatchObject({ signed: true, intact: true, coversWholeFile: true, subFilter: 'ETSI.CAdES.detached', signerSubject: id.subject });
    const altered = Buffer.from(pdf);
    altered[200] = altered[200]! ^ 0x20;
    expect(await verifyPdfSignature(altered)).toMatchObject({ signed: true, intact: false });
    // Bytes appended after signing (an incremental update) are outside the signature.
    expect(await verifyPdfSignature(Buffer.concat([pdf, Buffer.from('\n%% appended\n')]))).toMatchObject({ intact: true, coversWholeFile: false });
    const unsigned = Buffer.from(await (await PDFDocument.create()).save());
    expect(await verifyPdfSignature(unsigned)).toMatchObject({ signed: false, intact: false });
  });

  it('adds a timestamp authority token as the signature-time-stamp unsigned attribute (B-T seam)', async () => {
    const id = await loadSigningIdentity(made.p12, TEST_P12_PASSWORD);
    const imprints: Buffer[] = [];
    // A stand-in token: any DER ContentInfo; a real TSA returns an RFC 3161 TimeStampToken.
    const tsa: TimestampAuthority = {
      name: 'test-tsa',
      async timestamp(sha256) {
        imprints.push(sha256);
        return Buffer.from(new pkijs.ContentInfo({ contentType: '1.2.840.113549.1.7.1', content: new asn1js.OctetString({ valueHex: sha256 }) }).toSchema().toBER(false));
      },
    };
    const pdf = await signedPdf(new PadesSigner(id, tsa));
    const signer = cmsOf(pdf).signerInfos[0]!;
    expect(signer.unsignedAttrs?.attributes.map((a) => a.type)).toEqual(['1.2.840.113549.1.9.16.2.14']);
    expect(imprints[0]!.toString('hex')).toBe(createHash('sha256').update(Buffer.from(signer.signature.valueBlock.valueHexView)).digest('hex'));
    expect((await verifyPdfSignature(pdf)).intact).toBe(true);
  });
});
