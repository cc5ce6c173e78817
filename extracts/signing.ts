import { createHash, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { Signer } from '@signpdf/utils';
import { AppError, type Logger } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import type { TimestampAuthority } from './timestamp.ts';

// Stateless: Node's WebCrypto behind PKI.js, passed to every call instead of set globally.
const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto });

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
} as const;

/** The key and certificates extracts are signed with, read from a PKCS#12 file. */
export interface SigningIdentity {
  privateKey: CryptoKey;
  /** The signing certificate, then the rest of the chain as the PKCS#12 holds it. */
  certificate: pkijs.Certificate;
  chain: pkijs.Certificate[];
  certificateDer: Buffer;
  /** The signing certificate's subject, e.g. `CN=…, O=…`, for the register and the audit trail. */
  subject: string;
  notAfter: Date;
  /** True for the local test CA made in embedded mode. */
  test: boolean;
}

function forgeBytes(b: forge.util.ByteStringBuffer | string): Buffer {
  return Buffer.from(typeof b === 'string' ? b : b.getBytes(), 'binary');
}

function subjectOf(cert: forge.pki.Certificate): string {
  // forge encodes UTF8String values when writing but hands them back as their UTF-8 bytes.
  const text = (a: forge.pki.CertificateField) => ((a.valueTagClass as unknown) === forge.asn1.Type.UTF8 ? forge.util.decodeUtf8(String(a.value)) : String(a.value));
  return cert.subject.attributes.map((a) => `${a.shortName ?? a.name ?? a.type}=${text(a)}`).join(', ');
}

/** A name attribute as UTF8String (forge encodes it): office names have ë, ç, č, ć, đ. */
function utf8Field(shortName: string, value: string): forge.pki.CertificateField {
  return { shortName, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class };
}

/**
 * Reads a PKCS#12 (RSA key, its certificate, and any chain). Refuses, naming the problem, a wrong
 * password, a file without a key or without the key's certificate, and a certificate not valid now.
 */
export async function loadSigningIdentity(p12: Buffer, password: string, opts: { test?: boolean; now?: Date } = {}): Promise<SigningIdentity> {
  let parsed: forge.pkcs12.Pkcs12Pfx;
  try {
    parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary'))), false, password);
  } catch (e) {
    throw new AppError('ERR_CONFIG', `the signing PKCS#12 cannot be read (wrong ARKIVA_SIGNING_P12_PASSWORD, or not a PKCS#12 file): ${(e as Error).message}`);
  }
  const keyBags = [
    ...(parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(parsed.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  const key = keyBags.find((b) => b.key)?.key as forge.pki.rsa.PrivateKey | undefined;
  if (!key || !('n' in key)) throw new AppError('ERR_CONFIG', 'the signing PKCS#12 holds no RSA private key');
  const certs = (parsed.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []).flatMap((b) => (b.cert ? [b.cert] : []));
  const own = certs.find((c) => {
    const pub = c.publicKey as forge.pki.rsa.PublicKey;
    return pub.n?.compareTo(key.n) === 0 && pub.e?.compareTo(key.e) === 0;
  });
  if (!own) throw new AppError('ERR_CONFIG', "the signing PKCS#12 holds no certificate of its private key");
  const now = opts.now ?? new Date();
  if (own.validity.notBefore > now || own.validity.notAfter < now) {
    throw new AppError('ERR_CONFIG', `the signing certificate (${subjectOf(own)}) is valid from ${own.validity.notBefore.toISOString()} to ${own.validity.notAfter.toISOString()}, not now`);
  }
  const der = (c: forge.pki.Certificate) => forgeBytes(forge.asn1.toDer(forge.pki.certificateToAsn1(c)));
  const pkcs8 = forgeBytes(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))));
  const privateKey = await webcrypto.subtle.importKey('pkcs8', new Uint8Array(pkcs8), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  const certificateDer = der(own);
  return {
    privateKey,
    certificate: pkijs.Certificate.fromBER(new Uint8Array(certificateDer)),
    chain: certs.filter((c) => c !== own).map((c) => pkijs.Certificate.fromBER(new Uint8Array(der(c)))),
    certificateDer,
    subject: subjectOf(own),
    notAfter: own.validity.notAfter,
    test: opts.test ?? false,
  };
}

/**
 * The CMS signer of a PAdES baseline B-B signature (ETSI EN 319 142-1), built with PKI.js: a
 * detached SignedData over the PDF's byte ranges, with the signed attributes content-type,
 * message-digest and signing-certificate-v2 (which binds the certificate to the signature), and no
 * signing-time attribute (PAdES puts the claimed time in the signature dictionary's /M). With a
 * timestamp authority, its token over the signature value is added as the
 * signature-time-stamp unsigned attribute (B-T).
 */
export class PadesSigner extends Signer {
  constructor(private readonly identity: SigningIdentity, private readonly tsa?: TimestampAuthority) {
    super();
  }

  override async sign(pdfBuffer: Buffer): Promise<Buffer> {
    const { certificate, chain, certificateDer, privateKey } = this.identity;
    const digest = createHash('sha256').update(pdfBuffer).digest();
    const essCertIdV2 = new asn1js.Sequence({
      value: [
        // hashAlgorithm is left out: its DEFAULT is SHA-256.
        new asn1js.OctetString({ valueHex: createHash('sha256').update(certificateDer).digest() }),
        new asn1js.Sequence({
          value: [
            new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 4 }, value: [certificate.issuer.toSchema()] })] }),
            new asn1js.Integer({ valueHex: certificate.serialNumber.valueBlock.valueHexView }),
          ],
        }),
      ],
    });
    const signedData = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: certificate.issuer, serialNumber: certificate.serialNumber }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({
            type: 0,
            attributes: [
              new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
              new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: digest })] }),
              new pkijs.Attribute({ type: OID.signingCertificateV2, values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] })] }),
            ],
          }),
        }),
      ],
      certificates: [certificate, ...chain],
    });
    await signedData.sign(privateKey, 0, 'SHA-256', undefined, engine);
    if (this.tsa) {
      const signer = signedData.signerInfos[0]!;
      const token = await this.tsa.timestamp(createHash('sha256').update(Buffer.from(signer.signature.valueBlock.valueHexView)).digest());
      const parsed = asn1js.fromBER(new Uint8Array(token));
      if (parsed.offset === -1) throw new AppError('ERR_UNAVAILABLE', `the timestamp authority ${this.tsa.name} returned no DER token`);
      signer.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({ type: 1, attributes: [new pkijs.Attribute({ type: OID.signatureTimeStampToken, values: [parsed.result] })] });
    }
    const info = new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
    return Buffer.from(info.toSchema().toBER(false));
  }
}

