import { describe, expect, it } from 'vitest';
import { AppError, PermanentError } from '../common/errors.ts';
import { isOutage, outageDelayMs } from './outage.ts';

function sysError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('isOutage', () => {
  it('knows a service that is down or restarting', () => {
    expect(isOutage(sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toBe(true);
    expect(isOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isOutage(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }))).toBe(true);
    expect(isOutage(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isOutage(Object.assign(new Error('connection failure'), { code: '08006' }))).toBe(true);
    expect(isOutage(new Error('Connection is closed.'))).toBe(true);
    expect(isOutage(new AppError('ERR_UNAVAILABLE', 'cannot reach Redis'))).toBe(true);
  });

  it('looks through causes: an S3 failure wrapped by the store, caused by a refused connection or a 503', () => {
    const refused = new AppError('ERR_STORAGE', 'S3 PutObject of x failed', { operation: 'PutObject' }, { cause: sysError('ECONNREFUSED') });
    expect(isOutage(refused)).toBe(true);
    const unavailable = Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect(isOutage(new AppError('ERR_STORAGE', 'S3 GetObject failed', { httpStatus: 503 }, { cause: unavailable }))).toBe(true);
    expect(isOutage(new AggregateError([sysError('ECONNREFUSED')], 'all addresses failed'))).toBe(true);
  });

  it('does not excuse failures of the work itself', () => {
    expect(isOutage(new Error('tesseract could not read the image'))).toBe(false);
    expect(isOutage(new PermanentError('page does not exist'))).toBe(false);
    expect(isOutage(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }))).toBe(false);
    expect(isOutage(new AppError('ERR_STORAGE', 'S3 PutObject failed (AccessDenied)', { httpStatus: 403 }))).toBe(false);
    expect(isOutage(new AppError('ERR_VALIDATION', 'bad image'))).toBe(false);
    expect(isOutage(undefined)).toBe(false);
    expect(isOutage('ECONNREFUSED')).toBe(false);
  });

  it('survives a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(isOutage(a)).toBe(false);
  });
});

describe('outageDelayMs', () => {
  it('doubles from about 1 s and stays under 30 s plus jitter', () => {
    expect(outageDelayMs(0, () => 0.5)).toBe(1000);
    expect(outageDelayMs(3, () => 0.5)).toBe(8000);
    expect(outageDelayMs(20, () => 0.5)).toBe(30_000);
    expect(outageDelayMs(20, () => 1)).toBeLessThanOrEqual(37_500);
    expect(outageDelayMs(0, () => 0)).toBe(750);
  });
});
