/** Long-term archival formats: ALTO, PDF/A-2b, METS/PREMIS and BagIt packages. */
export { buildAlto, ALTO_NS, type AltoPageInfo } from './alto.ts';
export { buildPdfA, writePdfA, pageJpeg, srgbIccProfile, xmpPacket, jpegComponents, textLayerOps, DEFAULT_DPI, PDF_JPEG_QUALITY, type PdfBookInfo, type PdfPageInput } from './pdfa.ts';
export { bagTagFiles, manifestText, payloadOxum, BAGIT_VERSION, type BagInfo, type PayloadFile, type TagFile } from './bagit.ts';
export { buildMets, type MetsEvent, type MetsFile, type MetsInput } from './mets.ts';
export { tarStream, readTar, tarHeader, type TarEntry, type TarReadEntry } from './tar.ts';
export { verifyBagDir, verifyBagFiles, verifyBagTar, type BagProblem, type BagReport, type BagFileInput } from './verify.ts';
export {
  packageBook, enqueuePackage, enqueueRepackageWhenKeyed, listPackages, packageBasis, describeBook,
  PACKAGE_FORMAT, PACKAGE_VARIANT, PDF_VARIANT, ALTO_VARIANT, type PackageResult, type PackageVersion,
} from './package-book.ts';
export { exportPackage, verifyStoredPackage, findPackage } from './export.ts';