/** What `verifyPdfSignature` found in a PDF. */
export interface PdfSignatureCheck {
  /** False when the PDF carries no signature dictionary with a byte range. */
  signed: boolean;
  /** The byte ranges cover the whole file (nothing appended after signing). */
  coversWholeFile: boolean;
  /** The CMS signature verifies over the byte ranges (digest and signature value). */
  intact: boolean;
  subFilter: string | null;
  signerSubject: string | null;
  /** SHA-256 of the signing certificate (DER), to compare with the issuing identity. */
  signerCertificateSha256: string | null;
}

/**
 * Checks the last signature of a PDF: finds its /ByteRange and /Contents, and verifies the CMS
 * SignedData in /Contents over the bytes the ranges cover (PKI.js: message digest and signature
 * value; the certificate's trust is not judged here). Any parse failure is `intact: false`.
 */
export async function verifyPdfSignature(pdf: Buffer): Promise<PdfSignatureCheck> {
  const none: PdfSignatureCheck = { signed: false, coversWholeFile: false, intact: false, subFilter: null, signerSubject: null, signerCertificateSha256: null };
  const text = pdf.toString('latin1');
  const ranges = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  const last = ranges.at(-1);
  if (!last) return none;
  const [a, b, c, d] = last.slice(1, 5).map(Number) as [number, number, number, number];
  const subFilter = /\/SubFilter\s*\/([A-Za-z0-9.#_-]+)/.exec(text.slice(Math.max(0, last.index - 4000), last.index + 4000))?.[1] ?? null;
  const result: PdfSignatureCheck = { ...none, signed: true, subFilter, coversWholeFile: a === 0 && c + d === pdf.length && b < c };
  if (!(a === 0 && b < c && c + d <= pdf.length && pdf[b] === 0x3c && pdf[c - 1] === 0x3e)) return result;
  const hex = pdf.subarray(b + 1, c - 1).toString('latin1').replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2) return result;
  const signedBytes = Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]);
  try {
    const info = pkijs.ContentInfo.fromBER(Buffer.from(hex, 'hex'));
    if (info.contentType !== OID.signedData) return result;
    const sd = new pkijs.SignedData({ schema: info.content });
    const verified = await sd.verify({ signer: 0, data: new Uint8Array(signedBytes).buffer, checkChain: false, extendedMode: true }, engine);
    const cert = verified.signerCertificate ?? null;
    const certDer = cert ? Buffer.from(cert.toSchema().toBER(false)) : null;
    return {
      ...result,
      intact: verified.signatureVerified === true,
      signerSubject: cert ? cert.subject.typesAndValues.map((tv) => `${SHORT_NAMES[tv.type] ?? tv.type}=${tv.value.valueBlock.value}`).join(', ') : null,
      signerCertificateSha256: certDer ? createHash('sha256').update(certDer).digest('hex') : null,
    };
  } catch {
    return result;
  }
}

