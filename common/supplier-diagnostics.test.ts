import { describe, expect, it } from 'vitest';
import { DIAGNOSTICS_MAX, errorEnvelopeDiagnostics, operationOutcomeDiagnostics, sanitiseDiagnostics } from './supplier-diagnostics.js';

const HTML_500 = `<!DOCTYPE html><html><head><title>HTTP Status 500 – Internal Server Error</title></head><body>
<h1>HTTP Status 500 – Internal Server Error</h1><pre>org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection
\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)
\tat com.harbour.booking.AppointmentDao.insert(AppointmentDao.java:212)
Caused by: java.sql.SQLException: jdbc:postgresql://db-primary.harbour.internal:5432/booking?user=svc_booking&amp;password=Pr0d-S3cret
</pre><p>See http://build-07.harbour.internal:8080/jenkins/job/booking for details</p></body></html>`;

// What must never come out, whatever the wrapping.
const SECRETS = ['harbour.internal', 'jdbc:', 'postgresql', 'Pr0d-S3cret', 'svc_booking', 'AppointmentDao', 'DataSourceUtils', 'java:', 'http://', '5432', 'jenkins'];

describe('which bodies give diagnostics', () => {
  it('an HTML error page gives none, as OperationOutcome or envelope', () => {
    expect(operationOutcomeDiagnostics(HTML_500)).toBeUndefined();
    expect(errorEnvelopeDiagnostics(HTML_500)).toBeUndefined();
  });

  it('JSON that is not an OperationOutcome gives none', () => {
    expect(operationOutcomeDiagnostics(JSON.stringify({ error: 'boom', trace: 'at x.y(Z.java:1)' }))).toBeUndefined();
    expect(operationOutcomeDiagnostics(JSON.stringify({ resourceType: 'Bundle' }))).toBeUndefined();
    expect(errorEnvelopeDiagnostics(JSON.stringify({ resourceType: 'OperationOutcome', issue: [] }))).toBeUndefined();
    expect(errorEnvelopeDiagnostics('plain text stack trace')).toBeUndefined();
  });

  it("an OperationOutcome's issue diagnostics come through, joined", () => {
    const oo = { resourceType: 'OperationOutcome', issue: [{ code: 'processing', diagnostics: 'Slot no longer available' }, { code: 'invalid', diagnostics: 'Appointment.description is required' }] };
    expect(operationOutcomeDiagnostics(JSON.stringify(oo))).toBe('Slot no longer available; Appointment.description is required');
    expect(operationOutcomeDiagnostics(oo)).toBe('Slot no longer available; Appointment.description is required');
  });

  it("the vendor envelope's message and details come through, joined", () => {
    const body = { error: { code: 'PATIENT_INVALID', message: "The patient's details are not valid", details: [{ field: 'patient.address.postcode', message: 'a UK postcode' }] } };
    expect(errorEnvelopeDiagnostics(JSON.stringify(body))).toBe("The patient's details are not valid; patient.address.postcode: a UK postcode");
  });
});

describe('sanitiseDiagnostics', () => {
  it('an OperationOutcome carrying a stack trace, URLs and a connection string keeps none of them', () => {
    const oo = { resourceType: 'OperationOutcome', issue: [{ code: 'exception', diagnostics: HTML_500 }] };
    const out = operationOutcomeDiagnostics(oo) ?? '';
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(out.length).toBeLessThanOrEqual(DIAGNOSTICS_MAX);
  });

  it.each([
    ['a URL', 'Upstream https://pas.oakfield.example:8443/internal/v2 failed', 'oakfield.example'],
    ['an IPv4 address with port', 'connect to 10.12.4.7:5432 refused', '10.12.4.7'],
    ['an IPv6 address', 'peer fe80::1ff:fe23:4567:890a unreachable', 'fe80'],
    ['an internal host name', 'db-primary.harbour.internal:5432 timed out', 'harbour.internal'],
    ['localhost', 'could not reach localhost:9000', 'localhost'],
    ['a JDBC string', 'jdbc:oracle:thin:@ora-01:1521:BOOK failed', 'ora-01'],
    ['a key=value connection string', 'Server=sql01;Database=Booking;User Id=sa;Password=hunter2; failed', 'hunter2'],
    ['a Mongo URL with credentials', 'mongodb+srv://admin:pw@cluster0.abc.mongodb.net/booking', 'admin:pw'],
    ['a Java frame', 'NullPointerException at com.acme.Book.run(Book.java:12)', 'Book.java'],
    ['a Node frame', 'TypeError: x is undefined at handler (/srv/app/dist/book.js:10:5)', '/srv/app'],
    ['a Python frame', 'Traceback: File "/opt/app/book.py", line 42, in post', 'book.py'],
    ['user@host', 'login failed for svc@db01', 'svc@db01'],
    ['a file path', 'cannot open /var/lib/booking/keys/prod.pem', '/var/lib'],
  ])('strips %s', (_what, text, secret) => {
    const out = sanitiseDiagnostics(text);
    expect(out ?? '').not.toContain(secret);
  });

  it('keeps the explanation around what it strips', () => {
    expect(sanitiseDiagnostics('Slot no longer available')).toBe('Slot no longer available');
    expect(sanitiseDiagnostics('patient.birthDate: must be a past date')).toBe('patient.birthDate: must be a past date');
    expect(sanitiseDiagnostics('connect to 10.12.4.7:5432 refused')).toBe('connect to [redacted] refused');
  });

  it('caps the length and drops control characters and markup', () => {
    const out = sanitiseDiagnostics(`<b>${'x'.repeat(1000)}</b>\u0000\u001b[31m`)!;
    expect(out.length).toBeLessThanOrEqual(DIAGNOSTICS_MAX);
    expect(out).not.toMatch(/[<>\u0000-\u001f]/);
  });

  it('gives nothing when nothing but internals was there', () => {
    expect(sanitiseDiagnostics('http://10.0.0.1:8080/x')).toBeUndefined();
    expect(sanitiseDiagnostics('')).toBeUndefined();
    expect(sanitiseDiagnostics(undefined)).toBeUndefined();
  });
});
