import { S3Client, CreateBucketCommand, PutObjectLockConfigurationCommand, PutObjectCommand, GetObjectRetentionCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, CopyObjectCommand, DeleteObjectCommand, PutBucketPolicyCommand, ListObjectVersionsCommand, DeleteBucketCommand, GetObjectLegalHoldCommand, UploadPartCopyCommand, PutObjectRetentionCommand, DeleteBucketPolicyCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
const e = process.env;
const c = new S3Client({ endpoint: e.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: e.S3_ACCESS_KEY_ID!, secretAccessKey: e.S3_SECRET_ACCESS_KEY! }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
const Bucket = `p17-measure-${Date.now()}`;
const ret = async (Key: string, VersionId?: string) => { try { const r = await c.send(new GetObjectRetentionCommand({ Bucket, Key, VersionId })); return `${r.Retention?.Mode} ${r.Retention?.RetainUntilDate?.toISOString()}`; } catch (x) { return `none (${(x as Error).name})`; } };
const hold = async (Key: string, VersionId?: string) => { try { const r = await c.send(new GetObjectLegalHoldCommand({ Bucket, Key, VersionId })); return r.LegalHold?.Status; } catch (x) { return `none (${(x as Error).name})`; } };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
async function mp(Key: string, extra: object = {}) {
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key, ...extra }));
  const p1 = randomBytes(5 * 1024 * 1024), p2 = randomBytes(100);
  const a = await c.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: p1, ContentMD5: md5(p1), ContentLength: p1.length }));
  const b = await c.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: p2, ContentMD5: md5(p2), ContentLength: p2.length }));
  const r = await c.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: a.ETag }, { PartNumber: 2, ETag: b.ETag }] } }));
  return r.VersionId;
}
const body = Buffer.from('x');
await c.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
const inAnHour = new Date(Date.now() + 3600_000);
console.log('--- no default retention');
await c.send(new PutObject_({ Key: 'plain' }));
function PutObject_(o: { Key: string; extra?: object }) { return new PutObjectCommand({ Bucket, Key: o.Key, Body: body, ContentMD5: md5(body), ...(o.extra ?? {}) }); }
console.log('put no headers:', await ret('plain'));
await c.send(PutObject_({ Key: 'put-hdr', extra: { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inAnHour, ObjectLockLegalHoldStatus: 'ON' } }));
console.log('put with headers:', await ret('put-hdr'), await hold('put-hdr'));
await mp('mp-hdr', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inAnHour, ObjectLockLegalHoldStatus: 'ON' });
console.log('multipart with headers:', await ret('mp-hdr'), await hold('mp-hdr'));
await c.send(new CopyObjectCommand({ Bucket, Key: 'copy-hdr', CopySource: `${Bucket}/plain`, MetadataDirective: 'REPLACE', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inAnHour, ObjectLockLegalHoldStatus: 'ON' }));
console.log('copy with headers:', await ret('copy-hdr'), await hold('copy-hdr'));

console.log('--- default retention GOVERNANCE 1 day');
await c.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
const t0 = Date.now();
await c.send(PutObject_({ Key: 'd-plain' }));
console.log('put no headers:', await ret('d-plain'));
await c.send(PutObject_({ Key: 'd-put-hdr', extra: { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inAnHour } }));
console.log('put with explicit 1h:', await ret('d-put-hdr'));
const v = await mp('d-mp');
console.log('multipart no headers:', await ret('d-mp', v));
await mp('d-mp-hdr', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inAnHour });
console.log('multipart with 1h headers:', await ret('d-mp-hdr'));
await c.send(new CopyObjectCommand({ Bucket, Key: 'd-copy', CopySource: `${Bucket}/plain`, MetadataDirective: 'REPLACE' }));
console.log('copy no headers:', await ret('d-copy'));
await c.send(new CopyObjectCommand({ Bucket, Key: 'd-copy-of-mp', CopySource: `${Bucket}/d-mp`, MetadataDirective: 'REPLACE' }));
console.log('copy of multipart no headers:', await ret('d-copy-of-mp'));
// multipart copy
{
  const Key = 'd-mpcopy';
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const a = await c.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/d-mp`, CopySourceRange: 'bytes=0-5242879' }));
  const b = await c.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 2, CopySource: `${Bucket}/d-mp`, CopySourceRange: 'bytes=5242880-5242979' }));
  await c.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: a.CopyPartResult?.ETag }, { PartNumber: 2, ETag: b.CopyPartResult?.ETag }] } }));
  console.log('multipart copy no headers:', await ret(Key));
}
console.log('default computed from', new Date(t0).toISOString());
// Deleting a default-retained version without bypass
const vs = await c.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'd-plain' }));
const vid = vs.Versions![0]!.VersionId;
try { await c.send(new DeleteObjectCommand({ Bucket, Key: 'd-plain', VersionId: vid })); console.log('delete default-retained version without bypass: ALLOWED'); } catch (x) { console.log('delete default-retained version without bypass: refused', (x as Error).name); }
// Policy denying bypass
await c.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'NoBypass', Effect: 'Deny', Principal: { AWS: ['arn:aws:iam:::user/' + (e.RGW_UID ?? 'arkivatest')] }, Action: ['s3:BypassGovernanceRetention'], Resource: [`arn:aws:s3:::${Bucket}/*`] }] }) }));
try { await c.send(new DeleteObjectCommand({ Bucket, Key: 'd-plain', VersionId: vid, BypassGovernanceRetention: true })); console.log('delete with bypass under Deny policy: ALLOWED'); } catch (x) { console.log('delete with bypass under Deny policy: refused', (x as Error).name); }
await c.send(new DeleteBucketPolicyCommand({ Bucket }));
try { await c.send(new DeleteObjectCommand({ Bucket, Key: 'd-plain', VersionId: vid, BypassGovernanceRetention: true })); console.log('delete with bypass, no policy: ALLOWED'); } catch (x) { console.log('delete with bypass no policy: refused', (x as Error).name); }
// cleanup
for (;;) {
  const l = await c.send(new ListObjectVersionsCommand({ Bucket }));
  const all = [...(l.Versions ?? []), ...(l.DeleteMarkers ?? [])];
  if (!all.length) break;
  for (const x of all) {
    try { await c.send(new PutObjectLegalHoldCommand_({ Key: x.Key!, VersionId: x.VersionId })); } catch {}
    await c.send(new DeleteObjectCommand({ Bucket, Key: x.Key, VersionId: x.VersionId, BypassGovernanceRetention: true })).catch((er) => console.log('cleanup', x.Key, (er as Error).name));
  }
}
import { PutObjectLegalHoldCommand } from '@aws-sdk/client-s3';
function PutObjectLegalHoldCommand_(o: { Key: string; VersionId?: string }) { return new PutObjectLegalHoldCommand({ Bucket, Key: o.Key, VersionId: o.VersionId, LegalHold: { Status: 'OFF' } }); }
await c.send(new DeleteBucketCommand({ Bucket }));
console.log('done');