const SHORT_NAMES: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU' };

/** Password of the local test identity's PKCS#12: it protects nothing, the file sits beside it. */
export const TEST_P12_PASSWORD = 'arkiva-test-only';

/**
 * A local test CA and an extract-signing certificate it issued, as a PKCS#12 (RSA 2048, SHA-256):
 * for embedded trials only, trusted by no one.
 */
export function makeTestIdentityP12(organisation: string, now = new Date()): { p12: Buffer; caPem: string } {
  const serial = () => `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  const caKeys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = new Date(now.getTime() - 3600_000);
  ca.validity.notAfter = new Date(now.getTime() + 10 * 365 * 86400_000);
  const caName = [utf8Field('CN', 'Arkiva TEST CA - NOT TRUSTED'), utf8Field('O', organisation.slice(0, 64))];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 3600_000);
  cert.validity.notAfter = new Date(now.getTime() + 3 * 365 * 86400_000);
  cert.setSubject([utf8Field('CN', 'Arkiva TEST extract signing - NOT TRUSTED'), utf8Field('O', organisation.slice(0, 64))]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert, ca], TEST_P12_PASSWORD, { algorithm: 'aes256', friendlyName: 'arkiva-test-signing' });
  return { p12: forgeBytes(forge.asn1.toDer(p12)), caPem: forge.pki.certificateToPem(ca) };
}

/** Where the embedded test identity lives under the data folder. */
export function testIdentityPaths(dataDir: string): { dir: string; p12: string; caPem: string } {
  const dir = path.join(dataDir, 'signing');
  return { dir, p12: path.join(dir, 'TEST-extract-signing.p12'), caPem: path.join(dir, 'TEST-ca.pem') };
}

/** The signer of extracts, and who it is. */
export interface ExtractSigner {
  identity: SigningIdentity;
  /** The CMS signer handed to @signpdf/signpdf. */
  cms: Signer;
}

/**
 * The extract signer of a process, from the configuration, read once at start: the configured
 * PKCS#12; or, in embedded mode without one, the local test identity, made at first start (warned
 * about loudly); with PostgreSQL and no PKCS#12 there is none and issuing refuses.
 */
export async function openExtractSigner(config: Readonly<Config>, log: Logger, tsa?: TimestampAuthority): Promise<ExtractSigner> {
  const { signingP12, signingP12Password, issuingOffice } = config.extracts;
  let identity: SigningIdentity;
  if (signingP12) {
    identity = await loadSigningIdentity(fs.readFileSync(signingP12), signingP12Password);
  } else if (config.database.kind === 'pglite') {
    const paths = testIdentityPaths(config.dataDir);
    if (!fs.existsSync(paths.p12)) {
      fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
      const made = makeTestIdentityP12(issuingOffice);
      // Linked into place, so two processes starting together keep one identity (the second's link fails).
      const tmp = `${paths.p12}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, made.p12, { mode: 0o600 });
      try {
        fs.linkSync(tmp, paths.p12);
        fs.writeFileSync(paths.caPem, made.caPem);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
    identity = await loadSigningIdentity(fs.readFileSync(paths.p12), TEST_P12_PASSWORD, { test: true });
    log.warn(
      { p12: paths.p12, subject: identity.subject },
      '!!! EXTRACTS ARE SIGNED WITH A LOCAL TEST CERTIFICATE (no ARKIVA_SIGNING_P12): their signatures are intact but trusted by NO ONE; configure the agency\'s PKCS#12 before issuing real extracts !!!',
    );
  } else {
    throw new AppError('ERR_CONFIG', 'extracts cannot be signed: set ARKIVA_SIGNING_P12 (and ARKIVA_SIGNING_P12_PASSWORD) to the agency\'s signing PKCS#12');
  }
  return { identity, cms: new PadesSigner(identity, tsa) };
}
