import { S3Client, CreateBucketCommand, PutObjectCommand, DeleteObjectCommand, PutBucketPolicyCommand, ListObjectVersionsCommand, DeleteBucketCommand, DeleteBucketPolicyCommand, PutObjectRetentionCommand, GetObjectRetentionCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
const e = process.env;
const c = new S3Client({ endpoint: e.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: e.S3_ACCESS_KEY_ID!, secretAccessKey: e.S3_SECRET_ACCESS_KEY! }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
const Bucket = `p17-policy-${Date.now()}`;
const body = Buffer.from('x');
const md5 = createHash('md5').update(body).digest('base64');
await c.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
const until = new Date(Date.now() + 3600_000);
for (const principal of [{ AWS: ['arn:aws:iam:::user/arkiva-test'] }, '*']) {
  const r = await c.send(new PutObjectCommand({ Bucket, Key: 'k', Body: body, ContentMD5: md5, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }));
  await c.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
    { Sid: 'NoGovernanceBypass', Effect: 'Deny', Principal: principal, Action: ['s3:BypassGovernanceRetention'], Resource: [`arn:aws:s3:::${Bucket}/*`] },
  ] }) }));
  try { await c.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: r.VersionId, BypassGovernanceRetention: true })); console.log(JSON.stringify(principal), 'delete with bypass: ALLOWED'); } catch (x) { console.log(JSON.stringify(principal), 'delete with bypass: refused', (x as Error).name); }
  try { await c.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', VersionId: r.VersionId, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) } })); console.log(JSON.stringify(principal), 'shorten with bypass: ALLOWED'); } catch (x) { console.log(JSON.stringify(principal), 'shorten with bypass: refused', (x as Error).name); }
  // normal put still works under the policy?
  try { await c.send(new PutObjectCommand({ Bucket, Key: 'k2', Body: body, ContentMD5: md5 })); console.log('plain put under policy: ok'); } catch (x) { console.log('plain put under policy: refused', (x as Error).name); }
  await c.send(new DeleteBucketPolicyCommand({ Bucket }));
}
for (const x of (await c.send(new ListObjectVersionsCommand({ Bucket }))).Versions ?? []) await c.send(new DeleteObjectCommand({ Bucket, Key: x.Key, VersionId: x.VersionId, BypassGovernanceRetention: true }));
for (const x of (await c.send(new ListObjectVersionsCommand({ Bucket }))).DeleteMarkers ?? []) await c.send(new DeleteObjectCommand({ Bucket, Key: x.Key, VersionId: x.VersionId }));
await c.send(new DeleteBucketCommand({ Bucket }));
